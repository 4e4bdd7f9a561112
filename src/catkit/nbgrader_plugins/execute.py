"""IsolatedExecute: nbgrader's Execute step, replaced by per-function sandboxed grading.

Stock nbgrader runs the whole submission in one kernel and lets its asserts decide. Here no
kernel runs: each graded test cell is run by :func:`catkit.grading.harness.run_test_cell` in
the grader's process, against the student's function defined alone in a fresh sandboxed
worker next to the reference versions of the functions it calls. Cells that are not graded
(data loading, training, plots) are not executed at all, so grading takes seconds.
"""

import os

from nbgrader.api import Gradebook
from nbgrader.coursedir import CourseDirectory
from nbgrader.preprocessors import NbGraderPreprocessor
from traitlets import Enum, Float, Integer

from catkit.grading import harness, sandbox
from catkit.grading.notebook import function_of, function_source, grade_id
from catkit.grading.reference import Reference


class IsolatedExecute(NbGraderPreprocessor):
    sandbox = Enum(["auto", "bwrap", "none"], default_value="auto", help=(
        "How student code is isolated: 'bwrap' (required: fail if unavailable), 'auto' (bwrap "
        "when possible, else rlimits only, with a warning) or 'none' (rlimits only).")).tag(config=True)
    timeout = Float(30.0, help="Seconds one call of a student's function may take.").tag(config=True)
    cell_time_limit = Float(120.0, help="Seconds all the calls of one test cell may take.").tag(config=True)
    memory_limit_mb = Integer(1536, help="Address-space cap of a worker, in MiB.").tag(config=True)
    cpu_limit_seconds = Integer(60, help="CPU-time cap of a worker, in seconds.").tag(config=True)
    max_processes = Integer(32, help="Process cap for the sandbox user.").tag(config=True)

    def _settings(self):
        mode = sandbox.resolve_mode(self.sandbox)
        warning = sandbox.isolation_warning(mode)
        if warning:
            self.log.warning(warning)
        limits = sandbox.Limits(memory_mb=self.memory_limit_mb, cpu_seconds=self.cpu_limit_seconds,
                                processes=self.max_processes)
        return harness.Settings(mode=mode, timeout=self.timeout, cell_time_limit=self.cell_time_limit,
                                limits=limits)

    def _reference(self, assignment, notebook):
        coursedir = CourseDirectory(config=self.config)
        folder = coursedir.format_path(coursedir.source_directory, ".", assignment)
        return Reference.from_notebook(os.path.join(folder, notebook + ".ipynb"))

    @staticmethod
    def _instructor_tests(db_url, assignment, notebook):
        """grade_id -> source of every graded test cell, as the gradebook holds it."""
        with Gradebook(db_url) as gb:
            record = gb.find_notebook(notebook, assignment)
            answers = {cell.name for cell in record.solution_cells}
            graded = {cell.name for cell in record.grade_cells if cell.cell_type == "code"} - answers
            return {cell.name: cell.source for cell in record.source_cells if cell.name in graded}

    def preprocess(self, nb, resources):
        info = resources["nbgrader"]
        settings = self._settings()
        reference = self._reference(info["assignment"], info["notebook"])
        tests = self._instructor_tests(info["db_url"], info["assignment"], info["notebook"])
        for cell in nb.cells:
            cell_id = grade_id(cell)
            if cell.cell_type != "code" or cell_id not in tests:
                continue
            function = function_of(cell_id)
            student = function_source(nb, function) if function else None
            self.log.info("Grading %s in isolation", cell_id)
            cell.outputs = harness.run_test_cell(tests[cell_id], cell_id, reference, student, settings)
            cell.execution_count = None
        return nb, resources
