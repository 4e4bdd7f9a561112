"""nbgrader settings for this assignment's folder, used when a student runs `nbgrader validate` here.

The long demonstrations (training on the whole data set, comparing learning rates, timing) are
tagged "autograde-skip": validating skips them, so it checks your functions in seconds (5 to 12 s with
every function written, on our 2-core test machine shared with other jobs).
"""

c = get_config()  # noqa: F821 - provided by nbgrader when it loads this file

c.Execute.skip_cells_with_tag = "autograde-skip"
c.Execute.timeout = 300

# nbgrader validate cuts every line it shows at Validator.width (90 by default), so a check's
# message ("Wrong shape for dw: ...") would end in "..."; the checks' longest line is ~150 characters.
c.Validator.width = 250
