"""The one exception the command line turns into a clear message and a non-zero exit."""


class CatkitError(Exception):
    """A problem the user can fix; its message says what is wrong and how to fix it."""
