"""The machine's process table, read from /proc, for tests that check what a run leaves behind."""

import os
from pathlib import Path


def _stat_fields(pid):
    """The fields of /proc/<pid>/stat after the command name (state first), or None if it is gone."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return stat[stat.rindex(")") + 2:].split()


def processes():
    """pid -> (parent pid, start time) of every process on the machine."""
    table = {}
    for entry in os.scandir("/proc"):
        if entry.name.isdigit() and (fields := _stat_fields(entry.name)) is not None:
            table[int(entry.name)] = (int(fields[1]), fields[19])
    return table


def cmdline(pid):
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return ""


def descendants(pid):
    """{(pid, start time): command line} of the processes below ``pid``."""
    table = processes()
    children = {}
    for child, (parent, _) in table.items():
        children.setdefault(parent, []).append(child)
    found, todo = {}, list(children.get(pid, []))
    while todo:
        child = todo.pop()
        found[(child, table[child][1])] = cmdline(child)
        todo += children.get(child, [])
    return found


def alive(pid, start=None):
    """Whether ``pid`` runs (and is not a zombie); with ``start``, only if it is still that same process."""
    fields = _stat_fields(pid)
    return fields is not None and fields[0] != "Z" and (start is None or fields[19] == start)


def exists(pid, start):
    """Whether that process is still in the process table, a zombie not yet reaped included."""
    fields = _stat_fields(pid)
    return fields is not None and fields[19] == start


def owned_folder(prefix, parent=None):
    """A new temporary folder named for this process (``<prefix><pid>-<start>-…``), after removing the
    folders of that prefix whose process is gone (a test run killed before it could clean up)."""
    import tempfile
    remove_stale_folders(prefix, parent)
    start = _stat_fields(os.getpid())[19]
    return Path(tempfile.mkdtemp(prefix=f"{prefix}{os.getpid()}-{start}-", dir=parent))


def remove_stale_folders(prefix, parent=None):
    """Remove the folders made by :func:`owned_folder` for processes that are gone; return them."""
    import shutil
    import tempfile
    removed = []
    for folder in Path(parent or tempfile.gettempdir()).glob(f"{prefix}*"):
        pid, _, rest = folder.name[len(prefix):].partition("-")
        if pid.isdigit() and not alive(int(pid), rest.partition("-")[0]):
            shutil.rmtree(folder, ignore_errors=True)
            removed.append(folder)
    return removed
