"""Where a course's gradebook is: the kit never assumes it is ``gradebook.db``.

nbgrader keeps its gradebook wherever ``c.CourseDirectory.db_url`` in the course's
``nbgrader_config.py`` points: by default the SQLite file ``<course root>/gradebook.db``, or a
server database such as ``postgresql://user@host:5432/course`` (driver: psycopg, a dependency of
the kit). Everything in the kit that reads the gradebook opens it through this module, so it reads
the same database as nbgrader's commands and the formgrader.
"""

from pathlib import Path

from nbgrader.api import Gradebook
from nbgrader.coursedir import CourseDirectory
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError
from traitlets.config.loader import PyFileConfigLoader

from catkit.errors import CatkitError


def course_directory(root):
    """The course's CourseDirectory, configured by ``root/nbgrader_config.py`` as nbgrader's
    commands configure it (``root`` is the course root)."""
    root = Path(root).resolve()
    config_file = root / "nbgrader_config.py"
    if not config_file.is_file():
        raise CatkitError(f"{root} is not a course root: it holds no nbgrader_config.py")
    try:
        config = PyFileConfigLoader(config_file.name, path=str(root)).load_config()
    except Exception as error:  # noqa: BLE001 - any error in the user's config file
        raise CatkitError(f"cannot load {config_file}: {type(error).__name__}: {error}") from None
    return CourseDirectory(config=config, root=str(root))


def db_url(root):
    """The gradebook URL nbgrader uses for the course at ``root``: ``CourseDirectory.db_url`` if the
    configuration sets it, else ``sqlite:///<root>/gradebook.db``."""
    return course_directory(root).db_url


def open_gradebook(root):
    """nbgrader's Gradebook of the course at ``root`` (use it in a ``with`` block)."""
    return Gradebook(db_url(root))


def shown_url(url):
    """``url`` fit to print or to put in a page: its password, if any, replaced by ``***``."""
    try:
        parsed = make_url(url)
    except (ArgumentError, ValueError):
        return "<the gradebook URL configured in nbgrader_config.py>" if "@" in str(url) else str(url)
    return str(url) if parsed.password is None else parsed.render_as_string(hide_password=True)
