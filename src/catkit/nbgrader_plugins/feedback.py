"""HideHiddenTests: feedback shows each test cell's verdict but nothing of hidden tests.

nbgrader's feedback shows cells as autograded, so hidden tests would appear in full. This
step, run by ``nbgrader generate_feedback``, removes the hidden region from the source
(nbgrader's own ClearHiddenTests) and cuts tracebacks in those cells down to their last
line, which for a failed assert is its message; messages of hidden tests never quote
expected values.
"""

from nbgrader.preprocessors import ClearHiddenTests


class HideHiddenTests(ClearHiddenTests):

    def preprocess_cell(self, cell, resources, cell_index):
        hidden = self.begin_test_delimeter in cell.source
        cell, resources = super().preprocess_cell(cell, resources, cell_index)
        if hidden and cell.cell_type == "code":
            for output in cell.outputs:
                if output.output_type == "error":
                    output.traceback = [f"{output.ename}: {output.evalue}"]
        return cell, resources
