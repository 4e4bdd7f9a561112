"""nbgrader settings for this assignment's folder, used when a student runs `nbgrader validate` here.

The whole notebook is quick to run (validating it took 6 to 8 s on our 2-core test machine, shared with
other jobs), so validating runs every cell; a cell tagged
"autograde-skip" (none yet) would be skipped.
"""

c = get_config()  # noqa: F821 - provided by nbgrader when it loads this file

c.Execute.skip_cells_with_tag = "autograde-skip"
c.Execute.timeout = 120

# nbgrader validate cuts every line it shows at Validator.width (90 by default), so a check's
# message ("softmax(x) is wrong: expected about ...") would end in "..."; the checks' longest
# line, with its hint, is ~360 characters.
c.Validator.width = 400
