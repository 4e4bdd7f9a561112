"""Grade one submission: each test cell run in the grader's process against sandboxed student code.

A :class:`~catkit.grading.job.Job` holds everything grading a submission needs (the instructor's
test cells, the student's function cells, the reference, the course secret), so it can be graded
anywhere: in nbgrader's process, in a pool of grading processes, on another machine.

A test cell's code (the instructor's, from the gradebook) runs here, with numpy and the
reference functions; only the function the cell scores is the student's, a
:class:`~catkit.grading.remote.RemoteFunction`. So the verdict, every ``assert``, is taken by
code the submission never ran in. The result is a list of notebook outputs that nbgrader
scores as usual: an ``error`` output or any ``stderr`` text means no points.

Deterministic: hidden tests draw their inputs from ``GRADING_SEED``, derived (by
:func:`~catkit.grading.job.grading_seed`) from the course secret, the student id, the cell id and
the submission's graded code, so grading the same submission again gives the same inputs, scores
and feedback; no student can guess another's inputs, and inputs a function printed in one
submission's feedback are not the next (changed) submission's.

Bounded: a submission has a budget of seconds; each test cell may use its fair share of what is
left (unused time passes on to the next cells), so one slow function cannot hold the class, nor
cost the student the other functions. The seconds are CPU seconds of the student's sandbox where
its control group counts them (see :mod:`catkit.grading.remote`): a submission gets the same
grades on a quiet machine and on a busy one. Without CPU accounting, they are wall-clock seconds.

Instructor's modules: a test cell may import a module of the assignment folder (``from public_tests
import f_test``, the visible checks released beside the notebook). Its ``import`` gives a module made
here, for this cell, from the instructor's source the job carries (``Layout.modules``, read from
``source/``): never a file of the submission's folder, whatever copy of it the student submitted,
and never a module another cell changed.

A numpy shape error raised by the student's function (``np.dot`` of arrays that do not fit, say) is
explained: the operation, the shapes and what to transpose (:func:`catkit.grading.hints.shape_hint`).

Feedback must not reveal hidden tests: for a hidden-test cell the outputs hold only the
assertion's message (which never quotes expected values) or the student's own error, never
a line of the test, nor anything the test printed.
"""

from __future__ import annotations

import builtins
import contextlib
import io
import linecache
import re
import time
import traceback
import types
from collections.abc import Iterable
from typing import Any

from catkit.errors import GraderFault
from catkit.grading import hints, reference, remote
from catkit.grading.isolation import handle
from catkit.grading.isolation.handle import SandboxHandle
from catkit.grading.job import Job, Output, Result, Settings, graded_code_digest, grading_seed
from catkit.grading.layout import Layout

MAX_CELL_OUTPUT = 50_000  # characters of each output stream kept in a graded cell


def _error(ename: str, evalue: str, lines: list[str]) -> Output:
    return {"output_type": "error", "ename": ename, "evalue": evalue, "traceback": [*lines, f"{ename}: {evalue}"]}


def _stream(name: str, text: str) -> Output:
    """A notebook stream output, as plain data (nbformat is not needed to grade: it is slow to import)."""
    return {"output_type": "stream", "name": name, "text": text}


def module_filename(name: str) -> str:
    """The file name the code of the instructor's module ``name`` runs under (in tracebacks): no
    file's path, so that nothing is ever read from disk to quote one of its lines."""
    return f"<instructor's {name}.py>"


_MODULE_FILENAME = re.compile(r"<instructor's (\w+\.py)>")
_compiled: dict[tuple[str, str], types.CodeType] = {}


def cell_builtins(modules: Iterable[tuple[str, str]]) -> dict[str, Any]:
    """Python's builtins for one test cell, where ``import name`` of one of ``modules`` ((name,
    source), the instructor's) gives a module made from that source, once per cell (so nothing a
    cell does to it reaches the next), and every other import is Python's own. The module's own
    imports of ``modules`` resolve the same way. A file of that name on ``sys.path`` (the student's
    copy in a submission's folder, say) is never read, nor a module of that name in ``sys.modules``."""
    sources = dict(modules)
    made: dict[str, types.ModuleType] = {}
    table = dict(vars(builtins))

    def load(name: str) -> types.ModuleType:
        if name not in made:
            source, filename = sources[name], module_filename(name)
            if (name, source) not in _compiled:
                _compiled[(name, source)] = compile(source, filename, "exec")
            # Registered for tracebacks of visible tests, which quote its lines.
            linecache.cache[filename] = (len(source), None, source.splitlines(True), filename)
            module = types.ModuleType(name)
            module.__file__ = filename
            module.__dict__["__builtins__"] = table
            made[name] = module  # before it runs: an import circle finds it, as in Python
            exec(_compiled[(name, source)], module.__dict__)
        return made[name]

    def instructor_import(name: str, globals: Any = None, locals: Any = None, fromlist: Any = (),
                          level: int = 0) -> Any:
        if level == 0 and name in sources:
            return load(name)
        return builtins.__import__(name, globals, locals, fromlist, level)

    table["__import__"] = instructor_import
    return table


def _test_line(error: BaseException, filename: str) -> str | None:
    """The innermost line of the test cell or of an instructor's module that was running."""
    for frame in reversed(traceback.extract_tb(error.__traceback__)):
        if frame.filename == filename:
            return f"line {frame.lineno} of this cell: {frame.line}"
        module = _MODULE_FILENAME.fullmatch(frame.filename)
        if module:
            return f"line {frame.lineno} of {module.group(1)}: {frame.line}"
    return None


def _explained(error: remote.StudentCodeError, function: str | None) -> tuple[str, list[str]]:
    """(the message of the student's error, lines to show above it): a numpy shape error explained
    (operation, shapes, what to transpose), numpy's own words above."""
    if error.kind != "ValueError":
        return error.message, []
    line = error.frames[-1].partition(": ")[2] if error.frames else None  # "line 27: A = ..."
    hint = hints.shape_hint(function, error.message, line)
    return (hint, [f"  numpy: {error.message.strip()}"]) if hint else (error.message, [])


def _failure(error: Exception, function: str | None, filename: str, hidden: bool, layout: Layout) -> Output:
    """The error output for an exception raised while running a test cell."""
    if isinstance(error, remote.StudentCodeError):
        where = [f"  in your {error.function or function} cell, {frame}" for frame in error.frames]
        allowed = ", ".join([*layout.imported_names, *layout.relies_on(function)]) if function else ""
        hint = ([f"  (graded alone, {function}() may use only its arguments" + (f" and {allowed}" if allowed else "")
                 + ": not notebook variables, nor helpers from other cells)"]
                if error.kind == "NameError" and function else [])
        message, numpy_said = _explained(error, error.function or function)
        raised = f"Your {error.function or function}() raised {error.kind} during the tests:"
        return _error(error.kind, message, [raised, *where, *numpy_said, *hint])
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


def _not_run(message: str) -> list[Output]:
    return [_error("GradingBudget", message, ["This cell was not run."])]


def run_test_cell(source: str, cell_id: str, layout: Layout, functions: dict[str, Any],
                  student_source: str | None, settings: Settings, students: remote.StudentSandbox,
                  references: SandboxHandle, seed: int, deadline: float,
                  over_deadline: str) -> tuple[list[Output], float | None]:
    """Grade one test cell within its time (``deadline``, see :class:`remote.CellSession`); return its
    notebook outputs and the CPU seconds it used of the budget (None: not counted in CPU)."""
    function = layout.function_of(cell_id)
    hidden = layout.is_hidden(source)
    filename = f"<test cell {cell_id}>"
    if not hidden:  # visible tests may be quoted in tracebacks and warnings; hidden ones never
        linecache.cache[filename] = (len(source), None, source.splitlines(True), filename)
    namespace: dict[str, Any] = {"__name__": "__catkit_test__", "GRADING_SEED": seed,
                                 "__builtins__": cell_builtins(layout.modules)}
    exec(compile(layout.preamble, "<preamble>", "exec"), namespace)  # the notebook's graded imports
    namespace.update(functions)
    stdout, stderr = io.StringIO(), io.StringIO()
    failure: Output | None = None
    session: remote.CellSession | None = None
    with contextlib.redirect_stdout(stdout), contextlib.redirect_stderr(stderr):
        try:
            if function is not None:
                if student_source is None:
                    raise remote.StudentCodeError(function, "NameError",
                                                  f"no cell of your notebook defines {function}()")
                session = remote.load(students, references, settings, layout.preamble, student_source,
                                      function, layout.relies_on(function), deadline, over_deadline)
                namespace[function] = remote.RemoteFunction(session, function)
            exec(compile(source, filename, "exec"), namespace)
            if session is not None and session.fault is not None:  # (even if the test code caught it)
                raise session.fault
        except GraderFault:
            raise
        except Exception as error:  # noqa: BLE001 - every failure becomes an output
            failure = _failure(error, function, filename, hidden, layout)
        finally:
            if session is not None:
                session.close()
    charged = session.cpu_charged() if session is not None else None
    outputs = []
    printed, warned = remote.clip(stdout.getvalue(), MAX_CELL_OUTPUT), remote.clip(stderr.getvalue(), MAX_CELL_OUTPUT)
    if printed and not hidden:
        outputs.append(_stream("stdout", printed))
    if warned:
        outputs.append(_stream("stderr", (
            "Output on stderr (a warning?) counts as a failure in a graded cell:\n" + warned)))
    if failure is not None:
        outputs.append(failure)
    elif hidden and not stderr.getvalue():
        outputs.append(_stream("stdout", f"All hidden tests of {function}() passed.\n"))
    return outputs, charged


def grade(job: Job, settings: Settings) -> Result:
    """Grade every test cell of ``job``; raise GraderFault if grading itself cannot run."""
    start = time.monotonic()
    limits = settings.limits
    layout = job.layout
    functions = reference.functions(job.references, layout.preamble)
    references = handle.reference_sandbox(settings, layout.preamble, job.references)
    students = remote.StudentSandbox(settings)
    code = graded_code_digest(job.functions)
    outputs: dict[str, list[Output]] = {}
    spent = 0.0        # of the submission's budget: CPU seconds where the sandboxes' groups count them
    in_cpu = False     # (known from the first cell run in a sandbox)
    try:
        for index, (cell_id, source) in enumerate(job.tests):
            share = (limits.submission_budget - spent) / (len(job.tests) - index)
            if share <= 0.05:
                outputs[cell_id] = _not_run(f"this submission used up its {limits.submission_budget:g} s "
                                            "grading budget before this cell")
                continue
            seconds = min(limits.cell_time_limit, share)
            why = (f"used up the {seconds:.1f} s{{of_cpu}} this test cell may take (its share of the submission's "
                   f"{limits.submission_budget:g} s grading budget)" if seconds < limits.cell_time_limit
                   else f"used up the {seconds:g} s{{of_cpu}} allowed for one test cell")
            function = layout.function_of(cell_id)
            began = time.monotonic()
            outputs[cell_id], cpu = run_test_cell(
                source, cell_id, layout, functions, job.functions.get(function) if function else None, settings,
                students, references, grading_seed(job.secret, job.student, cell_id, code), began + seconds, why)
            in_cpu = in_cpu or cpu is not None
            spent += cpu if cpu is not None else 0.0 if in_cpu else time.monotonic() - began
    finally:
        students.close()
    return Result(outputs, time.monotonic() - start)
