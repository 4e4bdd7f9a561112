"""Submissions that cannot be graded end as "not graded: <why>" in the export, never as zeros.

One real ``nbgrader autograde`` grades a correct submission and every malformed one at once; the
tests read the export it leads to. The reasons' order is checked without nbgrader.
"""

import csv

import nbformat
import pytest
from nbgrader.coursedir import CourseDirectory

from catkit.course import Course, stamp
from catkit.nbgrader_plugins.export import assignment_file
from conftest import ASSIGNMENT, FUNCTIONS, NOTEBOOK, autograde, make_course, nbgrader, solved, submit

POINTS = [*FUNCTIONS, "total"]


def _submission_folder(root, student):
    folder = root / "submitted" / student / ASSIGNMENT
    folder.mkdir(parents=True, exist_ok=True)
    return folder


@pytest.fixture(scope="module")
def rows(tmp_path_factory):
    """student -> row of the export, after one autograde of all the submissions below."""
    root = make_course(tmp_path_factory.mktemp("course"))
    submit(root, "correct", solved(root))
    (_submission_folder(root, "invalid-json") / NOTEBOOK).write_text('{"cells": [ this is not json')
    (_submission_folder(root, "not-a-notebook") / NOTEBOOK).write_text('["valid JSON", "no cells"]')
    nbformat.write(solved(root), _submission_folder(root, "renamed") / "Copy of notebook.ipynb")
    _submission_folder(root, "empty")
    with Course.at(root).open_gradebook() as gb:
        gb.add_student("absent")  # in the gradebook, no submission folder at all
        # Text a spreadsheet would run as a formula (student id, names, email): the export defuses it.
        gb.add_student("=HYPERLINK(\"http://e.org\")", first_name="+1+cmd", last_name="@SUM(A1)", email="-2+3")
    run = autograde(root)
    assert run.returncode != 0  # nbgrader reports the failed submissions; the export still says who
    nbgrader(root, "export", "--to", str(root / "grades.csv"))
    with open(assignment_file(root / "grades.csv", ASSIGNMENT), newline="") as handle:
        return {row["student_id"]: row for row in csv.DictReader(handle)}


@pytest.mark.slow  # the rows fixture runs nbgrader autograde and export
def test_a_correct_submission_is_graded_with_its_points(rows):
    assert rows["correct"]["status"] == "graded"
    assert rows["correct"]["total"] == "20"


@pytest.mark.slow
@pytest.mark.parametrize("student, why", [
    ("invalid-json", f"{NOTEBOOK} is not a notebook (invalid JSON)"),
    ("not-a-notebook", f"{NOTEBOOK} is not a notebook (JSON without notebook cells)"),
    ("renamed", f"no notebook named {NOTEBOOK} in the submission, which holds Copy of notebook.ipynb"),
    ("empty", "no submission"),
    ("absent", "no submission"),
])
def test_a_submission_that_was_not_graded_says_why_and_has_no_points(rows, student, why):
    assert rows[student]["status"].startswith(f"not graded: {why}"), rows[student]["status"]
    assert [rows[student][column] for column in POINTS] == [""] * len(POINTS)  # not a zero


@pytest.mark.slow
def test_the_export_holds_no_formula(rows):
    row = rows["'=HYPERLINK(\"http://e.org\")"]
    assert [row[key] for key in ("first_name", "last_name", "email")] == ["'+1+cmd", "'@SUM(A1)", "'-2+3"]
    cells = [value for r in rows.values() for value in r.values()]
    formulas = [v for v in cells if v[:1] in ("=", "+", "-", "@", "\t", "\r")
                and not v.lstrip("+-").replace(".", "", 1).isdigit()]
    assert formulas == [], formulas
    assert rows["correct"]["total"] == "20"


def _course(root):
    (root / "source" / ASSIGNMENT).mkdir(parents=True)
    (root / "source" / ASSIGNMENT / NOTEBOOK).write_text("{}")
    return Course(CourseDirectory(root=str(root)))


def test_a_recorded_reason_comes_first(tmp_path):
    course = _course(tmp_path)
    (_submission_folder(tmp_path, "bob") / NOTEBOOK).write_text("not json")
    course.record_failure(ASSIGNMENT, "bob", "the sandbox could not start")
    assert course.status(ASSIGNMENT, "bob") == "not graded: the sandbox could not start"


def test_an_interrupted_grading_is_not_graded_until_stamped(tmp_path):
    course = _course(tmp_path)
    nbformat.write(nbformat.v4.new_notebook(), _submission_folder(tmp_path, "bob") / NOTEBOOK)
    autograded = tmp_path / "autograded" / "bob" / ASSIGNMENT
    autograded.mkdir(parents=True)
    nb = nbformat.v4.new_notebook()
    nbformat.write(nb, autograded / NOTEBOOK)
    assert course.status(ASSIGNMENT, "bob") == (
        f"not graded: grading did not complete: run nbgrader autograde {ASSIGNMENT} again")
    stamp(nb, 1.5)
    nbformat.write(nb, autograded / NOTEBOOK)
    assert course.status(ASSIGNMENT, "bob") == "graded"
