"""The course's stock nbgrader workflow, driven end to end: generate, autograde, feedback, export.

Every step is a plain ``nbgrader`` command run in the course root, so what this module does is
exactly what an instructor types; it adds checks with clear messages before each step and a
table of points per function at the end.
"""

import csv
import filecmp
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import nbformat

from catkit.errors import CatkitError
from catkit.gradebook import course_directory, open_gradebook
from catkit.nbgrader_plugins.assignments import assignment_layout
from catkit.nbgrader_plugins.export import function_maxima, function_scores
from catkit.nbgrader_plugins.status import NOT_GRADED, STATE, is_graded, read_stamp


def _nbgrader_command(*args):
    """The nbgrader command line and environment: nbgrader runs 'alembic' from the same venv."""
    bin_dir = os.path.dirname(sys.executable)
    env = {**os.environ, "PATH": bin_dir + os.pathsep + os.environ.get("PATH", "")}
    return [os.path.join(bin_dir, "nbgrader"), *args], env


def nbgrader(root, *args):
    """Run one nbgrader command in the course root; raise CatkitError with its log on failure."""
    command, env = _nbgrader_command(*args)
    result = subprocess.run(command, cwd=root, env=env, capture_output=True, text=True)
    if result.returncode != 0:
        log = "\n".join((result.stdout + result.stderr).strip().splitlines()[-25:])
        raise CatkitError(f"'nbgrader {' '.join(args)}' failed in {root}:\n{log}")
    return result


def notebooks(root, assignment):
    """The assignment's notebooks in source/, or CatkitError naming the assignments that exist."""
    folder = Path(root) / "source" / assignment
    found = sorted(folder.glob("*.ipynb"))
    if not found:
        existing = assignments(root)
        raise CatkitError(f"unknown assignment '{assignment}': {folder} holds no notebook. "
                          f"Assignments in {Path(root) / 'source'}: {', '.join(existing) or 'none'}.")
    return found


def assignments(root):
    """The course's assignments: folders of source/ holding a notebook, in course order (the order
    of their names; prefix them with a number to choose another)."""
    return sorted(p.name for p in (Path(root) / "source").glob("*/") if list(p.glob("*.ipynb")))


def find_submissions(folder, assignment):
    """Student ids with a folder ``folder/<student>/<assignment>/`` (an empty one is reported as
    not graded, not skipped), or CatkitError if no student has a notebook there."""
    folder = Path(folder)
    if not folder.is_dir():
        raise CatkitError(f"submissions folder {folder} does not exist")
    if not list(folder.glob(f"*/{assignment}/*.ipynb")):
        raise CatkitError(f"no submissions for '{assignment}' in {folder}: expected notebooks at "
                          f"{folder}/<student id>/{assignment}/<notebook>.ipynb")
    return sorted(path.parent.name for path in folder.glob(f"*/{assignment}/") if path.is_dir())


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
    seconds: float  # grading time of the submission inside the one autograde run
    status: str     # "graded" or "not graded: <why>", as in the export

    @property
    def graded(self):
        return is_graded(self.status)


@dataclass
class AutogradeRun:
    returncode: int
    log: Path          # nbgrader's warnings and errors of the run
    log_tail: str = ""


def autograde(root, assignment, force=False, *options):
    """One ``nbgrader autograde`` for the whole class (``options``: more of its command line). Its
    progress bar and warnings go straight to the user's terminal (stderr is not captured: the bar
    shows only on a terminal); its log file keeps them for the error message. A non-zero exit (some
    submissions failed) is returned, not raised, so that what was graded is still exported. Without
    ``force`` nbgrader skips what is completely graded and the kit's ResumableExporter regrades
    what was interrupted."""
    log = Path(root) / STATE / "autograde.log"
    log.parent.mkdir(parents=True, exist_ok=True)
    log.unlink(missing_ok=True)  # nbgrader appends to its log file
    args = ["autograde", assignment, "--log-level=WARN", f"--NbGrader.logfile={log}"]
    command, env = _nbgrader_command(*args, *(["--force"] if force else []), *options)
    returncode = subprocess.run(command, cwd=root, env=env).returncode
    tail = log.read_text(errors="replace").strip().splitlines()[-12:] if log.exists() else []
    return AutogradeRun(returncode, log, "\n".join(tail) if returncode else "")


def _statuses(export, assignment):
    """student -> status, from the export (one source of truth for "graded")."""
    with open(export, newline="", encoding="utf-8") as handle:
        return {row["student_id"]: row["status"] for row in csv.DictReader(handle)
                if row["assignment"] == assignment}


def _grading_seconds(root, assignment, student):
    """Grading time of a submission, from the stamps of its autograded notebooks."""
    stamps = [read_stamp(path) for path in (Path(root) / "autograded" / student / assignment).glob("*.ipynb")]
    return sum(found["grading_seconds"] for found in stamps if found)


def grade(root, assignment, submissions, force=False, scheduler=None):
    """Generate the student version, autograde the class in one run (or, with ``scheduler``, on
    that Dask cluster: see :mod:`catkit.cluster`), export, write feedback.
    Returns the points per function, a result per student and the autograde run."""
    root = Path(root).resolve()
    notebooks(root, assignment)
    students = find_submissions(submissions, assignment)
    nbgrader(root, "generate_assignment", assignment, "--force")
    collect(root, assignment, submissions, students)
    if scheduler:
        from catkit import cluster
        run = cluster.autograde(root, assignment, scheduler, force)
    else:
        run = autograde(root, assignment, force)
    export = root / "exports" / "grades.csv"
    export.parent.mkdir(exist_ok=True)
    nbgrader(root, "export", "--to", str(export))
    statuses = _statuses(export, assignment)
    layout = assignment_layout(course_directory(root), assignment)
    with open_gradebook(root) as gb:  # wherever nbgrader_config.py's db_url points
        maxima = function_maxima(gb, assignment, layout)
        results = [StudentResult(s, function_scores(gb, assignment, s, layout),
                                 _grading_seconds(root, assignment, s),
                                 statuses.get(s, NOT_GRADED + "missing from the export")) for s in students]
    if any(result.graded for result in results):  # nbgrader fails when it finds nothing graded
        nbgrader(root, "generate_feedback", assignment, "--force")
    return maxima, results, run


def table(maxima, results):
    """Points per function per student, with the grading time of each submission."""
    names = [*maxima, "total"]  # the assignment's functions, in notebook order
    maxima = {**maxima, "total": sum(maxima.values())}
    width = max(len("student"), *(len(r.student) for r in results))
    header = f"{'student':<{width}}  " + "  ".join(f"{n:>{max(len(n), 5)}}" for n in names) + "  seconds"
    lines = [header, "-" * len(header)]
    for result in results:
        if not result.graded:
            lines.append(f"{result.student:<{width}}  {result.status.splitlines()[0]}")
            continue
        cells = "  ".join(f"{result.scores[n]:g}/{maxima[n]:g}".rjust(max(len(n), 5)) for n in names)
        lines.append(f"{result.student:<{width}}  {cells}  {result.seconds:7.1f}")
    return "\n".join(lines)
