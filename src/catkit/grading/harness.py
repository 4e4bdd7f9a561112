"""Run one graded test cell in the grader's own process against the sandboxed student code.

The test cell's code (the instructor's, from the gradebook) runs here, with numpy and the
reference functions; only the function the cell scores is the student's, a
:class:`~catkit.grading.remote.RemoteFunction`. So the verdict, every ``assert``, is taken by
code the submission never ran in. The result is a list of notebook outputs that nbgrader
scores as usual: an ``error`` output or any ``stderr`` text means no points.

Feedback must not reveal hidden tests: for a hidden-test cell the outputs hold only the
assertion's message (which never quotes expected values) or the student's own error, never
a line of the test, nor anything the test printed.
"""

import contextlib
import io
import linecache
import traceback
from dataclasses import dataclass, field

import numpy as np
from nbformat.v4 import new_output

from catkit.grading import remote, sandbox
from catkit.grading.notebook import PREAMBLE, function_of, is_hidden


MAX_CELL_OUTPUT = 50_000  # characters of each output stream kept in a graded cell


@dataclass(frozen=True)
class Settings:
    mode: str = "bwrap"            # "bwrap" or "none", see catkit.grading.sandbox
    timeout: float = 30.0          # seconds for one call of the student's function
    cell_time_limit: float = 120.0  # seconds for all the calls of one test cell
    limits: sandbox.Limits = field(default_factory=sandbox.Limits)


def _error(ename, evalue, lines):
    return new_output("error", ename=ename, evalue=evalue, traceback=[*lines, f"{ename}: {evalue}"])


def _test_line(error, filename):
    frames = [frame for frame in traceback.extract_tb(error.__traceback__) if frame.filename == filename]
    return f"line {frames[-1].lineno} of this cell: {frames[-1].line}" if frames else None


def _failure(error, function, filename, hidden):
    """The error output for an exception raised while running a test cell."""
    if isinstance(error, remote.StudentCodeError):
        where = [f"  in your {error.function or function} cell, {frame}" for frame in error.frames]
        hint = ([f"  (graded alone, {function}() may use only its arguments, np, copy, math and the other "
                 "graded functions: not notebook variables, nor helpers from other cells)"]
                if error.kind == "NameError" else [])
        return _error(error.kind, error.message,
                      [f"Your {error.function or function}() raised {error.kind} during the tests:", *where, *hint])
    if isinstance(error, remote.WorkerFault):
        return _error("GradingFault", f"{function}(): {error}",
                      [f"Your {function}() could not be tested: this cell scores 0, the others are not affected."])
    line = None if hidden else _test_line(error, filename)
    if isinstance(error, AssertionError):
        message = str(error) or "a check failed"
        return _error("AssertionError", message, [line] if line else [])
    # Raised by the test code itself, typically while inspecting a result of the wrong kind.
    context = f"while checking what your {function}() returned" if function else "in the test"
    return _error(type(error).__name__, str(error), [f"The test failed {context}.", *([line] if line else [])])


def run_test_cell(source, cell_id, reference, student_source, settings):
    """Grade one test cell; return its notebook outputs."""
    function = function_of(cell_id)
    hidden = is_hidden(source)
    filename = f"<test cell {cell_id}>"
    if not hidden:  # visible tests may be quoted in tracebacks and warnings; hidden ones never
        linecache.cache[filename] = (len(source), None, source.splitlines(True), filename)
    namespace = {"__name__": "__catkit_test__", "np": np, **reference.functions}
    stdout, stderr = io.StringIO(), io.StringIO()
    failure = worker = None
    with contextlib.redirect_stdout(stdout), contextlib.redirect_stderr(stderr):
        try:
            if function is not None:
                if student_source is None:
                    raise remote.StudentCodeError(function, "NameError",
                                                  f"no cell of your notebook defines {function}()")
                worker = remote.start(settings, PREAMBLE, reference.others(function),
                                      student_source, f"<your {function} cell>", function)
                namespace[function] = remote.RemoteFunction(worker, function)
            exec(compile(source, filename, "exec"), namespace)
        except Exception as error:  # noqa: BLE001 - every failure becomes an output
            failure = _failure(error, function, filename, hidden)
        finally:
            if worker is not None:
                worker.close()
    outputs = []
    printed, warned = remote.clip(stdout.getvalue(), MAX_CELL_OUTPUT), remote.clip(stderr.getvalue(), MAX_CELL_OUTPUT)
    if printed and not hidden:
        outputs.append(new_output("stream", name="stdout", text=printed))
    if warned:
        outputs.append(new_output("stream", name="stderr", text=(
            "Output on stderr (a warning?) counts as a failure in a graded cell:\n" + warned)))
    if failure is not None:
        outputs.append(failure)
    elif hidden and not stderr.getvalue():
        outputs.append(new_output("stream", name="stdout", text=f"All hidden tests of {function}() passed.\n"))
    return outputs

