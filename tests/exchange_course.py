"""A course with a real nbgrader exchange in a temporary folder, students with their own HOME, and ``catkit serve``.

Used by the service's tests and its benchmark: the instructor releases with ``nbgrader
release_assignment``; each :class:`Student` runs the stock ``fetch_assignment``, ``submit``
(``--student``) and ``fetch_feedback`` in their own home; :class:`Server` runs ``catkit serve`` as
a real process in the course root (it dies with the test process).
"""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import nbformat

from catkit import workflow
from catkit.parent_death import die_with_parent

BIN = Path(sys.executable).parent
REPO = Path(__file__).resolve().parents[1]
COURSE_ID = "catvnoncat"
ASSIGNMENT = "logistic_regression"
NOTEBOOK = "Logistic_Regression_with_a_Neural_Network_mindset.ipynb"


def environment(home=None):
    env = {k: v for k, v in os.environ.items() if k != "CATVNONCAT_DATA"}
    env["PATH"] = f"{BIN}{os.pathsep}{env.get('PATH', '')}"
    if home is not None:
        env["HOME"] = str(home)
    return env


def run(cwd, *args, home=None):
    result = subprocess.run([str(BIN / "nbgrader"), *args], cwd=cwd, env=environment(home),
                            capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, f"nbgrader {' '.join(args)}:\n{result.stdout[-3000:]}{result.stderr[-3000:]}"
    return result.stdout + result.stderr


class ExchangeCourse:
    """The course copied into ``folder / 'course'``, its exchange ``folder / 'exchange'``, released."""

    def __init__(self, folder, extra_config=""):
        self.folder = Path(folder)
        self.exchange = self.folder / "exchange"
        self.exchange.mkdir(parents=True)
        self.exchange.chmod(0o777)  # nbgrader wants an exchange everyone can write to
        self.settings = f"\nc.Exchange.root = {str(self.exchange)!r}\n"
        self.root = workflow.copy_course(REPO, self.folder / "course", ASSIGNMENT, self.settings + extra_config)
        run(self.root, "release_assignment", ASSIGNMENT)
        self.inbound = self.exchange / COURSE_ID / "inbound"
        self.source = nbformat.read(self.root / "source" / ASSIGNMENT / NOTEBOOK, as_version=4)

    def source_release(self):
        """The student version of the notebook, as released."""
        return nbformat.read(self.root / "release" / ASSIGNMENT / NOTEBOOK, as_version=4)

    def student(self, name):
        return Student(self, name)

    def journal(self):
        import json
        path = self.root / ".catkit" / "serve" / "journal.jsonl"
        return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []


class Student:
    """A student with a home of their own, who has fetched the assignment."""

    def __init__(self, course, name):
        self.course, self.name = course, name
        self.home = course.folder / "homes" / name
        self.work = self.home / "work"
        self.work.mkdir(parents=True)
        (self.work / "nbgrader_config.py").write_text(
            f"c = get_config()\nc.CourseDirectory.course_id = {COURSE_ID!r}{course.settings}")
        run(self.work, "fetch_assignment", ASSIGNMENT, home=self.home)
        self.folder = self.work / ASSIGNMENT

    def write(self, nb):
        nbformat.write(nb, self.folder / NOTEBOOK)

    def submit(self, nb=None):
        """Submit (the notebook ``nb`` if given); returns the inbound folder of the submission."""
        if nb is not None:
            self.write(nb)
        before = set(self.course.inbound.glob(f"{self.name}+*")) if self.course.inbound.exists() else set()
        run(self.work, "submit", ASSIGNMENT, f"--student={self.name}", home=self.home)
        (made,) = set(self.course.inbound.glob(f"{self.name}+*")) - before
        return made

    def fetch_feedback(self):
        """{timestamp folder name: page text} of every feedback page fetched."""
        run(self.work, "fetch_feedback", ASSIGNMENT, f"--student={self.name}", home=self.home)
        pages = sorted((self.folder / "feedback").glob("*/*.html"))
        return {page.parent.name: page.read_text() for page in pages}


class Server:
    """``catkit serve`` running in the course root; its output in ``log``."""

    def __init__(self, course, *args):
        self.course = course
        self.log = course.folder / f"serve-{time.monotonic_ns()}.out"
        with open(self.log, "wb") as out:
            self.process = subprocess.Popen([str(BIN / "catkit"), "serve", *args], cwd=course.root,
                                            env=environment(), stdout=out, stderr=subprocess.STDOUT,
                                            preexec_fn=die_with_parent)

    def output(self):
        return self.log.read_text(errors="replace")

    def wait_for(self, predicate, what, timeout=300):
        """Wait until ``predicate()`` holds (the service died, or ``timeout`` s: the test fails)."""
        deadline = time.monotonic() + timeout
        while not predicate():
            assert self.process.poll() is None, f"catkit serve exited ({self.process.returncode}):\n{self.output()}"
            assert time.monotonic() < deadline, f"waited {timeout} s for {what}:\n{self.output()}"
            time.sleep(0.1)

    def wait_graded(self, count, timeout=300):
        """Wait until the journal holds ``count`` lines."""
        self.wait_for(lambda: len(self.course.journal()) >= count, f"{count} submissions handled", timeout)

    def stop(self, sig=signal.SIGTERM, timeout=120):
        if self.process.poll() is None:
            self.process.send_signal(sig)
        return self.process.wait(timeout=timeout)
