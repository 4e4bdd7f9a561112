"""The course's stock nbgrader workflow, driven end to end: generate, autograde, feedback, export.

Every step is a plain ``nbgrader`` command run in the course root, so what this module does is
exactly what an instructor types; it adds checks with clear messages before each step and a
table of points per function at the end.
"""

import filecmp
import os
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import nbformat
from nbgrader.api import Gradebook

from catkit.errors import CatkitError
from catkit.grading.notebook import FUNCTIONS
from catkit.nbgrader_plugins.export import function_maxima, function_scores


def nbgrader(root, *args):
    """Run one nbgrader command in the course root; raise CatkitError with its log on failure."""
    bin_dir = os.path.dirname(sys.executable)  # nbgrader runs 'alembic' from the same venv
    env = {**os.environ, "PATH": bin_dir + os.pathsep + os.environ.get("PATH", "")}
    result = subprocess.run([os.path.join(bin_dir, "nbgrader"), *args], cwd=root, env=env,
                            capture_output=True, text=True)
    if result.returncode != 0:
        log = "\n".join((result.stdout + result.stderr).strip().splitlines()[-25:])
        raise CatkitError(f"'nbgrader {' '.join(args)}' failed in {root}:\n{log}")
    return result


def notebooks(root, assignment):
    """The assignment's notebooks in source/, or CatkitError naming the assignments that exist."""
    folder = Path(root) / "source" / assignment
    found = sorted(folder.glob("*.ipynb"))
    if not found:
        existing = sorted(p.name for p in (Path(root) / "source").glob("*/") if list(p.glob("*.ipynb")))
        raise CatkitError(f"unknown assignment '{assignment}': {folder} holds no notebook. "
                          f"Assignments in {Path(root) / 'source'}: {', '.join(existing) or 'none'}.")
    return found


def find_submissions(folder, assignment):
    """Student ids with a notebook in ``folder/<student>/<assignment>/``."""
    folder = Path(folder)
    if not folder.is_dir():
        raise CatkitError(f"submissions folder {folder} does not exist")
    students = sorted(p.parent.parent.name for p in folder.glob(f"*/{assignment}/*.ipynb"))
    if not students:
        raise CatkitError(f"no submissions for '{assignment}' in {folder}: expected notebooks at "
                          f"{folder}/<student id>/{assignment}/<notebook>.ipynb")
    return sorted(set(students))


def _only_regular_files(folder):
    """Refuse links and special files: nbgrader copies what a link points to (the gradebook, say)."""
    for path in sorted(Path(folder).rglob("*")):
        if path.is_symlink() or not (path.is_file() or path.is_dir()):
            raise CatkitError(f"{path} is a symbolic link or a special file; a submission may hold only "
                              "regular files: remove it and grade again")


def collect(root, assignment, source, students):
    """Copy submissions into the course's submitted/ folder, never overwriting different work."""
    for student in students:
        origin = Path(source) / student / assignment
        _only_regular_files(origin)
        target = Path(root) / "submitted" / student / assignment
        if target.exists():
            comparison = filecmp.dircmp(origin, target)
            if comparison.left_only or comparison.diff_files or comparison.funny_files:
                raise CatkitError(f"{target} already holds a different submission; grade it as it is, "
                                  "or move it away first (nothing is overwritten)")
            continue
        shutil.copytree(origin, target)


def copy_course(origin, root, assignment, extra_config=""):
    """A working copy of the course at ``origin`` in ``root``, its student version generated
    (for tests and benchmarks); ``extra_config`` is appended to its nbgrader_config.py."""
    origin, root = Path(origin), Path(root)
    for name in ("source", "data"):
        shutil.copytree(origin / name, root / name)
    (root / "nbgrader_config.py").write_text((origin / "nbgrader_config.py").read_text() + extra_config)
    nbgrader(root, "generate_assignment", assignment, "--force")
    return root


def submit(root, student, assignment, name, nb):
    """Put notebook ``nb`` where nbgrader expects the submission of ``student``."""
    folder = Path(root) / "submitted" / student / assignment
    folder.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, folder / name)


@dataclass
class StudentResult:
    student: str
    scores: dict
    seconds: float
    error: str = ""  # why nbgrader could not grade this submission


def _autograde(root, assignment, student):
    """Autograde one submission; a failure is reported, not raised, so the others are graded."""
    start = time.perf_counter()
    try:
        nbgrader(root, "autograde", assignment, "--student", student, "--force")
        error = ""
    except CatkitError as failure:
        error = str(failure)
    return time.perf_counter() - start, error


def grade(root, assignment, submissions):
    """Generate the student version, autograde each submission, write feedback and the export."""
    root = Path(root).resolve()
    notebooks(root, assignment)
    students = find_submissions(submissions, assignment)
    nbgrader(root, "generate_assignment", assignment, "--force")
    collect(root, assignment, submissions, students)
    graded = {student: _autograde(root, assignment, student) for student in students}
    nbgrader(root, "generate_feedback", assignment, "--force")
    (root / "exports").mkdir(exist_ok=True)
    nbgrader(root, "export", "--to", str(root / "exports" / "grades.csv"))
    with Gradebook(f"sqlite:///{root / 'gradebook.db'}") as gb:
        maxima = function_maxima(gb, assignment)
        results = [StudentResult(s, function_scores(gb, assignment, s), *graded[s]) for s in students]
    return maxima, results


def table(maxima, results):
    """Points per function per student, with the grading time of each submission."""
    names = [*FUNCTIONS, "total"]
    maxima = {**maxima, "total": sum(maxima.values())}
    width = max(len("student"), *(len(r.student) for r in results))
    header = f"{'student':<{width}}  " + "  ".join(f"{n:>{max(len(n), 5)}}" for n in names) + "  seconds"
    lines = [header, "-" * len(header)]
    for result in results:
        if result.error:
            lines.append(f"{result.student:<{width}}  could not be graded (see below)")
            continue
        cells = "  ".join(f"{result.scores[n]:g}/{maxima[n]:g}".rjust(max(len(n), 5)) for n in names)
        lines.append(f"{result.student:<{width}}  {cells}  {result.seconds:7.1f}")
    return "\n".join(lines)
