"""Similar answers, per function: the notebook-aware similarity report (``catkit similarity ASSIGNMENT``).

For each graded function, every pair of students' answers to that function only is compared: the
code of its answer cell, the released stub removed (:mod:`.normalise`), as sets of winnowed k-gram
fingerprints of normalised statements (:mod:`.fingerprints`), each weighed by how rare it is in
the class (:mod:`.compare`). Pairs at or above the threshold are written to
``exports/similarity_<assignment>.csv`` (``function, student_a, student_b, similarity``) and shown,
with clusters of three or more and the two answers side by side, on the self-contained page
``reports/<assignment>_similarity.html`` (:mod:`.page`).

:func:`compare` takes answers as plain data ({student: {function: source}}); :func:`write` reads
them from a course's submitted notebooks. A flag is a reason to look, not a verdict.
"""

from __future__ import annotations

import csv
import html
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import quote

from catkit.errors import CatkitError, LayoutError
from catkit.grading.layout import function_source
from catkit.similarity.compare import FunctionResult, Pair, Result, compare_function
from catkit.similarity.normalise import answer

if TYPE_CHECKING:  # (nbgrader takes seconds to import: `catkit --help` should not wait for it)
    from catkit.course import Course

DEFAULT_THRESHOLD = 0.5
"""Pairs at or above it are flagged. 0.5: at least half of the two answers' code, weighed by rarity,
is rare code both wrote. Disguised copies (names, order, comments, docstrings, blank lines, a dead
line, a reworded print) score 0.8-1.0 in the tests; two ways of writing most of a function, even
sharing a rare line, score below 0.3; common answers about 0."""

COLUMNS = ("function", "student_a", "student_b", "similarity")
__all__ = ["DEFAULT_THRESHOLD", "FunctionResult", "Pair", "Result", "compare", "collect", "paths", "report_section",
           "write", "write_csv"]


def check_threshold(threshold: float) -> float:
    if not 0 < threshold < 1:
        raise CatkitError(f"the similarity threshold must be between 0 and 1 (exclusive), not {threshold:g}; "
                          f"the default is {DEFAULT_THRESHOLD}")
    return threshold


def compare(answers: Mapping[str, Mapping[str, str | None]], stubs: Mapping[str, str] | None = None,
            threshold: float = DEFAULT_THRESHOLD, functions: Sequence[str] | None = None,
            assignment: str = "") -> Result:
    """Compare answers given as plain data: {student: {function: answer cell source}} (a function
    missing or None: no answer), ``stubs`` {function: released stub cell source}; ``functions``
    in the page's order (default: every function answered, sorted)."""
    check_threshold(threshold)
    stubs = stubs or {}
    names = list(functions) if functions is not None else sorted({f for given in answers.values() for f in given})
    results = []
    for function in names:
        read, missing = {}, {}
        for student in sorted(answers):
            source = answers[student].get(function)
            if source is None:
                missing[student] = "no answer cell for this function"
            else:
                read[student] = answer(source, stubs.get(function, ""))
        found = compare_function(function, read, threshold)
        found.skipped = dict(sorted({**found.skipped, **missing}.items()))
        results.append(found)
    return Result(assignment, threshold, results, sorted(answers))


def _stub(course: Course, assignment: str, notebook: str, function: str) -> str:
    """The released stub of ``function``'s answer cell; without a release, the instructor's cell with
    its solution region removed."""
    import nbformat
    for folder in (course.release_dir(assignment), course.source_dir(assignment)):
        try:
            nb = nbformat.read(folder / notebook, as_version=4)
        except Exception:  # noqa: BLE001 - no release yet (or unreadable): the next place
            continue
        source = function_source(nb, function) or ""
        lines, inside = [], False
        for line in source.splitlines():
            inside = (inside or line.strip() == "### BEGIN SOLUTION") and line.strip() != "### END SOLUTION"
            if not inside and line.strip() != "### END SOLUTION":
                lines.append(line)
        return "\n".join(lines)
    return ""


def collect(course: Course, assignment: str) -> tuple[dict[str, dict[str, str | None]], dict[str, str],
                                                       list[str], dict[str, str], list[str]]:
    """From the course: (answers {student: {function: source}}, stubs, functions in notebook order,
    unreadable {student: why}, students without a notebook)."""
    import nbformat
    course.notebooks(assignment)  # an unknown assignment: say which exist
    try:
        functions = list(course.layout(assignment).functions)
        per_notebook = {name: course.notebook_layout(assignment, Path(name).stem).functions
                        for name in course.notebook_names(assignment)}
    except LayoutError as error:
        raise CatkitError(f"cannot compare the answers of '{assignment}': {error}") from None
    stubs = {function: _stub(course, assignment, name, function)
             for name, graded in per_notebook.items() for function in graded}
    answers: dict[str, dict[str, str | None]] = {}
    unreadable: dict[str, str] = {}
    no_notebook = []
    for student in course.submitted_students(assignment):
        folder = course.submitted_dir(student, assignment)
        given: dict[str, str | None] = {}
        for name, graded in per_notebook.items():
            if not (folder / name).is_file():
                continue
            try:
                nb = nbformat.read(folder / name, as_version=4)
                given.update({function: function_source(nb, function) for function in graded})
            except Exception as error:  # noqa: BLE001 - any unreadable notebook is skipped, never a crash
                unreadable[student] = f"{name}: {type(error).__name__}: {str(error)[:200]}"
        if given:
            answers[student] = given
        elif student not in unreadable:
            no_notebook.append(student)
    return answers, stubs, functions, unreadable, no_notebook


def paths(course: Course, assignment: str) -> tuple[Path, Path]:
    """(the CSV, the page) of ``assignment``'s similarity report."""
    return (course.root / "exports" / f"similarity_{assignment}.csv",
            course.root / "reports" / f"{assignment}_similarity.html")


def write_csv(result: Result, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(COLUMNS)
        for found in result.functions:
            for pair in found.pairs:
                writer.writerow([pair.function, pair.student_a, pair.student_b, f"{pair.similarity:.3f}"])


def write(course: Course, assignment: str, threshold: float = DEFAULT_THRESHOLD) -> tuple[Path, Path, Result]:
    """Compare the submitted answers of ``assignment``; write the CSV and the page; return (CSV, page, result)."""
    from catkit.similarity import page
    check_threshold(threshold)
    answers, stubs, functions, unreadable, no_notebook = collect(course, assignment)
    result = compare(answers, stubs, threshold, functions, assignment)
    result.students = sorted({*answers, *unreadable, *no_notebook})
    result.unreadable, result.no_notebook = unreadable, no_notebook
    for found in result.functions:  # those without an answer to compare, said on the page
        for student in no_notebook:
            found.skipped.setdefault(student, "no submitted notebook")
        for student in unreadable:
            found.skipped.setdefault(student, "unreadable notebook")
        found.skipped = dict(sorted(found.skipped.items()))
    csv_path, page_path = paths(course, assignment)
    write_csv(result, csv_path)
    page_path.parent.mkdir(parents=True, exist_ok=True)
    page_path.write_text(page.render(result), encoding="utf-8")
    return csv_path, page_path, result


def report_section(course: Course, assignment: str) -> str:
    """The class report's section on similar answers: a relative link to the similarity page if it
    exists, or how to make it (HTML, escaped)."""
    e = html.escape
    csv_path, page_path = paths(course, assignment)
    parts = ["<h2>Similar answers</h2>"]
    if page_path.is_file():
        flagged = ""
        try:
            with open(csv_path, newline="", encoding="utf-8") as handle:
                rows = list(csv.DictReader(handle))
            flagged = f" {len(rows)} pair(s) of answers flagged."
        except OSError:
            pass
        parts.append(f'<p>Per function, pairs of students whose answers are similar beyond what the class '
                     f'commonly writes:{e(flagged)} See <a href="{e(quote(page_path.name))}">{e(page_path.name)}</a> '
                     f"(a flag is a reason to look, not a verdict).</p>")
    else:
        parts.append(f"<p class=\"none\">No similarity report yet: run <code>catkit similarity {e(assignment)}</code> "
                     "in the course root.</p>")
    return "\n".join(parts)
