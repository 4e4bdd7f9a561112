"""The reference functions, served to a student's function from a sandbox of their own.

When a student's function calls a graded function defined before it, the call lands here (through
the stand-in :class:`sandboxed.student.Reference`) and the instructor's version computes the answer: one
mistake is never charged twice, and the reference code never enters a process that runs student
code. A child serves one test cell, and only the functions the graded one may rely on. Its
answers carry the value and what the function printed; an error carries its type and message,
never a traceback (which would quote reference lines).
"""

from __future__ import annotations

import contextlib
import io
import socket
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from . import wire

Message = dict[str, Any]

MAX_TEXT = 20_000


def define(preamble: str, references: Sequence[Sequence[str]]) -> dict[str, Callable[..., Any]]:
    """Define the reference functions in a fresh namespace; name -> function."""
    namespace: dict[str, Any] = {"__name__": "catkit_reference"}
    exec(compile(preamble, "<preamble>", "exec"), namespace)
    for name, source in references:
        exec(compile(source, f"<reference {name}>", "exec"), namespace)
    return {name: namespace[name] for name, _ in references}


def _answer(functions: dict[str, Callable[..., Any]], allowed: set[str], request: Message) -> Message:
    name = request.get("name")
    if request.get("op") != "call" or name not in allowed or name not in functions:
        return {"ok": False, "type": "NameError", "message": f"{name!r} is not available here"}
    out, err = io.StringIO(), io.StringIO()
    try:
        args = [wire.decode(arg) for arg in request["args"]]
        kwargs = {key: wire.decode(value) for key, value in request["kwargs"].items()}
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            value = functions[name](*args, **kwargs)
        reply = {"ok": True, "value": wire.encode(value)}
    except Exception as error:  # noqa: BLE001 - the student's arguments may break it: say how
        reply = {"ok": False, "type": type(error).__name__, "message": str(error)[:MAX_TEXT]}
    return {**reply, "stdout": out.getvalue()[:MAX_TEXT], "stderr": err.getvalue()[:MAX_TEXT]}


def serve(session: socket.socket, functions: dict[str, Callable[..., Any]], allowed: Iterable[str]) -> None:
    """Answer calls on ``session`` (connected to one student's child) until it closes."""
    stream = session.makefile("rwb")
    while True:
        try:
            request = wire.receive(stream)
        except wire.WireError as error:
            wire.send(stream, {"ok": False, "type": "ValueError", "message": str(error)})
            return
        if request is None:
            return
        wire.send(stream, _answer(functions, set(allowed), request))
