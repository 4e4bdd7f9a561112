"""The course model (catkit.course.Course): one reading of a course folder, whatever its folder names.

Fast unit tests: a small course is written by hand in a temporary folder; no nbgrader command, no
sandbox, no server runs.
"""

import os
import stat

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_notebook
from nbgrader.coursedir import CourseDirectory
from traitlets.config import Config

from catkit.course import Course, read_stamp, stamp
from catkit.errors import CatkitError, LayoutError, NotGraded

ASSIGNMENT = "week1"
NOTEBOOK = "work.ipynb"


def _cell(source, grade_id, **flags):
    cell = new_code_cell(source)
    cell.metadata["nbgrader"] = {"grade_id": grade_id, "locked": not flags.get("solution", False),
                                 "schema_version": 3, "grade": False, "solution": False, **flags}
    return cell


def _instructor_notebook(marker="BEGIN HIDDEN TESTS"):
    imports = new_code_cell("import numpy as np")
    imports.metadata["tags"] = ["graded-imports"]
    return new_notebook(cells=[
        imports,
        _cell("def double(x):\n    return 2 * x", "double_solution", solution=True),
        _cell("assert double(1) == 2", "double_checks", grade=True, points=1),
        _cell(f"### {marker}\nassert double(3) == 6\n### END HIDDEN TESTS", "double_hidden_tests",
              grade=True, points=2),
        _cell("def triple(x):\n    return 3 * x", "triple_solution", solution=True),
    ])


CUSTOM_FOLDERS = """
c.CourseDirectory.source_directory = "instructor"
c.CourseDirectory.submitted_directory = "handed_in"
c.CourseDirectory.autograded_directory = "marked"
c.CourseDirectory.feedback_directory = "returned"
c.ClearHiddenTests.begin_test_delimeter = "SECRET CHECKS"
c.IsolatedExecute.secret_file = "keys/secret.txt"
"""


@pytest.fixture
def course(tmp_path):
    """A course that names every folder its own way, and its hidden-test delimiter too."""
    (tmp_path / "nbgrader_config.py").write_text("c = get_config()  # noqa: F821\n" + CUSTOM_FOLDERS)
    (tmp_path / "instructor" / ASSIGNMENT).mkdir(parents=True)
    nbformat.write(_instructor_notebook("SECRET CHECKS"), tmp_path / "instructor" / ASSIGNMENT / NOTEBOOK)
    return Course.at(tmp_path)


def _hand_in(course, student, content=None):
    folder = course.root / "handed_in" / student / ASSIGNMENT
    folder.mkdir(parents=True)
    if content is not None:
        (folder / NOTEBOOK).write_text(content)
    return folder


def _mark(course, student, stamped=True):
    folder = course.root / "marked" / student / ASSIGNMENT
    folder.mkdir(parents=True, exist_ok=True)
    nb = new_notebook()
    if stamped:
        stamp(nb, 0.25)
    nbformat.write(nb, folder / NOTEBOOK)
    return folder


def test_a_folder_without_nbgrader_config_is_not_a_course(tmp_path):
    with pytest.raises(CatkitError, match="is not a course root: it holds no nbgrader_config.py"):
        Course.at(tmp_path)


def test_a_broken_configuration_is_named_with_its_error(tmp_path):
    (tmp_path / "nbgrader_config.py").write_text("c = get_config()\nc.CourseDirectory.root = 1 / 0\n")
    with pytest.raises(CatkitError, match=r"cannot load .*nbgrader_config.py: ZeroDivisionError"):
        Course.at(tmp_path)


def test_folders_come_from_the_configuration(course):
    assert course.assignments() == [ASSIGNMENT]
    assert course.source_dir(ASSIGNMENT) == course.root / "instructor" / ASSIGNMENT
    assert course.notebook_names(ASSIGNMENT) == [NOTEBOOK]
    assert course.submitted_dir("ann", ASSIGNMENT) == course.root / "handed_in" / "ann" / ASSIGNMENT
    assert course.autograded_dir("ann", ASSIGNMENT) == course.root / "marked" / "ann" / ASSIGNMENT
    assert course.feedback_dir("ann", ASSIGNMENT) == course.root / "returned" / "ann" / ASSIGNMENT
    with pytest.raises(CatkitError, match=f"unknown assignment 'week9'.*Assignments in .*instructor: {ASSIGNMENT}"):
        course.notebooks("week9")


def test_layout_and_reference_answers_are_read_from_the_notebook_with_the_configured_marker(course):
    layout = course.layout(ASSIGNMENT)
    assert layout.functions == ("double", "triple")
    assert layout.preamble == "import numpy as np\n"
    assert course.hidden_marker == "SECRET CHECKS" == layout.hidden_marker
    assert layout.is_hidden("### SECRET CHECKS\nassert True") and not layout.is_hidden("### BEGIN HIDDEN TESTS")
    assert course.reference_answers(ASSIGNMENT, "work")["double"].startswith("def double(x):")
    with pytest.raises(LayoutError, match="is missing"):
        course.notebook_layout(ASSIGNMENT, "nothing")


def test_students_and_the_status_of_their_submissions(course):
    _hand_in(course, "ann", nbformat.writes(new_notebook()))
    _mark(course, "ann")
    _hand_in(course, "bob", "not json")
    _hand_in(course, "cat")  # an empty folder: listed, not graded
    _hand_in(course, "dan", nbformat.writes(new_notebook()))
    _mark(course, "dan", stamped=False)  # interrupted
    assert course.submitted_students(ASSIGNMENT) == ["ann", "bob", "cat", "dan"]
    assert course.status(ASSIGNMENT, "ann") == "graded"
    assert course.status(ASSIGNMENT, "bob") == f"not graded: {NOTEBOOK} is not a notebook (invalid JSON)"
    assert course.status(ASSIGNMENT, "cat") == "not graded: no submission"
    assert course.status(ASSIGNMENT, "dan").startswith("not graded: grading did not complete")
    assert course.interrupted(ASSIGNMENT) == [course.autograded_dir("dan", ASSIGNMENT)]
    assert course.grading_seconds(ASSIGNMENT, "ann") == 0.25
    course.record_failure(ASSIGNMENT, "bob", "the sandbox could not start\n")
    assert course.status(ASSIGNMENT, "bob") == "not graded: the sandbox could not start"  # the recorded reason first
    course.clear_failure(ASSIGNMENT, "bob")
    assert course.recorded_failure(ASSIGNMENT, "bob") is None


def test_a_run_sees_only_its_own_students(course):
    for student in ("ann", "bob", "cat"):
        _hand_in(course, student, "{}")
        _mark(course, student, stamped=False)
    course.coursedir.student_id_exclude = "bob"
    assert course.submitted_students(ASSIGNMENT, this_run=True) == ["ann", "cat"]
    assert [path.parent.name for path in course.interrupted(ASSIGNMENT)] == ["ann", "cat"]
    course.coursedir.student_id = "c*"
    assert course.submitted_students(ASSIGNMENT, this_run=True) == ["cat"]
    assert course.submitted_students(ASSIGNMENT) == ["ann", "bob", "cat"]


def test_a_stamp_is_read_only_from_a_whole_notebook(tmp_path):
    nb = new_notebook()
    stamp(nb, 1.23456)
    nbformat.write(nb, tmp_path / "graded.ipynb")
    assert read_stamp(tmp_path / "graded.ipynb") == {"graded": True, "grading_seconds": 1.235}
    (tmp_path / "cut.ipynb").write_text((tmp_path / "graded.ipynb").read_text()[:-20])
    assert read_stamp(tmp_path / "cut.ipynb") is None
    assert read_stamp(tmp_path / "missing.ipynb") is None


def test_the_course_secret_is_made_once_private_and_checked(course):
    secret, made = course.secret()
    assert made and len(secret) == 64 and course.secret_path == course.root / "keys" / "secret.txt"
    assert stat.S_IMODE(os.stat(course.secret_path).st_mode) == 0o600
    assert course.secret() == (secret, False)
    course.secret_path.write_text("short\n")
    with pytest.raises(NotGraded, match="empty or too short: delete it"):
        course.secret()


def test_the_gradebook_url_is_shown_without_its_password(tmp_path):
    config = Config()
    config.CourseDirectory.db_url = "postgresql://grader:hunter2@db.example.org/course"
    course = Course(CourseDirectory(config=config, root=str(tmp_path)))
    assert course.db_url.endswith("hunter2@db.example.org/course")
    assert "hunter2" not in course.shown_db_url and "***" in course.shown_db_url
    default = Course(CourseDirectory(root=str(tmp_path)))
    assert default.db_url == f"sqlite:///{tmp_path / 'gradebook.db'}"


def test_a_plugin_gets_the_course_of_the_app_that_runs_it(course):
    class App:
        coursedir = course.coursedir
        parent = None

    class Exporter:
        parent = App()

    class Plugin:
        parent = Exporter()
        config = Config()

    found = Course.of(Plugin())
    assert found.coursedir is course.coursedir
    assert Course.of(Plugin()) is found  # one Course per app
