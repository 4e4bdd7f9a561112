"""The grader's side of one test cell's session, and the stand-in that calls the student's function.

A :class:`CellSession` is one child forked from the submission's student sandbox (a process no other
code ran in), plus, when the graded function relies on other graded functions, one child of the
reference sandbox that computes those, connected to it directly. A fault (timeout, crash, out of
memory) costs that cell only. :class:`RemoteFunction` looks like the student's function to the
test code: it sends the arguments over, receives plain data back, writes back in-place changes
the student's code made to array arguments (so "does not modify its arguments" is testable as in
a notebook), and forwards what the function printed.

Every exchange runs against the clock: a request (writing it, then reading and decoding the
reply) gets ``timeout`` seconds and all requests of one cell share the cell's seconds, so code
that loops, stalls the socket, or drips its answers, costs its own cell and nothing else.

The clock is the student sandbox's CPU time, all its processes together, as its control group
counts it (:meth:`~catkit.grading.isolation.cgroups.Group.cpu_seconds`): the same on a quiet
machine and on a busy one. The group caps the sandbox at one core, so a request cannot use its
seconds of CPU before as many seconds have passed on the wall clock: until then the grader just
waits on the socket (a call costs two reads of the group's CPU time, before and after, a few
microseconds each). Past that moment it looks at the sandbox every ``IDLE_SLICE``:

- its CPU seconds used up: the cell fails, "did not finish within 3 s of CPU time";
- it is waiting on itself (every thread asleep, none running or waiting for a CPU, and no CPU
  used in the last slice; nor is the reference sandbox computing for it): time spent sleeping or
  blocked counts as on the wall clock, and the cell fails ("... it waited without using the CPU");
- otherwise it is computing, slowed down by the machine: the grader keeps waiting, up to a
  wall-clock backstop (``BACKSTOP_FACTOR`` times the seconds, plus ``BACKSTOP_SECONDS``). A
  backstop reached is the machine's fault, never the student's: :class:`GraderFault`, the
  submission is not graded (and graded again by the next run).

CPU the reference sandbox spends answering the student's function is not counted: it is not the
student's. Without CPU accounting (no control groups, rlimits mode) the clock is the wall clock,
as it always was: a cell fails when its seconds have passed.
"""

from __future__ import annotations

import os
import selectors
import signal
import socket
import sys
import tempfile
import time
from collections.abc import Sequence
from typing import Any, NoReturn

import numpy as np

from catkit.errors import GraderFault
from catkit.grading.isolation import handle
from catkit.grading.isolation.handle import SandboxHandle
from catkit.grading.job import Settings
from catkit.grading.sandboxed import wire

Message = dict[str, Any]

REAP_SECONDS = 1.0  # a child gets this long to exit once its session is closed
IDLE_SLICE = 0.1   # once its seconds have passed on the wall clock, a request looks at the sandbox this often
IDLE_CPU = 0.002   # CPU seconds a sandbox may use in one slice and still count as waiting on itself
# The wall-clock backstop of a request that may use S seconds of CPU: BACKSTOP_FACTOR * S +
# BACKSTOP_SECONDS. A sandbox gets one core when the machine is quiet: reaching this means that it
# got less than a tenth of one (or was stopped) for that long. (A function that calls a reference
# function in an endless loop uses about half a core itself, the reference the other half.)
BACKSTOP_FACTOR = 10.0
BACKSTOP_SECONDS = 30.0
WAITED = "it waited without using the CPU (sleeping, or blocked?)"


class StudentCodeError(Exception):
    """The student's code raised, or returned something that cannot be graded."""

    def __init__(self, function: str | None, kind: str, message: str, frames: Sequence[str] = ()) -> None:
        super().__init__(f"{kind}: {message}")
        self.function, self.kind, self.message, self.frames = function, kind, message, list(frames)


class WorkerFault(Exception):
    """The process running the student's code timed out, died or broke the protocol."""


def _signal_text(status: Message, out_of_memory: bool, memory_mb: int) -> str:
    if out_of_memory:
        return f"the process running your code was killed: it went over the memory cap of {memory_mb} MiB"
    number = status.get("signal")
    if number is not None:
        name = signal.Signals(number).name if number in {s.value for s in signal.Signals} else f"signal {number}"
        cause = {"SIGKILL": " (out of memory, or killed)", "SIGXCPU": " (CPU time limit)",
                 "SIGSEGV": " (crashed)"}.get(name, "")
        return f"the process running your code was killed by {name}{cause}"
    return f"the process running your code exited with status {status.get('exit')}"


class StudentSandbox:
    """The submission's student sandbox, started on first use and again after a child spoiled it
    (left processes or files behind, or had to be killed)."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.sandbox: SandboxHandle | None = None
        self.baseline: int | None = None  # processes of a clean sandbox, where its control group counts them

    def get(self) -> SandboxHandle:
        if self.sandbox is None or not self.sandbox.alive():
            self.discard()
            self.sandbox = handle.student_sandbox(self.settings)
            self.baseline = self.sandbox.processes()
        return self.sandbox

    def discard(self) -> None:
        if self.sandbox is not None:
            self.sandbox.close()
        self.sandbox = None

    close = discard


class _Request:
    """When one request must end. ``cpu`` is the sandbox's CPU time at its start (None: the clock
    is the wall clock); ``call_mark`` and ``cell_mark`` are when the request's and the cell's
    seconds have passed on the wall clock (the earliest moment either can have used them up in
    CPU, one core at most), ``cpu_end`` the CPU time at which the first of them is used up."""

    def __init__(self, session: CellSession, cpu: float | None) -> None:
        now = time.monotonic()
        timeout = session.settings.limits.timeout
        self.call_mark, self.cell_mark = now + timeout, session.deadline
        self.mark = min(self.call_mark, self.cell_mark)
        self.sample = (now, cpu)  # the last look at the sandbox: (wall, CPU)
        self.cpu_end = self.backstop = float("inf")
        self.call_first = self.call_mark <= self.cell_mark  # the request's time ends first (on the wall clock)
        self.call_first_cpu = self.call_first               # (in CPU)
        if cpu is not None and session.cpu_start is not None:
            call_end, cell_end = cpu + timeout, session.cpu_start + session.seconds
            self.cpu_end, self.call_first_cpu = min(call_end, cell_end), call_end <= cell_end
            self.backstop = now + BACKSTOP_FACTOR * max(0.0, self.cpu_end - cpu) + BACKSTOP_SECONDS


class CellSession:
    """One test cell: the student's cell defined alone in a fresh child, ready for calls.

    ``deadline`` is when the cell's time ends on the wall clock; with CPU accounting, the cell may
    use as many seconds of CPU as that leaves from its start (and its requests ``timeout`` each)."""

    def __init__(self, students: StudentSandbox, reference: SandboxHandle, function: str,
                 relies_on: Sequence[str], settings: Settings, deadline: float, over_deadline: str) -> None:
        self.students, self.reference, self.settings = students, reference, settings
        self.function, self.deadline, self.over_deadline = function, deadline, over_deadline
        self.started = time.monotonic()
        self.seconds = max(0.0, deadline - self.started)
        self.cpu_start: float | None = None  # the sandbox's CPU time when the cell started (None: wall clock)
        self.cpu_last: float | None = None
        self.waited = False                  # cut off for waiting on itself past its time
        self.fault: GraderFault | None = None  # a backstop reached: the submission cannot be graded
        self.pid: int | None = None
        self.reference_pid: int | None = None
        self._output = tempfile.TemporaryFile()
        sandbox = students.get()
        self.memory_before = sandbox.group.oom_kills() if sandbox.group else 0
        self.sock, theirs = socket.socketpair()
        mine_cb: socket.socket | None = None
        theirs_cb: socket.socket | None = None
        try:
            fds = [theirs.fileno(), self._output.fileno()]
            if relies_on:
                mine_cb, theirs_cb = socket.socketpair()
                self.reference_pid = reference.spawn([mine_cb.fileno(), self._output.fileno()],
                                                     allowed=list(relies_on))
                fds.append(theirs_cb.fileno())
            self.pid = self._spawn(fds, function)
        except BaseException:
            self.close()
            raise
        finally:
            for end in (theirs, mine_cb, theirs_cb):
                if end is not None:
                    end.close()
        self.sock.setblocking(False)
        self.group = self.students.sandbox.group if self.students.sandbox is not None else None
        self.cpu_start = self.cpu_last = self._cpu()

    def _cpu(self) -> float | None:
        """The student sandbox's CPU time now (its last known value once its group is gone); None
        without CPU accounting."""
        if self.group is None:
            return None
        try:
            now = self.group.cpu_seconds()
        except (OSError, ValueError, StopIteration):
            now = None
        if now is not None:
            self.cpu_last = now
        return self.cpu_last

    def cpu_charged(self) -> float | None:
        """What the cell used of the submission's budget: its CPU time, or, if it was cut off for
        waiting on itself, its time on the wall clock (up to its seconds). None without CPU
        accounting (the budget is then on the wall clock)."""
        if self.cpu_start is None:
            return None
        used = (self._cpu() or self.cpu_start) - self.cpu_start
        return max(used, min(time.monotonic() - self.started, self.seconds)) if self.waited else used

    def _spawn(self, fds: list[int], function: str) -> int:
        try:
            return self.students.get().spawn(fds, filename=f"<your {function} cell>")
        except GraderFault:
            # A sandbox the previous cell left in a bad state is replaced once; a fresh one
            # that cannot fork is the grader's problem.
            self.students.discard()
            return self.students.get().spawn(fds, filename=f"<your {function} cell>")

    def request(self, message: Message) -> Message:
        """Send one request and wait for its reply, within the time limits."""
        limit = _Request(self, self._cpu())
        if limit.sample[1] is not None and limit.sample[1] >= limit.cpu_end:  # (the cell's processes used it)
            self._over(limit, "cpu")
        self._write(wire.frame(message), limit)
        try:
            length = wire.read_header(self._read(8, limit))
            decoding = time.thread_time()
            reply = wire.parse(self._read(length, limit))
        except wire.WireError as error:  # a forged reply: the session cannot go on
            self.kill()
            raise WorkerFault(f"the process running your code sent a malformed reply ({error})") from None
        # Decoding counts against the limits too: the grader's CPU spent on this reply, or the wall clock.
        if limit.sample[1] is None:
            if time.monotonic() > limit.mark:
                self._over(limit, "wall")
        elif (self._cpu() or 0.0) + time.thread_time() - decoding > limit.cpu_end:
            self._over(limit, "cpu")
        return reply

    def _over(self, limit: _Request, why: str) -> NoReturn:
        """End the session: the request's or the cell's time is used up, in CPU (``why`` "cpu"),
        waiting on itself ("waited") or on the wall clock without CPU accounting ("wall")."""
        self.kill()
        call = limit.call_first_cpu if why == "cpu" else limit.call_first
        timeout = f"{self.settings.limits.timeout:g} s"
        of_cpu = " of CPU time" if why == "cpu" else ""
        over_cell = self.over_deadline.replace("{of_cpu}", of_cpu)
        if why == "waited":
            self.waited = True
            raise WorkerFault(f"did not finish within {timeout}: {WAITED}" if call else f"{over_cell}: {WAITED}")
        if call:
            raise WorkerFault(f"did not finish within {timeout}{of_cpu} (an endless loop, or far too slow?)")
        raise WorkerFault(over_cell)

    def _look(self, limit: _Request) -> None:
        """Past the request's or the cell's seconds on the wall clock: end the session if its CPU
        time is used up or it is waiting on itself; a backstop reached is a GraderFault (the
        sandbox is computing, or stopped, but the machine did not give it its CPU time)."""
        if limit.sample[1] is None:  # the wall clock is the clock
            self._over(limit, "wall")
        now, cpu = time.monotonic(), self._cpu()
        assert cpu is not None
        if cpu >= limit.cpu_end:
            self._over(limit, "cpu")
        (then, before), limit.sample = limit.sample, (now, cpu)
        if (now >= limit.mark and now - then >= IDLE_SLICE * 0.9 and cpu - (before or cpu) < IDLE_CPU
                and self._waiting_on_itself()):
            self._over(limit, "waited")
        if now >= limit.backstop:
            self.kill()
            self.fault = GraderFault(
                f"the student sandbox got only {cpu - (self.cpu_start or 0.0):.1f} s of CPU time in "
                f"{now - self.started:.0f} s on the wall clock (the machine is overloaded, or the sandbox was "
                "stopped): grading was cut off through no fault of the student's")
            raise self.fault

    def _waiting_on_itself(self) -> bool:
        groups = [self.group, self.reference.group if self.reference_pid is not None else None]
        return all(group.asleep() for group in groups if group is not None)

    def _wait(self, event: int, limit: _Request) -> None:
        """Wait until the socket is ready for ``event``; a child that dies meanwhile is noticed at
        once through its zygote, even when a process it started keeps the socket open."""
        sandbox = self.students.sandbox
        with selectors.DefaultSelector() as selector:
            selector.register(self.sock, event)
            if sandbox is not None:
                selector.register(sandbox.control, selectors.EVENT_READ)
            while True:
                # Until its mark, nothing can be used up; past it, a look every slice (and one at the backstop).
                look = limit.mark
                if limit.sample[1] is not None:
                    look = min(max(look, limit.sample[0] + IDLE_SLICE), limit.backstop)
                ready = {key.fileobj for key, _ in selector.select(max(0.0, look - time.monotonic()))}
                if self.sock in ready:
                    return
                if ready and self.pid is not None and sandbox is not None and sandbox.has_exited(self.pid):
                    with selectors.DefaultSelector() as last:  # what it wrote before dying comes first
                        last.register(self.sock, event)
                        if last.select(0):
                            return
                    raise WorkerFault(self._death())
                if ready and (sandbox is None or not sandbox.alive()):
                    raise WorkerFault(self._death())
                if time.monotonic() >= look:
                    self._look(limit)

    def _write(self, data: bytes, limit: _Request) -> None:
        view = memoryview(data)
        while view:
            self._wait(selectors.EVENT_WRITE, limit)
            try:
                view = view[self.sock.send(view):]
            except BlockingIOError:
                continue
            except OSError:  # the child is gone
                raise WorkerFault(self._death()) from None

    def _read(self, size: int, limit: _Request) -> bytes:
        data = bytearray()
        while len(data) < size:
            self._wait(selectors.EVENT_READ, limit)
            try:
                chunk = self.sock.recv(size - len(data))
            except BlockingIOError:
                continue
            except OSError:
                chunk = b""
            if not chunk:
                raise WorkerFault(self._death())
            data += chunk
        return bytes(data)

    def _last_output(self) -> list[str]:
        self._output.seek(max(0, os.fstat(self._output.fileno()).st_size - 2048))
        return self._output.read().decode("utf-8", "replace").strip().splitlines()[-3:]

    def _death(self) -> str:
        """Why the child is gone, from its exit status and its sandbox's memory accounting."""
        sandbox = self.students.sandbox  # read before reaping, which may replace the sandbox
        oom = bool(sandbox and sandbox.group and sandbox.group.oom_kills() > self.memory_before)
        status = self._reap()
        text = _signal_text(status or {}, oom, self.settings.limits.memory_limit_mb) if status or oom else \
            "the process running your code died"
        detail = self._last_output()
        return text + ("; its last output: " + clip(" | ".join(detail), 500) if detail else "")

    def _reap(self) -> Message | None:
        """Wait for the child; replace the sandbox if the child left anything behind."""
        if self.pid is None:
            return None
        pid, self.pid = self.pid, None
        sandbox = self.students.sandbox
        status = sandbox.reap(pid, REAP_SECONDS) if sandbox is not None else None
        if sandbox is None or status is None:  # (the zygote did not answer)
            self.students.discard()
            return None
        extra, baseline = sandbox.processes(), self.students.baseline
        if status.get("leftovers") or (extra is not None and baseline is not None and extra > baseline):
            self.students.discard()  # the next cell gets a clean sandbox
        return status

    def kill(self) -> None:
        """End the session the hard way: its whole sandbox goes (the next cell gets a new one)."""
        self.pid = None
        self.students.discard()
        self._end_reference()

    def _end_reference(self) -> None:
        if self.reference_pid is not None:
            pid, self.reference_pid = self.reference_pid, None
            self.reference.kill_child(pid)

    def close(self) -> None:
        """End the child (it exits when its socket closes) and the reference child."""
        if self.cpu_start is not None:
            self._cpu()  # the cell's CPU time, read while its group is there
        if hasattr(self, "sock"):  # (not made if starting the session failed early)
            self.sock.close()
        self._reap()
        self._end_reference()
        self._output.close()


def clip(text: object, limit: int) -> str:
    """At most ``limit`` characters of ``text``: the worker's own limits are not to be trusted."""
    text = str(text)
    return text if len(text) <= limit else text[:limit] + f"... ({len(text) - limit} more characters)"


MAX_OUTPUT = 20_000  # characters of printed output kept per call


def _check(reply: Message, function: str) -> None:
    if not reply.get("ok"):
        error = reply.get("error") or {}
        frames: list[Any] = error["frames"] if isinstance(error.get("frames"), list) else []
        raise StudentCodeError(function, clip(error.get("type", "Error"), 80),
                               clip(error.get("message", ""), 2000), [clip(f, 300) for f in frames[-10:]])


def _forward_output(reply: Message) -> None:
    if reply.get("stdout"):
        sys.stdout.write(clip(reply["stdout"], MAX_OUTPUT))
    if reply.get("stderr"):
        sys.stderr.write(clip(reply["stderr"], MAX_OUTPUT))


def _write_back(original: Any, after: Any, function: str) -> None:
    """Mirror an in-place change the student's code made to an array argument."""
    if isinstance(original, np.ndarray) and isinstance(after, np.ndarray):
        if after.shape != original.shape:
            raise StudentCodeError(function, "ValueError", "your function changed the shape of an "
                                   f"array argument in place: {original.shape} -> {after.shape}")
        np.copyto(original, after, casting="unsafe")


class RemoteFunction:
    """Calls ``name`` inside a session; looks like an ordinary function to test code."""

    def __init__(self, session: CellSession, name: str) -> None:
        self.session, self.__name__ = session, name

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        try:
            request = {"op": "call", "name": self.__name__,
                       "args": [wire.encode(arg) for arg in args],
                       "kwargs": {key: wire.encode(value) for key, value in kwargs.items()}}
            reply = self.session.request(request)
            _forward_output(reply)
            _check(reply, self.__name__)
            value = wire.decode(reply["value"])
            for original, after in zip(args, reply["args_after"], strict=False):
                _write_back(original, wire.decode(after), self.__name__)
            for key, after in reply["kwargs_after"].items():
                _write_back(kwargs.get(key), wire.decode(after), self.__name__)
        except (wire.WireError, KeyError, TypeError, AttributeError) as error:
            raise StudentCodeError(self.__name__, "InvalidResult", str(error)) from None
        return value


def load(students: StudentSandbox, reference: SandboxHandle, settings: Settings, preamble: str,
         student_source: str, function: str, relies_on: Sequence[str], deadline: float,
         over_deadline: str) -> CellSession:
    """A session with the student's cell defined; raise on failure (the session is then closed).
    ``over_deadline`` is the message for a cell that runs past ``deadline`` (its seconds, see
    :class:`CellSession`); ``{of_cpu}`` in it becomes " of CPU time" when the cell used them in CPU."""
    session = CellSession(students, reference, function, relies_on, settings, deadline, over_deadline)
    try:
        reply = session.request({"op": "load", "preamble": preamble, "student": student_source,
                                 "relies_on": list(relies_on)})
        _forward_output(reply)
        _check(reply, function)
    except BaseException:
        session.close()
        raise
    return session
