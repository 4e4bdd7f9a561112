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

import glob
import logging
import subprocess
import sys
import time
import uuid
from pathlib import Path

from catkit.errors import CatkitError
from catkit.nbgrader_plugins.status import STATE

# catkit.course and catkit.gradebook (nbgrader, SQLAlchemy: seconds to import) are imported where
# used: a Dask worker imports this module to run grade_shard, on its event loop.

WORKERS_SECONDS = 60  # for a first worker to join the scheduler


def say(message):
    print(f"catkit: {message}", file=sys.stderr, flush=True)


def is_sqlite(url):
    from sqlalchemy.engine import make_url
    return make_url(url).get_backend_name() == "sqlite"


def make_course_secret(root):
    """Make the course secret now, once, before several nbgrader processes would race to."""
    from catkit import gradebook
    from catkit.nbgrader_plugins.execute import IsolatedExecute, NotGraded, _course_secret

    secret_file = IsolatedExecute(config=gradebook.course_directory(root).config).secret_file
    try:
        _course_secret(Path(root) / (secret_file or f"{STATE}/course_secret"), logging.getLogger("catkit"))
    except NotGraded as error:
        raise CatkitError(str(error)) from None


def submitted_students(root, assignment):
    """Every student with a submission of ``assignment`` in the course (what autograde looks at)."""
    from catkit import gradebook
    coursedir = gradebook.course_directory(root)
    pattern = coursedir.format_path(coursedir.submitted_directory, "*", assignment)
    return sorted(Path(path).parent.name for path in glob.glob(pattern) if Path(path).is_dir())


def shards(students, count):
    """``students`` in at most ``count`` shards of nearly equal size (dealt round, in order)."""
    return [part for part in (students[i::count] for i in range(count)) if part]


def shard_log(root, index):
    return Path(root) / STATE / f"autograde-shard-{index}.log"


def grade_shard(root, assignment, exclude, force, index):
    """The Dask task of one shard, on a worker: a plain ``nbgrader autograde`` of the students not
    in ``exclude``, in the course root, that dies with this worker. Returns (exit status, worker
    address, seconds, the end of nbgrader's output)."""
    from distributed import get_worker

    from catkit import course
    from catkit.grading.sandbox import die_with_parent

    address = get_worker().address
    if not (Path(root) / "nbgrader_config.py").is_file():
        raise CatkitError(f"the course folder {root} is not on the Dask worker {address}: mount the shared "
                          "course folder at the same path on every worker")
    log = shard_log(root, index)
    log.unlink(missing_ok=True)  # a shard redone elsewhere starts its log anew
    command, env = course._nbgrader_command(
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


def autograde(root, assignment, scheduler, force=False):
    """Autograde the class on the Dask cluster at ``scheduler``: one nbgrader per worker, each on
    its shard of the students (PostgreSQL gradebook), or one nbgrader whose submissions the
    workers grade (SQLite). Returns a :class:`catkit.course.AutogradeRun`."""
    from catkit import course, gradebook

    root = Path(root).resolve()
    url = gradebook.db_url(root)
    if is_sqlite(url):
        say(f"the gradebook is SQLite ({gradebook.shown_url(url)}), which takes one writer at a time: one "
            f"nbgrader autograde, its submissions graded on the Dask cluster {scheduler}. With a PostgreSQL "
            "gradebook, each Dask worker would run nbgrader on its own shard of the class.")
        return course.autograde(root, assignment, force, f"--IsolatedExecute.scheduler={scheduler}")
    from distributed import Client, KilledWorker, as_completed

    make_course_secret(root)
    students = submitted_students(root, assignment)
    try:
        client = Client(scheduler, set_as_default=False)  # (Dask's distributed.comm.timeouts.connect)
    except (OSError, TimeoutError) as error:
        raise CatkitError(f"cannot reach the Dask scheduler {scheduler}: {error}") from None
    log = root / STATE / "autograde.log"
    with client:
        try:
            client.wait_for_workers(1, timeout=WORKERS_SECONDS)
        except TimeoutError:
            raise CatkitError(f"the Dask scheduler {scheduler} has no worker (waited {WORKERS_SECONDS} s)") from None
        workers = sorted(client.scheduler_info(n_workers=-1)["workers"])
        parts = shards(students, len(workers))
        say(f"grading {len(students)} submissions of {assignment} on the Dask cluster {scheduler}: "
            f"{len(parts)} shards, one nbgrader autograde per worker, into the gradebook {gradebook.shown_url(url)}")
        futures = {}
        for index, (part, worker) in enumerate(zip(parts, workers)):
            exclude = ",".join(sorted(set(students) - set(part)))
            future = client.submit(grade_shard, str(root), assignment, exclude, force, index, pure=False,
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
    _join_logs(root, log, len(parts))
    return course.AutogradeRun(returncode, log, "\n".join(tails))


def _join_logs(root, log, count):
    """The shards' logs, one after the other, in the run's log."""
    with open(log, "w", encoding="utf-8") as out:
        for index in range(count):
            path = shard_log(root, index)
            if path.exists():
                out.write(f"--- shard {index + 1}/{count}\n{path.read_text(errors='replace')}")
