"""What happens on a machine without bubblewrap: grading degrades loudly, or refuses if required."""

import os
import subprocess
import sys

import pytest

from conftest import ASSIGNMENT, MISTAKES, gradebook_scores, make_course, solved, submit

pytestmark = pytest.mark.slow

VENV_BIN = os.path.dirname(sys.executable)


def autograde_without_bubblewrap(root):
    """`nbgrader autograde` with a PATH that has no bwrap nor setpriv (only the venv)."""
    env = {**os.environ, "PATH": VENV_BIN}
    return subprocess.run([os.path.join(VENV_BIN, "nbgrader"), "autograde", ASSIGNMENT], cwd=root, env=env,
                          capture_output=True, text=True, timeout=600)


def test_without_bubblewrap_grading_warns_loudly_and_still_scores(tmp_path):
    root = make_course(tmp_path)
    submit(root, "reference", solved(root))
    submit(root, "sign-error", solved(root, MISTAKES["sigmoid-sign-error"][1]))
    result = autograde_without_bubblewrap(root)
    assert result.returncode == 0, result.stderr[-2000:]
    assert "WARNING: student code is NOT fully sandboxed" in result.stderr
    scores = gradebook_scores(root)
    assert scores["reference"]["total"] == 20
    assert scores["sign-error"]["sigmoid"] == 0 and scores["sign-error"]["total"] == 17


def test_a_required_sandbox_refuses_to_grade_without_bubblewrap(tmp_path):
    root = make_course(tmp_path, '\nc.IsolatedExecute.sandbox = "bwrap"\n')
    submit(root, "reference", solved(root))
    result = autograde_without_bubblewrap(root)
    assert result.returncode != 0
    assert "bubblewrap cannot be used here" in result.stderr
    assert not list((root / "autograded" / "reference").rglob("*.ipynb")), "a notebook was graded anyway"
