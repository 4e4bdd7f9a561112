"""release/ is exactly nbgrader's student version of source/, for every assignment, and nothing
secret is in it."""

import nbformat
import pytest

from catkit.examples import example_submissions
from conftest import ASSIGNMENTS, REPO, make_course, read

each_assignment = pytest.mark.parametrize("assignment", ASSIGNMENTS, ids=str)


def _regions(nb, begin, end):
    """Stripped lines inside begin/end regions, and all other lines, of a notebook."""
    inside_lines, outside_lines = [], []
    for cell in nb.cells:
        inside = False
        for line in cell.source.split("\n"):
            if begin in line:
                inside = True
            elif end in line:
                inside = False
            else:
                (inside_lines if inside else outside_lines).append(line.strip())
    return inside_lines, outside_lines


def _release_text(release):
    """Every cell source and output of the release notebooks, and every text file, as text."""
    parts = []
    for path in sorted(release.rglob("*")):
        if path.suffix == ".ipynb":
            nb = read(path)
            parts += [cell.source for cell in nb.cells]
            parts += [str(output) for cell in nb.cells for output in cell.get("outputs", [])]
        elif path.suffix in (".py", ".md", ".txt", ".csv", ".json", ".toml"):
            parts.append(path.read_text())
    return "\n".join(parts)


@pytest.mark.slow  # nbgrader generate_assignment
@each_assignment
def test_release_is_exactly_what_generate_assignment_makes(tmp_path, assignment):
    root = make_course(tmp_path, assignment=assignment)
    generated, committed_folder = root / "release" / assignment.name, REPO / "release" / assignment.name
    files = sorted(str(p.relative_to(generated)) for p in generated.rglob("*") if p.is_file())
    committed = sorted(str(p.relative_to(committed_folder)) for p in committed_folder.rglob("*") if p.is_file())
    assert files == committed, "release/ has different files: run 'make release' and commit"
    different = [name for name in files if (generated / name).read_bytes() != (committed_folder / name).read_bytes()]
    assert different == [], f"release/ is stale ({different}): run 'make release' and commit"


@each_assignment
def test_release_holds_no_solution_no_hidden_test_and_no_markers(assignment):
    text = _release_text(REPO / "release" / assignment.name)
    for marker in ("BEGIN SOLUTION", "END SOLUTION", "BEGIN HIDDEN TESTS", "END HIDDEN TESTS"):
        assert marker not in text
    source = read(assignment.source_nb)
    solution, outside_solution = _regions(source, "### BEGIN SOLUTION", "### END SOLUTION")
    hidden, outside_hidden = _regions(source, "### BEGIN HIDDEN TESTS", "### END HIDDEN TESTS")
    # The visible checks, released as a module beside the notebook, are public like the notebook's
    # other cells (the hidden tests legitimately share some of their lines: a hint's wording)...
    modules = {line.strip() for path in assignment.source_nb.parent.glob("*.py")
               for line in path.read_text().split("\n")}
    public = (set(outside_solution) & set(outside_hidden)) | modules
    # A secret line: code the instructor's notebook has only inside a solution or hidden region.
    secrets = {line for line in solution + hidden if len(line) > 8 and not line.startswith("#")} - public
    assert len(secrets) > 10 * len(assignment.functions)
    release_lines = {line.strip() for line in text.split("\n")}
    assert sorted(secrets & release_lines) == []
    # ... but no module holds a line of a solution.
    answers = {line for line in solution if len(line) > 8 and not line.startswith("#")} - set(outside_solution)
    assert len(answers) >= len(assignment.functions) and sorted(answers & modules) == []


@each_assignment
def test_release_keeps_every_signature_and_docstring_with_a_stub(assignment):
    release = read(REPO / "release" / assignment.name / assignment.notebook)
    answers = {c.metadata["nbgrader"]["grade_id"]: c.source for c in release.cells
               if c.get("metadata", {}).get("nbgrader", {}).get("solution")}
    assert len(assignment.functions) >= 6
    for function in assignment.functions:
        source = answers[f"{function}_solution"]
        assert source.startswith(f"def {function}(") and ('"""' in source or "'''" in source)
        assert "raise NotImplementedError()" in source


@each_assignment
def test_bundled_examples_are_up_to_date(assignment):
    release = read(REPO / "release" / assignment.name / assignment.notebook)
    examples = example_submissions(release, read(assignment.source_nb), assignment.mistakes)
    assert len(examples) >= 5, "bundle the reference, the untouched release and a few demo mistakes"
    folder = REPO / "examples" / "submissions"
    assert sorted(p.parent.parent.name for p in folder.glob(f"*/{assignment.name}/{assignment.notebook}")) == \
        sorted(examples)
    for student, nb in examples.items():
        committed = read(folder / student / assignment.name / assignment.notebook)
        assert nbformat.writes(committed) == nbformat.writes(nb), \
            f"examples/submissions/{student} is stale: regenerate with 'make release'"
