"""A class graded on a ``dask.distributed`` cluster: ``catkit grade A --submissions DIR --scheduler tcp://HOST:PORT``.

One ``nbgrader autograde`` does nbgrader's own per-submission work (copying, sanitising, saving
grades, writing notebooks) in one process, however many machines grade. With a gradebook that
takes several writers at once (PostgreSQL), this module lifts that ceiling:

- The class is split into one shard of students per Dask worker, and one Dask task per shard
  runs, on its worker, a plain ``nbgrader autograde A --CourseDirectory.student_id_exclude=<every
  student not in the shard>`` in the shared course folder: that nbgrader grades its shard with
  the worker's own sandboxes and grading processes, and writes its rows into the shared gradebook.
- The nbgrader of a shard dies with its worker (parent-death signal; its grading processes and
  sandboxes die with it). The scheduler then gives the shard to another worker, whose nbgrader
  finishes it: autograding is resumable (``catkit.nbgrader_plugins.resume``: interrupted
  submissions of the shard's students, and only theirs, are removed and graded again) and
  deterministic, so every grade is right and none is counted twice.

With a SQLite gradebook (one writer at a time) there is one ``nbgrader autograde``, whose
submissions are graded on the cluster (``IsolatedExecute.scheduler``, see
:mod:`catkit.grading.dask_pool`).
"""

from __future__ import annotations

import subprocess
import sys
import time
import uuid
from pathlib import Path
from typing import TYPE_CHECKING

from catkit import nbgrader_commands
from catkit.errors import CatkitError, NotGraded
from catkit.nbgrader_commands import AutogradeRun
from catkit.parent_death import die_with_parent

if TYPE_CHECKING:
    from catkit.course import Course
# catkit.course (nbgrader, SQLAlchemy: seconds to import) is not imported here: a Dask worker
# imports this module to run grade_shard, on its event loop.

WORKERS_SECONDS = 60  # for a first worker to join the scheduler


def say(message: str) -> None:
    print(f"catkit: {message}", file=sys.stderr, flush=True)


def is_sqlite(url: str) -> bool:
    from sqlalchemy.engine import make_url
    return make_url(url).get_backend_name() == "sqlite"


def make_course_secret(course: Course) -> None:
    """Make the course secret now, once, before several nbgrader processes would race to."""
    from catkit.course import SECRET_MADE
    try:
        _, made = course.secret()
    except NotGraded as error:
        raise CatkitError(str(error)) from None
    if made:
        say(SECRET_MADE.format(course.secret_path))


def shards(students: list[str], count: int) -> list[list[str]]:
    """``students`` in at most ``count`` shards of nearly equal size (dealt round, in order)."""
    return [part for part in (students[i::count] for i in range(count)) if part]


def shard_log(state_dir: Path, index: int) -> Path:
    return state_dir / f"autograde-shard-{index}.log"


def grade_shard(root: str, assignment: str, exclude: str, force: bool, log: str) -> tuple[int, str, float, str]:
    """The Dask task of one shard, on a worker: a plain ``nbgrader autograde`` of the students not
    in ``exclude``, in the course root, that dies with this worker. Returns (exit status, worker
    address, seconds, the end of nbgrader's output)."""
    from distributed import get_worker

    address = get_worker().address
    if not (Path(root) / "nbgrader_config.py").is_file():
        raise CatkitError(f"the course folder {root} is not on the Dask worker {address}: mount the shared "
                          "course folder at the same path on every worker")
    Path(log).unlink(missing_ok=True)  # a shard redone elsewhere starts its log anew
    command, env = nbgrader_commands.command(
        "autograde", assignment, "--log-level=WARN", f"--NbGrader.logfile={log}",
        f"--CourseDirectory.student_id_exclude={exclude}",
        "--IsolatedExecute.scheduler=",  # this nbgrader grades on this machine
        *(["--force"] if force else []))
    start = time.monotonic()
    # Started from this task's thread, which waits for it: the parent-death signal (which follows
    # the thread that forked) fires when the worker dies, not before.
    result = subprocess.run(command, cwd=root, env=env, stdin=subprocess.DEVNULL, capture_output=True,
                            text=True, preexec_fn=die_with_parent)
    tail = "\n".join((result.stdout + result.stderr).strip().splitlines()[-12:])
    return result.returncode, address, time.monotonic() - start, tail


def autograde(course: Course, assignment: str, force: bool = False, *, scheduler: str) -> AutogradeRun:
    """Autograde the class on the Dask cluster at ``scheduler``: one nbgrader per worker, each on
    its shard of the students (PostgreSQL gradebook), or one nbgrader whose submissions the
    workers grade (SQLite)."""
    if is_sqlite(course.db_url):
        say(f"the gradebook is SQLite ({course.shown_db_url}), which takes one writer at a time: one "
            f"nbgrader autograde, its submissions graded on the Dask cluster {scheduler}. With a PostgreSQL "
            "gradebook, each Dask worker would run nbgrader on its own shard of the class.")
        return nbgrader_commands.autograde(course, assignment, force, f"--IsolatedExecute.scheduler={scheduler}")
    from distributed import Client, KilledWorker, as_completed

    make_course_secret(course)
    students = course.submitted_students(assignment)
    try:
        client = Client(scheduler, set_as_default=False)  # (Dask's distributed.comm.timeouts.connect)
    except (OSError, TimeoutError) as error:
        raise CatkitError(f"cannot reach the Dask scheduler {scheduler}: {error}") from None
    log = course.state_dir / "autograde.log"
    with client:
        try:
            client.wait_for_workers(1, timeout=WORKERS_SECONDS)
        except TimeoutError:
            raise CatkitError(f"the Dask scheduler {scheduler} has no worker (waited {WORKERS_SECONDS} s)") from None
        workers = sorted(client.scheduler_info(n_workers=-1)["workers"])
        parts = shards(students, len(workers))
        say(f"grading {len(students)} submissions of {assignment} on the Dask cluster {scheduler}: "
            f"{len(parts)} shards, one nbgrader autograde per worker, into the gradebook {course.shown_db_url}")
        futures = {}
        for index, (part, worker) in enumerate(zip(parts, workers, strict=False)):  # (fewer shards than workers)
            exclude = ",".join(sorted(set(students) - set(part)))
            future = client.submit(grade_shard, str(course.root), assignment, exclude, force,
                                   str(shard_log(course.state_dir, index)), pure=False,
                                   key=f"catkit_shard-{index}-{uuid.uuid4().hex}", workers=[worker],
                                   allow_other_workers=True)  # moved to another worker if this one dies
            futures[future] = (index, part)
        returncode, tails = 0, []
        for future in as_completed(futures, loop=client.loop):
            index, part = futures[future]
            try:
                status, address, seconds, tail = future.result()
            except KilledWorker as error:  # the shard killed worker after worker: not a grading result
                status, address, seconds, tail = 1, "no worker", 0.0, f"shard {index} was given up: {error}"
            except CatkitError:
                raise
            except Exception as error:  # noqa: BLE001 - the cluster went away: what was graded is kept
                status, address, seconds, tail = 1, "no worker", 0.0, f"shard {index}: {type(error).__name__}: {error}"
            say(f"shard {index + 1}/{len(parts)} ({len(part)} submissions) on {address}: "
                + (f"graded in {seconds:.1f} s" if status == 0 else f"nbgrader autograde exited with status {status}"))
            if status:
                returncode = returncode or status
                tails.append(tail)
    _join_logs(course.state_dir, log, len(parts))
    return AutogradeRun(returncode, log, "\n".join(tails))


def _join_logs(state_dir: Path, log: Path, count: int) -> None:
    """The shards' logs, one after the other, in the run's log."""
    with open(log, "w", encoding="utf-8") as out:
        for index in range(count):
            path = shard_log(state_dir, index)
            if path.exists():
                out.write(f"--- shard {index + 1}/{count}\n{path.read_text(errors='replace')}")
