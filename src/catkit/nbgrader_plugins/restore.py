"""RestoreGradedCells: undo a submission's tampering with nbgrader cell metadata.

nbgrader's OverwriteCells restores the source, type, lock and points of known cells, and
``add_missing_cells`` puts deleted test cells back. It does not reset the ``grade`` and
``solution`` flags (flipping ``solution`` on a test cell sends it to manual grading), and it
fails to place a missing test cell whose preceding answer cell was deleted too. This step,
run just before OverwriteCells, makes every nbgrader cell the instructor's again: metadata
of known cells comes from the gradebook, cells with unknown ids lose their nbgrader
metadata, and deleted answer cells come back as their stubs.
"""

from nbformat.v4 import new_code_cell, new_markdown_cell
from nbgrader.api import Gradebook
from nbgrader.preprocessors import NbGraderPreprocessor

from catkit.grading.layout import grade_id


class RestoreGradedCells(NbGraderPreprocessor):

    def preprocess(self, nb, resources):
        info = resources["nbgrader"]
        with Gradebook(info["db_url"]) as gb:
            record = gb.find_notebook(info["notebook"], info["assignment"])
            points = {cell.name: cell.max_score for cell in record.grade_cells}
            answers = {cell.name for cell in record.solution_cells}
            tasks = {cell.name: cell.max_score for cell in record.task_cells}
            sources = [(cell.name, cell.cell_type, cell.source, cell.locked) for cell in record.source_cells]
        known = {name: locked for name, _, _, locked in sources}
        for cell in nb.cells:
            if "nbgrader" not in cell.metadata:
                continue
            cell_id = grade_id(cell)
            if cell_id not in known:
                self.log.warning("Removing nbgrader metadata of a cell with unknown id %r", cell_id)
                del cell.metadata["nbgrader"]
                continue
            metadata = {"grade_id": cell_id, "grade": cell_id in points, "solution": cell_id in answers,
                        "locked": known[cell_id], "schema_version": 3}
            if cell_id in points:
                metadata["points"] = points[cell_id]
            if cell_id in tasks:
                metadata.update(task=True, points=tasks[cell_id])
            cell.metadata["nbgrader"] = metadata
        self._restore_missing_answers(nb, sources, answers)
        return nb, resources

    def _restore_missing_answers(self, nb, sources, answers):
        present = {grade_id(cell) for cell in nb.cells}
        previous = None
        for name, cell_type, source, locked in sources:
            if name in answers and name not in present:
                self.log.warning("Answer cell %s was deleted; restoring its stub", name)
                maker = new_code_cell if cell_type == "code" else new_markdown_cell
                cell = maker(source=source)
                cell.metadata["nbgrader"] = {"grade_id": name, "grade": False, "solution": True,
                                             "locked": locked, "schema_version": 3}
                index = next((i + 1 for i, c in enumerate(nb.cells) if grade_id(c) == previous), 0)
                nb.cells.insert(index, cell)
            previous = name
