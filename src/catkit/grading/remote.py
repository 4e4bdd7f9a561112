"""The grader's handle on one sandboxed worker, and stand-ins that call the student's function.

A :class:`Worker` is started per test cell, so a fault (timeout, crash, out of memory) costs
that cell only. :class:`RemoteFunction` looks like the student's function to the test code:
it sends the arguments over, receives plain data back, writes back in-place changes the
student's code made to array arguments (so "does not modify its arguments" is testable as in
a notebook), and forwards what the function printed.
"""

import os
import selectors
import shutil
import signal
import subprocess
import sys
import tempfile
import time

import numpy as np

from catkit.grading import sandbox, wire


class StudentCodeError(Exception):
    """The student's code raised, or returned something that cannot be graded."""

    def __init__(self, function, kind, message, frames=()):
        super().__init__(f"{kind}: {message}")
        self.function, self.kind, self.message, self.frames = function, kind, message, list(frames)


class WorkerFault(Exception):
    """The process running the student's code timed out, died or broke the protocol."""


class Worker:
    """One sandboxed process holding the reference functions and one student cell.

    Every exchange with it runs against the clock: a request (writing it, then reading the
    reply) gets ``timeout`` seconds, and all requests of one test cell share ``budget`` seconds,
    so code that stalls the pipe, or drips its answers, costs its own cell and nothing else.
    """

    def __init__(self, mode, limits, timeout, budget):
        self.timeout = timeout
        self.budget_end = time.monotonic() + budget
        self.budget = budget
        # An empty folder to start in (used as is without bubblewrap; bubblewrap starts the
        # worker in a private sandbox.WORKDIR). Raw output of the worker (a crash report) goes to a
        # file, not a pipe that processes left behind could hold open.
        self._home = tempfile.mkdtemp(prefix="catkit-worker-")
        self._stderr = tempfile.TemporaryFile()
        self.process = subprocess.Popen(
            sandbox.command(mode), stdin=subprocess.PIPE, stdout=subprocess.PIPE,
            stderr=self._stderr, cwd=self._home, env=sandbox.worker_environment(),
            preexec_fn=sandbox.apply_limits(limits), start_new_session=True)
        os.set_blocking(self.process.stdin.fileno(), False)

    def request(self, message):
        """Send one request and wait for its reply, within the time limits."""
        deadline = min(time.monotonic() + self.timeout, self.budget_end)
        self._write(wire.frame(message), deadline)
        header = self._read(8, deadline)
        return wire.parse(self._read(wire.read_header(header), deadline))

    def _wait(self, stream, event, deadline):
        with selectors.DefaultSelector() as selector:
            selector.register(stream, event)
            remaining = deadline - time.monotonic()
            if remaining > 0 and selector.select(remaining):
                return
        self.kill()
        if deadline >= self.budget_end:
            raise WorkerFault(f"used up the {self.budget:g} s allowed for one test cell")
        raise WorkerFault(f"did not finish within {self.timeout:g} s (an endless loop, or far too slow?)")

    def _write(self, data, deadline):
        view = memoryview(data)
        while view:
            self._wait(self.process.stdin, selectors.EVENT_WRITE, deadline)
            try:
                view = view[os.write(self.process.stdin.fileno(), view):]
            except BlockingIOError:
                continue
            except OSError:  # the worker is gone
                raise WorkerFault(self._death()) from None

    def _read(self, size, deadline):
        data = bytearray()
        while len(data) < size:
            self._wait(self.process.stdout, selectors.EVENT_READ, deadline)
            chunk = os.read(self.process.stdout.fileno(), size - len(data))
            if not chunk:
                raise WorkerFault(self._death())
            data += chunk
        return bytes(data)

    def _last_output(self):
        self._stderr.seek(max(0, os.fstat(self._stderr.fileno()).st_size - 2048))
        return self._stderr.read().decode("utf-8", "replace").strip().splitlines()[-3:]

    def _death(self):
        try:
            code = self.process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self.kill()
            code = self.process.returncode
        detail = self._last_output()
        # A signal shows as a negative code, or as 128 + signal through bubblewrap.
        number = -code if code is not None and code < 0 else code - 128 if code and code > 128 else None
        if number in {s.value for s in signal.Signals}:
            name = signal.Signals(number).name
            cause = {"SIGKILL": " (out of memory, or killed)", "SIGXCPU": " (CPU time limit)",
                     "SIGSEGV": " (crashed)"}.get(name, "")
            text = f"the process running your code was killed by {name}{cause}"
        else:
            text = f"the process running your code exited with status {code}"
        return text + ("; its last output: " + clip(" | ".join(detail), 500) if detail else "")

    def kill(self):
        if self.process.poll() is None:
            try:
                os.killpg(self.process.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            self.process.wait()

    def close(self):
        """End the worker and everything it started."""
        try:
            self.process.stdin.close()
            self.process.wait(timeout=2)
        except (OSError, subprocess.TimeoutExpired):
            pass
        self.kill()
        # Non-bwrap mode: children that stayed in the worker's group go too.
        try:
            os.killpg(self.process.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        for stream in (self.process.stdout, self._stderr):
            stream.close()
        shutil.rmtree(self._home, ignore_errors=True)


def clip(text, limit):
    """At most ``limit`` characters of ``text``: the worker's own limits are not to be trusted."""
    text = str(text)
    return text if len(text) <= limit else text[:limit] + f"... ({len(text) - limit} more characters)"


MAX_OUTPUT = 20_000  # characters of printed output kept per call


def _check(reply, function):
    if not reply.get("ok"):
        error = reply.get("error") or {}
        frames = error.get("frames") if isinstance(error.get("frames"), list) else []
        raise StudentCodeError(function, clip(error.get("type", "Error"), 80),
                               clip(error.get("message", ""), 2000), [clip(f, 300) for f in frames[-10:]])


def _forward_output(reply):
    if reply.get("stdout"):
        sys.stdout.write(clip(reply["stdout"], MAX_OUTPUT))
    if reply.get("stderr"):
        sys.stderr.write(clip(reply["stderr"], MAX_OUTPUT))


def _write_back(original, after, function):
    """Mirror an in-place change the student's code made to an array argument."""
    if isinstance(original, np.ndarray) and isinstance(after, np.ndarray):
        if after.shape != original.shape:
            raise StudentCodeError(function, "ValueError", "your function changed the shape of an "
                                   f"array argument in place: {original.shape} -> {after.shape}")
        np.copyto(original, after, casting="unsafe")


class RemoteFunction:
    """Calls ``name`` inside a worker; looks like an ordinary function to test code."""

    def __init__(self, worker, name):
        self.worker, self.__name__ = worker, name

    def __call__(self, *args, **kwargs):
        try:
            request = {"op": "call", "name": self.__name__,
                       "args": [wire.encode(arg) for arg in args],
                       "kwargs": {key: wire.encode(value) for key, value in kwargs.items()}}
            reply = self.worker.request(request)
            _forward_output(reply)
            _check(reply, self.__name__)
            value = wire.decode(reply["value"])
            for original, after in zip(args, reply["args_after"]):
                _write_back(original, wire.decode(after), self.__name__)
            for key, after in reply["kwargs_after"].items():
                _write_back(kwargs.get(key), wire.decode(after), self.__name__)
        except (wire.WireError, KeyError, TypeError, AttributeError) as error:
            raise StudentCodeError(self.__name__, "InvalidResult", str(error)) from None
        return value


def start(settings, preamble, references, student_source, filename, function):
    """Start a worker, define the references and the student's cell; raise on failure."""
    worker = Worker(settings.mode, settings.limits, settings.timeout, settings.cell_time_limit)
    try:
        reply = worker.request({"op": "load", "preamble": preamble,
                                "references": [list(item) for item in references.items()],
                                "student": student_source, "filename": filename})
        _forward_output(reply)
        _check(reply, function)
    except BaseException:
        worker.close()
        raise
    return worker
