"""Example submissions: the reference, the untouched release, and typical mistakes.

Each assignment's typical mistakes live in ``examples/mistakes/<assignment>.toml`` (in the course
root, never released): plausible wrong answers written as edits of the reference answer (see
:func:`catkit.submissions.fill`), each naming the function it breaks. The tests grade them all and
check each loses points on its own function only; those marked ``demo = true`` are bundled as
example submissions and graded by ``make demo``.
"""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple

import nbformat

from catkit.errors import CatkitError
from catkit.submissions import fill

if TYPE_CHECKING:
    from catkit.course import Course

MISTAKES_FOLDER = Path("examples") / "mistakes"


class Mistake(NamedTuple):
    function: str    # the graded function it breaks
    edits: dict[str, list[tuple[str | None, str]]]  # answer cell -> [(old, new), ...]
    what: str        # what a student did
    demo: bool = False


def mistakes(root: Path | str, assignment: str) -> dict[str, Mistake]:
    """name -> Mistake, from ``examples/mistakes/<assignment>.toml`` (none if there is no file)."""
    path = Path(root) / MISTAKES_FOLDER / f"{assignment}.toml"
    if not path.is_file():
        return {}
    try:
        table = tomllib.loads(path.read_text(encoding="utf-8"))
        found = {}
        for name, entry in table.items():
            edits: dict[str, list[tuple[str | None, str]]] = {}
            for edit in entry["edits"]:
                edits.setdefault(edit["cell"], []).append((edit["old"], edit["new"]))
            found[name] = Mistake(entry["function"], edits, entry["what"], bool(entry.get("demo", False)))
        return found
    except (tomllib.TOMLDecodeError, KeyError, TypeError) as error:
        raise CatkitError(f"{path}: not a list of mistakes ({type(error).__name__}: {error}); each mistake is a "
                          "table with function, what and edits = [{cell, old, new}, ...]") from None


def example_submissions(release_nb: Any, source_nb: Any, known: dict[str, Mistake]) -> dict[str, Any]:
    """student id -> notebook, for the bundled submissions: correct, untouched, the demo mistakes."""
    examples = {"example-correct": fill(release_nb, source_nb),
                "example-untouched": nbformat.from_dict(release_nb)}
    for name, mistake in known.items():
        if mistake.demo:
            examples[f"example-{name}"] = fill(release_nb, source_nb, mistake.edits)
    return examples


def write_examples(course: Course, assignment: str, notebook: str) -> list[Path]:
    """(Re)write ``examples/submissions/<student>/<assignment>/<notebook>`` from release/ and source/."""
    release_nb = nbformat.read(course.release_dir(assignment) / notebook, as_version=4)
    source_nb = nbformat.read(course.source_dir(assignment) / notebook, as_version=4)
    written = []
    for student, nb in example_submissions(release_nb, source_nb, mistakes(course.root, assignment)).items():
        folder = course.root / "examples" / "submissions" / student / assignment
        folder.mkdir(parents=True, exist_ok=True)
        nbformat.write(nb, folder / notebook)
        written.append(folder / notebook)
    return written
