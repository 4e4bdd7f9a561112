"""What the engine knows of an assignment, read from its instructor notebook (nothing is built in).

A notebook the engine can grade has:

- **answer cells** with grade_id ``<function>_solution`` that define ``def <function>(...)`` at top
  level: the graded functions, in notebook order (other answer cells, an exercise that computes
  values rather than a function, are graded by their test cells without a student function);
- **test cells** (nbgrader "autograder tests") whose grade_id starts with the function they score,
  e.g. ``f_checks``, ``f_hidden_tests`` (the longest matching name wins, so ``f_prime_checks``
  scores ``f_prime`` when both are graded); a test cell is hidden when it holds nbgrader's
  hidden-test marker (``ClearHiddenTests.begin_test_delimeter``, by default ``BEGIN HIDDEN TESTS``,
  given to :func:`layout_of`);
- a code cell tagged ``graded-imports`` holding only import statements: what every answer may rely
  on besides its arguments and the graded functions defined before it;
- optionally, notebook metadata ``{"catkit": {"limits": {"timeout": 10, ...}}}`` for an assignment
  that needs other limits than the course's: any of :data:`catkit.grading.limits.LIMIT_NAMES`;
- optionally, modules of the assignment folder that test cells import (``from public_tests import
  f_test``: the visible checks as a module released with the notebook). :func:`layout_of`, given
  the instructor's folder, reads their source there: while grading, a test cell imports *that*
  copy (:mod:`catkit.grading.harness`), never a file of the submission's folder.
"""

from __future__ import annotations

import ast
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from catkit.errors import LayoutError
from catkit.grading.limits import limit_types

if TYPE_CHECKING:
    from nbformat import NotebookNode

IMPORTS_TAG = "graded-imports"
DEFAULT_HIDDEN_MARKER = "BEGIN HIDDEN TESTS"  # nbgrader's default ClearHiddenTests.begin_test_delimeter
SOLUTION_SUFFIX = "_solution"
# Per-assignment limits a notebook may set, and their type (the course's settings otherwise).
LIMITS: dict[str, type] = limit_types()


@dataclass(frozen=True)
class Layout:
    functions: tuple[str, ...] = ()                   # graded functions, in notebook order
    preamble: str = ""                                # the graded-imports cell(s): what every answer may rely on
    limits: tuple[tuple[str, float | int], ...] = ()  # ((limit, value), ...) this assignment sets for itself
    hidden_marker: str = DEFAULT_HIDDEN_MARKER        # a test cell holding it is a hidden-test cell
    modules: tuple[tuple[str, str], ...] = ()          # ((module, source), ...): the instructor's modules
    #                                                    test cells import (public_tests), from source/

    def is_hidden(self, source: str) -> bool:
        """Whether a test cell's ``source`` holds hidden tests (as nbgrader tells them apart)."""
        return self.hidden_marker in source

    def relies_on(self, function: str) -> tuple[str, ...]:
        """The graded functions ``function`` may call: those the notebook defines before it. Their
        reference versions stand in for the student's while ``function`` is graded (no cascades),
        and no later one is offered (it could compute ``function`` itself)."""
        return self.functions[:self.functions.index(function)]

    def function_of(self, cell_id: str | None) -> str | None:
        """The graded function a test cell scores, from its grade_id prefix (None if none)."""
        matches = [name for name in self.functions if (cell_id or "").startswith(name)]
        return max(matches, key=len) if matches else None

    @property
    def imported_names(self) -> list[str]:
        """The names the preamble binds (``np``, ``math``...), for messages to students."""
        names = []
        for node in ast.parse(self.preamble).body:
            if isinstance(node, (ast.Import, ast.ImportFrom)):  # (all of them: see _preamble)
                names += [alias.asname or alias.name.split(".")[0] for alias in node.names]
        return names

    def merged(self, other: Layout) -> Layout:
        """One layout for an assignment of several notebooks (limits must agree). The hidden-test
        marker is this layout's: the course reads all its notebooks with the one nbgrader has."""
        if self.limits and other.limits and self.limits != other.limits:
            raise LayoutError(f"the notebooks of one assignment set different limits: {dict(self.limits)} "
                              f"and {dict(other.limits)}")
        preamble = self.preamble + "".join(line + "\n" for line in other.preamble.splitlines()
                                           if line not in self.preamble.splitlines())
        return Layout(self.functions + tuple(f for f in other.functions if f not in self.functions),
                      preamble, self.limits or other.limits, self.hidden_marker,
                      self.modules + tuple(module for module in other.modules if module not in self.modules))


def grade_id(cell: Mapping[str, Any]) -> str | None:
    return cell.get("metadata", {}).get("nbgrader", {}).get("grade_id")


def solution_cell_id(function: str) -> str:
    return f"{function}{SOLUTION_SUFFIX}"


def _top_level_functions(source: str) -> set[str]:
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return set()
    return {node.name for node in tree.body if isinstance(node, ast.FunctionDef)}


def _preamble(nb: NotebookNode, where: str) -> str:
    cells = [cell for cell in nb.cells
             if cell.cell_type == "code" and IMPORTS_TAG in cell.get("metadata", {}).get("tags", [])]
    lines = []
    for cell in cells:
        try:
            tree = ast.parse(cell.source)
        except SyntaxError as error:
            raise LayoutError(f"{where}: the cell tagged {IMPORTS_TAG!r} is not valid Python ({error})") from None
        for node in tree.body:
            if not isinstance(node, (ast.Import, ast.ImportFrom)):
                raise LayoutError(f"{where}: the cell tagged {IMPORTS_TAG!r} may hold only import statements; "
                                  f"line {node.lineno} is not one: {ast.get_source_segment(cell.source, node)!r}")
            lines.append(ast.get_source_segment(cell.source, node) or "")
    return "".join(line + "\n" for line in lines)


def _limits(nb: NotebookNode, where: str) -> tuple[tuple[str, float | int], ...]:
    limits = nb.get("metadata", {}).get("catkit", {}).get("limits", {})
    unknown = sorted(set(limits) - set(LIMITS))
    if unknown:
        raise LayoutError(f"{where}: unknown limit(s) {unknown} in the notebook metadata catkit.limits; "
                          f"known ones: {', '.join(LIMITS)}")
    try:
        return tuple(sorted((name, LIMITS[name](value)) for name, value in limits.items()))
    except (TypeError, ValueError) as error:
        raise LayoutError(f"{where}: a limit in the notebook metadata catkit.limits is not a number "
                          f"({error})") from None


def _imported_modules(source: str) -> set[str]:
    """Top-level names of the modules ``source`` imports (absolute imports only)."""
    try:
        tree = ast.parse(source)
    except SyntaxError:  # (a cell with IPython syntax: its imports are not looked for)
        return set()
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module.split(".")[0])
    return names


def _folder_modules(sources: Iterable[str], folder: Path) -> tuple[tuple[str, str], ...]:
    """((module, source), ...) of the modules of ``folder`` that ``sources`` import, and those they
    import in turn, in the order of their names."""
    found: dict[str, str] = {}
    wanted = set().union(*(_imported_modules(source) for source in sources))
    while wanted:
        name = wanted.pop()
        path = folder / f"{name}.py"
        if name in found or not name.isidentifier() or not path.is_file():
            continue
        found[name] = path.read_text(encoding="utf-8")
        wanted |= _imported_modules(found[name])
    return tuple(sorted(found.items()))


def graded_test_sources(nb: NotebookNode) -> list[str]:
    """Sources of the notebook's graded test cells (nbgrader "autograder tests")."""
    return [cell.source for cell in nb.cells if cell.cell_type == "code"
            and cell.get("metadata", {}).get("nbgrader", {}).get("grade")
            and not cell.get("metadata", {}).get("nbgrader", {}).get("solution")]


def layout_of(nb: NotebookNode, where: str = "the notebook", hidden_marker: str = DEFAULT_HIDDEN_MARKER,
              folder: Path | str | None = None) -> Layout:
    """The layout of an instructor notebook (``where`` names it in errors), whose hidden tests are
    marked with ``hidden_marker`` (the course's nbgrader ``ClearHiddenTests.begin_test_delimeter``).
    ``folder``: the instructor's assignment folder, where the modules its test cells import are read
    (none without it)."""
    functions = []
    for cell in nb.cells:
        cell_id = grade_id(cell) or ""
        if cell.cell_type == "code" and cell_id.endswith(SOLUTION_SUFFIX):
            name = cell_id[:-len(SOLUTION_SUFFIX)]
            if name in _top_level_functions(cell.source) and name not in functions:
                functions.append(name)
    modules = _folder_modules(graded_test_sources(nb), Path(folder)) if folder is not None else ()
    return Layout(tuple(functions), _preamble(nb, where), _limits(nb, where), hidden_marker, modules)


def function_source(nb: NotebookNode, function: str) -> str | None:
    """Source of the cell that defines ``function``: its answer cell, or else the last code cell
    with a top-level ``def function`` (a student may have broken the cell's metadata)."""
    code_cells = [cell for cell in nb.cells if cell.cell_type == "code"]
    for cell in code_cells:
        if grade_id(cell) == solution_cell_id(function):
            return cell.source
    defining = [cell.source for cell in code_cells if function in _top_level_functions(cell.source)]
    return defining[-1] if defining else None
