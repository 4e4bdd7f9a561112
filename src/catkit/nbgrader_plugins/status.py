"""Whether a submission was graded, and if not, why: shared by autograde, export and ``catkit grade``.

A submission counts as graded when every notebook of it in ``autograded/`` carries the stamp that
:class:`~catkit.nbgrader_plugins.resume.MarkGraded` puts there as the last autograde step. The
stamp reaches the disk only when nbgrader wrote the whole notebook, after it saved the grades, so
a notebook without it (interrupted, or never graded) is never mistaken for a graded one.

When grading a submission fails for a reason that is not the student's (the sandbox could not
start, say), the reason is kept in ``.catkit/not_graded/<assignment>/<student>.txt`` in the
course root (nbgrader deletes the autograded folder of a failed submission), so the export and
``catkit grade`` can say why.
"""

import json
from pathlib import Path

STATE = ".catkit"  # the kit's state in the course root, beside the gradebook: never released


def stamp(nb, seconds):
    """Mark ``nb`` (about to be written by nbgrader) as completely graded."""
    nb.metadata["catkit"] = {"graded": True, "grading_seconds": round(float(seconds), 3)}


def read_stamp(path):
    """The stamp of an autograded notebook file, or None (missing, unreadable, cut short, unstamped)."""
    try:
        with open(path, encoding="utf-8") as handle:
            metadata = json.load(handle).get("metadata", {})
    except (OSError, ValueError, AttributeError):
        return None
    found = metadata.get("catkit") if isinstance(metadata, dict) else None
    return found if isinstance(found, dict) and found.get("graded") is True else None


def _failure_file(root, assignment, student):
    return Path(root) / STATE / "not_graded" / assignment / f"{student}.txt"


def record_failure(root, assignment, student, reason):
    path = _failure_file(root, assignment, student)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(reason.strip() + "\n", encoding="utf-8")


def clear_failure(root, assignment, student):
    _failure_file(root, assignment, student).unlink(missing_ok=True)


def recorded_failure(root, assignment, student):
    try:
        return _failure_file(root, assignment, student).read_text(encoding="utf-8").strip()
    except OSError:
        return None
