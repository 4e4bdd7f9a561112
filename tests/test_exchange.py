"""The student's round trip through a real exchange folder, and the fetched folder alone runs.

Instructor (course root) and student (their own home and working folder, only the students'
``nbgrader_config.py`` naming the exchange) run the stock commands: release_assignment ->
fetch_assignment -> (fill in the reference answers) -> validate -> submit -> collect -> autograde ->
generate_feedback -> release_feedback -> fetch_feedback. The correct notebook earns 20/20, and the
folder the student fetched runs top to bottom on its own: copied where no other ``data/`` folder is
above it, with ``CATVNONCAT_DATA`` unset, it finds the data set released with it.
"""

import shutil

import nbclient
import pytest

from catkit import submissions
from conftest import ASSIGNMENT, NOTEBOOK, SOURCE_NB, gradebook_scores, make_course, read
from exchange_course import COURSE_ID as COURSE
from exchange_course import run

pytestmark = pytest.mark.slow  # real nbgrader commands and a kernel


@pytest.fixture(scope="module")
def trip(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("exchange-trip")
    exchange = tmp / "exchange"
    exchange.mkdir()
    exchange.chmod(0o777)  # nbgrader wants an exchange everyone can write to
    settings = f"\nc.Exchange.root = {str(exchange)!r}\n"
    root = make_course(tmp / "course", settings)
    teacher, student = tmp / "teacher-home", tmp / "student-home"
    work = student / "work"
    for folder in (teacher, work):
        folder.mkdir(parents=True)
    (work / "nbgrader_config.py").write_text(
        f"c = get_config()\nc.CourseDirectory.course_id = {COURSE!r}{settings}")

    log = {"release": run(root, "release_assignment", ASSIGNMENT, home=teacher)}
    log["fetch"] = run(work, "fetch_assignment", ASSIGNMENT, home=student)
    fetched = work / ASSIGNMENT
    notebook = fetched / NOTEBOOK
    nb = submissions.fill(read(notebook), read(SOURCE_NB))
    notebook.write_text(__import__("nbformat").writes(nb))
    log["validate"] = run(fetched, "validate", NOTEBOOK, home=student)
    log["submit"] = run(work, "submit", ASSIGNMENT, home=student)
    for step in (["collect", ASSIGNMENT], ["autograde", ASSIGNMENT], ["generate_feedback", ASSIGNMENT],
                 ["release_feedback", ASSIGNMENT]):
        log[step[0]] = run(root, *step, home=teacher)
    log["fetch_feedback"] = run(work, "fetch_feedback", ASSIGNMENT, home=student)
    return root, fetched, log


def test_a_correct_notebook_goes_through_the_exchange_and_earns_20_of_20(trip):
    root, fetched, log = trip
    assert "Success! Your notebook passes all the tests." in log["validate"]
    assert gradebook_scores(root) == {"root": {**gradebook_scores(root)["root"], "total": 20}}
    pages = list((fetched / "feedback").glob(f"*/{NOTEBOOK.replace('.ipynb', '.html')}"))
    assert len(pages) == 1, log["fetch_feedback"]
    assert "Score: 20.0 / 20.0" in pages[0].read_text()


def test_the_fetched_folder_holds_the_data_and_runs_alone(trip, tmp_path, monkeypatch):
    _, fetched, _ = trip
    assert sorted(p.name for p in (fetched / "data").iterdir()) == ["test_catvnoncat.h5", "train_catvnoncat.h5"]
    alone = tmp_path / "alone" / ASSIGNMENT
    shutil.copytree(fetched, alone, ignore=shutil.ignore_patterns("feedback"))
    above = [p / "data" for p in alone.parents if (p / "data").exists()]
    assert above == [], above  # the only data/ the loader can find is the released one
    monkeypatch.delenv("CATVNONCAT_DATA", raising=False)
    monkeypatch.setenv("MPLBACKEND", "Agg")
    monkeypatch.setenv("OPENBLAS_NUM_THREADS", "1")
    nb = read(alone / NOTEBOOK)
    nbclient.NotebookClient(nb, timeout=600, kernel_name="python3",
                            resources={"metadata": {"path": str(alone)}}).execute()
    printed = "".join(o.get("text", "") for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", []))
    assert "train accuracy: 99.52153110047847 %" in printed, printed[-2000:]
