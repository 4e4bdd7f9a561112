"""Grading processes that grade submissions ahead, while nbgrader does its own work.

nbgrader handles one submission at a time in one process (copying files, sanitising, saving
grades, writing notebooks: about 0.3 s each). A :class:`GradingPool` grades the next submissions
elsewhere meanwhile, so the machine's cores (or a cluster's, :mod:`catkit.grading.dask_pool`) work
at once: when nbgrader reaches a submission, its grades are usually waiting. A job's result is used
only if the job is exactly the one nbgrader asks for (same key: same student code, tests,
reference and secret).

:class:`LocalGradingPool` grades in local grading processes. Each (``python -m
catkit.grading.pools``) is trusted code: it reads pickled jobs on stdin and writes pickled results
on stdout, one submission at a time, with its own sandboxes. It is asked, before it runs anything,
to die with nbgrader: a ``kill -9`` of nbgrader leaves no grading process (nor, through
bubblewrap's ``--die-with-parent``, any sandbox).
"""

from __future__ import annotations

import contextlib
import os
import pickle
import queue
import subprocess
import sys
import threading
import traceback
from collections.abc import Hashable
from concurrent.futures import Future
from typing import Protocol

from catkit.errors import GraderFault
from catkit.grading.job import Job, Result, Settings
from catkit.parent_death import die_with_parent


class GradingPool(Protocol):
    """Where submissions are graded: ``submit`` starts one ahead, ``result`` waits for it."""

    processes: int  # how many submissions it grades at once

    def submit(self, name: Hashable, job: Job) -> None:
        """Start grading ``job`` (named ``name``) unless it is already under way."""

    def result(self, name: Hashable, job: Job) -> Result:
        """The result of ``job``: graded ahead if that was this very job, else graded now.
        GraderFault if it cannot be graded, through no fault of the student's."""

    def close(self) -> None:
        """Cancel what is still waiting; end the grading processes."""


STOP_SECONDS = 10.0  # for a grading process to close its sandboxes and exit when asked


class _Process:
    """One grading process, started from the thread that keeps it (the kernel's parent-death
    signal follows the thread that forked)."""

    def __init__(self) -> None:
        self.process = subprocess.Popen([sys.executable, "-m", "catkit.grading.pools"], stdin=subprocess.PIPE,
                                        stdout=subprocess.PIPE, preexec_fn=die_with_parent)

    def grade(self, job: Job, settings: Settings) -> Result:
        requests, replies = self.process.stdin, self.process.stdout
        assert requests is not None and replies is not None  # (both are pipes)
        try:
            pickle.dump((job, settings), requests)
            requests.flush()
            kind, value = pickle.load(replies)
        except (OSError, EOFError, pickle.UnpicklingError) as error:
            raise BrokenPipeError(f"the grading process died ({error!r})") from None
        if kind == "fault":
            raise GraderFault(value)
        if kind == "error":
            raise RuntimeError(f"grading failed in the grading process:\n{value}")
        result: Result = value
        return result

    def close(self) -> None:
        """End the grading process: at the end of its jobs it closes its sandboxes and removes its
        temporary folder, so it is asked to stop (end of stdin), and killed only if it does not."""
        if self.process.stdin is not None:
            with contextlib.suppress(OSError):
                self.process.stdin.close()
        try:
            self.process.wait(timeout=STOP_SECONDS)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


class LocalGradingPool:
    """A :class:`GradingPool` of ``processes`` local grading processes, each kept by a thread."""

    def __init__(self, settings: Settings, processes: int) -> None:
        self.settings, self.processes = settings, processes
        self.jobs: queue.Queue[tuple[Job, Future[Result]] | None] = queue.Queue()
        self.pending: dict[Hashable, tuple[str, Future[Result]]] = {}  # name -> (job key, future)
        self._threads = [threading.Thread(target=self._serve, daemon=True, name=f"grading-{i}")
                         for i in range(processes)]
        for thread in self._threads:
            thread.start()

    def _serve(self) -> None:
        worker = None
        while (item := self.jobs.get()) is not None:
            job, future = item
            if not future.set_running_or_notify_cancel():
                continue
            for attempt in range(2):  # a grading process that died (killed from outside) is replaced once
                try:
                    worker = worker or _Process()
                    future.set_result(worker.grade(job, self.settings))
                    break
                except BrokenPipeError as error:
                    if worker is not None:
                        worker.close()
                    worker = None
                    if attempt:
                        future.set_exception(GraderFault(str(error)))
                except BaseException as error:  # noqa: BLE001 - handed to the waiting nbgrader
                    future.set_exception(error)
                    break
        if worker is not None:
            worker.close()

    def _submit(self, job: Job) -> Future[Result]:
        future: Future[Result] = Future()
        self.jobs.put((job, future))
        return future

    def submit(self, name: Hashable, job: Job) -> None:
        """Start grading ``job`` (named ``name``) unless it is already under way."""
        if name not in self.pending:
            self.pending[name] = (job.key, self._submit(job))

    def result(self, name: Hashable, job: Job) -> Result:
        """The result of ``job``: graded ahead if that was this very job, else graded now."""
        key, future = self.pending.pop(name, (None, None))
        if key != job.key or future is None:
            if future is not None:
                future.cancel()
            future = self._submit(job)
        return future.result()

    def close(self) -> None:
        for _, future in self.pending.values():
            future.cancel()
        self.pending.clear()
        for _ in self._threads:
            self.jobs.put(None)
        for thread in self._threads:
            thread.join(timeout=10)
        self._threads = []


def main() -> None:
    """A grading process: grade the jobs that come on stdin, one at a time."""
    from catkit.grading import harness
    from catkit.grading.isolation import handle

    requests, replies = sys.stdin.buffer, sys.stdout.buffer
    sys.stdout = sys.stderr  # stray prints must not break the protocol
    if os.getppid() == 1:  # nbgrader died before the parent-death signal was armed
        return
    while True:
        try:
            job, settings = pickle.load(requests)
        except EOFError:
            break
        reply: tuple[str, object]
        try:
            reply = ("ok", harness.grade(job, settings))
        except GraderFault as fault:
            reply = ("fault", str(fault))
        except Exception:  # noqa: BLE001 - reported to nbgrader, which fails this submission
            reply = ("error", traceback.format_exc())
        pickle.dump(reply, replies)
        replies.flush()
    handle.close_all()


if __name__ == "__main__":
    main()
