"""The six configurable limits of grading, declared once: their names, types, defaults and meaning.

These names are used everywhere a limit is set: in ``nbgrader_config.py`` (``c.IsolatedExecute.timeout
= 10``), in an instructor notebook's metadata (``{"catkit": {"limits": {"timeout": 10}}}``, see
:mod:`catkit.grading.layout`) and in the engine (``settings.limits.timeout``). The sandbox's other
caps (file size, open files, scratch space) are not configurable: they are constants of
:mod:`catkit.grading.isolation.launch`.

The three time limits are counted in CPU seconds of the student's sandbox (all its processes, from
its control group), so grades do not depend on the machine's load; see :mod:`catkit.grading.remote`
for how waiting is counted and for the wall-clock backstop. Without control groups they are
wall-clock seconds.
"""

from __future__ import annotations

import typing
from dataclasses import dataclass, field, fields


@dataclass(frozen=True)
class Limits:
    """What one submission may use; the defaults suit this course's functions."""

    timeout: float = field(default=30.0, metadata={
        "help": "Seconds one call of a student's function may take: CPU seconds of the student's sandbox "
                "(all its processes; not the reference's answers to its calls) where control groups count "
                "them, time it waits on itself (sleeping, blocked) counting as on the wall clock; "
                "wall-clock seconds without control groups."})
    cell_time_limit: float = field(default=120.0, metadata={
        "help": "Seconds (counted as for timeout) all the calls of one test cell may take."})
    submission_budget: float = field(default=60.0, metadata={
        "help": "Seconds (counted as for timeout) all the test cells of one submission may take; each cell "
                "may use its fair share of what is left."})
    memory_limit_mb: int = field(default=1536, metadata={
        "help": "Memory cap of a sandbox, in MiB: of the whole sandbox (its control group) where the host "
                "has control groups, and of each of its processes (RLIMIT_AS) everywhere."})
    cpu_limit_seconds: int = field(default=60, metadata={
        "help": "CPU-time cap of each process in a sandbox, in seconds (RLIMIT_CPU; the sandbox as a "
                "whole is capped at one core by its control group)."})
    max_processes: int = field(default=32, metadata={
        "help": "Process cap of a sandbox: of its control group where the host has control groups, else "
                "of the sandbox user (RLIMIT_NPROC, which also counts that user's other processes)."})


LIMIT_NAMES: tuple[str, ...] = tuple(limit.name for limit in fields(Limits))


def limit_types() -> dict[str, type]:
    """Each limit's type (``float`` or ``int``), by name, in declaration order."""
    hints = typing.get_type_hints(Limits)
    return {name: hints[name] for name in LIMIT_NAMES}


def limit_help(name: str) -> str:
    """The documentation of the limit ``name``, as declared above."""
    return next(str(limit.metadata["help"]) for limit in fields(Limits) if limit.name == name)
