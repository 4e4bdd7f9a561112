"""Resumable autograding: an interrupted run is finished by the same command, without ``--force``.

nbgrader skips a submission whose ``autograded/<student>/<assignment>/`` folder exists. That folder
appears long before grading ends (nbgrader copies files, then writes the sanitised notebook, then
grades, saves the grades and writes the graded notebook), so a run killed in between left a
half-graded submission that every later run skipped.

- :class:`MarkGraded`, the last autograde step, stamps the notebook (see
  :mod:`catkit.nbgrader_plugins.status`); the stamp is on disk only once nbgrader wrote the whole
  graded notebook, after it saved the grades.
- :class:`ResumableExporter`, the autograde exporter (``c.Autograde.exporter_class``), is created by
  nbgrader once per run, before it looks at any submission: it first removes every autograded
  folder of the run's assignment and students whose notebooks are not all stamped, so nbgrader
  grades those submissions again. Grading is deterministic, so a regraded submission gets the same grades.
"""

import glob
import shutil
from pathlib import Path

from nbconvert.exporters import NotebookExporter
from nbgrader.coursedir import CourseDirectory
from nbgrader.preprocessors import NbGraderPreprocessor

from catkit.nbgrader_plugins.status import read_stamp, stamp


class MarkGraded(NbGraderPreprocessor):
    """Stamp the notebook as completely graded (reads the grading time IsolatedExecute left)."""

    def preprocess(self, nb, resources):
        stamp(nb, resources.get("catkit", {}).get("grading_seconds", 0.0))
        return nb, resources


def interrupted(coursedir, assignment):
    """Autograded folders of ``assignment`` holding a notebook without the stamp, or none at all,
    of this run's students only (``--student``, ``CourseDirectory.student_id_exclude``): other
    nbgrader runs may be grading the others at this moment (one per shard of the class, say)."""
    names = [path.name for path in Path(coursedir.format_path(coursedir.source_directory, ".", assignment))
             .glob("*.ipynb")]
    excluded = set(filter(None, coursedir.student_id_exclude.split(",")))
    found = []
    pattern = coursedir.format_path(coursedir.autograded_directory, coursedir.student_id, assignment)
    for folder in sorted(Path(path) for path in glob.glob(pattern)):
        student = folder.parent.name  # nbgrader's layout: autograded/<student>/<assignment>
        if student in excluded:
            continue
        submitted = Path(coursedir.format_path(coursedir.submitted_directory, student, assignment))
        expected = [name for name in names if (submitted / name).exists()] or names
        if not folder.is_dir() or any(read_stamp(folder / name) is None for name in expected):
            found.append(folder)
    return found


class ResumableExporter(NotebookExporter):

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        coursedir = getattr(self.parent, "coursedir", None) or CourseDirectory(config=self.config)
        assignment = coursedir.assignment_id
        if not assignment or any(char in assignment for char in "*?["):
            return
        for folder in interrupted(coursedir, assignment):
            self.log.warning("Grading of %s was interrupted: removing it, so that it is graded again", folder)
            shutil.rmtree(folder)
