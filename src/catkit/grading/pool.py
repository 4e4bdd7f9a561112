"""Grading processes that grade submissions ahead, while nbgrader does its own work.

nbgrader handles one submission at a time in one process (copying files, sanitising, saving
grades, writing notebooks: about 0.3 s each). A :class:`GradingPool` grades the next submissions
in other processes meanwhile, so the machine's cores work at once: when nbgrader reaches a
submission, its grades are usually waiting. Each grading process handles one submission at a
time, with its own sandboxes; a job's result is used only if the job is exactly the one nbgrader
asks for (same key: same student code, tests, reference and secret).
"""

import ctypes
import multiprocessing
import signal
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool

from catkit.grading import harness
from catkit.grading.sandboxes import GraderFault

PR_SET_PDEATHSIG = 1


def _init_process():
    # Killed with nbgrader (kill -9 included), and its sandboxes with it; Ctrl-C is nbgrader's.
    ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def _grade(job, settings):
    return harness.grade(job, settings)


class GradingPool:
    def __init__(self, settings, processes):
        self.settings, self.processes = settings, processes
        self.executor = self._executor()
        self.pending = {}  # (student, notebook) -> (job key, future)

    def _executor(self):
        return ProcessPoolExecutor(self.processes, mp_context=multiprocessing.get_context("spawn"),
                                   initializer=_init_process)

    def submit(self, name, job):
        """Start grading ``job`` (named ``name``) unless it is already under way."""
        if name not in self.pending:
            self.pending[name] = (job.key(), self.executor.submit(_grade, job, self.settings))

    def result(self, name, job):
        """The result of ``job``: graded ahead if that was this very job, else graded now."""
        key, future = self.pending.pop(name, (None, None))
        if key != job.key():
            if future is not None:
                future.cancel()
            future = self.executor.submit(_grade, job, self.settings)
        try:
            return future.result()
        except BrokenProcessPool:
            # A grading process died (killed from outside, say): new processes, one more try;
            # the jobs graded ahead are lost and graded again when their turn comes.
            self.pending.clear()
            self.executor.shutdown(wait=False, cancel_futures=True)
            self.executor = self._executor()
            try:
                return self.executor.submit(_grade, job, self.settings).result()
            except BrokenProcessPool as error:
                raise GraderFault(f"the grading processes keep dying ({error})") from None

    def close(self):
        for _, future in self.pending.values():
            future.cancel()
        self.pending.clear()
        self.executor.shutdown(wait=True, cancel_futures=True)
