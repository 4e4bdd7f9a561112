"""Grade one submission: each test cell run in the grader's process against sandboxed student code.

A :class:`Job` holds everything grading a submission needs (the instructor's test cells, the
student's function cells, the reference, the course secret), so it can be graded anywhere: in
nbgrader's process, in a pool of grading processes, on another machine.

A test cell's code (the instructor's, from the gradebook) runs here, with numpy and the
reference functions; only the function the cell scores is the student's, a
:class:`~catkit.grading.remote.RemoteFunction`. So the verdict, every ``assert``, is taken by
code the submission never ran in. The result is a list of notebook outputs that nbgrader
scores as usual: an ``error`` output or any ``stderr`` text means no points.

Deterministic: hidden tests draw their inputs from ``GRADING_SEED``, which this module derives
from the course secret, the student id and the cell id, so grading the same submission again
gives the same inputs, scores and feedback, and no student can guess another's inputs.

Bounded: a submission has a wall-clock budget; each test cell may use its fair share of what is
left (unused time passes on to the next cells), so one slow function cannot hold the class, nor
cost the student the other functions.

Feedback must not reveal hidden tests: for a hidden-test cell the outputs hold only the
assertion's message (which never quotes expected values) or the student's own error, never
a line of the test, nor anything the test printed.
"""

import contextlib
import functools
import hashlib
import hmac
import io
import json
import linecache
import time
import traceback
import dataclasses
from dataclasses import dataclass, field

from catkit.grading import reference, remote, sandbox, sandboxes
from catkit.grading.layout import Layout, is_hidden


MAX_CELL_OUTPUT = 50_000  # characters of each output stream kept in a graded cell


@dataclass(frozen=True)
class Settings:
    mode: str = "bwrap"              # "bwrap" or "none", see catkit.grading.sandbox
    cgroups: bool = True             # a control group per sandbox (see catkit.grading.cgroups)
    timeout: float = 30.0            # seconds for one call of the student's function
    cell_time_limit: float = 120.0   # seconds for all the calls of one test cell
    submission_budget: float = 60.0  # seconds for all the test cells of one submission
    limits: sandbox.Limits = field(default_factory=sandbox.Limits)

    def with_limits(self, overrides):
        """These settings with an assignment's own limits (``Layout.limits``) in place."""
        overrides = dict(overrides)
        caps = {"memory_mb": overrides.pop("memory_limit_mb", self.limits.memory_mb),
                "cpu_seconds": overrides.pop("cpu_limit_seconds", self.limits.cpu_seconds),
                "processes": overrides.pop("max_processes", self.limits.processes)}
        return dataclasses.replace(self, limits=dataclasses.replace(self.limits, **caps), **overrides)


@dataclass(frozen=True)
class Job:
    """Everything needed to grade one submission."""

    student: str
    tests: tuple          # ((grade_id, source of the instructor's test cell), ...) in notebook order
    functions: dict       # graded function -> source of the student's cell defining it (or None)
    references: dict      # graded function -> source of the instructor's solution cell
    secret: str           # the course secret, from which hidden tests draw their inputs
    layout: Layout        # the assignment's graded functions and imports, from its notebook

    @functools.cached_property
    def key(self):
        """A digest of everything the grades depend on (computed once: the job is frozen)."""
        return hashlib.sha256(json.dumps([self.student, self.tests, sorted(self.functions.items()),
                                          sorted(self.references.items()), self.secret,
                                          repr(self.layout)]).encode()).hexdigest()


@dataclass
class Result:
    outputs: dict   # grade_id -> notebook outputs of the graded cell
    seconds: float


def grading_seed(secret, student, cell_id):
    """The seed of one hidden test cell for one student: unpredictable without the secret."""
    digest = hmac.new(secret.encode(), f"{student}\0{cell_id}".encode(), hashlib.sha256).digest()
    return int.from_bytes(digest[:8], "big")


def _error(ename, evalue, lines):
    return {"output_type": "error", "ename": ename, "evalue": evalue, "traceback": [*lines, f"{ename}: {evalue}"]}


def _stream(name, text):
    """A notebook stream output, as plain data (nbformat is not needed to grade: it is slow to import)."""
    return {"output_type": "stream", "name": name, "text": text}


def _test_line(error, filename):
    frames = [frame for frame in traceback.extract_tb(error.__traceback__) if frame.filename == filename]
    return f"line {frames[-1].lineno} of this cell: {frames[-1].line}" if frames else None


def _failure(error, function, filename, hidden, layout):
    """The error output for an exception raised while running a test cell."""
    if isinstance(error, remote.StudentCodeError):
        where = [f"  in your {error.function or function} cell, {frame}" for frame in error.frames]
        allowed = ", ".join([*layout.imported_names, *layout.relies_on(function)]) if function else ""
        hint = ([f"  (graded alone, {function}() may use only its arguments" + (f" and {allowed}" if allowed else "")
                 + ": not notebook variables, nor helpers from other cells)"]
                if error.kind == "NameError" and function else [])
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


def _not_run(message):
    return [_error("GradingBudget", message, ["This cell was not run."])]


def run_test_cell(source, cell_id, layout, functions, student_source, settings, students, references, seed,
                  deadline, over_deadline):
    """Grade one test cell before ``deadline``; return its notebook outputs."""
    function = layout.function_of(cell_id)
    hidden = is_hidden(source)
    filename = f"<test cell {cell_id}>"
    if not hidden:  # visible tests may be quoted in tracebacks and warnings; hidden ones never
        linecache.cache[filename] = (len(source), None, source.splitlines(True), filename)
    namespace = {"__name__": "__catkit_test__", "GRADING_SEED": seed}
    exec(compile(layout.preamble, "<preamble>", "exec"), namespace)  # the notebook's graded imports
    namespace.update(functions)
    stdout, stderr = io.StringIO(), io.StringIO()
    failure = session = None
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
        except sandboxes.GraderFault:
            raise
        except Exception as error:  # noqa: BLE001 - every failure becomes an output
            failure = _failure(error, function, filename, hidden, layout)
        finally:
            if session is not None:
                session.close()
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
    return outputs


def grade(job, settings):
    """Grade every test cell of ``job``; raise GraderFault if grading itself cannot run."""
    start = time.monotonic()
    budget_end = start + settings.submission_budget
    layout = job.layout
    functions = reference.functions(job.references, layout.preamble)
    references = sandboxes.reference_sandbox(settings, layout.preamble, job.references)
    students = remote.StudentSandbox(settings)
    outputs = {}
    try:
        for index, (cell_id, source) in enumerate(job.tests):
            now = time.monotonic()
            share = (budget_end - now) / (len(job.tests) - index)
            if share <= 0.05:
                outputs[cell_id] = _not_run(f"this submission used up its {settings.submission_budget:g} s "
                                            "grading budget before this cell")
                continue
            seconds = min(settings.cell_time_limit, share)
            why = (f"used up the {seconds:.1f} s this test cell may take (its share of the submission's "
                   f"{settings.submission_budget:g} s grading budget)" if seconds < settings.cell_time_limit
                   else f"used up the {seconds:g} s allowed for one test cell")
            function = layout.function_of(cell_id)
            outputs[cell_id] = run_test_cell(
                source, cell_id, layout, functions, job.functions.get(function) if function else None, settings,
                students, references, grading_seed(job.secret, job.student, cell_id), now + seconds, why)
    finally:
        students.close()
    return Result(outputs, time.monotonic() - start)
