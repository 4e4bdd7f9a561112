"""Running nbgrader's own commands for a course: what an instructor would type, from Python.

Used by local grading (:mod:`catkit.workflow`) and by sharded grading on a Dask cluster
(:mod:`catkit.cluster`): each runs plain ``nbgrader`` commands in the course root, with the
configuration of its ``nbgrader_config.py``, so the command line, the formgrader and the kit grade
alike.
"""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from catkit.errors import CatkitError

if TYPE_CHECKING:  # (nbgrader is slow to import; a Dask worker imports this module on its event loop)
    from catkit.course import Course


@dataclass
class AutogradeRun:
    """One autograde of a class: nbgrader's exit status, its log, the end of the log on failure."""

    returncode: int
    log: Path
    log_tail: str = ""


def command(*args: str) -> tuple[list[str], dict[str, str]]:
    """The nbgrader command line and environment: nbgrader runs 'alembic' from the same venv."""
    bin_dir = os.path.dirname(sys.executable)
    env = {**os.environ, "PATH": bin_dir + os.pathsep + os.environ.get("PATH", "")}
    return [os.path.join(bin_dir, "nbgrader"), *args], env


def run(root: Path | str, *args: str) -> subprocess.CompletedProcess[str]:
    """Run one nbgrader command in the course root; raise CatkitError with its log on failure."""
    line, env = command(*args)
    result = subprocess.run(line, cwd=root, env=env, capture_output=True, text=True)
    if result.returncode != 0:
        log = "\n".join((result.stdout + result.stderr).strip().splitlines()[-25:])
        raise CatkitError(f"'nbgrader {' '.join(args)}' failed in {root}:\n{log}")
    return result


def run_shown(course: Course, *args: str) -> None:
    """Run one nbgrader command in the course root with its stderr on the user's terminal (its
    progress bar, its warnings; nbgrader's INFO lines left out), its log kept in
    ``.catkit/<command>.log``; raise CatkitError with the end of that log on failure."""
    log = course.state_dir / f"{args[0]}.log"
    log.parent.mkdir(parents=True, exist_ok=True)
    log.unlink(missing_ok=True)  # nbgrader appends to its log file
    line, env = command(*args, "--log-level=WARN", f"--NbGrader.logfile={log}")
    returncode = subprocess.run(line, cwd=course.root, env=env).returncode
    if returncode:
        tail = "\n".join(log.read_text(errors="replace").strip().splitlines()[-25:]) if log.exists() else ""
        raise CatkitError(f"'nbgrader {' '.join(args)}' failed in {course.root} (status {returncode}); its log, "
                          f"{log}, ends with:\n{tail}")


def autograde(course: Course, assignment: str, force: bool = False, *options: str) -> AutogradeRun:
    """One ``nbgrader autograde`` for the whole class (``options``: more of its command line). Its
    progress bar and warnings go straight to the user's terminal (stderr is not captured: the bar
    shows only on a terminal); its log file keeps them for the error message. A non-zero exit (some
    submissions failed) is returned, not raised, so that what was graded is still exported. Without
    ``force`` nbgrader skips what is completely graded and the kit's ResumableExporter regrades
    what was interrupted."""
    log = course.state_dir / "autograde.log"
    log.parent.mkdir(parents=True, exist_ok=True)
    log.unlink(missing_ok=True)  # nbgrader appends to its log file
    line, env = command("autograde", assignment, "--log-level=WARN", f"--NbGrader.logfile={log}",
                        *(["--force"] if force else []), *options)
    returncode = subprocess.run(line, cwd=course.root, env=env).returncode
    tail = log.read_text(errors="replace").strip().splitlines()[-12:] if log.exists() else []
    return AutogradeRun(returncode, log, "\n".join(tail) if returncode else "")
