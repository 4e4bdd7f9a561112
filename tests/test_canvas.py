"""Grades into Canvas: one column of Canvas's gradebook export filled with the totals, ready to import.

Fast tests on a sample of Canvas's export (tests/data/canvas_gradebook.csv: a Points Possible row,
an assignment column with its Canvas id, a student Canvas knows and the course does not, Canvas's
test student); a slow one runs ``catkit export`` on a graded course.
"""

import csv
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from catkit import canvas
from catkit.errors import CatkitError
from conftest import ASSIGNMENT, REPO, make_course

SAMPLE = Path(__file__).parent / "data" / "canvas_gradebook.csv"
TOTALS = {"example-correct": 20.0, "example-sigmoid-sign-error": 17.0, "example-untouched": None,
          "graded-elsewhere": 12.5}


def test_the_column_gets_each_graded_total_and_nothing_else_changes():
    rows = canvas.read(SAMPLE)
    filled = canvas.fill(rows, "Cat or not", TOTALS, SAMPLE)
    column = rows[0].index("Cat or not (1234)")
    by_login = {row[3]: row for row in filled.rows[1:]}
    assert by_login["example-correct"][column] == "20"
    assert by_login["example-sigmoid-sign-error"][column] == "17"  # replaces what Canvas held
    assert by_login["example-untouched"][column] == ""  # not graded: empty, never 0
    for before, after in zip(rows, filled.rows, strict=True):  # every other cell as it came
        assert before[:column] + before[column + 1:] == after[:column] + after[column + 1:]
    assert filled.rows[1][column] == "20.00"  # the Points Possible row is not a student
    assert filled.graded == 2 and filled.empty == ["example-untouched"]
    assert filled.not_in_canvas == ["graded-elsewhere"]
    assert filled.not_in_course == ["not-in-course", "Test Student"]


def test_students_can_be_matched_on_another_column():
    filled = canvas.fill(canvas.read(SAMPLE), "Cat or not (1234)", {"S101": 19.0}, SAMPLE, match="SIS User ID")
    assert filled.graded == 1 and filled.rows[2][5] == "19"


@pytest.mark.parametrize("column, match, message", [
    ("Dogs", "SIS Login ID", "no assignment column 'Dogs'"),
    ("Cat or not", "Email", "no student id column 'Email'"),
])
def test_a_missing_column_is_named_with_the_columns_there_are(column, match, message):
    with pytest.raises(CatkitError, match=message) as error:
        canvas.fill(canvas.read(SAMPLE), column, TOTALS, SAMPLE, match)
    assert "'Cat or not (1234)'" in str(error.value)


def test_a_file_that_is_not_a_canvas_export_is_refused(tmp_path):
    (tmp_path / "grades.csv").write_text("student_id,total\nann,3\n")
    with pytest.raises(CatkitError, match="not a Canvas gradebook export"):
        canvas.read(tmp_path / "grades.csv")


@pytest.mark.slow
def test_catkit_export_fills_canvas_from_the_gradebook(tmp_path):
    root = make_course(tmp_path / "course")
    incoming = tmp_path / "incoming"
    for student in ("example-correct", "example-sigmoid-sign-error"):
        shutil.copytree(REPO / "examples" / "submissions" / student, incoming / student)
    catkit = str(Path(sys.executable).with_name("catkit"))
    graded = subprocess.run([catkit, "grade", ASSIGNMENT, "--submissions", str(incoming)], cwd=root,
                            capture_output=True, text=True, timeout=900)
    assert graded.returncode == 0, graded.stderr[-3000:]
    args = [catkit, "export", ASSIGNMENT, "--canvas", str(SAMPLE), "--column", "Cat or not", "--out", "canvas.csv"]
    result = subprocess.run(args, cwd=root, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    assert "2 totals in 'Cat or not'" in result.stdout, result.stdout
    unknown = next(line for line in result.stdout.splitlines() if "not in the course" in line)
    assert "not-in-course" in unknown and "Test Student" in unknown  # (and example-untouched: no submission)
    with open(root / "canvas.csv", newline="") as handle:
        rows = {row["SIS Login ID"]: row["Cat or not (1234)"] for row in csv.DictReader(handle)}
    assert rows["example-correct"] == "20" and rows["example-sigmoid-sign-error"] == "17"
    assert rows["example-untouched"] == ""
    again = subprocess.run(args, cwd=root, capture_output=True, text=True, timeout=300)
    assert again.returncode == 2 and "exists" in again.stderr  # nothing is overwritten without --force
