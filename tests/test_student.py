"""The student's side: the release folder alone, on a machine without the course, and `nbgrader validate`."""

import os
import shutil
import subprocess
import sys

import nbformat
import pytest

from catkit import submissions
from conftest import ASSIGNMENT, NOTEBOOK, REPO, SOURCE_NB, read

VENV_BIN = os.path.dirname(sys.executable)

pytestmark = pytest.mark.slow  # nbgrader validate runs the notebook in a kernel


def validate(folder):
    env = {**os.environ, "PATH": VENV_BIN + os.pathsep + os.environ["PATH"],
           "CATVNONCAT_DATA": str(REPO / "source" / ASSIGNMENT / "data")}
    return subprocess.run([os.path.join(VENV_BIN, "nbgrader"), "validate", NOTEBOOK], cwd=folder, env=env,
                          capture_output=True, text=True, timeout=600)


def student_copy(tmp_path, solve):
    folder = tmp_path / ASSIGNMENT
    shutil.copytree(REPO / "release" / ASSIGNMENT, folder)
    if solve:
        nbformat.write(submissions.fill(read(folder / NOTEBOOK), read(SOURCE_NB)), folder / NOTEBOOK)
    return folder


def test_a_complete_notebook_validates_in_the_students_folder(tmp_path):
    result = validate(student_copy(tmp_path, solve=True))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Success! Your notebook passes all the tests." in result.stdout


def test_validating_the_untouched_release_names_what_to_do(tmp_path):
    result = validate(student_copy(tmp_path, solve=False))
    # The six visible-check cells fail, each pointing at the stub it calls.
    assert "VALIDATION FAILED ON 6 CELL(S)" in result.stdout
    assert "NotImplementedError" in result.stdout and "sigmoid(" in result.stdout
    # Whole lines, not cut at nbgrader's default 90 characters (the folder's Validator.width).
    message = ("AssertionError: propagate calls your sigmoid, whose checks fail: fix sigmoid first, then run this cell "
               "again (NotImplementedError: )")
    assert len(message) > 120 and message in [line.strip() for line in result.stdout.splitlines()], result.stdout
    # The check cells call the released public_tests.py: its lines are quoted in the tracebacks.
    assert "public_tests.py" in result.stdout and "propagate_test(propagate, sigmoid)" in result.stdout
