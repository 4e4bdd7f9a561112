"""The one exception the command line turns into a clear message and a non-zero exit."""


class CatkitError(Exception):
    """A problem the user can fix; its message says what is wrong and how to fix it."""


class LayoutError(CatkitError):
    """The notebook does not follow the conventions the engine reads."""


class GraderFault(Exception):
    """Grading could not run, for a reason that is not the student's (the sandbox could not start,
    the host is out of processes or file descriptors): the submission is not graded."""


class NotGraded(Exception):
    """This submission could not be graded, through no fault of the student's."""
