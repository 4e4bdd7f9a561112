"""The exchange's inbound folder: the submissions in it, read and copied without trusting them.

nbgrader's ``submit`` writes each submission to ``<exchange>/<course>/inbound/`` as a folder named
``<student>+<assignment>+<timestamp>+<random>``, owned by the student (who may still change it).
:func:`scan` lists them; :func:`copy_submission` copies one into the course, refusing symbolic
links, special files (a FIFO would block the copy), names that are not plain, and submissions over
the size limit, so a submission can neither read the instructor's files nor stall the service.
"""

from __future__ import annotations

import os
import pwd
import re
import shutil
import stat
from collections.abc import Container
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from nbgrader.utils import parse_utc

STUDENT_ID = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.@-]{0,63}")  # what a folder and a glob take literally
FILE_NAME = re.compile(r"[^/\x00-\x1f\x7f*?\[\]]{1,255}")
SECRET_BYTES = 1024  # nbgrader's submission secret is 128 hexadecimal digits
CHUNK = 1 << 20
SETTLE_SECONDS = 60.0  # (a copy of one large file leaves the folder unchanged for that long, on a slow disk)


class Refused(Exception):
    """A submission that cannot be graded as it is: the message says why, to the student."""


@dataclass(frozen=True)
class Inbound:
    """One submission in the inbound folder."""

    path: Path
    student: str
    assignment: str
    timestamp: datetime

    @property
    def name(self) -> str:
        return self.path.name

    @property
    def key(self) -> tuple[str, str]:
        return self.student, self.assignment

    def owner(self) -> str | None:
        """The user name owning the folder (None if it has no name on this machine)."""
        try:
            return pwd.getpwuid(self.path.lstat().st_uid).pw_name
        except (KeyError, OSError):
            return None

    def owned_by_us(self) -> bool:
        try:
            return self.path.lstat().st_uid == os.getuid()
        except OSError:
            return False

    def complete(self, now: float) -> bool:
        """Whether ``nbgrader submit`` has finished writing the folder: its last steps write the
        submission secret, then make the folder mode 0777. A folder that has not changed for
        SETTLE_SECONDS counts as finished too, whatever wrote it (an empty one is then graded as
        holding no notebook, not ignored)."""
        try:
            folder = self.path.lstat()
        except OSError:
            return False
        if now - folder.st_mtime > SETTLE_SECONDS:
            return True
        return stat.S_IMODE(folder.st_mode) == 0o777 and (self.path / "submission_secret.txt").exists()

    def notebook_ids(self) -> list[str]:
        """The notebooks the student's ``fetch_feedback`` looks for feedback of (``*.ipynb`` at the top)."""
        try:
            return sorted(entry.name[:-len(".ipynb")] for entry in os.scandir(self.path)
                          if entry.name.endswith(".ipynb") and not entry.name.startswith("."))
        except OSError:
            return []

    def secret(self) -> str | None:
        """The submission secret nbgrader names feedback pages by (read without following links)."""
        try:
            return read_regular(self.path / "submission_secret.txt", SECRET_BYTES).decode("ascii").strip() or None
        except (Refused, OSError, UnicodeDecodeError):
            return None


def parse(path: Path) -> Inbound | str:
    """The submission a folder of inbound/ holds, or why its name is not one."""
    parts = path.name.split("+")
    if len(parts) not in (3, 4):
        return "not named <student>+<assignment>+<timestamp>+<random> as nbgrader submit names submissions"
    student, assignment, stamp = parts[:3]
    if not STUDENT_ID.fullmatch(student):
        return f"the student id {student!r} is not a plain name (letters, digits, '_', '.', '@', '-')"
    try:
        timestamp = parse_utc(stamp)
    except Exception:  # noqa: BLE001 - dateutil raises several kinds
        return f"{stamp!r} is not a timestamp"
    return Inbound(path, student, assignment, timestamp)


def scan(inbound: Path, assignments: set[str], known: Container[str] = ()) -> tuple[list[Inbound], dict[str, str]]:
    """The submissions of ``assignments`` in ``inbound``, oldest first, and the entries that are
    not submissions (name -> why). Submissions of other assignments are left alone, and so are
    the ``known`` names (a term's inbound folder holds thousands: they are not parsed again)."""
    found, odd = [], {}
    for entry in os.scandir(inbound):
        if entry.name in known:
            continue
        parsed = parse(Path(entry.path))
        if isinstance(parsed, str):
            odd[entry.name] = parsed
        elif parsed.assignment in assignments:
            if not entry.is_dir(follow_symlinks=False):
                odd[entry.name] = "not a folder"
            else:
                found.append(parsed)
    return sorted(found, key=lambda sub: (sub.timestamp, sub.name)), odd


def read_regular(path: Path, limit: int) -> bytes:
    """The bytes of ``path`` if it is a regular file of at most ``limit`` bytes (links not followed)."""
    descriptor = _open_regular(path)
    with os.fdopen(descriptor, "rb") as handle:
        data = handle.read(limit + 1)
    if len(data) > limit:
        raise Refused(f"{path.name} is larger than {limit} bytes")
    return data


def _open_regular(path: Path) -> int:
    try:
        descriptor = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    except OSError as error:
        if Path(path).is_symlink():
            raise Refused(f"{path.name} is a symbolic link: submit the file itself") from None
        raise Refused(f"{path.name} cannot be read ({error.strerror})") from None
    if not stat.S_ISREG(os.fstat(descriptor).st_mode):
        os.close(descriptor)
        raise Refused(f"{path.name} is not a regular file")
    return descriptor


def copy_submission(origin: Path, target: Path, ignore: list[str], max_bytes: int, max_files: int = 2000) -> None:
    """Copy the submission folder ``origin`` to ``target`` (made here; removed again if refused).
    Only folders and regular files are copied, as they are read (no link is followed, a file
    swapped for a link on the way is refused too); names matching ``ignore`` (nbgrader's
    ``CourseDirectory.ignore``: .ipynb_checkpoints, ...) are left out."""
    budget = {"bytes": max_bytes, "files": max_files, "limit": max_bytes}
    try:
        _copy_folder(origin, target, ignore, budget)
    except BaseException:
        shutil.rmtree(target, ignore_errors=True)
        raise


def _copy_folder(origin: Path, target: Path, ignore: list[str], budget: dict[str, int]) -> None:
    target.mkdir(parents=True)
    ignored = shutil.ignore_patterns(*ignore)
    with os.scandir(origin) as entries:
        names = sorted(entry.name for entry in entries)
    for name in sorted(set(names) - ignored(str(origin), names)):
        source, copy = origin / name, target / name
        if not FILE_NAME.fullmatch(name):
            raise Refused(f"the submission holds a file named {name!r}: rename it (no control characters, "
                          "'*', '?', '[' or ']')")
        budget["files"] -= 1
        if budget["files"] < 0:
            raise Refused("the submission holds too many files: submit the assignment's folder only")
        mode = source.lstat().st_mode
        if stat.S_ISLNK(mode):
            raise Refused(f"{name} is a symbolic link: submit the file itself")
        if stat.S_ISDIR(mode):
            _copy_folder(source, copy, ignore, budget)
        elif stat.S_ISREG(mode):
            _copy_file(source, copy, budget)
        else:
            raise Refused(f"{name} is not a regular file (a FIFO, a socket or a device): remove it")


def _copy_file(source: Path, copy: Path, budget: dict[str, int]) -> None:
    descriptor = _open_regular(source)
    with os.fdopen(descriptor, "rb") as reader, open(copy, "xb") as writer:
        while chunk := reader.read(CHUNK):
            budget["bytes"] -= len(chunk)
            if budget["bytes"] < 0:
                raise Refused(f"the submission is larger than the {budget['limit'] / 1e6:g} MB the course allows: "
                              "submit the assignment's folder without large files of your own")
            writer.write(chunk)
