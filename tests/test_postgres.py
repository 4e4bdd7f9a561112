"""A course whose gradebook is a PostgreSQL database (``c.CourseDirectory.db_url = "postgresql://…"``).

A real server (tests/postgres.py) holds the gradebook of a small class, graded with the real
``catkit grade`` (nbgrader's generate_assignment, autograde, export and generate_feedback) and then
graded again: the points per function in the database, the export, the feedback, the class report
and the formgrader's API (what its pages show) must all agree, and no ``gradebook.db`` file appears.
The URL carries a password (the server's trust authentication ignores it) that nothing may print.
"""

import csv
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
from nbgrader.apps.api import NbGraderAPI

from catkit.course import Course
from conftest import ASSIGNMENT, NOTEBOOK, gradebook_scores, make_course, maxima, release_nb, solved

CATKIT = str(Path(sys.executable).with_name("catkit"))
PASSWORD = "pw-never-shown"

pytestmark = [pytest.mark.slow, pytest.mark.postgres]  # a real server, and the real `catkit grade`
# one typical mistake: a sign error in sigmoid, which loses sigmoid's points only
MISTAKE = ("sigmoid", {"sigmoid_solution": [("np.exp(-z)", "np.exp(z)")]})


def catkit(*args, cwd):
    return subprocess.run([CATKIT, *args], cwd=cwd, capture_output=True, text=True, timeout=600)


def _csv(path):
    """student -> row of an export of this assignment."""
    with open(path, newline="") as handle:
        return {row["student_id"]: row for row in csv.DictReader(handle)
                if row.get("assignment", ASSIGNMENT) == ASSIGNMENT}


def _autograded(root):
    return {path.relative_to(root): path.read_bytes() for path in sorted((root / "autograded").rglob("*.ipynb"))}


@pytest.fixture(scope="module")
def graded(postgres, tmp_path_factory):
    """The class graded once, then ``catkit grade`` run again on the same submissions."""
    tmp = tmp_path_factory.mktemp("postgres")
    url = postgres.new_database("catkit_course").replace("@", f":{PASSWORD}@", 1)
    root = make_course(tmp / "course", extra_config=f"\nc.CourseDirectory.db_url = {url!r}\n")
    incoming = tmp / "incoming"
    for student, nb in {"reference": solved(root), "untouched": release_nb(root),
                        "mistake": solved(root, MISTAKE[1])}.items():
        (incoming / student / ASSIGNMENT).mkdir(parents=True)
        nbformat.write(nb, incoming / student / ASSIGNMENT / NOTEBOOK)
    first = catkit("grade", ASSIGNMENT, "--submissions", str(incoming), cwd=root)
    assert first.returncode == 0, first.stderr[-3000:]
    graded_once, scores_once = _autograded(root), gradebook_scores(root)
    again = catkit("grade", ASSIGNMENT, "--submissions", str(incoming), cwd=root)
    assert again.returncode == 0, again.stderr[-3000:]
    return {"root": root, "url": url, "first": first, "again": again,
            "graded_once": graded_once, "scores_once": scores_once}


def test_the_class_is_graded_into_postgresql_and_everything_reads_it(graded):
    root, url = graded["root"], graded["url"]
    assert Course.at(root).db_url == url and url.startswith("postgresql://")
    top = maxima(root)
    functions = list(top)
    assert len(functions) >= 6 and all(points > 0 for points in top.values())
    scores = gradebook_scores(root)
    assert set(scores) == {"reference", "untouched", "mistake"}
    assert scores["reference"] == {**top, "total": sum(top.values())}
    assert scores["untouched"] == {**{f: 0 for f in functions}, "total": 0}
    wrong = MISTAKE[0]
    assert scores["mistake"][wrong] < top[wrong]
    assert {f: scores["mistake"][f] for f in functions if f != wrong} == {f: top[f] for f in functions if f != wrong}
    assert not list(root.rglob("gradebook.db")), "a SQLite gradebook appeared beside the PostgreSQL one"

    # catkit grade's table, the export and the feedback
    table = {line.split()[0]: line.split() for line in graded["first"].stdout.splitlines()
             if line.split()[:1] and line.split()[0] in scores}
    assert table["reference"][len(functions) + 1] == f"{sum(top.values()):g}/{sum(top.values()):g}"
    rows = _csv(root / "exports" / f"grades_{ASSIGNMENT}.csv")  # a column per function
    assert set(rows) == set(scores)
    for student, row in rows.items():
        assert row["status"] == "graded", row
        assert {f: float(row[f]) for f in [*functions, "total"]} == scores[student], row
    overview = _csv(root / "exports" / "grades.csv")
    assert {s: (row["status"], float(row["total"])) for s, row in overview.items()} == \
        {s: ("graded", scores[s]["total"]) for s in scores}
    for student in scores:
        assert list((root / "feedback" / student / ASSIGNMENT).glob("*.html")), f"no feedback for {student}"

    # the formgrader: what its handlers get from nbgrader's API
    coursedir = Course.at(root).coursedir
    api = NbGraderAPI(coursedir=coursedir, config=coursedir.config)
    assignment = {a["name"]: a for a in api.get_assignments()}[ASSIGNMENT]
    assert assignment["num_submissions"] == 3, assignment
    submissions = {s["student"]: s for s in api.get_submissions(ASSIGNMENT)}
    assert {s: (sub["autograded"], sub["score"]) for s, sub in submissions.items()} == \
        {s: (True, scores[s]["total"]) for s in scores}
    notebook = Path(NOTEBOOK).stem
    assert len(api.get_notebook_submission_indices(ASSIGNMENT, notebook)) == 3
    by_notebook = {s["student"]: s["score"] for s in api.get_notebook_submissions(ASSIGNMENT, notebook)}
    assert by_notebook == {s: scores[s]["total"] for s in scores}


def test_grading_again_skips_what_is_graded_and_the_report_hides_the_password(graded):
    root, url = graded["root"], graded["url"]
    assert _autograded(root) == graded["graded_once"], "a graded submission was graded again"
    assert gradebook_scores(root) == graded["scores_once"]

    def table(run):  # catkit grade's rows, without the grading time
        rows = [line.split() for line in graded[run].stdout.splitlines()]
        return [row[:-1] for row in rows if row[:1] in (["reference"], ["untouched"], ["mistake"])]
    assert len(table("first")) == 3 and table("again") == table("first")

    result = catkit("report", ASSIGNMENT, cwd=root)
    assert result.returncode == 0, result.stderr
    page = (root / "reports" / f"{ASSIGNMENT}.html").read_text()
    shown = url.replace(PASSWORD, "***")
    assert f"<code>{shown}</code>" in page and "3 submissions: 3 graded" in page
    outputs = [page, result.stdout, result.stderr,
               *(graded[run].stdout + graded[run].stderr for run in ("first", "again"))]
    assert not [text for text in outputs if PASSWORD in text], "the gradebook's password was shown"
    assert not (root / "gradebook.db").exists()
