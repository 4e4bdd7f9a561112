"""``catkit grade``: the course's stock nbgrader workflow, driven end to end for a folder of submissions.

Every step is a plain ``nbgrader`` command run in the course root (generate, autograde, export,
feedback), so what this module does is exactly what an instructor types; it adds checks with clear
messages before each step and a table of points per function at the end. Which autograde runs (one
local ``nbgrader autograde``, or shards on a Dask cluster) is the caller's choice: see
:func:`grade`'s ``autograde`` argument.
"""

from __future__ import annotations

import csv
import filecmp
import glob
import re
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import nbformat

from catkit import nbgrader_commands
from catkit.course import NOT_GRADED, Course, is_graded
from catkit.errors import CatkitError
from catkit.nbgrader_commands import AutogradeRun
from catkit.scores import function_maxima, function_scores

Autograde = Callable[[Course, str, bool], AutogradeRun]  # (course, assignment, force) -> the run


@dataclass
class StudentResult:
    student: str
    scores: dict[str, float]
    seconds: float  # grading time of the submission inside the one autograde run
    status: str     # "graded" or "not graded: <why>", as in the export

    @property
    def graded(self) -> bool:
        return is_graded(self.status)


def find_submissions(folder: Path | str, assignment: str) -> list[str]:
    """Student ids with a folder ``folder/<student>/<assignment>/`` (an empty one is reported as
    not graded, not skipped), or CatkitError if no student has a notebook there."""
    folder = Path(folder)
    if not folder.is_dir():
        raise CatkitError(f"submissions folder {folder} does not exist")
    if not list(folder.glob(f"*/{assignment}/*.ipynb")):
        raise CatkitError(f"no submissions for '{assignment}' in {folder}: expected notebooks at "
                          f"{folder}/<student id>/{assignment}/<notebook>.ipynb")
    return sorted(path.parent.name for path in folder.glob(f"*/{assignment}/") if path.is_dir())


def _only_regular_files(folder: Path) -> None:
    """Refuse links and special files: nbgrader copies what a link points to (the gradebook, say)."""
    for path in sorted(folder.rglob("*")):
        if path.is_symlink() or not (path.is_file() or path.is_dir()):
            raise CatkitError(f"{path} is a symbolic link or a special file; a submission may hold only "
                              "regular files: remove it and grade again")


def collect(course: Course, assignment: str, source: Path | str, students: list[str]) -> None:
    """Copy submissions into the course's submitted folder, never overwriting different work."""
    for student in students:
        origin = Path(source) / student / assignment
        _only_regular_files(origin)
        target = course.submitted_dir(student, assignment)
        if target.exists():
            comparison = filecmp.dircmp(origin, target)
            if comparison.left_only or comparison.diff_files or comparison.funny_files:
                raise CatkitError(f"{target} already holds a different submission; grade it as it is, "
                                  "or move it away first (nothing is overwritten)")
            continue
        shutil.copytree(origin, target)


def submit(course: Course, student: str, assignment: str, name: str, nb: Any) -> None:
    """Put notebook ``nb`` where nbgrader expects the submission of ``student``."""
    folder = course.submitted_dir(student, assignment)
    folder.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, folder / name)


def copy_course(origin: Path | str, root: Path | str, assignment: str, extra_config: str = "") -> Path:
    """A working copy of the course at ``origin`` in ``root``, its student version generated
    (for tests and benchmarks); ``extra_config`` is appended to its nbgrader_config.py."""
    origin, root = Path(origin), Path(root)
    for name in ("source", "data"):
        shutil.copytree(origin / name, root / name)
    (root / "nbgrader_config.py").write_text((origin / "nbgrader_config.py").read_text() + extra_config)
    nbgrader_commands.run(root, "generate_assignment", assignment, "--force")
    return root


def demo_course(course: Course) -> Course:
    """A fresh course of its own for ``catkit demo``, ``.catkit/demo/`` in the course's state folder:
    the course's assignments and configuration, with its own gradebook (SQLite, whatever the course
    uses), secret and folders, so the demo's example students never reach the real course."""
    from catkit.course import Course
    folder = course.state_dir / "demo"
    shutil.rmtree(folder, ignore_errors=True)
    sources = course.source_dir("*").parent
    shutil.copytree(sources, folder / sources.name, ignore=shutil.ignore_patterns(*course.coursedir.ignore))
    config = (course.root / "nbgrader_config.py").read_text()
    (folder / "nbgrader_config.py").write_text(
        config + "\n\n# catkit demo: a course of its own, beside the real one\n"
        f"c.CourseDirectory.root = {str(folder)!r}\n"
        f"c.CourseDirectory.db_url = {'sqlite:///' + str(folder / 'gradebook.db')!r}\n"
        f"c.IsolatedExecute.secret_file = {'.catkit/course_secret'!r}\n")
    return Course.at(folder)


def export_path(course: Course) -> Path:
    return course.root / "exports" / "grades.csv"


def _statuses(export: Path, assignment: str) -> dict[str, str]:
    """student -> status, from the export (one source of truth for "graded")."""
    with open(export, newline="", encoding="utf-8") as handle:
        return {row["student_id"]: row["status"] for row in csv.DictReader(handle)
                if row["assignment"] == assignment}


def _quiet(phase: str) -> None:
    """Say nothing of a phase (the default of :func:`grade`)."""


def grade(course: Course, assignment: str, submissions: Path | str, force: bool = False,
          autograde: Autograde = nbgrader_commands.autograde,
          say: Callable[[str], None] = _quiet) -> tuple[dict[str, float], list[StudentResult], AutogradeRun]:
    """Generate the student version, autograde the class (``autograde``: one local nbgrader by
    default, or :func:`catkit.cluster.autograde` on a Dask cluster), export, write feedback; ``say``
    announces each phase. Returns the points per function, a result per student and the autograde run."""
    course.notebooks(assignment)  # an unknown assignment is an error before anything runs
    students = find_submissions(submissions, assignment)
    say(f"Making the student version of {assignment} (nbgrader generate_assignment)")
    nbgrader_commands.run(course.root, "generate_assignment", assignment, "--force")
    collect(course, assignment, submissions, students)
    say(f"Grading {len(students)} submissions (nbgrader autograde)")
    run = autograde(course, assignment, force)
    export = export_path(course)
    export.parent.mkdir(exist_ok=True)
    say("Exporting the grades (nbgrader export)")
    nbgrader_commands.run(course.root, "export", "--to", str(export))
    statuses = _statuses(export, assignment)
    layout = course.layout(assignment)
    with course.open_gradebook() as gb:  # wherever nbgrader_config.py's db_url points
        maxima = function_maxima(gb, assignment, layout)
        results = [StudentResult(s, function_scores(gb, assignment, s, layout), course.grading_seconds(assignment, s),
                                 statuses.get(s, NOT_GRADED + "missing from the export")) for s in students]
    if any(result.graded for result in results):  # nbgrader fails when it finds nothing graded
        say(f"Writing the feedback of {sum(result.graded for result in results)} submissions (nbgrader "
            "generate_feedback)")
        clear_feedback(course, assignment)
        nbgrader_commands.run_shown(course, "generate_feedback", assignment, "--force")  # a progress bar
    return maxima, results, run


def clear_feedback(course: Course, assignment: str) -> None:
    """Remove the feedback ``generate_feedback --force`` writes again (that of every autograded
    submission of ``assignment`` but the excluded students'), as it would, without its warning
    "Removing existing assignment" for each student at every grading."""
    excluded = course.excluded_students()
    for folder in sorted(Path(path) for path in glob.glob(str(course.autograded_dir("*", assignment)))):
        student = folder.parent.name  # nbgrader's layout: autograded/<student>/<assignment>
        feedback = course.feedback_dir(student, assignment)
        if student not in excluded and feedback.is_dir() and not feedback.is_symlink():
            shutil.rmtree(feedback)


CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")


def printable(text: str) -> str:
    """``text`` for a terminal: control characters (ESC sequences, carriage returns, bells) shown
    as escapes, so a student id cannot move the cursor, recolour or rewrite the table."""
    return CONTROL.sub(lambda m: m.group(0).encode("unicode_escape").decode("ascii"), text)


def table(maxima: dict[str, float], results: list[StudentResult]) -> str:
    """Points per function per student, with the grading time of each submission (student ids and
    statuses made printable)."""
    names = [*maxima, "total"]  # the assignment's functions, in notebook order
    tops = {**maxima, "total": sum(maxima.values())}
    width = max(len("student"), *(len(printable(r.student)) for r in results))
    header = f"{'student':<{width}}  " + "  ".join(f"{n:>{max(len(n), 5)}}" for n in names) + "  seconds"
    lines = [header, "-" * len(header)]
    for result in results:
        if not result.graded:
            lines.append(f"{printable(result.student):<{width}}  {printable(result.status.splitlines()[0])}")
            continue
        cells = "  ".join(f"{result.scores[n]:g}/{tops[n]:g}".rjust(max(len(n), 5)) for n in names)
        lines.append(f"{printable(result.student):<{width}}  {cells}  {result.seconds:7.1f}")
    return "\n".join(lines)
