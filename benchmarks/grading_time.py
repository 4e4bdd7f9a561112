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

from catkit import course, submissions
from catkit.examples import mistakes
from catkit.grading import cgroups, sandbox

REPO = Path(__file__).resolve().parents[1]
ASSIGNMENT = "logistic_regression"
AFTER_EXECUTE = ["nbgrader.preprocessors.IgnorePattern", "nbconvert.preprocessors.ClearMetadataPreprocessor",
                 "nbgrader.preprocessors.LimitOutput", "nbgrader.preprocessors.SaveAutoGrades",
                 "nbgrader.preprocessors.AssignLatePenalties", "nbgrader.preprocessors.CheckCellMetadata"]
CONFIGURATIONS = {
    "kit": "",
    "kit, no sandbox": '\nc.IsolatedExecute.sandbox = "none"\n',
    "stock nbgrader (Execute)": f"\nc.Autograde.autograde_preprocessors = {['nbgrader.preprocessors.Execute', *AFTER_EXECUTE]!r}\n",
    "nbgrader, no execution": f"\nc.Autograde.autograde_preprocessors = {AFTER_EXECUTE!r}\n",
}


def make_class(root, students):
    """``students`` submissions: the reference answer and the typical mistakes, in turn."""
    name = course.notebooks(root, ASSIGNMENT)[0].name
    release = nbformat.read(root / "release" / ASSIGNMENT / name, as_version=4)
    source = nbformat.read(root / "source" / ASSIGNMENT / name, as_version=4)
    kinds = [("correct", {})] + [(name, mistake.edits) for name, mistake in mistakes(REPO, ASSIGNMENT).items()]
    for i in range(students):
        kind, edits = kinds[0] if i % 2 == 0 else kinds[1 + (i // 2) % (len(kinds) - 1)]
        course.submit(root, f"s{i:03d}-{kind}", ASSIGNMENT, name, submissions.fill(release, source, edits))


def class_seconds(extra_config, students):
    root = course.copy_course(REPO, Path(tempfile.mkdtemp(prefix="catkit-bench-")), ASSIGNMENT, extra_config)
    try:
        make_class(root, students)
        start = time.perf_counter()
        course.nbgrader(root, "autograde", ASSIGNMENT)
        seconds = time.perf_counter() - start
        graded = len(list((root / "autograded").glob(f"*/{ASSIGNMENT}/*.ipynb")))
        if graded != students:
            raise RuntimeError(f"only {graded} of {students} submissions were graded in {root}")
        return seconds
    finally:
        shutil.rmtree(root, ignore_errors=True)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--students", type=int, default=40)
    parser.add_argument("--repeat", type=int, default=1, help="runs per configuration (the median is shown)")
    args = parser.parse_args()
    os.environ["PATH"] = os.path.dirname(sys.executable) + os.pathsep + os.environ["PATH"]
    isolation = "bwrap" if sandbox.bubblewrap() else "NO SANDBOX: bubblewrap unavailable here"
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
