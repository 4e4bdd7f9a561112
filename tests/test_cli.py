"""The kit's own commands: clear messages and a non-zero exit for bad input, never a traceback."""

import csv
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from conftest import (
    ASSIGNMENT,
    ASSIGNMENTS,
    NOTEBOOK,
    REPO,
    assert_clean_failure,
    catkit,
    gradebook_scores,
    make_course,
    nbgrader,
)
from exchange_course import run as exchange_run


@pytest.mark.slow
def test_unknown_assignment_and_empty_submissions_are_clear_errors(tmp_path):
    root = make_course(tmp_path / "course")
    empty = tmp_path / "empty"
    empty.mkdir()
    assert_clean_failure(catkit("grade", "no_such_assignment", "--submissions", str(empty), cwd=root),
                         "unknown assignment 'no_such_assignment'", ASSIGNMENT)
    assert_clean_failure(catkit("grade", ASSIGNMENT, "--submissions", str(empty), cwd=root),
                         "no submissions", f"<student id>/{ASSIGNMENT}/")
    assert_clean_failure(catkit("grade", ASSIGNMENT, "--submissions", str(tmp_path / "missing"), cwd=root),
                         "does not exist")


@pytest.mark.slow
def test_grade_never_overwrites_a_different_submission(tmp_path):
    root = make_course(tmp_path / "course")
    examples = REPO / "examples" / "submissions"
    mine = tmp_path / "incoming" / "example-correct" / ASSIGNMENT
    shutil.copytree(examples / "example-untouched" / ASSIGNMENT, mine)
    shutil.copytree(examples / "example-correct" / ASSIGNMENT, root / "submitted" / "example-correct" / ASSIGNMENT)
    before = (root / "submitted" / "example-correct" / ASSIGNMENT).iterdir()
    result = catkit("grade", ASSIGNMENT, "--submissions", str(tmp_path / "incoming"), cwd=root)
    assert_clean_failure(result, "already holds a different submission")
    assert sorted(before) == sorted((root / "submitted" / "example-correct" / ASSIGNMENT).iterdir())


@pytest.mark.slow
def test_a_submission_holding_a_symbolic_link_is_refused(tmp_path):
    root = make_course(tmp_path / "course")
    incoming = tmp_path / "incoming"
    shutil.copytree(REPO / "examples" / "submissions" / "example-correct", incoming / "mallory")
    (incoming / "mallory" / ASSIGNMENT / "gradebook.lnk").symlink_to(root / "gradebook.db")
    result = catkit("grade", ASSIGNMENT, "--submissions", str(incoming), cwd=root)
    assert_clean_failure(result, "gradebook.lnk is a symbolic link", "remove it")
    assert not (root / "submitted" / "mallory").exists()


def _table_rows(stdout):
    return {line.split()[0]: line for line in stdout.splitlines()[2:] if line and not line.startswith(" ")}


@pytest.mark.slow
def test_malformed_submissions_are_listed_as_not_graded_and_the_others_are_graded(tmp_path):
    root = make_course(tmp_path / "course")
    incoming = tmp_path / "incoming"
    shutil.copytree(REPO / "examples" / "submissions" / "example-correct", incoming / "alice")
    broken = incoming / "bob" / ASSIGNMENT / NOTEBOOK
    broken.parent.mkdir(parents=True)
    broken.write_text('{"cells": [ this is not json')
    shutil.copytree(incoming / "alice", incoming / "carol")
    (incoming / "carol" / ASSIGNMENT / NOTEBOOK).rename(incoming / "carol" / ASSIGNMENT / "Copy of notebook.ipynb")
    (incoming / "dave" / ASSIGNMENT).mkdir(parents=True)
    result = catkit("grade", ASSIGNMENT, "--submissions", str(incoming), cwd=root)
    assert_clean_failure(result, "3 of 4 submissions were not graded", "bob: not graded: ", "(invalid JSON)",
                         "carol: not graded: no notebook named", "holds Copy of notebook.ipynb",
                         "dave: not graded: no submission", "untouched in", f"nbgrader autograde {ASSIGNMENT}",
                         f"catkit grade {ASSIGNMENT} --submissions {incoming}")
    rows = _table_rows(result.stdout)
    assert "20/20" in rows["alice"]
    assert "not graded: " in rows["bob"] and "invalid JSON" in rows["bob"] and "/" not in rows["bob"]
    assert "not graded: no notebook named" in rows["carol"]
    assert rows["dave"].split(None, 1)[1] == "not graded: no submission"
    assert (root / "submitted" / "bob" / ASSIGNMENT / broken.name).read_text() == broken.read_text()


def test_grade_runs_one_autograde_for_the_class_on_the_terminal_and_force_is_optional(tmp_path, monkeypatch):
    from catkit import cli, nbgrader_commands
    from catkit.course import Course
    (tmp_path / "nbgrader_config.py").write_text("")
    course = Course.at(tmp_path)
    calls = []
    monkeypatch.setattr(nbgrader_commands.subprocess, "run", lambda command, **options:
                        calls.append((command, options)) or subprocess.CompletedProcess(command, 0))
    nbgrader_commands.autograde(course, ASSIGNMENT)
    nbgrader_commands.autograde(course, ASSIGNMENT, force=True)
    (default, options), (forced, _) = calls
    assert default[1:4] == ["autograde", ASSIGNMENT, "--log-level=WARN"] and "--force" not in default
    assert not {"stderr", "capture_output"} & set(options)  # the progress bar needs the terminal
    assert forced[-1] == "--force"
    assert cli.parser().parse_args(["grade", ASSIGNMENT, "--submissions", "x", "--force"]).force


@pytest.mark.slow
def test_demo_grades_the_bundled_examples_of_every_assignment_and_prints_the_tables(tmp_path):
    root = tmp_path / "course"
    for name in ("source", "data", "examples"):
        shutil.copytree(REPO / name, root / name)
    shutil.copy(REPO / "nbgrader_config.py", root)
    result = catkit("demo", cwd=root)
    assert result.returncode == 0, result.stderr[-3000:]
    demo = root / ".catkit" / "demo"  # the demo's own course
    sections = dict(re.findall(r"== (\w+) ==\n(.*?)(?=\n== |\Z)", result.stdout, re.S))
    assert sorted(sections) == sorted(a.name for a in ASSIGNMENTS)

    def rows(assignment):
        return {line.split()[0]: line.split() for line in sections[assignment].splitlines()
                if line.startswith("example-")}
    logistic = rows(ASSIGNMENT)
    assert logistic["example-correct"][1:8] == ["3/3", "2/2", "5/5", "4/4", "3/3", "3/3", "20/20"]
    assert logistic["example-untouched"][7] == "0/20"
    assert logistic["example-sigmoid-sign-error"][1] == "0/3" and logistic["example-model-global"][6] == "0/3"
    assert all(float(row[8]) >= 0 for row in logistic.values())  # seconds per submission
    basics = rows("python_basics_numpy")
    assert basics["example-correct"][1:10] == ["2/2", "2/2", "2/2", "3/3", "3/3", "4/4", "2/2", "2/2", "20/20"]
    assert basics["example-softmax-total-sum"][6] == "0/4" and basics["example-untouched"][9] == "0/20"
    # One export for the course: a summary row per student and assignment, a file per assignment.
    with open(demo / "exports" / "grades.csv", newline="") as handle:
        summary = {(row["student_id"], row["assignment"]): (row["total"], row["status"])
                   for row in csv.DictReader(handle)}
    assert summary["example-correct", ASSIGNMENT] == summary["example-correct", "python_basics_numpy"] \
        == ("20", "graded")
    students = set(logistic) | set(basics)  # every student has a row for every assignment, submitted or not
    assert len(summary) == 2 * len(students)
    assert summary["example-L1-no-abs", ASSIGNMENT] == ("", "not graded: no submission")
    for assignment in ASSIGNMENTS:
        with open(demo / "exports" / f"grades_{assignment.name}.csv", newline="") as handle:
            header = next(csv.reader(handle))
        assert header == ["student_id", "first_name", "last_name", "email", *assignment.functions, "total", "status"]
        assert len(list((demo / "feedback").glob(f"*/{assignment.name}/*.html"))) == len(rows(assignment.name))
    # The real course is left as a fresh instructor has it, and the stock workflow runs there.
    left = sorted(path.name for path in root.iterdir())
    assert left == [".catkit", "data", "examples", "nbgrader_config.py", "source"], left
    assert sorted(path.name for path in (root / ".catkit").iterdir()) == ["demo"]
    exchange, home, work = tmp_path / "exchange", tmp_path / "home", tmp_path / "home" / "work"
    exchange.mkdir()
    exchange.chmod(0o777)
    work.mkdir(parents=True)
    settings = f"\nc.Exchange.root = {str(exchange)!r}\n"
    with open(root / "nbgrader_config.py", "a") as config:
        config.write(settings)
    (work / "nbgrader_config.py").write_text(f"c = get_config()\nc.CourseDirectory.course_id = 'catvnoncat'{settings}")
    nbgrader(root, "generate_assignment", ASSIGNMENT)
    exchange_run(root, "release_assignment", ASSIGNMENT, home=tmp_path)
    exchange_run(work, "fetch_assignment", ASSIGNMENT, home=home)
    shutil.copy(REPO / "examples" / "submissions" / "example-correct" / ASSIGNMENT / NOTEBOOK, work / ASSIGNMENT)
    exchange_run(work, "submit", ASSIGNMENT, home=home)
    for step in ("collect", "autograde", "generate_feedback", "release_feedback"):
        exchange_run(root, step, ASSIGNMENT, home=tmp_path)
    exchange_run(work, "fetch_feedback", ASSIGNMENT, home=home)
    assert list((work / ASSIGNMENT / "feedback").glob(f"*/{Path(NOTEBOOK).stem}.html"))
    scores = gradebook_scores(root)
    assert len(scores) == 1 and next(iter(scores.values()))["total"] == 20, scores  # no example student
