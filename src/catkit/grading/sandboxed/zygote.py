"""The first process of a sandbox: imports numpy once, then forks one fresh child per session.

Starting Python and importing numpy costs about 0.1 s; forking a process that already did costs
about 1 ms. So a sandbox runs this zygote, which never runs student code itself, and each test
cell is graded in a child forked from it: a process no other code of any student ran in.

Two roles, each in a sandbox of its own:

- ``student``: a child runs :func:`sandboxed.student.serve`, which defines one student cell and
  calls its function;
- ``reference``: the zygote first defines the instructor's reference functions (sent by the
  grader); a child runs :func:`sandboxed.oracle.serve`, answering calls that a student's
  function makes to the functions it relies on. No student code ever runs in this sandbox, and no
  reference code ever runs in a student's.

The grader drives the zygote over a control socket (``SOCK_SEQPACKET``, one JSON message per
packet): ``spawn`` carries the child's sockets as passed file descriptors, ``reap`` waits for a
child and says whether it left anything behind (processes, files), ``kill`` ends one. The zygote
is not dumpable, so its children (same user) can neither trace it nor read its memory.

It is started as ``python -I -c "...; from sandboxed.zygote import main; main()" FOLDER ROLE FD ISOLATION``
(see :mod:`catkit.grading.isolation.launch`), FOLDER holding this package: inside the sandbox, the
only code of the kit there is.
"""

from __future__ import annotations

import ctypes
import gc
import json
import os
import select
import signal
import socket
import sys
from typing import Any

PR_SET_PDEATHSIG = 1
PR_SET_DUMPABLE = 4
MAX_CONTROL = 1 << 20
SCRATCH = ("/tmp",)  # with the sandbox's own folders, must stay empty between children


Message = dict[str, Any]


def _prctl(option: int, value: int) -> None:
    ctypes.CDLL(None, use_errno=True).prctl(option, value, 0, 0, 0)


def _send(control: socket.socket, message: Message) -> None:
    control.send(json.dumps(message).encode())


def _status(code: int) -> Message:
    if os.WIFSIGNALED(code):
        return {"signal": os.WTERMSIG(code)}
    return {"exit": os.waitstatus_to_exitcode(code)}


def _wait(pid: int, grace: float) -> Message:
    """Wait up to ``grace`` seconds for ``pid``, then kill it; its exit status."""
    with os.fdopen(os.pidfd_open(pid), "rb", buffering=0) as handle:  # readable once it exits
        if not select.select([handle], [], [], grace)[0]:
            os.kill(pid, signal.SIGKILL)
    return _status(os.waitpid(pid, 0)[1])


def _leftovers(isolated: bool) -> list[str]:
    """Processes or files a child left behind (only checkable in the sandbox's own namespaces)."""
    if not isolated:
        return []
    me = os.getpid()
    found = [f"process {name}" for name in os.listdir("/proc")
             if name.isdigit() and int(name) not in (1, me)]
    for folder in (*SCRATCH, os.getcwd()):
        found += [f"file {folder}/{name}" for name in os.listdir(folder)]
    for kind in ("shm", "msg", "sem"):  # System V objects outlive their processes (and hold memory)
        with open(f"/proc/sysvipc/{kind}") as table:
            found += [f"System V {kind} {line.split()[1]}" for line in table.readlines()[1:]]
    return found


class Zygote:
    def __init__(self, role: str, control: socket.socket, isolated: bool) -> None:
        self.role, self.control, self.isolated = role, control, isolated
        self.references: dict[str, Any] = {}  # role "reference": name -> function
        self.children: dict[int, int] = {}  # pid -> pidfd, readable once the child exits: the grader is told at once

    def load(self, request: Message) -> Message:
        from . import oracle
        try:
            self.references = oracle.define(request["preamble"], request["references"])
        except Exception as error:  # noqa: BLE001 - a broken reference is reported, not fatal
            return {"ok": False, "error": f"{type(error).__name__}: {error}"}
        return {"ok": True}

    def spawn(self, request: Message, fds: list[int]) -> Message:
        try:
            pid = os.fork()
        except OSError as error:  # not the student's doing: the child has not started
            for fd in fds:
                os.close(fd)
            return {"ok": False, "error": f"cannot start a process: {error}"}
        if pid == 0:
            self._child(request, fds)
        for fd in fds:
            os.close(fd)
        self.children[pid] = os.pidfd_open(pid)
        return {"ok": True, "pid": pid}

    def _child(self, request: Message, fds: list[int]) -> None:
        code = 0
        try:
            self.control.close()
            for pidfd in self.children.values():
                os.close(pidfd)
            _prctl(PR_SET_PDEATHSIG, signal.SIGKILL)  # without a PID namespace, nothing else ends it
            session, output = socket.socket(fileno=fds[0]), fds[1]
            # C-level output of the child (a crash report) goes to the file the grader gave.
            null = os.open(os.devnull, os.O_RDONLY)
            os.dup2(null, 0)
            os.dup2(output, 1)
            os.dup2(output, 2)
            signal.signal(signal.SIGINT, signal.SIG_DFL)
            if self.role == "student":
                _prctl(PR_SET_DUMPABLE, 1)  # its own /proc/self stays readable to it
                from . import student
                callbacks = socket.socket(fileno=fds[2]) if len(fds) > 2 else None
                student.serve(session, callbacks, request["filename"])
            else:
                from . import oracle
                oracle.serve(session, self.references, request["allowed"])
        except BaseException:  # noqa: BLE001 - whatever happens, the child must not return
            code = 70
        finally:
            os._exit(code)

    def _forget(self, pid: int) -> None:
        pidfd = self.children.pop(pid, None)
        if pidfd is not None:
            os.close(pidfd)

    def reap(self, request: Message) -> Message:
        self._forget(request["pid"])
        status = _wait(request["pid"], request.get("grace", 1.0))
        return {"ok": True, **status, "leftovers": _leftovers(self.isolated)[:5]}

    def kill(self, request: Message) -> Message:
        self._forget(request["pid"])
        try:
            os.kill(request["pid"], signal.SIGKILL)
            os.waitpid(request["pid"], 0)
        except (ProcessLookupError, ChildProcessError):
            pass
        return {"ok": True}

    def serve(self) -> None:
        _send(self.control, {"ok": True, "ready": True})
        while True:
            waiting: list[socket.socket | int] = [self.control, *self.children.values()]
            readable = select.select(waiting, [], [])[0]
            for pid, pidfd in list(self.children.items()):
                if pidfd in readable:  # a child died (or ended): the grader need not wait for its socket
                    self._forget(pid)
                    _send(self.control, {"event": "exited", "pid": pid})
            if self.control not in readable:
                continue
            data, fds, _, _ = socket.recv_fds(self.control, MAX_CONTROL, 4)
            if not data:
                return
            request = json.loads(data)
            op = request.get("op")
            if op == "spawn":
                reply = self.spawn(request, fds)
            elif op in ("load", "reap", "kill"):
                reply = getattr(self, op)(request)
            else:
                reply = {"ok": False, "error": f"unknown request {op!r}"}
            _send(self.control, reply)


def main() -> None:
    role, control_fd, isolated = sys.argv[2], int(sys.argv[3]), sys.argv[4] == "isolated"
    import numpy  # noqa: F401 - imported once here, inherited by every child

    from . import oracle, student, wire  # noqa: F401 - likewise
    _prctl(PR_SET_DUMPABLE, 0)
    # The garbage collector of a child would walk (and so copy, page by page) the whole inherited
    # heap; frozen objects are skipped: a fresh child answers in about a millisecond.
    gc.freeze()
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C in the grader's terminal is the grader's
    control = socket.socket(fileno=control_fd)
    Zygote(role, control, isolated).serve()


if __name__ == "__main__":
    main()
