"""IsolatedExecute: nbgrader's Execute step, replaced by per-function sandboxed grading.

Stock nbgrader runs the whole submission in one kernel and lets its asserts decide. Here no
kernel runs: each graded test cell is run by the grading engine (:mod:`catkit.grading.engine`) in
a trusted grading process, against the student's function defined alone in a fresh child of a
sandbox, with the functions it relies on computed by the reference in a sandbox of their own.
Cells that are not graded (data loading, training, plots) are not executed at all.

nbgrader creates this preprocessor anew for every notebook, in one process for the whole run;
the run's state (grading processes, the submissions still to come, progress) lives in one
:class:`_Run` per process. While nbgrader saves one submission, the grading processes already
grade the next ones.
"""

from __future__ import annotations

import atexit
import contextlib
import dataclasses
import functools
import io
import logging
import os
from collections.abc import Callable, Iterator
from typing import Any

import nbformat
from nbgrader.preprocessors import NbGraderPreprocessor
from traitlets import Enum, Float, Integer, TraitType, Unicode

from catkit.course import SECRET_MADE, Course, read_stamp
from catkit.errors import LayoutError, NotGraded
from catkit.grading import engine
from catkit.grading.layout import Layout, function_source, grade_id
from catkit.nbgrader_plugins.progress import Progress


def settings_on_worker(plugin_class: type[IsolatedExecute], traits: dict[str, Any], overrides: tuple[Any, ...],
                       log: logging.Logger) -> engine.Settings:
    """The grading settings, made on a Dask worker from the plugin's configuration: the sandbox and
    control groups resolved on the worker's machine, warnings to ``log``."""
    return plugin_class(**traits, log=log).settings().with_limits(overrides)


class _Run:
    """One autograde run of one assignment, in this process."""

    def __init__(self, plugin: IsolatedExecute, course: Course, assignment: str, db_url: str):
        self.course, self.assignment, self.log = course, assignment, plugin.log
        self.owner: tuple[Any, str] = (None, assignment)
        self.notebooks = [path.stem for path in course.notebooks(assignment)]
        self.layouts = {name: course.notebook_layout(assignment, name) for name in self.notebooks}
        self.references = {name: course.reference_answers(assignment, name) for name in self.notebooks}
        # One set of limits for the assignment (Layout.merged refuses notebooks that disagree).
        overrides = functools.reduce(Layout.merged, self.layouts.values(), Layout()).limits
        secret, made = course.secret()
        if made:
            plugin.log.warning(SECRET_MADE.format(course.secret_path))
        self.secret = secret
        self.tests = {name: self._instructor_tests(db_url, name) for name in self.notebooks}
        students = self._students(plugin.config)
        self.plan = [(student, name) for student in students for name in self.notebooks]
        self.pool: engine.GradingPool
        if _kept is not None:  # a service grading run after run: warm processes, and who comes next
            key = (assignment, overrides, plugin.scheduler)
            self.pool = _kept.pool(key, lambda: self._make_pool(plugin, overrides))
            self.plan += [(student, name) for student in _kept.upcoming if student not in students
                          for name in self.notebooks]
        else:
            self.pool = self._make_pool(plugin, overrides)
        self.ahead = self.pool.processes + 1  # submissions graded ahead: one per process, and the next
        # (a service grades one submission per run: no bar for each, its log says the rest)
        self.progress = Progress(len(students), plugin.log, stream=io.StringIO() if _kept else None)
        atexit.register(self.close)

    @staticmethod
    def _make_pool(plugin: IsolatedExecute, overrides: tuple[Any, ...]) -> engine.GradingPool:
        if plugin.scheduler:  # on a Dask cluster each worker resolves the sandbox on its own machine
            return engine.cluster_pool(plugin.scheduler, functools.partial(
                settings_on_worker, type(plugin), plugin.trait_values(config=True), overrides), plugin.log)
        settings = plugin.settings().with_limits(overrides)
        return engine.local_pool(settings, max(1, plugin.workers or os.cpu_count() or 1))

    def _instructor_tests(self, db_url: str, notebook: str) -> tuple[tuple[str, str], ...]:
        """(grade_id, source) of every graded test cell, as the gradebook holds it, in the order
        of the instructor's notebook."""
        from nbgrader.api import Gradebook
        with Gradebook(db_url) as gb:
            record = gb.find_notebook(notebook, self.assignment)
            answers = {cell.name for cell in record.solution_cells}
            graded = {cell.name for cell in record.grade_cells if cell.cell_type == "code"} - answers
            sources = {cell.name: cell.source for cell in record.source_cells if cell.name in graded}
        path = self.course.source_dir(self.assignment) / f"{notebook}.ipynb"
        order = [grade_id(cell) for cell in nbformat.read(path, as_version=4).cells]
        return tuple((cell_id, sources[cell_id]) for cell_id in order if cell_id is not None and cell_id in sources)

    def _students(self, config: Any) -> list[str]:
        """The students nbgrader will grade in this run, in its order (sorted submission folders,
        less those already completely graded, unless --force)."""
        force = bool(config.BaseConverter.get("force") or config.Autograde.get("force"))
        students = []
        for student in self.course.submitted_students(self.assignment, this_run=True):
            graded = self.course.autograded_dir(student, self.assignment)
            done = all(read_stamp(graded / f"{name}.ipynb") for name in self.notebooks)
            if force or not done:
                students.append(student)
        return students

    def job(self, nb: Any, student: str, notebook: str) -> engine.Job:
        layout = self.layouts[notebook]
        return engine.Job(student, self.tests[notebook], {name: function_source(nb, name) for name in layout.functions},
                          self.references[notebook], self.secret, layout)

    def _prefetch(self, position: int) -> None:
        """Start grading the next submissions from their submitted notebooks."""
        for student, notebook in self.plan[position + 1:position + 1 + self.ahead]:
            path = self.course.submitted_dir(student, self.assignment) / f"{notebook}.ipynb"
            try:  # unvalidated (10x faster; this runs in nbgrader's busy process): a wrong guess
                nb = nbformat.v4.reads(path.read_text(encoding="utf-8"))  # only means grading later
                job = self.job(nb, student, notebook)
            except Exception:  # noqa: BLE001 - unreadable: nbgrader will report it when it gets there
                continue
            self.pool.submit((student, notebook), job)

    def grade(self, nb: Any, student: str, notebook: str) -> engine.Result:
        key = (student, notebook)
        if key in self.plan:  # (a submission nbgrader grades unexpectedly gets no prefetch)
            self._prefetch(self.plan.index(key))
        try:
            return self.pool.result(key, self.job(nb, student, notebook))
        except engine.GraderFault as fault:
            raise NotGraded(f"{student}'s submission was NOT graded: {fault}. This is not the student's "
                            "doing; fix the cause and run the same command again (graded submissions are "
                            "kept)") from None
        finally:
            if notebook == self.notebooks[-1]:
                self.progress.advance()

    def close(self) -> None:
        self.progress.close()
        left = self.progress.total - self.progress.done
        if left > 0 and self.progress.done and _kept is None:  # (the bar stopped short of its total: say why)
            self.log.warning("%d of %d submissions were not graded (not a notebook, say): nbgrader's errors above "
                             "say why, and so do catkit grade's table and the class report", left, self.progress.total)
        if _kept is None or not _kept.keeps(self.pool):
            self.pool.close()


_current: _Run | None = None  # the run of the nbgrader command in progress in this process


class KeptPools:
    """Grading pools kept from one autograde run to the next by a process that runs many
    (``catkit serve``, one run per submission): the grading processes stay warm, and each run
    grades ahead the submissions the service says come next (``upcoming``: student ids)."""

    def __init__(self) -> None:
        self.pools: dict[Any, engine.GradingPool] = {}
        self.upcoming: list[str] = []

    def pool(self, key: Any, make: Callable[[], engine.GradingPool]) -> engine.GradingPool:
        """The pool for ``key`` (assignment, limits, scheduler), made on first use."""
        if key not in self.pools:
            self.pools[key] = make()
        return self.pools[key]

    def keeps(self, pool: engine.GradingPool) -> bool:
        return any(kept is pool for kept in self.pools.values())

    def close(self) -> None:
        for pool in self.pools.values():
            pool.close()
        self.pools.clear()


_kept: KeptPools | None = None


@contextlib.contextmanager
def kept_pools() -> Iterator[KeptPools]:
    """Within this block, autograde runs in this process share their grading pools (see
    :class:`KeptPools`); they are closed at its end."""
    global _kept, _current
    _kept = KeptPools()
    try:
        yield _kept
    finally:
        if _current is not None:
            _current.close()
            _current = None
        _kept.close()
        _kept = None


def _limit(name: str) -> TraitType:
    """The configurable trait of one of the grading limits, as :class:`engine.Limits` declares it."""
    declared = {field.name: field for field in dataclasses.fields(engine.Limits)}[name]
    default: Any = declared.default
    trait = Float if isinstance(default, float) else Integer
    return trait(default, help=declared.metadata["help"]).tag(config=True)


class IsolatedExecute(NbGraderPreprocessor):
    sandbox = Enum(["auto", "bwrap", "none"], default_value="auto", help=(
        "How student code is isolated: 'bwrap' (required: fail if unavailable), 'auto' (bwrap "
        "when possible, else rlimits only, with a warning) or 'none' (rlimits only).")).tag(config=True)
    cgroups = Enum(["auto", "required", "off"], default_value="auto", help=(
        "Control groups capping each sandbox's memory and processes on the host: 'auto' (when the "
        "host allows, else rlimits with a warning), 'required' or 'off'.")).tag(config=True)
    # The six limits, declared once in catkit.grading.limits (a notebook may set its own).
    timeout = _limit("timeout")
    cell_time_limit = _limit("cell_time_limit")
    submission_budget = _limit("submission_budget")
    memory_limit_mb = _limit("memory_limit_mb")
    cpu_limit_seconds = _limit("cpu_limit_seconds")
    max_processes = _limit("max_processes")
    workers = Integer(0, help="Grading processes working ahead of nbgrader; 0: one per CPU core.").tag(config=True)
    scheduler = Unicode("", help=(
        "Address of a dask.distributed scheduler (tcp://host:8786): grade on its workers, each with "
        "its own sandbox, instead of in local grading processes ('': locally).")).tag(config=True)
    secret_file = Unicode("", help=(
        "The course secret hidden tests draw their inputs from (default: .catkit/course_secret in "
        "the course root, made on first use; never released to students).")).tag(config=True)

    def settings(self) -> engine.Settings:
        """The grading settings on this machine (NotGraded if its configuration refuses to grade here)."""
        limits = engine.Limits(**{name: getattr(self, name) for name in engine.LIMIT_NAMES})
        try:
            return engine.resolve_settings(self.sandbox, self.cgroups, limits, self.log.warning)
        except engine.GraderFault as refusal:
            raise NotGraded(str(refusal)) from None

    def _run(self, course: Course, info: dict[str, Any]) -> _Run:
        """This run's state. nbgrader makes one exporter per run (the formgrader may start many
        runs in one process): a new exporter, or another assignment, starts a new run."""
        global _current
        owner = (self.parent, info["assignment"])
        if _current is None or _current.owner[0] is not owner[0] or _current.owner[1] != owner[1]:
            if _current is not None:
                _current.close()
            _current = _Run(self, course, info["assignment"], info["db_url"])
            _current.owner = owner
        return _current

    def preprocess(self, nb: Any, resources: dict[str, Any]) -> tuple[Any, dict[str, Any]]:
        info = resources["nbgrader"]
        course = Course.of(self)
        try:
            run = self._run(course, info)
            result = run.grade(nb, info["student"], info["notebook"])
        except LayoutError as error:  # the instructor's notebook breaks a convention: say which
            course.record_failure(info["assignment"], info["student"], str(error))
            raise NotGraded(str(error)) from None
        except NotGraded as failure:
            course.record_failure(info["assignment"], info["student"], str(failure))
            raise
        course.clear_failure(info["assignment"], info["student"])
        for cell in nb.cells:
            cell_id = grade_id(cell)
            if cell.cell_type == "code" and cell_id in result.outputs:
                cell.outputs = [nbformat.from_dict(output) for output in result.outputs[cell_id]]
                cell.execution_count = None
        resources.setdefault("catkit", {})["grading_seconds"] = result.seconds
        self.log.info("Graded %s's %s in %.2f s", info["student"], info["notebook"], result.seconds)
        return nb, resources
