"""Benchmark: seconds to grade one submission, with and without the kit's protections.

Not a test: it measures and prints a table (the README quotes it). On a copy of the course it
grades the same correct submission with

1. the kit as configured: isolated per-function grading in the bubblewrap sandbox;
2. the kit without the sandbox (IsolatedExecute.sandbox = 'none': rlimits only);
3. stock nbgrader: its Execute in one kernel, demonstrations tagged autograde-skip skipped;

each as ``nbgrader autograde --student S`` (one submission per command, nbgrader's own
start-up included), and compares with executing the whole notebook top to bottom (nbclient,
default data), what grading would cost without skipping anything.

    python benchmarks/grading_time.py [--repeat 5]
"""

import argparse
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

import nbclient
import nbformat

from catkit import course, submissions
from catkit.grading import sandbox

REPO = Path(__file__).resolve().parents[1]
ASSIGNMENT = "logistic_regression"
STOCK_AUTOGRADE = """
c.Autograde.autograde_preprocessors = [
    "nbgrader.preprocessors.Execute", "nbgrader.preprocessors.IgnorePattern",
    "nbconvert.preprocessors.ClearMetadataPreprocessor", "nbgrader.preprocessors.LimitOutput",
    "nbgrader.preprocessors.SaveAutoGrades", "nbgrader.preprocessors.AssignLatePenalties",
    "nbgrader.preprocessors.CheckCellMetadata"]
"""


def notebook_name(root):
    return course.notebooks(root, ASSIGNMENT)[0].name


def submit(root, student):
    name = notebook_name(root)
    release = nbformat.read(root / "release" / ASSIGNMENT / name, as_version=4)
    source = nbformat.read(root / "source" / ASSIGNMENT / name, as_version=4)
    course.submit(root, student, ASSIGNMENT, name, submissions.fill(release, source))


def autograde_seconds(extra_config, repeat):
    root = course.copy_course(REPO, tempfile.mkdtemp(prefix="catkit-bench-"), ASSIGNMENT, extra_config)
    try:
        times = []
        for i in range(repeat):
            student = f"bench{i}"
            submit(root, student)
            start = time.perf_counter()
            course.nbgrader(root, "autograde", ASSIGNMENT, "--student", student, "--force")
            times.append(time.perf_counter() - start)
        return times
    finally:
        shutil.rmtree(root)


def whole_notebook_seconds(repeat):
    path = REPO / "source" / ASSIGNMENT / notebook_name(REPO)
    times = []
    for _ in range(repeat):
        nb = nbformat.read(path, as_version=4)
        start = time.perf_counter()
        nbclient.NotebookClient(nb, timeout=600, kernel_name="python3",
                                resources={"metadata": {"path": str(path.parent)}}).execute()
        times.append(time.perf_counter() - start)
    return times


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    os.environ["PATH"] = os.path.dirname(sys.executable) + os.pathsep + os.environ["PATH"]
    sandboxed = sandbox.bubblewrap() is not None
    rows = [
        ("kit, sandboxed (bwrap)" if sandboxed else "kit, sandbox unavailable here",
         autograde_seconds('\nc.IsolatedExecute.sandbox = "auto"\n', args.repeat)),
        ("kit, no sandbox", autograde_seconds('\nc.IsolatedExecute.sandbox = "none"\n', args.repeat)),
        ("stock nbgrader Execute (one kernel)", autograde_seconds(STOCK_AUTOGRADE, args.repeat)),
        ("whole notebook, top to bottom (nbclient)", whole_notebook_seconds(max(1, args.repeat // 2))),
    ]
    print(f"{'what':<44} {'median s':>9} {'min s':>7} {'max s':>7}  runs")
    for label, times in rows:
        print(f"{label:<44} {statistics.median(times):9.2f} {min(times):7.2f} {max(times):7.2f}  {len(times)}")
    ratio = statistics.median(rows[0][1]) / statistics.median(rows[1][1])
    print(f"\nsandbox overhead: {ratio:.2f}x the kit without sandbox; "
          f"{statistics.median(rows[0][1]) / statistics.median(rows[2][1]):.2f}x stock nbgrader")
    print(f"machine: {os.cpu_count()} cores, Python {sys.version.split()[0]}")


if __name__ == "__main__":
    main()
