"""Grading processes that grade submissions ahead, while nbgrader does its own work.

nbgrader handles one submission at a time in one process (copying files, sanitising, saving
grades, writing notebooks: about 0.3 s each). A :class:`GradingPool` grades the next submissions
in other processes meanwhile, so the machine's cores work at once: when nbgrader reaches a
submission, its grades are usually waiting. A job's result is used only if the job is exactly the
one nbgrader asks for (same key: same student code, tests, reference and secret).

Each grading process (``python -m catkit.grading.pool``) is trusted code: it reads pickled jobs
on stdin and writes pickled results on stdout, one submission at a time, with its own
sandboxes. It is asked, before it runs anything, to die with nbgrader: a ``kill -9`` of nbgrader
leaves no grading process (nor, through bubblewrap's ``--die-with-parent``, any sandbox).
"""

import os
import pickle
import queue
import subprocess
import sys
import threading
import traceback
from concurrent.futures import Future

from catkit.grading import sandbox
from catkit.grading.sandboxes import GraderFault


class _Process:
    """One grading process, started from the thread that keeps it (the kernel's parent-death
    signal follows the thread that forked)."""

    def __init__(self):
        self.process = subprocess.Popen([sys.executable, "-m", "catkit.grading.pool"], stdin=subprocess.PIPE,
                                        stdout=subprocess.PIPE, preexec_fn=sandbox.die_with_parent)

    def grade(self, job, settings):
        try:
            pickle.dump((job, settings), self.process.stdin)
            self.process.stdin.flush()
            kind, value = pickle.load(self.process.stdout)
        except (OSError, EOFError, pickle.UnpicklingError) as error:
            raise BrokenPipeError(f"the grading process died ({error!r})") from None
        if kind == "fault":
            raise GraderFault(value)
        if kind == "error":
            raise RuntimeError(f"grading failed in the grading process:\n{value}")
        return value

    def close(self):
        if self.process.poll() is None:
            self.process.kill()
        self.process.wait()


class GradingPool:
    def __init__(self, settings, processes):
        self.settings = settings
        self.jobs = queue.Queue()
        self.pending = {}  # (student, notebook) -> (job key, future)
        self.threads = [threading.Thread(target=self._serve, daemon=True, name=f"grading-{i}")
                        for i in range(processes)]
        for thread in self.threads:
            thread.start()

    def _serve(self):
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
                    worker.close()
                    worker = None
                    if attempt:
                        future.set_exception(GraderFault(str(error)))
                except BaseException as error:  # noqa: BLE001 - handed to the waiting nbgrader
                    future.set_exception(error)
                    break
        if worker is not None:
            worker.close()

    def _submit(self, job):
        future = Future()
        self.jobs.put((job, future))
        return future

    def submit(self, name, job):
        """Start grading ``job`` (named ``name``) unless it is already under way."""
        if name not in self.pending:
            self.pending[name] = (job.key, self._submit(job))

    def result(self, name, job):
        """The result of ``job``: graded ahead if that was this very job, else graded now."""
        key, future = self.pending.pop(name, (None, None))
        if key != job.key:
            if future is not None:
                future.cancel()
            future = self._submit(job)
        return future.result()

    def close(self):
        for _, future in self.pending.values():
            future.cancel()
        self.pending.clear()
        for _ in self.threads:
            self.jobs.put(None)
        for thread in self.threads:
            thread.join(timeout=10)
        self.threads = []


def main():
    """A grading process: grade the jobs that come on stdin, one at a time."""
    from catkit.grading import harness, sandboxes

    requests, replies = sys.stdin.buffer, sys.stdout.buffer
    sys.stdout = sys.stderr  # stray prints must not break the protocol
    if os.getppid() == 1:  # nbgrader died before the parent-death signal was armed
        return
    while True:
        try:
            job, settings = pickle.load(requests)
        except EOFError:
            break
        try:
            reply = ("ok", harness.grade(job, settings))
        except GraderFault as fault:
            reply = ("fault", str(fault))
        except Exception:  # noqa: BLE001 - reported to nbgrader, which fails this submission
            reply = ("error", traceback.format_exc())
        pickle.dump(reply, replies)
        replies.flush()
    sandboxes.close_all()


if __name__ == "__main__":
    main()
