"""release/ is exactly nbgrader's student version of source/, and nothing secret is in it."""

import nbformat
from conftest import ASSIGNMENT, NOTEBOOK, REPO, SOURCE_NB, make_course, read

from catkit.examples import example_submissions

RELEASE = REPO / "release" / ASSIGNMENT


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


def _release_text():
    """Every cell source and output of the release notebooks, and every text file, as text."""
    parts = []
    for path in sorted(RELEASE.rglob("*")):
        if path.suffix == ".ipynb":
            nb = read(path)
            parts += [cell.source for cell in nb.cells]
            parts += [str(output) for cell in nb.cells for output in cell.get("outputs", [])]
        elif path.suffix in (".py", ".md", ".txt", ".csv", ".json"):
            parts.append(path.read_text())
    return "\n".join(parts)


def test_release_is_exactly_what_generate_assignment_makes(tmp_path):
    root = make_course(tmp_path)
    generated = root / "release" / ASSIGNMENT
    files = sorted(str(p.relative_to(generated)) for p in generated.rglob("*") if p.is_file())
    committed = sorted(str(p.relative_to(RELEASE)) for p in RELEASE.rglob("*") if p.is_file())
    assert files == committed, "release/ has different files: run 'make release' and commit"
    different = [name for name in files if (generated / name).read_bytes() != (RELEASE / name).read_bytes()]
    assert different == [], f"release/ is stale ({different}): run 'make release' and commit"


def test_release_holds_no_solution_no_hidden_test_and_no_markers():
    text = _release_text()
    for marker in ("BEGIN SOLUTION", "END SOLUTION", "BEGIN HIDDEN TESTS", "END HIDDEN TESTS"):
        assert marker not in text
    source = read(SOURCE_NB)
    solution, outside_solution = _regions(source, "### BEGIN SOLUTION", "### END SOLUTION")
    hidden, outside_hidden = _regions(source, "### BEGIN HIDDEN TESTS", "### END HIDDEN TESTS")
    public = set(outside_solution) & set(outside_hidden)
    # A secret line: code the instructor's notebook has only inside a solution or hidden region.
    secrets = {line for line in solution + hidden if len(line) > 8 and not line.startswith("#")} - public
    assert len(secrets) > 100
    release_lines = {line.strip() for line in text.split("\n")}
    assert sorted(secrets & release_lines) == []


def test_release_keeps_every_signature_and_docstring_with_a_stub():
    release = read(RELEASE / NOTEBOOK)
    answers = {c.metadata["nbgrader"]["grade_id"]: c.source for c in release.cells
               if c.get("metadata", {}).get("nbgrader", {}).get("solution")}
    for function in ("sigmoid", "initialize_with_zeros", "propagate", "optimize", "predict", "model"):
        source = answers[f"{function}_solution"]
        assert source.startswith(f"def {function}(") and '"""' in source or "'''" in source
        assert "raise NotImplementedError()" in source


def test_bundled_examples_are_up_to_date():
    release, source = read(RELEASE / NOTEBOOK), read(SOURCE_NB)
    examples = example_submissions(release, source)
    folder = REPO / "examples" / "submissions"
    assert sorted(p.name for p in folder.iterdir()) == sorted(examples)
    for student, nb in examples.items():
        committed = read(folder / student / ASSIGNMENT / NOTEBOOK)
        assert nbformat.writes(committed) == nbformat.writes(nb), \
            f"examples/submissions/{student} is stale: regenerate with catkit.examples.write_examples"
