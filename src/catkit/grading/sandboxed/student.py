"""A student's session, in a child forked by the sandbox's zygote: one cell, its function called.

It answers requests from the grader on its session socket (see :mod:`sandboxed.wire`):

- ``{"op": "load", "preamble": ..., "student": source, "relies_on": [name, ...]}`` defines, in one
  fresh namespace, the preamble, a stand-in for each graded function the student's function may
  call (see :class:`Reference`), then the student's cell;
- ``{"op": "call", "name": ..., "args": [...], "kwargs": {...}}`` calls a function of that
  namespace and answers with its result, the arguments as they are afterwards (to expose
  in-place mutation), and what it printed.

Nothing here decides a grade, and no reference code is ever here: the grader checks the answers
in its own process, and a stand-in computes its function in the reference sandbox. Whatever the
student's code does to this process (patching numpy, replacing modules, printing "passed") only
changes the data it sends back.
"""

from __future__ import annotations

import builtins
import io
import linecache
import socket
import sys
import traceback
import warnings
from collections.abc import Callable
from typing import Any

from . import wire

Message = dict[str, Any]

MAX_TEXT = 20_000


def _clip(text: str) -> str:
    return text if len(text) <= MAX_TEXT else text[:MAX_TEXT] + "\n... (output truncated)"


def _student_frames(error: BaseException, filename: str) -> list[str]:
    """Traceback lines from the student's own cell only."""
    lines = []
    for frame in traceback.extract_tb(error.__traceback__):
        if frame.filename == filename:
            lines.append(f"line {frame.lineno}: {(frame.line or '').strip()}")
    if isinstance(error, SyntaxError) and error.filename == filename:
        lines.append(f"line {error.lineno}: {(error.text or '').strip()}")
    return lines


def _describe(error: BaseException, filename: str) -> Message:
    return {"type": type(error).__name__, "message": _clip(str(error)),
            "frames": _student_frames(error, filename)}


class ReferenceFailed(Exception):
    """A reference function, called by the student's code, could not compute its result."""


class Reference:
    """Stand-in for the instructor's version of a graded function the student's function calls,
    so that one mistake is never charged twice. The call goes to the reference sandbox."""

    def __init__(self, name: str, channel: io.BufferedIOBase | None) -> None:
        self.__name__ = self.__qualname__ = name
        self._channel = channel

    def __repr__(self) -> str:
        return f"<graded function {self.__name__} (the reference version, while your function is graded)>"

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        if self._channel is None:
            raise ReferenceFailed(f"{self.__name__}() cannot be called here")
        wire.send(self._channel, {"op": "call", "name": self.__name__,
                                  "args": [wire.encode(arg) for arg in args],
                                  "kwargs": {key: wire.encode(value) for key, value in kwargs.items()}})
        reply = wire.receive(self._channel)
        if reply is None:
            raise ReferenceFailed(f"{self.__name__}() stopped answering")
        sys.stdout.write(reply.get("stdout", ""))
        sys.stderr.write(reply.get("stderr", ""))
        if not reply.get("ok"):
            kind = getattr(builtins, reply.get("type", ""), None)
            kind = kind if isinstance(kind, type) and issubclass(kind, Exception) else ReferenceFailed
            raise kind(f"{self.__name__}() raised {reply.get('type')}: {reply.get('message')} "
                       "(the reference version, called by your code with these arguments)")
        return wire.decode(reply["value"])


class StudentSession:
    """One student cell, defined in a namespace of its own, and the calls of its function."""

    def __init__(self, callbacks: socket.socket | None, filename: str) -> None:
        self.namespace: dict[str, Any] = {"__name__": "__main__", "__builtins__": builtins}
        self.callbacks = callbacks.makefile("rwb") if callbacks is not None else None
        self.filename = filename

    def _run(self, action: Callable[[], Message]) -> Message:
        """Run ``action`` capturing Python-level output and warnings; return a reply dict."""
        out, err = io.StringIO(), io.StringIO()
        saved = sys.stdout, sys.stderr
        sys.stdout, sys.stderr = out, err
        try:
            # Python's default warning filters, as in a Jupyter kernel: a RuntimeWarning shows
            # (and costs the cell, as in nbgrader), a ResourceWarning does not.
            with warnings.catch_warnings():
                reply = {"ok": True, **action()}
        except BaseException as error:  # noqa: BLE001 - SystemExit and friends are faults too
            reply = {"ok": False, "error": _describe(error, self.filename)}
        finally:
            sys.stdout, sys.stderr = saved
        reply["stdout"] = _clip(out.getvalue())
        reply["stderr"] = _clip(err.getvalue())
        return reply

    def load(self, request: Message) -> Message:
        # Registering the student's cell lets warnings and tracebacks quote its lines.
        source = request["student"]
        linecache.cache[self.filename] = (len(source), None, source.splitlines(True), self.filename)

        def action() -> Message:
            exec(compile(request["preamble"], "<preamble>", "exec"), self.namespace)
            for name in request["relies_on"]:
                self.namespace[name] = Reference(name, self.callbacks)
            exec(compile(source, self.filename, "exec"), self.namespace)
            return {}
        return self._run(action)

    def call(self, request: Message) -> Message:
        name = request["name"]
        args = [wire.decode(arg) for arg in request["args"]]
        kwargs = {key: wire.decode(value) for key, value in request["kwargs"].items()}

        def action() -> Message:
            function = self.namespace.get(name)
            if not callable(function) or isinstance(function, Reference):
                raise NameError(f"name '{name}' is not defined as a function in your cell")
            value = function(*args, **kwargs)
            return {"value": wire.encode(value),
                    "args_after": [wire.encode(arg) for arg in args],
                    "kwargs_after": {key: wire.encode(item) for key, item in kwargs.items()}}
        return self._run(action)


def serve(session: socket.socket, callbacks: socket.socket | None, filename: str) -> None:
    """Answer the grader's requests on ``session`` until it closes it."""
    stream = session.makefile("rwb")
    handler = StudentSession(callbacks, filename)
    while True:
        request = wire.receive(stream)
        if request is None:
            return
        handlers: dict[object, Callable[[Message], Message]] = {"load": handler.load, "call": handler.call}
        op = handlers.get(request.get("op"))
        reply = op(request) if op else {"ok": False, "error": {
            "type": "ProtocolError", "message": "unknown request", "frames": []}}
        wire.send(stream, reply)
