"""Resumable autograding: an interrupted run is finished by the same command, without ``--force``.

nbgrader skips a submission whose ``autograded/<student>/<assignment>/`` folder exists. That folder
appears long before grading ends (nbgrader copies files, then writes the sanitised notebook, then
grades, saves the grades and writes the graded notebook), so a run killed in between left a
half-graded submission that every later run skipped.

- :class:`MarkGraded`, the last autograde step, stamps the notebook (see
  :mod:`catkit.course`); the stamp is on disk only once nbgrader wrote the whole
  graded notebook, after it saved the grades.
- :class:`ResumableExporter`, the autograde exporter (``c.Autograde.exporter_class``), is created by
  nbgrader once per run, before it looks at any submission: it first removes every autograded
  folder of the run's assignment and students whose notebooks are not all stamped, so nbgrader
  grades those submissions again. Grading is deterministic, so a regraded submission gets the same grades.
"""

import shutil

from nbconvert.exporters import NotebookExporter
from nbgrader.preprocessors import NbGraderPreprocessor

from catkit.course import Course, stamp


class MarkGraded(NbGraderPreprocessor):
    """Stamp the notebook as completely graded (reads the grading time IsolatedExecute left)."""

    def preprocess(self, nb, resources):
        stamp(nb, resources.get("catkit", {}).get("grading_seconds", 0.0))
        return nb, resources


class ResumableExporter(NotebookExporter):

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        course = Course.of(self)
        assignment = course.coursedir.assignment_id
        if not assignment or any(char in assignment for char in "*?["):
            return
        for folder in course.interrupted(assignment):
            self.log.warning("Grading of %s was interrupted: removing it, so that it is graded again", folder)
            shutil.rmtree(folder)
