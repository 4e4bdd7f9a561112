"""IsolatedExecute: nbgrader's Execute step, replaced by per-function sandboxed grading.

Stock nbgrader runs the whole submission in one kernel and lets its asserts decide. Here no
kernel runs: each graded test cell is run by :mod:`catkit.grading.harness` in a trusted grading
process, against the student's function defined alone in a fresh child of a sandbox, with the
functions it relies on computed by the reference in a sandbox of their own. Cells that are not
graded (data loading, training, plots) are not executed at all.

nbgrader creates this preprocessor anew for every notebook, in one process for the whole run;
the run's state (grading processes, the submissions still to come, progress) lives in one
:class:`_Run` per process. While nbgrader saves one submission, the grading processes already
grade the next ones (see :mod:`catkit.grading.pool`).
"""

import atexit
import functools
import glob
import os
import secrets
from pathlib import Path

import nbformat
from nbgrader.api import Gradebook
from nbgrader.coursedir import CourseDirectory
from nbgrader.preprocessors import NbGraderPreprocessor
from traitlets import Enum, Float, Integer, Unicode

from catkit.grading import cgroups, harness, reference, sandbox
from catkit.grading.dask_pool import DaskGradingPool
from catkit.grading.layout import Layout, LayoutError, function_source, grade_id
from catkit.grading.pool import GradingPool
from catkit.grading.sandboxes import GraderFault
from catkit.nbgrader_plugins import status
from catkit.nbgrader_plugins.progress import Progress


class NotGraded(Exception):
    """This submission could not be graded, through no fault of the student's."""


def _course_secret(path, log):
    """The course secret hidden tests draw their inputs from; made on first use."""
    path = Path(path)
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "w") as handle:
            handle.write(secrets.token_hex(32) + "\n")
        log.info("Made the course secret %s (keep it: changing it redraws every hidden test's inputs)", path)
    secret = path.read_text().strip()
    if len(secret) < 16:
        raise NotGraded(f"the course secret {path} is empty or too short: delete it to make a new one")
    return secret


def settings_on_worker(plugin_class, traits, overrides, log):
    """The grading settings, made on a Dask worker from the plugin's configuration: the sandbox and
    control groups resolved on the worker's machine, warnings to ``log``."""
    return plugin_class(**traits, log=log).settings().with_limits(overrides)


class _Run:
    """One autograde run of one assignment, in this process."""

    def __init__(self, plugin, coursedir, assignment, db_url):
        self.coursedir, self.assignment, self.log = coursedir, assignment, plugin.log
        # Each notebook's layout (graded functions, imports, limits) and reference answers.
        self.notebooks = sorted(path.stem for path in Path(self._source_dir()).glob("*.ipynb"))
        self.references = {name: reference.from_notebook(Path(self._source_dir()) / f"{name}.ipynb")
                           for name in self.notebooks}
        # One set of limits for the assignment (Layout.merged refuses notebooks that disagree).
        overrides = functools.reduce(Layout.merged, [layout for layout, _ in self.references.values()], Layout()).limits
        # On a Dask cluster, each worker resolves the sandbox and control groups on its own machine.
        self.settings = None if plugin.scheduler else plugin.settings().with_limits(overrides)
        # A relative path is the course root's (an absolute one stays as it is).
        self.secret = _course_secret(Path(coursedir.root) / (plugin.secret_file or f"{status.STATE}/course_secret"),
                                     plugin.log)
        self.tests = {name: self._instructor_tests(db_url, name) for name in self.notebooks}
        self.plan = [(student, name) for student in self._students(plugin.config) for name in self.notebooks]
        if plugin.scheduler:
            self.pool = DaskGradingPool(plugin.scheduler, functools.partial(
                settings_on_worker, type(plugin), plugin.trait_values(config=True), overrides), plugin.log)
            processes = self.pool.threads  # the cluster's
        else:
            processes = max(1, plugin.workers or os.cpu_count() or 1)
            self.pool = GradingPool(self.settings, processes)
        self.ahead = processes + 1  # submissions graded ahead: one per process, and the next
        self.progress = Progress(len(self.plan) // max(1, len(self.notebooks)), plugin.log)
        atexit.register(self.close)

    def _source_dir(self):
        return self.coursedir.format_path(self.coursedir.source_directory, ".", self.assignment)

    def _instructor_tests(self, db_url, notebook):
        """(grade_id, source) of every graded test cell, as the gradebook holds it, in the order
        of the instructor's notebook."""
        with Gradebook(db_url) as gb:
            record = gb.find_notebook(notebook, self.assignment)
            answers = {cell.name for cell in record.solution_cells}
            graded = {cell.name for cell in record.grade_cells if cell.cell_type == "code"} - answers
            sources = {cell.name: cell.source for cell in record.source_cells if cell.name in graded}
        order = [grade_id(cell) for cell in nbformat.read(Path(self._source_dir()) / f"{notebook}.ipynb", 4).cells]
        return tuple((cell_id, sources[cell_id]) for cell_id in order if cell_id in sources)

    def _students(self, config):
        """The students nbgrader will grade in this run, in its order (sorted submission folders,
        less those already completely graded, unless --force)."""
        force = bool(config.BaseConverter.get("force") or config.Autograde.get("force"))
        excluded = set(filter(None, self.coursedir.student_id_exclude.split(",")))
        students = []
        for folder in sorted(glob.glob(self.coursedir.format_path(
                self.coursedir.submitted_directory, self.coursedir.student_id, self.assignment))):
            student = Path(folder).parent.name
            graded = Path(self.coursedir.format_path(self.coursedir.autograded_directory, student, self.assignment))
            done = all(status.read_stamp(graded / f"{name}.ipynb") for name in self.notebooks)
            if student not in excluded and (force or not done):
                students.append(student)
        return students

    def job(self, nb, student, notebook):
        layout, references = self.references[notebook]
        return harness.Job(student, self.tests[notebook],
                           {name: function_source(nb, name) for name in layout.functions},
                           references, self.secret, layout)

    def _prefetch(self, position):
        """Start grading the next submissions from their submitted notebooks."""
        for student, notebook in self.plan[position + 1:position + 1 + self.ahead]:
            path = Path(self.coursedir.format_path(self.coursedir.submitted_directory, student, self.assignment),
                        f"{notebook}.ipynb")
            try:  # unvalidated (10x faster; this runs in nbgrader's busy process): a wrong guess
                nb = nbformat.v4.reads(path.read_text(encoding="utf-8"))  # only means grading later
                job = self.job(nb, student, notebook)
            except Exception:  # noqa: BLE001 - unreadable: nbgrader will report it when it gets there
                continue
            self.pool.submit((student, notebook), job)

    def grade(self, nb, student, notebook):
        key = (student, notebook)
        if key in self.plan:  # (a submission nbgrader grades unexpectedly gets no prefetch)
            self._prefetch(self.plan.index(key))
        try:
            return self.pool.result(key, self.job(nb, student, notebook))
        except GraderFault as fault:
            raise NotGraded(f"{student}'s submission was NOT graded: {fault}. This is not the student's "
                            "doing; fix the cause and run the same command again (graded submissions are "
                            "kept)") from None
        finally:
            if notebook == self.notebooks[-1]:
                self.progress.advance()

    def close(self):
        self.progress.close()
        self.pool.close()


_current = None  # the run of the nbgrader command in progress in this process


class IsolatedExecute(NbGraderPreprocessor):
    sandbox = Enum(["auto", "bwrap", "none"], default_value="auto", help=(
        "How student code is isolated: 'bwrap' (required: fail if unavailable), 'auto' (bwrap "
        "when possible, else rlimits only, with a warning) or 'none' (rlimits only).")).tag(config=True)
    cgroups = Enum(["auto", "required", "off"], default_value="auto", help=(
        "Control groups capping each sandbox's memory and processes on the host: 'auto' (when the "
        "host allows, else rlimits with a warning), 'required' or 'off'.")).tag(config=True)
    timeout = Float(30.0, help="Seconds one call of a student's function may take.").tag(config=True)
    cell_time_limit = Float(120.0, help="Seconds all the calls of one test cell may take.").tag(config=True)
    submission_budget = Float(60.0, help=(
        "Seconds all the test cells of one submission may take; each cell may use its fair share "
        "of what is left.")).tag(config=True)
    memory_limit_mb = Integer(1536, help="Memory cap of a sandbox, in MiB.").tag(config=True)
    cpu_limit_seconds = Integer(60, help="CPU-time cap of a process in a sandbox, in seconds.").tag(config=True)
    max_processes = Integer(32, help="Process cap of a sandbox.").tag(config=True)
    workers = Integer(0, help="Grading processes working ahead of nbgrader; 0: one per CPU core.").tag(config=True)
    scheduler = Unicode("", help=(
        "Address of a dask.distributed scheduler (tcp://host:8786): grade on its workers, each with "
        "its own sandbox, instead of in local grading processes ('': locally).")).tag(config=True)
    secret_file = Unicode("", help=(
        "The course secret hidden tests draw their inputs from (default: .catkit/course_secret in "
        "the course root, made on first use; never released to students).")).tag(config=True)

    def settings(self):
        mode = sandbox.resolve_mode(self.sandbox)
        warning = sandbox.isolation_warning(mode)
        if warning:
            self.log.warning(warning)
        use_cgroups = False
        if self.cgroups != "off":
            cgroups.remove_stale()
            why_not = cgroups.available()
            if why_not and self.cgroups == "required":
                raise NotGraded(f"IsolatedExecute.cgroups is 'required' but {why_not}")
            if why_not:
                self.log.warning("WARNING: sandboxes are not capped as a whole on this host (%s): memory and "
                                 "processes are capped per process and per user only (rlimits)", why_not)
            use_cgroups = why_not is None
        limits = sandbox.Limits(memory_mb=self.memory_limit_mb, cpu_seconds=self.cpu_limit_seconds,
                                processes=self.max_processes)
        return harness.Settings(mode=mode, cgroups=use_cgroups, timeout=self.timeout,
                                cell_time_limit=self.cell_time_limit, submission_budget=self.submission_budget,
                                limits=limits)

    def _run(self, info):
        """This run's state. nbgrader makes one exporter per run (the formgrader may start many
        runs in one process): a new exporter, or another assignment, starts a new run."""
        global _current
        owner = (self.parent, info["assignment"])
        if _current is None or _current.owner[0] is not owner[0] or _current.owner[1] != owner[1]:
            if _current is not None:
                _current.close()
            _current = _Run(self, CourseDirectory(config=self.config), info["assignment"], info["db_url"])
            _current.owner = owner
        return _current

    def preprocess(self, nb, resources):
        info = resources["nbgrader"]
        root = CourseDirectory(config=self.config).root
        try:
            run = self._run(info)
            result = run.grade(nb, info["student"], info["notebook"])
        except LayoutError as error:  # the instructor's notebook breaks a convention: say which
            status.record_failure(root, info["assignment"], info["student"], str(error))
            raise NotGraded(str(error)) from None
        except NotGraded as failure:
            status.record_failure(root, info["assignment"], info["student"], str(failure))
            raise
        status.clear_failure(root, info["assignment"], info["student"])
        for cell in nb.cells:
            cell_id = grade_id(cell)
            if cell.cell_type == "code" and cell_id in result.outputs:
                cell.outputs = [nbformat.from_dict(output) for output in result.outputs[cell_id]]
                cell.execution_count = None
        resources.setdefault("catkit", {})["grading_seconds"] = result.seconds
        self.log.info("Graded %s's %s in %.2f s", info["student"], info["notebook"], result.seconds)
        return nb, resources

