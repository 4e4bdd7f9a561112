"""One nbgrader course folder, as the kit sees it: built once, passed down.

A :class:`Course` is made from a course root (``Course.at(root)``: ``nbgrader_config.py`` read once)
or, inside an nbgrader plugin, from the ``coursedir`` of the nbgrader app that runs it
(``Course.of(plugin)``). Everything the kit asks of the folder goes through it: the assignments and
their notebooks and layouts, the students who submitted, the autograded and feedback folders, the
resume stamps, the reasons a submission was not graded, the course secret and the gradebook. Folder
names come from nbgrader's configuration only (``CourseDirectory.submitted_directory`` and friends),
so a course that configures other folders is handled the same everywhere.

The kit's own state lives in ``.catkit/`` beside the gradebook (never released):

- ``course_secret``: hidden tests draw their inputs from it (``IsolatedExecute.secret_file`` moves it);
- ``not_graded/<assignment>/<student>.txt``: why grading a submission failed for a reason that is not
  the student's (nbgrader deletes the autograded folder of a failed submission, so it is kept here);
- ``autograde.log``: the log of ``catkit grade``'s autograde run.

A submission counts as graded when every notebook of it in ``autograded/`` carries the stamp that
:class:`~catkit.nbgrader_plugins.resume.MarkGraded` puts there as the last autograde step. The stamp
reaches the disk only when nbgrader wrote the whole notebook, after it saved the grades, so a
notebook without it (interrupted, or never graded) is never mistaken for a graded one.
"""

from __future__ import annotations

import glob
import json
import os
import secrets
import weakref
from pathlib import Path
from typing import Any

from nbgrader.api import Gradebook
from nbgrader.coursedir import CourseDirectory
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError
from traitlets.config import Config
from traitlets.config.loader import PyFileConfigLoader

from catkit.errors import CatkitError, LayoutError, NotGraded
from catkit.grading.layout import DEFAULT_HIDDEN_MARKER, Layout, function_source, layout_of

STATE = ".catkit"  # the kit's state in the course root, beside the gradebook: never released
DEFAULT_SECRET = f"{STATE}/course_secret"
GRADED = "graded"
NOT_GRADED = "not graded: "  # followed by the reason
INCOMPLETE = "grading did not complete"  # the reason when no more specific one is known

# (path, mtime, marker, the folder's modules and their mtimes) -> read
_layouts: dict[tuple[Any, ...], tuple[Layout, dict[str, str]]] = {}
_courses: weakref.WeakKeyDictionary[CourseDirectory, Course] = weakref.WeakKeyDictionary()


def is_graded(status: str) -> bool:
    return status == GRADED


def stamp(nb: Any, seconds: float) -> None:
    """Mark ``nb`` (about to be written by nbgrader) as completely graded."""
    nb.metadata["catkit"] = {"graded": True, "grading_seconds": round(float(seconds), 3)}


def read_stamp(path: Path | str) -> dict[str, Any] | None:
    """The stamp of an autograded notebook file, or None (missing, unreadable, cut short, unstamped)."""
    try:
        with open(path, encoding="utf-8") as handle:
            metadata = json.load(handle).get("metadata", {})
    except (OSError, ValueError, AttributeError):
        return None
    found = metadata.get("catkit") if isinstance(metadata, dict) else None
    return found if isinstance(found, dict) and found.get("graded") is True else None


def shown_url(url: str) -> str:
    """``url`` fit to print or to put in a page: its password, if any, replaced by ``***``."""
    try:
        parsed = make_url(url)
    except (ArgumentError, ValueError):
        return "<the gradebook URL configured in nbgrader_config.py>" if "@" in str(url) else str(url)
    return str(url) if parsed.password is None else parsed.render_as_string(hide_password=True)


class Course:
    """The course folder at ``coursedir.root``, configured as nbgrader's commands configure it."""

    def __init__(self, coursedir: CourseDirectory):
        self.coursedir = coursedir
        self.root = Path(coursedir.root).resolve()

    @classmethod
    def at(cls, root: Path | str) -> Course:
        """The course whose root is ``root``: its ``nbgrader_config.py`` is read here, once."""
        root = Path(root).resolve()
        config_file = root / "nbgrader_config.py"
        if not config_file.is_file():
            raise CatkitError(f"{root} is not a course root: it holds no nbgrader_config.py")
        try:
            config = PyFileConfigLoader(config_file.name, path=str(root)).load_config()
        except Exception as error:  # noqa: BLE001 - any error in the user's config file
            raise CatkitError(f"cannot load {config_file}: {type(error).__name__}: {error}") from None
        return cls(CourseDirectory(config=config, root=str(root)))

    @classmethod
    def of(cls, plugin: Any) -> Course:
        """The course of the nbgrader app running ``plugin`` (a preprocessor, exporter or export
        plugin): the app's own ``coursedir``, found up the plugin's parents; one Course per app."""
        node = plugin
        while node is not None and not isinstance(getattr(node, "coursedir", None), CourseDirectory):
            node = getattr(node, "parent", None)
        coursedir = node.coursedir if node is not None else CourseDirectory(config=plugin.config)
        if coursedir not in _courses:
            _courses[coursedir] = cls(coursedir)
        return _courses[coursedir]

    @property
    def config(self) -> Config:
        return self.coursedir.config

    # --- the gradebook --------------------------------------------------------------------------

    @property
    def db_url(self) -> str:
        """Where nbgrader keeps the gradebook: ``CourseDirectory.db_url`` (default: the SQLite file
        ``gradebook.db`` in the course root, or a server such as ``postgresql://user@host/course``)."""
        return str(self.coursedir.db_url)

    @property
    def shown_db_url(self) -> str:
        return shown_url(self.db_url)

    def open_gradebook(self) -> Gradebook:
        """nbgrader's Gradebook of the course (use it in a ``with`` block)."""
        return Gradebook(self.db_url)

    # --- assignments, their notebooks and layouts -----------------------------------------------

    def source_dir(self, assignment: str) -> Path:
        return Path(self.coursedir.format_path(self.coursedir.source_directory, ".", assignment))

    def release_dir(self, assignment: str) -> Path:
        """The student version nbgrader generates (``CourseDirectory.release_directory``)."""
        return Path(self.coursedir.format_path(self.coursedir.release_directory, ".", assignment))

    def assignments(self) -> list[str]:
        """Folders of source/ holding a notebook, in course order (the order of their names;
        prefix them with a number to choose another)."""
        folder = self.source_dir("*").parent
        return sorted(path.name for path in folder.glob("*/") if list(path.glob("*.ipynb")))

    def notebooks(self, assignment: str) -> list[Path]:
        """The assignment's instructor notebooks, or CatkitError naming the assignments that exist."""
        found = sorted(self.source_dir(assignment).glob("*.ipynb"))
        if not found:
            known = ", ".join(self.assignments()) or "none"
            raise CatkitError(f"unknown assignment '{assignment}': {self.source_dir(assignment)} holds no notebook. "
                              f"Assignments in {self.source_dir('*').parent}: {known}.")
        return found

    def notebook_names(self, assignment: str) -> list[str]:
        """File names of the assignment's notebooks (what a submission should hold)."""
        return [path.name for path in sorted(self.source_dir(assignment).glob("*.ipynb"))]

    @property
    def hidden_marker(self) -> str:
        """The text that opens a hidden-test region: nbgrader's configured delimiter."""
        configured = self.config.get("ClearHiddenTests", {}).get("begin_test_delimeter")
        return str(configured) if configured else DEFAULT_HIDDEN_MARKER

    def _read(self, path: Path) -> tuple[Layout, dict[str, str]]:
        """The layout of one instructor notebook and its reference answers, with the modules of its
        folder that its test cells import (cached until the notebook or a module changes)."""
        import nbformat
        modules = tuple(sorted((module.name, module.stat().st_mtime_ns) for module in path.parent.glob("*.py")))
        key = (str(path), path.stat().st_mtime_ns, self.hidden_marker, modules)
        if key not in _layouts:
            nb = nbformat.read(path, as_version=4)
            layout = layout_of(nb, str(path), self.hidden_marker, folder=path.parent)
            _layouts[key] = (layout, {name: function_source(nb, name) or "" for name in layout.functions})
        return _layouts[key]

    def notebook_layout(self, assignment: str, notebook: str) -> Layout:
        """The layout of one notebook (``notebook`` without .ipynb) of the assignment."""
        path = self.source_dir(assignment) / f"{notebook}.ipynb"
        if not path.is_file():
            raise LayoutError(f"the instructor's notebook {path} is missing: the graded functions of "
                              f"{assignment}/{notebook} are read from it")
        return self._read(path)[0]

    def reference_answers(self, assignment: str, notebook: str) -> dict[str, str]:
        """{graded function: source of the instructor's answer cell} of one notebook."""
        path = self.source_dir(assignment) / f"{notebook}.ipynb"
        layout, answers = self._read(path)
        if not layout.functions:
            raise LayoutError(f"{path} has no answer cell with a grade_id '<function>_solution' defining that "
                              "function: the engine finds no graded function (see README: Writing an assignment)")
        return answers

    def layout(self, assignment: str) -> Layout:
        """One layout for the whole assignment: its notebooks' functions, in notebook order."""
        paths = sorted(self.source_dir(assignment).glob("*.ipynb"))
        if not paths:
            raise LayoutError(f"no instructor notebook in {self.source_dir(assignment)}: the graded functions of "
                              f"{assignment} are read from it")
        layout = Layout(hidden_marker=self.hidden_marker)
        for path in paths:
            layout = layout.merged(self._read(path)[0])
        return layout

    # --- students' folders ----------------------------------------------------------------------

    def submitted_dir(self, student: str, assignment: str) -> Path:
        return Path(self.coursedir.format_path(self.coursedir.submitted_directory, student, assignment))

    def autograded_dir(self, student: str, assignment: str) -> Path:
        return Path(self.coursedir.format_path(self.coursedir.autograded_directory, student, assignment))

    def feedback_dir(self, student: str, assignment: str) -> Path:
        return Path(self.coursedir.format_path(self.coursedir.feedback_directory, student, assignment))

    def excluded_students(self) -> set[str]:
        """``CourseDirectory.student_id_exclude``: students this nbgrader run leaves to others."""
        return set(filter(None, self.coursedir.student_id_exclude.split(",")))

    def submitted_students(self, assignment: str, this_run: bool = False) -> list[str]:
        """Students with a folder in submitted/ for ``assignment`` (empty ones included), sorted.
        ``this_run``: only those nbgrader's current run selects (``--student``, the exclusions)."""
        pattern = self.coursedir.student_id if this_run else "*"
        excluded = self.excluded_students() if this_run else set()
        found = (Path(path) for path in glob.glob(self.coursedir.format_path(
            self.coursedir.submitted_directory, pattern, assignment)))
        return sorted(path.parent.name for path in found if path.is_dir() and path.parent.name not in excluded)

    # --- the state of a submission --------------------------------------------------------------

    def completely_graded(self, assignment: str, student: str) -> bool:
        """Every notebook the student submitted is in autograded/ with the stamp."""
        submitted, autograded = self.submitted_dir(student, assignment), self.autograded_dir(student, assignment)
        expected = [name for name in self.notebook_names(assignment) if (submitted / name).is_file()]
        return bool(expected) and all(read_stamp(autograded / name) for name in expected)

    def interrupted(self, assignment: str) -> list[Path]:
        """Autograded folders of ``assignment`` of this run's students (``--student``,
        ``student_id_exclude``: other nbgrader runs may be grading the others at this moment, one
        per shard of the class, say) holding a notebook without the stamp, or none at all."""
        names = self.notebook_names(assignment)
        excluded = self.excluded_students()
        found = []
        pattern = self.coursedir.format_path(self.coursedir.autograded_directory, self.coursedir.student_id, assignment)
        for folder in sorted(Path(path) for path in glob.glob(pattern)):
            student = folder.parent.name  # nbgrader's layout: autograded/<student>/<assignment>
            if student in excluded:
                continue
            submitted = self.submitted_dir(student, assignment)
            expected = [name for name in names if (submitted / name).exists()] or names
            if not folder.is_dir() or any(read_stamp(folder / name) is None for name in expected):
                found.append(folder)
        return found

    def grading_seconds(self, assignment: str, student: str) -> float:
        """Grading time of a submission, from the stamps of its autograded notebooks."""
        stamps = [read_stamp(path) for path in self.autograded_dir(student, assignment).glob("*.ipynb")]
        return float(sum(found["grading_seconds"] for found in stamps if found))

    def status(self, assignment: str, student: str) -> str:
        """``graded``, or ``not graded: <why>`` (as the export's status column says)."""
        if self.completely_graded(assignment, student):
            return GRADED
        return NOT_GRADED + self.why_not_graded(assignment, student)

    def why_not_graded(self, assignment: str, student: str) -> str:
        """The most specific reason we know for a submission that is not graded."""
        recorded = self.recorded_failure(assignment, student)
        if recorded:
            return recorded
        submitted = self.submitted_dir(student, assignment)
        if not submitted.is_dir() or not any(submitted.iterdir()):
            return "no submission"
        names = self.notebook_names(assignment)
        present = [name for name in names if (submitted / name).is_file()]
        if not present:
            held = sorted(path.name for path in submitted.glob("*.ipynb"))
            holds = f"{', '.join(held)} (renamed?)" if held else "no notebook"
            return f"no notebook named {', '.join(names)} in the submission, which holds {holds}"
        for name in present:
            problem = _not_a_notebook(submitted / name)
            if problem:
                return f"{name} is not a notebook ({problem})"
        return f"{INCOMPLETE}: run nbgrader autograde {assignment} again"

    def _failure_file(self, assignment: str, student: str) -> Path:
        return self.root / STATE / "not_graded" / assignment / f"{student}.txt"

    def record_failure(self, assignment: str, student: str, reason: str) -> None:
        path = self._failure_file(assignment, student)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(reason.strip() + "\n", encoding="utf-8")

    def clear_failure(self, assignment: str, student: str) -> None:
        self._failure_file(assignment, student).unlink(missing_ok=True)

    def recorded_failure(self, assignment: str, student: str) -> str | None:
        try:
            return self._failure_file(assignment, student).read_text(encoding="utf-8").strip()
        except OSError:
            return None

    # --- the kit's state ------------------------------------------------------------------------

    @property
    def state_dir(self) -> Path:
        return self.root / STATE

    @property
    def secret_path(self) -> Path:
        """The course secret: ``IsolatedExecute.secret_file`` (relative to the course root), by
        default ``.catkit/course_secret``."""
        configured = self.config.get("IsolatedExecute", {}).get("secret_file") or DEFAULT_SECRET
        return self.root / str(configured)

    def secret(self) -> tuple[str, bool]:
        """(the course secret hidden tests draw their inputs from, whether it was made just now).
        Made on first use (0600, never overwritten); NotGraded if it is unusable."""
        path = self.secret_path
        made = False
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            try:
                descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            except FileExistsError:  # another nbgrader made it a moment ago
                pass
            else:
                with os.fdopen(descriptor, "w") as handle:
                    handle.write(secrets.token_hex(32) + "\n")
                made = True
        value = path.read_text().strip()
        if len(value) < 16:
            raise NotGraded(f"the course secret {path} is empty or too short: delete it to make a new one")
        return value, made


SECRET_MADE = "Made the course secret {} (keep it: changing it redraws every hidden test's inputs)"


def _not_a_notebook(path: Path) -> str | None:
    """Why ``path`` cannot be read as a notebook, or None."""
    try:
        with open(path, encoding="utf-8") as handle:
            content = json.load(handle)
    except (OSError, ValueError):  # UnicodeDecodeError is a ValueError too
        return "invalid JSON"
    if not isinstance(content, dict) or not isinstance(content.get("cells"), list):
        return "JSON without notebook cells"
    return None
