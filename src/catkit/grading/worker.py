"""The program that runs inside the sandbox: it defines one student function and calls it.

It answers requests from the grader on stdin/stdout (see :mod:`catkit.grading.wire`):

- ``{"op": "load", "preamble": ..., "references": [[name, source], ...], "student": source,
  "filename": ...}`` executes the preamble, the reference solutions of the other functions, then
  the student's cell, in one fresh namespace;
- ``{"op": "call", "name": ..., "args": [...], "kwargs": {...}}`` calls a function of that
  namespace and answers with its result, the arguments as they are afterwards (to expose
  in-place mutation), and what it printed.

Nothing here decides a grade: the grader checks the answers in its own process, so whatever
the student's code does to this process (patching numpy, replacing modules, printing "passed")
only changes the data it sends back.
"""

import io
import linecache
import os
import sys
import traceback
import warnings

from catkit.grading import wire

MAX_TEXT = 20_000


def _clip(text):
    return text if len(text) <= MAX_TEXT else text[:MAX_TEXT] + "\n... (output truncated)"


def _student_frames(error, filename):
    """Traceback lines from the student's own cell only: reference code is never quoted."""
    lines = []
    for frame in traceback.extract_tb(error.__traceback__):
        if frame.filename == filename:
            lines.append(f"line {frame.lineno}: {(frame.line or '').strip()}")
    if isinstance(error, SyntaxError) and error.filename == filename:
        lines.append(f"line {error.lineno}: {(error.text or '').strip()}")
    return lines


def _describe(error, filename):
    return {"type": type(error).__name__, "message": _clip(str(error)),
            "frames": _student_frames(error, filename)}


class Worker:
    def __init__(self):
        self.namespace = {"__name__": "__main__", "__builtins__": __builtins__}
        self.filename = "<your code>"

    def _run(self, action):
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

    def load(self, request):
        self.filename = request["filename"]
        # Registering the student's cell lets warnings and tracebacks quote its lines.
        source = request["student"]
        linecache.cache[self.filename] = (len(source), None, source.splitlines(True), self.filename)

        def action():
            exec(compile(request["preamble"], "<preamble>", "exec"), self.namespace)
            for name, reference in request["references"]:
                exec(compile(reference, f"<reference {name}>", "exec"), self.namespace)
            exec(compile(source, self.filename, "exec"), self.namespace)
            return {}
        return self._run(action)

    def call(self, request):
        name = request["name"]
        args = [wire.decode(arg) for arg in request["args"]]
        kwargs = {key: wire.decode(value) for key, value in request["kwargs"].items()}

        def action():
            function = self.namespace.get(name)
            if not callable(function):
                raise NameError(f"name '{name}' is not defined as a function in your cell")
            value = function(*args, **kwargs)
            return {"value": wire.encode(value),
                    "args_after": [wire.encode(arg) for arg in args],
                    "kwargs_after": {key: wire.encode(item) for key, item in kwargs.items()}}
        return self._run(action)


def main():
    # The protocol keeps private copies of fds 0 and 1; C-level output of student code goes
    # to stderr, which the grader keeps for crash reports.
    requests = os.fdopen(os.dup(0), "rb")
    replies = os.fdopen(os.dup(1), "wb")
    devnull = os.open(os.devnull, os.O_RDONLY)
    os.dup2(devnull, 0)
    os.dup2(2, 1)
    worker = Worker()
    while True:
        request = wire.receive(requests)
        if request is None:
            return
        handler = {"load": worker.load, "call": worker.call}.get(request.get("op"))
        reply = handler(request) if handler else {"ok": False, "error": {
            "type": "ProtocolError", "message": "unknown request", "frames": []}}
        wire.send(replies, reply)


if __name__ == "__main__":
    main()
