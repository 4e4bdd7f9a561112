"""Shared helpers: a temporary copy of the course, submissions, and real nbgrader runs."""

import json
import os
import platform
import subprocess
import sys
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

import nbformat
import pytest
from sqlalchemy import text

from catkit import examples, nbgrader_commands, submissions, workflow
from catkit.course import Course
from catkit.grading.layout import grade_id
from catkit.scores import function_maxima, function_scores

# Fixtures of real servers the tests start: PostgreSQL (tests/postgres.py), Dask (tests/dask_cluster.py).
pytest_plugins = ["postgres", "dask_cluster"]

REPO = Path(__file__).resolve().parents[1]
COURSE = Course.at(REPO)  # the repository is the course root
ASSIGNMENT = "logistic_regression"
NOTEBOOK = "Logistic_Regression_with_a_Neural_Network_mindset.ipynb"
SOURCE_NB = REPO / "source" / ASSIGNMENT / NOTEBOOK
REAL_DATA = REPO.parent / "shared" / "data"
HAVE_REAL_DATA = all((REAL_DATA / name).is_file() for name in ("train_catvnoncat.h5", "test_catvnoncat.h5"))
requires_real_data = pytest.mark.skipif(
    not HAVE_REAL_DATA, reason=f"the course's real data set is not in {REAL_DATA}: it may not be "
    "redistributed, so only machines that have it (CI does) run this test")



@dataclass(frozen=True)
class Assignment:
    """One assignment of the course, as the engine sees it: everything comes from its notebook."""

    name: str

    @property
    def notebook(self):
        return COURSE.notebooks(self.name)[0].name

    @property
    def source_nb(self):
        return COURSE.source_dir(self.name) / self.notebook

    @cached_property
    def layout(self):
        return COURSE.layout(self.name)

    @property
    def functions(self):
        return self.layout.functions

    @cached_property
    def mistakes(self):
        return examples.mistakes(REPO, self.name)

    def __str__(self):  # the test ids
        return self.name


ASSIGNMENTS = [Assignment(name) for name in COURSE.assignments()]
LOGISTIC = Assignment(ASSIGNMENT)
FUNCTIONS = LOGISTIC.functions    # this exercise's, for the tests that are about it
PREAMBLE = LOGISTIC.layout.preamble
MISTAKES = LOGISTIC.mistakes

def pytest_configure(config):
    """In ``make test-fast`` (CATKIT_TEST_TIER=fast) no test may start a process: no nbgrader, sandbox,
    server or browser. One that does lacks its ``slow`` marker, and fails saying so."""
    if os.environ.get("CATKIT_TEST_TIER") == "fast":
        platform.processor()  # runs `uname -p` once and keeps it (h5py asks at import), before the refusal

        def refuse(*args, **kwargs):
            raise AssertionError("this test starts a process: mark it @pytest.mark.slow (make test-fast runs "
                                 "unit tests only)")
        subprocess.Popen.__init__ = refuse


# nbgrader starts helper programs (alembic) by name: they live beside this interpreter.
os.environ["PATH"] = os.path.dirname(sys.executable) + os.pathsep + os.environ.get("PATH", "")


def make_course(root, extra_config="", assignment=LOGISTIC):
    """Copy the course into ``root`` and generate the student version of ``assignment`` there."""
    return workflow.copy_course(REPO, root, assignment.name, extra_config)


def read(path):
    return nbformat.read(path, as_version=4)


def release_nb(root, assignment=LOGISTIC):
    return read(root / "release" / assignment.name / assignment.notebook)


def solved(root, edits=None, keep_stubs=(), assignment=LOGISTIC):
    """The release notebook filled in with the reference answers, with ``edits`` applied."""
    return submissions.fill(release_nb(root, assignment), read(root / "source" / assignment.name / assignment.notebook),
                            edits, keep_stubs)


def submit(root, student, nb, assignment=LOGISTIC):
    workflow.submit(Course.at(root), student, assignment.name, assignment.notebook, nb)


def gradebook_scores(root, assignment=LOGISTIC):
    """student -> {function: points, 'total': points} from the gradebook (wherever db_url points)."""
    with Course.at(root).open_gradebook() as gb:
        return {s.id: function_scores(gb, assignment.name, s.id, assignment.layout) for s in gb.students}


def maxima(root, assignment=LOGISTIC):
    with Course.at(root).open_gradebook() as gb:
        return function_maxima(gb, assignment.name, assignment.layout)


def needs_manual_grading(root, student, assignment=LOGISTIC):
    with Course.at(root).open_gradebook() as gb:
        submission = gb.find_submission(assignment.name, student)
        return [g.name for nb in submission.notebooks for g in nb.grades if g.needs_manual_grade]


def write_secret(root, secret):
    """Give the course at ``root`` this course secret (as the grader would make it: 0600, once)."""
    path = root / ".catkit" / "course_secret"
    path.parent.mkdir(exist_ok=True)
    with os.fdopen(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600), "w") as handle:
        handle.write(secret)


def autograded_nb(root, student, assignment=LOGISTIC):
    return root / "autograded" / student / assignment.name / assignment.notebook


def graded_outputs(root, student, assignment=LOGISTIC):
    """grade_id -> outputs (plain data) of every graded code cell of the autograded notebook."""
    nb = read(autograded_nb(root, student, assignment))
    return {grade_id(cell): json.loads(json.dumps(cell.outputs)) for cell in nb.cells
            if cell.cell_type == "code" and cell.metadata.get("nbgrader", {}).get("grade")}


def gradebook_counts(root, assignment=LOGISTIC):
    """student -> [submissions, submitted notebooks, grades], straight from the database: a
    submission graded twice would show more rows."""
    with Course.at(root).open_gradebook() as gb:
        rows = gb.db.execute(text(
            "SELECT sa.student_id, COUNT(DISTINCT sa.id), COUNT(DISTINCT sn.id), COUNT(g.id) "
            "FROM submitted_assignment sa JOIN assignment a ON sa.assignment_id = a.id "
            "LEFT JOIN submitted_notebook sn ON sn.assignment_id = sa.id "
            "LEFT JOIN grade g ON g.notebook_id = sn.id WHERE a.name = :assignment GROUP BY sa.student_id"),
            {"assignment": assignment.name}).all()
    return {student: list(counts) for student, *counts in rows}


def nbgrader(root, *args):
    """Run one nbgrader command in the course at ``root`` (CatkitError with its log on failure)."""
    return nbgrader_commands.run(root, *args)


def autograde(root, assignment=ASSIGNMENT, force=False, *options):
    """One ``nbgrader autograde`` of the class, as ``catkit grade`` runs it (its exit status is returned)."""
    return nbgrader_commands.autograde(Course.at(root), assignment, force, *options)


CATKIT = str(Path(sys.executable).parent / "catkit")


def catkit(*args, cwd, env_data=None):
    """The ``catkit`` command in ``cwd``, with CATVNONCAT_DATA only if ``env_data`` is given."""
    env = {k: v for k, v in os.environ.items() if k != "CATVNONCAT_DATA"}
    if env_data:
        env["CATVNONCAT_DATA"] = str(env_data)
    return subprocess.run([CATKIT, *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=600)


def assert_clean_failure(result, *phrases, one_line=False):
    """Exit status 2 and one message at the end of stderr (nbgrader's own log, if it ran, before it);
    with ``one_line``, a message of one line."""
    assert result.returncode == 2, result
    log, found, message = result.stderr.partition("catkit: error: ")
    assert found and (log == "" or log.endswith("\n")), result.stderr
    assert "catkit: error: " not in message
    assert "Traceback" not in message, result.stderr
    if one_line:
        assert message.count("\n") == 1 and message.endswith("\n"), result.stderr
    for phrase in phrases:
        assert phrase in message, result.stderr
