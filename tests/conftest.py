"""Shared helpers: a temporary copy of the course, submissions, and real nbgrader runs."""

import os
import sys
from pathlib import Path

import nbformat
import pytest
from nbgrader.api import Gradebook

from catkit import course, submissions
from catkit.nbgrader_plugins.export import function_maxima, function_scores

REPO = Path(__file__).resolve().parents[1]
ASSIGNMENT = "logistic_regression"
NOTEBOOK = "Logistic_Regression_with_a_Neural_Network_mindset.ipynb"
SOURCE_NB = REPO / "source" / ASSIGNMENT / NOTEBOOK
REAL_DATA = REPO.parent / "shared" / "data"
HAVE_REAL_DATA = all((REAL_DATA / name).is_file() for name in ("train_catvnoncat.h5", "test_catvnoncat.h5"))
requires_real_data = pytest.mark.skipif(
    not HAVE_REAL_DATA, reason=f"the course's real data set is not in {REAL_DATA}: it may not be "
    "redistributed, so only machines that have it (CI does) run this test")

# nbgrader starts helper programs (alembic) by name: they live beside this interpreter.
os.environ["PATH"] = os.path.dirname(sys.executable) + os.pathsep + os.environ.get("PATH", "")


def make_course(root, extra_config=""):
    """Copy the course into ``root`` and generate the student version there."""
    return course.copy_course(REPO, root, ASSIGNMENT, extra_config)


def read(path):
    return nbformat.read(path, as_version=4)


def release_nb(root):
    return read(root / "release" / ASSIGNMENT / NOTEBOOK)


def solved(root, edits=None, keep_stubs=()):
    """The release notebook filled in with the reference answers, with ``edits`` applied."""
    return submissions.fill(release_nb(root), read(root / "source" / ASSIGNMENT / NOTEBOOK),
                            edits, keep_stubs)


def submit(root, student, nb):
    course.submit(root, student, ASSIGNMENT, NOTEBOOK, nb)


def gradebook_scores(root):
    """student -> {function: points, 'total': points} from the gradebook."""
    with Gradebook(f"sqlite:///{root / 'gradebook.db'}") as gb:
        return {s.id: function_scores(gb, ASSIGNMENT, s.id) for s in gb.students}


def maxima(root):
    with Gradebook(f"sqlite:///{root / 'gradebook.db'}") as gb:
        return function_maxima(gb, ASSIGNMENT)


def needs_manual_grading(root, student):
    with Gradebook(f"sqlite:///{root / 'gradebook.db'}") as gb:
        submission = gb.find_submission(ASSIGNMENT, student)
        return [g.name for nb in submission.notebooks for g in nb.grades if g.needs_manual_grade]
