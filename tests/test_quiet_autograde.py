"""No false alarms: grading an untouched release and a correct notebook prints no warning about them.

Stock nbgrader warns "Attribute 'checksum' for cell <function>_hidden_tests has changed!" six
times for every submission (the gradebook keeps the hidden-test cells with their hidden region,
the release without it) and SQLAlchemy prints "SAWarning: Object of type <SubmittedAssignment> not
in session" for every new submission. One real ``nbgrader autograde`` of two submissions.
"""

import pytest
from conftest import ASSIGNMENT, course, gradebook_scores, make_course, release_nb, solved, submit


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    root = make_course(tmp_path_factory.mktemp("course"))
    submit(root, "untouched", release_nb(root))
    submit(root, "correct", solved(root))
    result = course.nbgrader(root, "autograde", ASSIGNMENT)
    return root, result.stdout + result.stderr


def test_grading_prints_no_checksum_warning_and_no_sawarning(graded):
    _, output = graded
    assert "checksum" not in output, output[-3000:]
    assert "SAWarning" not in output and "not in session" not in output, output[-3000:]
    assert "has changed" not in output, output[-3000:]


def test_the_hidden_tests_are_still_restored_and_graded(graded):
    root, _ = graded
    scores = gradebook_scores(root)
    assert scores["correct"]["total"] == 20 and scores["untouched"]["total"] == 0
    autograded = (root / "autograded" / "correct" / ASSIGNMENT).glob("*.ipynb")
    text = "".join(path.read_text() for path in autograded)
    assert text.count("BEGIN HIDDEN TESTS") == 6  # the instructor's hidden tests ran on it
