"""OverwriteCellsQuietly: nbgrader's OverwriteCells without its false alarm on hidden-test cells.

nbgrader's ``generate_assignment`` saves each locked cell and its checksum in the gradebook
*before* ClearHiddenTests removes the ``### BEGIN HIDDEN TESTS`` region, so the gradebook keeps
the instructor's full cell, while every released notebook holds the cell without its hidden
region. OverwriteCells then compares the submitted (released) cell with the gradebook's checksum,
finds them different for every student, untouched release included, warns "Attribute 'checksum'
for cell <function>_hidden_tests has changed!" and puts the instructor's source back, which is
exactly what must happen.

This step puts the instructor's source back first, without a warning, when the submitted cell is
exactly what the release holds (the gradebook's cell with its hidden region cleared, checked by
checksum); any other change to such a cell (a student editing the visible part) still warns, and
is restored by OverwriteCells as before.
"""

import copy

from nbgrader import utils
from nbgrader.api import MissingEntry
from nbgrader.preprocessors import ClearHiddenTests, OverwriteCells


class OverwriteCellsQuietly(OverwriteCells):

    def preprocess_cell(self, cell, resources, cell_index):
        name = cell.metadata.get("nbgrader", {}).get("grade_id")
        if name is not None and utils.is_locked(cell):
            try:
                source_cell = self.gradebook.find_source_cell(name, self.notebook_id, self.assignment_id)
            except MissingEntry:
                source_cell = None  # OverwriteCells handles (and reports) unknown cells
            if source_cell is not None and source_cell.locked and self._released_as_is(cell, source_cell):
                cell.source = source_cell.source
        return super().preprocess_cell(cell, resources, cell_index)

    def _released_as_is(self, cell, source_cell):
        """True if ``cell`` is the gradebook's cell as generate_assignment released it."""
        clear = ClearHiddenTests(parent=self)
        if clear.begin_test_delimeter not in source_cell.source:
            return False
        released = copy.deepcopy(cell)
        released.source = source_cell.source
        released.cell_type = source_cell.cell_type
        clear._remove_hidden_test_region(released)
        return released.source == cell.source and utils.compute_checksum(released) == utils.compute_checksum(cell)
