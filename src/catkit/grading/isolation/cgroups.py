"""Per-sandbox caps on the host: a control group for each sandbox, made beneath the grader's own.

rlimits are per process (RLIMIT_AS) or per user (RLIMIT_NPROC): a sandbox that forks, or that
keeps data in memfd files, shared memory or tmpfs, escapes the first; every other process of
the sandbox user counts against the second. A control group counts everything its processes
hold, whatever the kind, and its process cap is its own. With cgroup v1 (this CI machine) the
``memory`` and ``pids`` controllers are used; with cgroup v2, one group with ``memory.max``,
``memory.swap.max`` and ``pids.max``. The group is created as a child of the group the grader
runs in (a process is never moved out of the group it was started in, only the sandbox's first
process is placed into the new group, before it runs anything). Where no group can be made
(no permission, controllers not delegated), :func:`available` says why and grading falls back to
rlimits with a loud warning.

CPU: the group also gets the ``cpu`` controller (v1 ``cpu`` and ``cpuacct``, often mounted together;
v2 ``cpu``): at most one core for the whole sandbox, however many processes it starts
(``cpu.cfs_quota_us`` = ``cpu.cfs_period_us``, v2 ``cpu.max``), with the default weight, so one
sandbox never takes more than one sandbox's share of the machine; and its CPU time, all its processes
together (:meth:`Group.cpu_seconds`), is the clock of the grading budgets
(:mod:`catkit.grading.remote`). Where the cpu controller cannot be used, :func:`cpu_available` says
why, the group caps memory and processes only, and the budgets fall back to the wall clock.
"""

from __future__ import annotations

import itertools
import os
import signal
import time
from pathlib import Path

_counter = itertools.count()

CPU_PERIOD_US = 100_000  # the cpu controller's accounting period; the quota per period is the same: one core


def _own_groups() -> dict[str, str]:
    """controller -> the grader's own group path, from /proc/self/cgroup."""
    groups = {}
    for line in Path("/proc/self/cgroup").read_text().splitlines():
        _, controllers, path = line.split(":", 2)
        for controller in controllers.split(",") if controllers else ["unified"]:
            groups[controller] = path
    return groups


def _mounts() -> list[tuple[str, str, set[str]]]:
    """(filesystem type, mount point, super options) of every cgroup mount."""
    found = []
    for line in Path("/proc/self/mountinfo").read_text().splitlines():
        fields = line.split(" - ")
        if len(fields) != 2:
            continue
        point = fields[0].split()[4]
        kind, _, options = fields[1].split()[:3]
        if kind in ("cgroup", "cgroup2"):
            found.append((kind, point, set(options.split(","))))
    return found


def _v1_dirs() -> dict[str, Path]:
    """controller -> directory of the grader's own v1 group, for memory, pids, cpu and cpuacct
    (controllers mounted together share a directory)."""
    own = _own_groups()
    dirs: dict[str, Path] = {}
    for kind, point, options in _mounts():
        for controller in ("memory", "pids", "cpu", "cpuacct"):
            if kind == "cgroup" and controller in options and controller in own:
                dirs[controller] = Path(point) / own[controller].lstrip("/")
    return dirs


def _v2_dir() -> Path | None:
    own = _own_groups().get("unified")
    for kind, point, _ in _mounts():
        if kind == "cgroup2" and own is not None:
            folder = Path(point) / own.lstrip("/")
            listing = folder / "cgroup.controllers"
            controllers = listing.read_text().split() if listing.exists() else []
            if {"memory", "pids"} <= set(controllers):
                return folder
    return None


def _enable_v2(folder: Path, controllers: list[str]) -> None:
    """Enable ``controllers`` for the children of the v2 group ``folder`` where they are not yet
    (refused where the grader's group may not delegate them: the group then lacks their files)."""
    try:
        enabled = set((folder / "cgroup.subtree_control").read_text().split())
        for controller in controllers:
            if controller not in enabled:
                with open(folder / "cgroup.subtree_control", "w") as handle:
                    handle.write(f"+{controller}")
    except OSError:
        pass


class Group:
    """One sandbox's control group: made with its caps, joined by the sandbox's first process,
    emptied and removed when the sandbox ends."""

    def __init__(self, memory_bytes: int, processes: int, name: str | None = None) -> None:
        name = name or f"catkit-{os.getpid()}-{next(_counter)}"
        self.dirs: list[Path] = []
        self.cpu_missing: str | None = None  # why the group has no CPU cap and accounting, if it has not
        self._usage: int | None = None       # an open file of the group's CPU time (v1 ns, v2 cpu.stat)
        self._usage_v2 = False
        v1 = _v1_dirs()
        try:
            if {"memory", "pids"} <= set(v1):
                memory, pids = v1["memory"] / name, v1["pids"] / name
                self._make(memory, {"memory.limit_in_bytes": memory_bytes})
                # Swap must not extend the cap where the kernel accounts it.
                if (memory / "memory.memsw.limit_in_bytes").exists():
                    self._write(memory / "memory.memsw.limit_in_bytes", memory_bytes)
                self._make(pids, {"pids.max": processes})
                self._cpu_v1(v1, name)
            elif (v2 := _v2_dir()) is not None:
                _enable_v2(v2, ["cpu", "memory", "pids"])
                self._make(v2 / name, {"memory.max": memory_bytes, "memory.swap.max": 0, "pids.max": processes})
                self._cpu_v2(v2 / name)
            else:
                raise OSError("no writable memory and pids control groups (cgroup v1 or v2) on this host")
        except OSError:
            self.remove()
            raise
        self.memory_dir = self.dirs[0]

    def _cpu_v1(self, v1: dict[str, Path], name: str) -> None:
        """The cpu cap (``cpu``) and accounting (``cpuacct``), or why not (``cpu_missing``)."""
        if not {"cpu", "cpuacct"} <= set(v1):
            self.cpu_missing = "no cgroup v1 cpu and cpuacct controllers are mounted for the grader's group"
            return
        try:
            cpu = v1["cpu"] / name
            if cpu not in self.dirs:
                self._make(cpu, {})
            self._write(cpu / "cpu.cfs_period_us", CPU_PERIOD_US)
            self._write(cpu / "cpu.cfs_quota_us", CPU_PERIOD_US)
            if v1["cpuacct"] / name not in self.dirs:
                self._make(v1["cpuacct"] / name, {})
            self._usage = os.open(v1["cpuacct"] / name / "cpuacct.usage", os.O_RDONLY)
        except OSError as error:
            self.cpu_missing = f"the cgroup v1 cpu controller cannot be used ({error})"

    def _cpu_v2(self, folder: Path) -> None:
        if not (folder / "cpu.max").exists():
            self.cpu_missing = (f"the cgroup v2 cpu controller is not enabled for the grader's group "
                                f"({folder.parent / 'cgroup.subtree_control'})")
            return
        try:
            with open(folder / "cpu.max", "w") as handle:
                handle.write(f"{CPU_PERIOD_US} {CPU_PERIOD_US}")
            self._usage, self._usage_v2 = os.open(folder / "cpu.stat", os.O_RDONLY), True
        except OSError as error:
            self.cpu_missing = f"the cgroup v2 cpu controller cannot be used ({error})"

    def cpu_seconds(self) -> float | None:
        """The CPU time all the group's processes used so far (those that exited included), in
        seconds; None without the cpu controller. A read of a file kept open: a few microseconds."""
        if self._usage is None:
            return None
        text = os.pread(self._usage, 4096, 0).decode()
        if not self._usage_v2:
            return int(text) / 1e9
        return next(int(line.split()[1]) for line in text.splitlines() if line.startswith("usage_usec ")) / 1e6

    def asleep(self) -> bool:
        """Whether every thread of the group is asleep (state S: waiting for a timer, a pipe, a lock),
        so that none is running or waiting for a CPU (R), for the kernel (D), or stopped (T)."""
        for folder in self.dirs:
            for listing in ("tasks", "cgroup.threads"):
                try:
                    threads = (folder / listing).read_text().split()
                except OSError:
                    continue
                for thread in threads:
                    try:
                        state = Path(f"/proc/{thread}/stat").read_text().rpartition(")")[2].split()[0]
                    except (OSError, IndexError):
                        continue  # (it just exited)
                    if state not in ("S", "Z", "X"):
                        return False
                return True
        return True

    def _make(self, folder: Path, settings: dict[str, int]) -> None:
        folder.mkdir()
        self.dirs.append(folder)
        for key, value in settings.items():
            self._write(folder / key, value)

    @staticmethod
    def _write(path: Path, value: int) -> None:
        with open(path, "w") as handle:
            handle.write(str(value))

    def join(self) -> None:
        """Put the calling process in the group (run in the sandbox's first process, before exec)."""
        for folder in self.dirs:
            self._write(folder / "cgroup.procs", os.getpid())

    def pids(self) -> set[int]:
        found = set()
        for folder in self.dirs:
            try:
                found |= {int(pid) for pid in (folder / "cgroup.procs").read_text().split()}
            except OSError:
                pass
        return found

    def oom_kills(self) -> int:
        """How many times the kernel killed a process of the group for going over its memory cap."""
        for name in ("memory.events", "memory.oom_control"):
            try:
                lines = (self.memory_dir / name).read_text().splitlines()
            except OSError:
                continue
            for line in lines:
                key, _, value = line.partition(" ")
                if key == "oom_kill":
                    return int(value)
        return 0

    def kill_all(self, timeout: float = 5.0) -> None:
        """SIGKILL every process of the group until none is left (forks racing the kill included)."""
        end = time.monotonic() + timeout
        while (pids := self.pids()) and time.monotonic() < end:
            for pid in pids:
                try:
                    os.kill(pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
            time.sleep(0.005)

    def remove(self) -> None:
        if self._usage is not None:
            os.close(self._usage)
            self._usage = None
        self.kill_all()
        for folder in reversed(self.dirs):
            for _ in range(200):  # the kernel frees a group a moment after its last process dies
                try:
                    folder.rmdir()
                    break
                except FileNotFoundError:
                    break
                except OSError:
                    time.sleep(0.01)
        self.dirs = []


def available() -> str | None:
    """None when per-sandbox groups can be made here, else why not."""
    try:
        Group(64 * 1024 * 1024, 4).remove()
        return None
    except OSError as error:
        return str(error)


def cpu_available() -> str | None:
    """None when sandboxes' groups get a CPU cap and CPU accounting here, else why not."""
    try:
        group = Group(64 * 1024 * 1024, 4)
    except OSError as error:
        return str(error)
    group.remove()
    return group.cpu_missing


def parents() -> list[Path]:
    """The groups the sandboxes' groups are made in (the grader's own), one per hierarchy."""
    found = list(dict.fromkeys(_v1_dirs().values()))  # (controllers mounted together: one folder)
    if (v2 := _v2_dir()) is not None:
        found.append(v2)
    return found


def remove_stale() -> None:
    """Remove groups left by graders that were killed (their processes died with them)."""
    for parent in parents():
        for folder in parent.glob("catkit-*"):
            pid = folder.name.split("-")[1]
            if pid.isdigit() and not Path(f"/proc/{pid}").exists():
                try:
                    folder.rmdir()
                except OSError:
                    pass
