"""The grader's handle on a running sandbox: its zygote, its control group, its control socket.

A :class:`SandboxHandle` starts a zygote (:mod:`catkit.grading.sandboxed.zygote`) with the
isolation of :mod:`catkit.grading.isolation.launch`, in a control group of its own
(:mod:`catkit.grading.isolation.cgroups`), and asks it for children. Failing to start one, or to
fork, is the grader's problem, never the student's: it raises :class:`GraderFault`, and the
submission is reported as not graded. A zygote that stops answering its control socket
(:class:`ControlLost`) never leaves this module: a method says what it means for its caller.
"""

from __future__ import annotations

import atexit
import hashlib
import json
import os
import select
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Mapping, Sequence
from typing import Any, NoReturn

from catkit.errors import GraderFault
from catkit.grading.isolation import cgroups, launch, scratch, seccomp, users
from catkit.grading.job import Settings

# Wall-clock backstops, generous: a zygote needs about 0.15 s of CPU to start (Python, numpy) and
# milliseconds to answer, and a sandbox gets its share of the cores whatever the other sandboxes
# run (its control group's CPU cap), so only a machine overloaded from outside, or a broken
# sandbox, reaches them; then the submission is not graded (GraderFault), never scored.
START_SECONDS = 120.0   # a zygote must be ready (Python started, numpy imported) within this
CONTROL_SECONDS = 60.0  # and answer a control request within this

Message = dict[str, Any]  # one control message, a JSON object


class ControlLost(Exception):
    """The zygote did not answer in time, or is gone."""


class SandboxHandle:
    """A zygote in a sandbox. Starting returns at once; :meth:`ready` waits until its Python is up."""

    control: socket.socket  # the grader's end of the zygote's control socket

    def __init__(self, role: str, settings: Settings) -> None:
        self.role, self.mode = role, settings.mode
        self._ready = False
        self.exited: set[int] = set()  # children the zygote said exited
        self.group: cgroups.Group | None = None
        self.process: subprocess.Popen[bytes] | None = None
        self.uid: int | None = None  # the user the sandbox runs as, its own (mode 'bwrap'), freed on close
        self._home = scratch.new_folder(f"{role}-")  # the zygote's folder on the host, removed on close
        self._output = tempfile.TemporaryFile()  # the zygote's own crash output
        limits = settings.limits
        try:
            if self.mode == "bwrap":
                self.uid = users.claim()
            if settings.cgroups:
                self.group = cgroups.Group(limits.memory_limit_mb * 1024 * 1024, limits.max_processes)
            self.control, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
            syscalls = seccomp.filter_fd() if self.mode == "bwrap" else None
            try:
                self.process = subprocess.Popen(
                    launch.command(self.mode, role, theirs.fileno(), syscalls, uid=self.uid),
                    pass_fds=[theirs.fileno(), *([syscalls] if syscalls is not None else [])],
                    stdin=subprocess.DEVNULL, stdout=self._output, stderr=self._output, cwd=self._home,
                    env=launch.worker_environment(), preexec_fn=launch.apply_limits(limits, self.group),
                    start_new_session=True)
            finally:
                theirs.close()
                if syscalls is not None:
                    os.close(syscalls)
        except (OSError, subprocess.SubprocessError) as error:
            self._failed(error)
        except BaseException:  # (no user, group or folder of a sandbox that never started is kept)
            self.close()
            raise
        self.started = time.monotonic()

    def _failed(self, error: Exception) -> NoReturn:
        detail = self.last_output()
        self.close()
        raise GraderFault(f"the {self.role} sandbox could not start ({error})"
                          + (f": {detail}" if detail else "")) from None

    def ready(self) -> SandboxHandle:
        """Wait for the zygote's first message; raise GraderFault if it does not come."""
        if not self._ready:
            try:
                self._receive(self.started + START_SECONDS)
            except (OSError, ControlLost) as error:
                self._failed(error)
            self._ready = True
        return self

    def last_output(self, limit: int = 400) -> str:
        try:
            self._output.seek(max(0, os.fstat(self._output.fileno()).st_size - limit))
            return " | ".join(self._output.read().decode("utf-8", "replace").strip().splitlines()[-3:])
        except (OSError, ValueError):
            return ""

    def _receive(self, deadline: float) -> Message:
        """The zygote's next reply; the exit notices that come meanwhile are noted."""
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0 or not select.select([self.control], [], [], remaining)[0]:
                raise ControlLost("no answer in time")
            data = self.control.recv(1 << 20)
            if not data:
                raise ControlLost("it exited")
            message: Message = json.loads(data)
            if message.get("event") != "exited":
                return message
            self.exited.add(message["pid"])

    def has_exited(self, pid: int) -> bool:
        """Whether the zygote said that its child ``pid`` exited (reads the notices waiting)."""
        while pid not in self.exited and select.select([self.control], [], [], 0)[0]:
            data = self.control.recv(1 << 20)
            if not data:
                return True  # the zygote itself is gone, and its children with it
            message = json.loads(data)
            if message.get("event") == "exited":
                self.exited.add(message["pid"])
        return pid in self.exited

    def _request(self, message: Message, fds: Sequence[int] = (), seconds: float = CONTROL_SECONDS) -> Message:
        """One control request; raises ControlLost if the zygote does not answer."""
        self.ready()
        try:
            socket.send_fds(self.control, [json.dumps(message).encode()], list(fds))
        except OSError as error:
            raise ControlLost(str(error)) from None
        return self._receive(time.monotonic() + seconds)

    def spawn(self, fds: Sequence[int], **fields: Any) -> int:
        """A fresh child serving one session on the passed sockets; its pid in the sandbox.
        GraderFault if the zygote cannot start it, or does not answer."""
        try:
            reply = self._request({"op": "spawn", **fields}, fds)
        except ControlLost as error:
            raise GraderFault(f"a sandbox stopped answering while starting a test ({error})") from None
        if not reply.get("ok"):
            raise GraderFault(f"the {self.role} sandbox could not start a process: {reply.get('error')}")
        pid: int = reply["pid"]
        self.exited.discard(pid)
        return pid

    def reap(self, pid: int, grace: float) -> Message | None:
        """Wait up to ``grace`` seconds for the child ``pid`` to exit (then kill it): its exit status
        and what it left behind, or None if the zygote did not answer."""
        try:
            return self._request({"op": "reap", "pid": pid, "grace": grace}, seconds=grace + 5)
        except ControlLost:
            return None

    def kill_child(self, pid: int) -> None:
        """End the child ``pid``; a zygote that does not answer ends with its whole sandbox."""
        try:
            self._request({"op": "kill", "pid": pid})
        except ControlLost:
            self.close()

    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def processes(self) -> int | None:
        """How many processes the sandbox holds, where its control group can tell (else None)."""
        return len(self.group.pids()) if self.group else None

    def close(self) -> None:
        if self.process is not None and self.process.poll() is None:
            try:
                os.killpg(self.process.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        if self.group is not None:
            self.group.remove()  # kills whatever left the process group too
        if self.process is not None:
            self.process.wait()
        if getattr(self, "control", None) is not None:
            self.control.close()
        self._output.close()
        shutil.rmtree(self._home, ignore_errors=True)
        if self.uid is not None:  # free for another sandbox once its last processes are gone
            users.release(self.uid)
            self.uid = None


_references: dict[str, SandboxHandle] = {}
_spares: dict[Settings, SandboxHandle] = {}  # a student sandbox started ahead, that no student has used yet


def student_sandbox(settings: Settings) -> SandboxHandle:
    """A fresh student sandbox, ready; the next one starts now, so its Python and numpy load
    while this one is in use."""
    spare = _spares.pop(settings, None)
    fresh = spare if spare is not None and spare.alive() else SandboxHandle("student", settings)
    if spare is not None and fresh is not spare:
        spare.close()
    try:
        _spares[settings] = SandboxHandle("student", settings)
    except GraderFault:
        pass  # the next call tries again, and reports it then
    return fresh.ready()


def reference_sandbox(settings: Settings, preamble: str, sources: Mapping[str, str]) -> SandboxHandle:
    """The reference sandbox for these reference sources, started once per grader process and
    started again if it died; the functions are defined in its zygote, before any fork."""
    key = hashlib.sha256(json.dumps([settings.mode, repr(settings.limits), settings.cgroups, preamble,
                                     sorted(sources.items())]).encode()).hexdigest()
    current = _references.get(key)
    if current is not None and current.alive():
        return current
    for old in _references.values():
        old.close()
    _references.clear()
    fresh = SandboxHandle("reference", settings).ready()
    try:
        reply = fresh._request({"op": "load", "preamble": preamble, "references": sorted(sources.items())})
    except ControlLost as error:
        fresh.close()
        raise GraderFault(f"the reference sandbox could not load the reference: {error}") from None
    if not reply.get("ok"):
        fresh.close()
        raise GraderFault(f"the reference sandbox could not load the reference: {reply}")
    _references[key] = fresh
    return fresh


@atexit.register
def close_all() -> None:
    for old in [*_references.values(), *_spares.values()]:
        old.close()
    _references.clear()
    _spares.clear()
