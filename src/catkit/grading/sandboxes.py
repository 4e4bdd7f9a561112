"""The grader's handle on a running sandbox: its zygote, its control group, its control socket.

A :class:`Sandbox` starts a zygote (:mod:`catkit.grading.zygote`) with the isolation of
:mod:`catkit.grading.sandbox`, in a control group of its own (:mod:`catkit.grading.cgroups`),
and asks it for children. Failing to start one, or to fork, is the grader's problem, never the
student's: it raises :class:`GraderFault`, and the submission is reported as not graded.
"""

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

from catkit.grading import cgroups, sandbox, seccomp

START_SECONDS = 30.0    # a zygote must be ready (Python started, numpy imported) within this
CONTROL_SECONDS = 10.0  # and answer a control request within this


class GraderFault(Exception):
    """Grading could not run, for a reason that is not the student's (the sandbox could not start,
    the host is out of processes or file descriptors): the submission is not graded."""


class ControlLost(Exception):
    """The zygote did not answer in time, or is gone."""


class Sandbox:
    """A zygote in a sandbox. Starting returns at once; :meth:`ready` waits until its Python is up."""

    def __init__(self, role, settings):
        self.role, self.mode = role, settings.mode
        self._ready = False
        self.exited = set()  # children the zygote said exited
        self.group = None
        self.process = None
        self._home = tempfile.mkdtemp(prefix=f"catkit-{role}-")
        self._output = tempfile.TemporaryFile()  # the zygote's own crash output
        try:
            if settings.cgroups:
                self.group = cgroups.Group(settings.limits.memory_mb * 1024 * 1024, settings.limits.processes)
            self.control, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
            syscalls = seccomp.filter_fd() if self.mode == "bwrap" else None
            try:
                self.process = subprocess.Popen(
                    sandbox.command(self.mode, role, theirs.fileno(), settings.limits, syscalls),
                    pass_fds=[theirs.fileno(), *([syscalls] if syscalls is not None else [])],
                    stdin=subprocess.DEVNULL, stdout=self._output, stderr=self._output, cwd=self._home,
                    env=sandbox.worker_environment(), preexec_fn=sandbox.apply_limits(settings.limits, self.group),
                    start_new_session=True)
            finally:
                theirs.close()
                if syscalls is not None:
                    os.close(syscalls)
        except (OSError, subprocess.SubprocessError) as error:
            self._failed(error)
        self.started = time.monotonic()

    def _failed(self, error):
        detail = self.last_output()
        self.close()
        raise GraderFault(f"the {self.role} sandbox could not start ({error})"
                          + (f": {detail}" if detail else "")) from None

    def ready(self):
        """Wait for the zygote's first message; raise GraderFault if it does not come."""
        if not self._ready:
            try:
                self._receive(self.started + START_SECONDS)
            except (OSError, ControlLost) as error:
                self._failed(error)
            self._ready = True
        return self

    def last_output(self, limit=400):
        try:
            self._output.seek(max(0, os.fstat(self._output.fileno()).st_size - limit))
            return " | ".join(self._output.read().decode("utf-8", "replace").strip().splitlines()[-3:])
        except (OSError, ValueError):
            return ""

    def _receive(self, deadline):
        """The zygote's next reply; the exit notices that come meanwhile are noted."""
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0 or not select.select([self.control], [], [], remaining)[0]:
                raise ControlLost("no answer in time")
            data = self.control.recv(1 << 20)
            if not data:
                raise ControlLost("it exited")
            message = json.loads(data)
            if message.get("event") != "exited":
                return message
            self.exited.add(message["pid"])

    def has_exited(self, pid):
        """Whether the zygote said that its child ``pid`` exited (reads the notices waiting)."""
        while pid not in self.exited and select.select([self.control], [], [], 0)[0]:
            data = self.control.recv(1 << 20)
            if not data:
                return True  # the zygote itself is gone, and its children with it
            message = json.loads(data)
            if message.get("event") == "exited":
                self.exited.add(message["pid"])
        return pid in self.exited

    def request(self, message, fds=(), seconds=CONTROL_SECONDS):
        """One control request; raises ControlLost if the zygote does not answer."""
        self.ready()
        try:
            socket.send_fds(self.control, [json.dumps(message).encode()], list(fds))
        except OSError as error:
            raise ControlLost(str(error)) from None
        return self._receive(time.monotonic() + seconds)

    def spawn(self, fds, **fields):
        """A fresh child serving one session on the passed sockets; its pid in the sandbox."""
        reply = self.request({"op": "spawn", **fields}, fds)
        if not reply.get("ok"):
            raise GraderFault(f"the {self.role} sandbox could not start a process: {reply.get('error')}")
        self.exited.discard(reply["pid"])
        return reply["pid"]

    def alive(self):
        return self.process is not None and self.process.poll() is None

    def processes(self):
        """How many processes the sandbox holds, where its control group can tell (else None)."""
        return len(self.group.pids()) if self.group else None

    def close(self):
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


_references = {}
_spares = {}  # settings -> a student sandbox started ahead, that no student has used yet


def student_sandbox(settings):
    """A fresh student sandbox, ready; the next one starts now, so its Python and numpy load
    while this one is in use."""
    spare = _spares.pop(settings, None)
    fresh = spare if spare is not None and spare.alive() else Sandbox("student", settings)
    if spare is not None and fresh is not spare:
        spare.close()
    try:
        _spares[settings] = Sandbox("student", settings)
    except GraderFault:
        pass  # the next call tries again, and reports it then
    return fresh.ready()


def reference_sandbox(settings, preamble, sources):
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
    fresh = Sandbox("reference", settings).ready()
    try:
        reply = fresh.request({"op": "load", "preamble": preamble, "references": sorted(sources.items())})
    except ControlLost as error:
        fresh.close()
        raise GraderFault(f"the reference sandbox could not load the reference: {error}") from None
    if not reply.get("ok"):
        fresh.close()
        raise GraderFault(f"the reference sandbox could not load the reference: {reply}")
    _references[key] = fresh
    return fresh


@atexit.register
def close_all():
    for old in [*_references.values(), *_spares.values()]:
        old.close()
    _references.clear()
    _spares.clear()
