"""Benchmark: how fast a class is graded, by the kit and by stock nbgrader, in one run.

Not a test: it measures and prints a table (the README quotes it). On fresh copies of the course,
the same class (``--students`` submissions: the reference answer and each typical one-bug
mistake of ``examples/mistakes/logistic_regression.toml`` in turn) is graded by one plain
``nbgrader autograde logistic_regression`` per configuration:

1. the kit as configured: per-function grading, bubblewrap sandboxes in control groups, reference
   dependencies in a sandbox of their own, verdicts outside, grading processes working ahead;
2. the kit without the sandbox (``IsolatedExecute.sandbox = 'none'``: rlimits only), for the
   sandbox's overhead;
3. stock nbgrader: its ``Execute`` in one kernel per submission (demonstrations tagged
   autograde-skip skipped, as the course configures it);
4. nbgrader with no execution step at all: its own per-submission work, the ceiling of any
   grader that runs inside one ``nbgrader autograde``.

Each row is the wall-clock time of the whole command (nbgrader's start-up included), as
submissions per minute; ratios are against stock nbgrader of the same run.

    python benchmarks/grading_time.py [--students 40] [--repeat 1]

With ``--dask`` (``make bench ARGS=--dask``) it measures instead, in one run and into a PostgreSQL
gradebook (a throw-away server, as the tests start it), the class graded by one
``nbgrader autograde`` on this machine and by ``catkit.cluster.autograde`` on a local
``dask.distributed`` cluster (``dask scheduler`` and ``dask worker`` on 127.0.0.1) of 1 and 2
workers: one nbgrader per worker, each on its shard of the class; and, for comparison, one
nbgrader whose submissions the 2 workers grade (``IsolatedExecute.scheduler``, as with SQLite);
and nbgrader's own per-submission work alone (no execution step) in one nbgrader and in two
shards: the one-process ceiling, and how shards lift it. Each row times the autograde step alone,
the cluster already running.
"""

import argparse
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

import nbformat

from catkit import nbgrader_commands, submissions, workflow
from catkit.course import Course
from catkit.examples import mistakes
from catkit.grading.isolation import cgroups, launch

REPO = Path(__file__).resolve().parents[1]
ASSIGNMENT = "logistic_regression"
AFTER_EXECUTE = ["nbgrader.preprocessors.IgnorePattern", "nbconvert.preprocessors.ClearMetadataPreprocessor",
                 "nbgrader.preprocessors.LimitOutput", "nbgrader.preprocessors.SaveAutoGrades",
                 "nbgrader.preprocessors.AssignLatePenalties", "nbgrader.preprocessors.CheckCellMetadata"]
CONFIGURATIONS = {
    "kit": "",
    "kit, no sandbox": '\nc.IsolatedExecute.sandbox = "none"\n',
    "stock nbgrader (Execute)":
        f"\nc.Autograde.autograde_preprocessors = {['nbgrader.preprocessors.Execute', *AFTER_EXECUTE]!r}\n",
    "nbgrader, no execution": f"\nc.Autograde.autograde_preprocessors = {AFTER_EXECUTE!r}\n",
}


def make_class(root, students):
    """``students`` submissions: the reference answer and the typical mistakes, in turn."""
    course = Course.at(root)
    name = course.notebooks(ASSIGNMENT)[0].name
    release = nbformat.read(course.release_dir(ASSIGNMENT) / name, as_version=4)
    source = nbformat.read(course.source_dir(ASSIGNMENT) / name, as_version=4)
    kinds = [("correct", {})] + [(name, mistake.edits) for name, mistake in mistakes(REPO, ASSIGNMENT).items()]
    for i in range(students):
        kind, edits = kinds[0] if i % 2 == 0 else kinds[1 + (i // 2) % (len(kinds) - 1)]
        workflow.submit(course, f"s{i:03d}-{kind}", ASSIGNMENT, name, submissions.fill(release, source, edits))


def _all_graded(root, students, seconds):
    """``seconds``, once every submission of the class is graded (a partial run measures nothing)."""
    graded = len(list((root / "autograded").glob(f"*/{ASSIGNMENT}/*.ipynb")))
    if graded != students:
        raise RuntimeError(f"only {graded} of {students} submissions were graded in {root}")
    return seconds


def class_seconds(extra_config, students):
    root = workflow.copy_course(REPO, Path(tempfile.mkdtemp(prefix="catkit-bench-")), ASSIGNMENT, extra_config)
    try:
        make_class(root, students)
        start = time.perf_counter()
        nbgrader_commands.run(root, "autograde", ASSIGNMENT)
        return _all_graded(root, students, time.perf_counter() - start)
    finally:
        shutil.rmtree(root, ignore_errors=True)


def dask_seconds(postgres, workers, students, level, extra_config=""):
    """Seconds to autograde the class into a fresh PostgreSQL gradebook: on this machine
    (``workers`` 0), or on a local Dask cluster of ``workers`` (level "B": one nbgrader per worker;
    "A": one nbgrader, the jobs on the workers)."""
    from catkit import cluster
    from dask_cluster import DaskCluster

    url = postgres.new_database(f"bench_{workers}_{level.lower()}_{len(extra_config)}")
    root = workflow.copy_course(REPO, Path(tempfile.mkdtemp(prefix="catkit-bench-")), ASSIGNMENT,
                              f"\nc.CourseDirectory.db_url = {url!r}\n{extra_config}")
    dask = DaskCluster(workers=workers, nthreads=os.cpu_count()) if workers else None
    try:
        make_class(root, students)
        cluster.make_course_secret(Course.at(root))
        start = time.perf_counter()
        if dask is None:
            nbgrader_commands.run(root, "autograde", ASSIGNMENT)
        elif level == "A":
            nbgrader_commands.run(root, "autograde", ASSIGNMENT, f"--IsolatedExecute.scheduler={dask.address}")
        else:
            run = cluster.autograde(Course.at(root), ASSIGNMENT, scheduler=dask.address)
            if run.returncode:
                raise RuntimeError(f"sharded autograde failed:\n{run.log_tail}")
        return _all_graded(root, students, time.perf_counter() - start)
    finally:
        if dask is not None:
            dask.stop()
        shutil.rmtree(root, ignore_errors=True)


NO_EXECUTION = CONFIGURATIONS["nbgrader, no execution"]
DASK_CONFIGURATIONS = {  # label -> (workers, level, extra configuration)
    "this machine, one nbgrader": (0, "-", ""),
    "Dask, 1 worker (shards)": (1, "B", ""),
    "Dask, 2 workers (shards)": (2, "B", ""),
    "Dask, 2 workers, one nbgrader": (2, "A", ""),
    # nbgrader's own per-submission work alone: the ceiling of one nbgrader, and of two
    "no execution, one nbgrader": (0, "-", NO_EXECUTION),
    "no execution, 2 workers (shards)": (2, "B", NO_EXECUTION),
}


def dask_main(args):
    sys.path.insert(0, str(REPO / "tests"))  # the tests' PostgreSQL server and Dask cluster
    from postgres import MISSING, PostgresServer, find_bindir

    if find_bindir() is None:
        raise SystemExit(MISSING)
    print(f"class of {args.students} submissions into a PostgreSQL gradebook; workers on 127.0.0.1 with "
          f"{os.cpu_count()} threads each; {os.cpu_count()} cores, Python {sys.version.split()[0]}\n")
    postgres = PostgresServer(find_bindir()).start()
    try:
        times = {}
        for label, (workers, level, config) in DASK_CONFIGURATIONS.items():
            times[label] = statistics.median(dask_seconds(postgres, workers, args.students, level, config)
                                             for _ in range(args.repeat))
            print(f"  measured {label}: {times[label]:.1f} s", flush=True)
    finally:
        postgres.stop()
    local = times["this machine, one nbgrader"]
    print(f"\n{'configuration':<32} {'seconds':>8} {'per minute':>11} {'vs one nbgrader':>16}")
    for label, seconds in times.items():
        print(f"{label:<32} {seconds:8.1f} {60 * args.students / seconds:11.1f} {local / seconds:15.2f}x")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--students", type=int, default=40)
    parser.add_argument("--repeat", type=int, default=1, help="runs per configuration (the median is shown)")
    parser.add_argument("--dask", action="store_true",
                        help="one nbgrader vs a local Dask cluster of 1 and 2 workers (PostgreSQL gradebook)")
    args = parser.parse_args()
    os.environ["PATH"] = os.path.dirname(sys.executable) + os.pathsep + os.environ["PATH"]
    if args.dask:
        return dask_main(args)
    isolation = "bwrap" if launch.bubblewrap() else "NO SANDBOX: bubblewrap unavailable here"
    caps = "control groups" if cgroups.available() is None else "rlimits only (no control groups here)"
    print(f"class of {args.students} submissions, one `nbgrader autograde {ASSIGNMENT}` each; "
          f"kit: {isolation}, {caps}; {os.cpu_count()} cores, Python {sys.version.split()[0]}\n")
    times = {}
    for label, config in CONFIGURATIONS.items():
        times[label] = statistics.median(class_seconds(config, args.students) for _ in range(args.repeat))
        print(f"  measured {label}: {times[label]:.1f} s", flush=True)
    stock = times["stock nbgrader (Execute)"]
    print(f"\n{'configuration':<28} {'seconds':>8} {'per submission':>15} {'per minute':>11} {'vs stock':>9}")
    for label, seconds in times.items():
        print(f"{label:<28} {seconds:8.1f} {seconds / args.students:14.2f}s {60 * args.students / seconds:11.1f} "
              f"{stock / seconds:8.2f}x")
    print(f"\nsandbox overhead: {times['kit'] / times['kit, no sandbox']:.2f}x the kit without sandbox")


if __name__ == "__main__":
    main()
