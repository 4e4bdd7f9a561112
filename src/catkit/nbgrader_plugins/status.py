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

import glob
import json
from pathlib import Path

STATE = ".catkit"  # the kit's state in the course root, beside the gradebook: never released
GRADED = "graded"
NOT_GRADED = "not graded: "  # followed by the reason
INCOMPLETE = "grading did not complete"  # the reason when no more specific one is known


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


def is_graded(status):
    return status == GRADED


def notebook_names(coursedir, assignment):
    """File names of the assignment's notebooks, from source/ (what a submission should hold)."""
    source = Path(coursedir.format_path(coursedir.source_directory, ".", assignment))
    return sorted(path.name for path in source.glob("*.ipynb"))


def submitted_students(coursedir, assignment):
    """Students with a folder in submitted/ for ``assignment``, empty ones included."""
    pattern = coursedir.format_path(coursedir.submitted_directory, "*", assignment)
    return sorted(Path(path).parent.name for path in glob.glob(pattern) if Path(path).is_dir())


def submission_status(coursedir, assignment, student):
    """``graded``, or ``not graded: <why>``: graded iff every notebook of the assignment that the
    student submitted is in autograded/ with the stamp."""
    submitted = Path(coursedir.format_path(coursedir.submitted_directory, student, assignment))
    autograded = Path(coursedir.format_path(coursedir.autograded_directory, student, assignment))
    expected = [name for name in notebook_names(coursedir, assignment) if (submitted / name).is_file()]
    if expected and all(read_stamp(autograded / name) for name in expected):
        return GRADED
    return NOT_GRADED + why_not_graded(coursedir, assignment, student)


def why_not_graded(coursedir, assignment, student):
    """The most specific reason we know for a submission that is not graded."""
    recorded = recorded_failure(coursedir.root, assignment, student)
    if recorded:
        return recorded
    submitted = Path(coursedir.format_path(coursedir.submitted_directory, student, assignment))
    if not submitted.is_dir() or not any(submitted.iterdir()):
        return "no submission"
    names = notebook_names(coursedir, assignment)
    present = [name for name in names if (submitted / name).is_file()]
    if not present:
        held = sorted(path.name for path in submitted.glob("*.ipynb"))
        holds = f"{', '.join(held)} (renamed?)" if held else "no notebook"
        return f"no notebook named {', '.join(names)} in the submission, which holds {holds}"
    for name in present:
        problem = _not_a_notebook(submitted / name)
        if problem:
            return f"{name} is not a notebook ({problem})"
    return f"{INCOMPLETE}: run nbgrader autograde {assignment} again"


def _not_a_notebook(path):
    """Why ``path`` cannot be read as a notebook, or None."""
    try:
        with open(path, encoding="utf-8") as handle:
            content = json.load(handle)
    except (OSError, ValueError):  # UnicodeDecodeError is a ValueError too
        return "invalid JSON"
    if not isinstance(content, dict) or not isinstance(content.get("cells"), list):
        return "JSON without notebook cells"
    return None
