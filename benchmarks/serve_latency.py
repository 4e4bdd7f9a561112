"""Benchmark: seconds from ``nbgrader submit`` returning to the student's feedback being released.

Not a test: it measures and prints a table (the README quotes it). A fresh copy of the course
with a real exchange in a temporary folder; students (each with their own HOME) submit the
reference answer with the stock ``nbgrader submit``; a submission's latency ends when its graded
feedback page is in the exchange, where ``nbgrader fetch_feedback`` takes it from.

1. ``catkit serve``: the first submission (the grading processes start), then ``--single``
   submissions one after another (each waits for the previous one's feedback): the median; then a
   burst of ``--burst`` students submitting within about 15 s: the median and the 95th percentile.
2. The same with stock nbgrader, as an instructor would script it: a loop of ``nbgrader collect
   --update``, ``autograde``, ``generate_feedback``, ``release_feedback`` and ``sleep 1`` (the
   course's configuration, so the kit's grading inside autograde): ``--stock-single`` submissions
   one after another, and a burst of ``--stock-burst`` (0: skipped).

    python benchmarks/serve_latency.py [--single 7] [--burst 20] [--stock-single 3] [--stock-burst 0] [--only-stock]
"""

import argparse
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from nbgrader.utils import notebook_hash

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
from catkit import submissions  # noqa: E402
from exchange_course import ASSIGNMENT, NOTEBOOK, ExchangeCourse, Server, environment  # noqa: E402

BURST_SECONDS = 15.0


def page_of(course, inbound):
    """The feedback page of the submission in ``inbound`` (where release_feedback puts it)."""
    secret = (inbound / "submission_secret.txt").read_text()
    name = notebook_hash(secret=secret, notebook_id=NOTEBOOK.removesuffix(".ipynb"))
    return course.exchange / "catvnoncat" / "feedback" / f"{name}.html"


def wait_page(course, inbound, timeout=900.0):
    """time.monotonic() when the graded page of ``inbound`` appears."""
    path, deadline = page_of(course, inbound), time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            page = path.read_text()
        except OSError:
            page = ""
        if "Score:" in page:
            return time.monotonic()
        if "<h1>Not graded" in page:
            raise RuntimeError(f"{inbound.name} was not graded:\n{page}")
        time.sleep(0.02)
    raise TimeoutError(f"no feedback for {inbound.name} after {timeout} s")


def one_after_another(course, students, nb):
    latencies = []
    for student in students:
        inbound = student.submit(nb)
        submitted = time.monotonic()
        latencies.append(wait_page(course, inbound) - submitted)
    return latencies


def burst(course, students, nb):
    """Every student submits, spread over BURST_SECONDS (one thread each); latency per submission."""
    for student in students:
        student.write(nb)
    done, gap = [], BURST_SECONDS / max(1, len(students) - 1)

    def submit(student):
        inbound = student.submit()
        done.append((inbound, time.monotonic()))
    threads = []
    for student in students:
        threads.append(threading.Thread(target=submit, args=(student,)))
        threads[-1].start()
        time.sleep(gap)
    for thread in threads:
        thread.join()
    return [wait_page(course, inbound) - submitted for inbound, submitted in done]


def p95(values):
    return statistics.quantiles(values, n=20, method="inclusive")[-1] if len(values) > 1 else values[0]


class StockLoop:
    """The instructor's shell loop of stock nbgrader commands, in the course root."""

    SCRIPT = (f"while true; do nbgrader collect {ASSIGNMENT} --update && nbgrader autograde {ASSIGNMENT} && "
              f"nbgrader generate_feedback {ASSIGNMENT} && nbgrader release_feedback {ASSIGNMENT}; sleep 1; done")

    def __init__(self, course):
        self.process = subprocess.Popen(["bash", "-c", self.SCRIPT], cwd=course.root, env=environment(),
                                        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)

    def stop(self):
        os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait()


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--single", type=int, default=7)
    parser.add_argument("--burst", type=int, default=20)
    parser.add_argument("--stock-single", type=int, default=3)
    parser.add_argument("--stock-burst", type=int, default=0)
    parser.add_argument("--only-stock", action="store_true", help="measure the stock loop alone")
    args = parser.parse_args()
    rows = []
    with tempfile.TemporaryDirectory(prefix="catkit-bench-serve-") as folder:
        if not args.only_stock:
            rows += measure_serve(Path(folder) / "serve", args)
        if args.stock_single or args.stock_burst:
            rows += measure_stock(Path(folder) / "stock", args)
    print(f"\nSeconds from `nbgrader submit` returning to the feedback released ({os.cpu_count()} cores)")
    print(f"{'grader':<14}{'what':<48}{'seconds':>8}")
    for grader, what, seconds in rows:
        print(f"{grader:<14}{what:<48}{seconds:>8.1f}")


def measure_serve(folder, args):
    """The rows of ``catkit serve``: its first submission, one at a time, a burst."""
    course = ExchangeCourse(folder)
    nb = submissions.fill(course.source_release(), course.source)
    print("fetching the assignment as", 1 + args.single + args.burst, "students...", file=sys.stderr)
    students = [course.student(f"s{i:02d}") for i in range(1 + args.single + args.burst)]
    server = Server(course)
    try:
        first = one_after_another(course, students[:1], nb)
        single = one_after_another(course, students[1:1 + args.single], nb)
        crowd = burst(course, students[1 + args.single:], nb)
    finally:
        server.stop()
    return [("catkit serve", "first submission (grading processes start)", first[0]),
            ("catkit serve", f"one at a time, median of {len(single)}", statistics.median(single)),
            *burst_rows("catkit serve", crowd)]


def measure_stock(folder, args):
    """The rows of the loop of stock commands: one at a time, a burst (each if asked for)."""
    course = ExchangeCourse(folder)
    nb = submissions.fill(course.source_release(), course.source)
    students = [course.student(f"t{i:02d}") for i in range(args.stock_single + args.stock_burst)]
    loop = StockLoop(course)
    try:
        single = one_after_another(course, students[:args.stock_single], nb)
        crowd = burst(course, students[args.stock_single:], nb) if args.stock_burst else []
    finally:
        loop.stop()
    rows = [("stock loop", f"one at a time, median of {len(single)}", statistics.median(single))] if single else []
    return rows + burst_rows("stock loop", crowd)


def burst_rows(grader, latencies):
    if not latencies:
        return []
    what = f"burst of {len(latencies)} in {BURST_SECONDS:g} s"
    return [(grader, f"{what}, median", statistics.median(latencies)), (grader, f"{what}, p95", p95(latencies))]


if __name__ == "__main__":
    main()
