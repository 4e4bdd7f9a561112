"""The kit's exceptions, in one place: each says whose problem it is.

- :class:`CatkitError`: the user's to fix; the command line turns it into one clear message and exit 2.
- :class:`LayoutError`: an instructor notebook breaks a convention the engine reads (a CatkitError).
- :class:`NotGraded`: a submission could not be graded, through no fault of the student's.
- :class:`GraderFault`: the grading engine could not run (the reason a submission is NotGraded).
"""


class CatkitError(Exception):
    """A problem the user can fix; its message says what is wrong and how to fix it."""


class LayoutError(CatkitError):
    """The notebook does not follow the conventions the engine reads."""


class GraderFault(Exception):
    """Grading could not run, for a reason that is not the student's (the sandbox could not start,
    the host is out of processes or file descriptors): the submission is not graded."""


class NotGraded(Exception):
    """This submission could not be graded, through no fault of the student's."""
