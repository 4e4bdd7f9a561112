"""The one entry point of the grading engine, for the nbgrader plugin (and anything else that grades).

The plugin resolves its configuration into :class:`Settings` once (:func:`resolve_settings`),
builds a :class:`Job` per submission (the layout and reference answers of the instructor notebook,
:meth:`catkit.course.Course.reference_answers`, the student's cells, the course secret) and hands it to a
:class:`GradingPool`: local grading processes (:func:`local_pool`) or a Dask cluster
(:func:`cluster_pool`). A :class:`GraderFault` means the submission could not be graded, through
no fault of the student's.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TYPE_CHECKING

from catkit.errors import GraderFault
from catkit.grading.dask_pool import DaskGradingPool
from catkit.grading.isolation import cgroups as control_groups
from catkit.grading.isolation import launch, scratch, users
from catkit.grading.job import Job, Result, Settings
from catkit.grading.limits import LIMIT_NAMES, Limits
from catkit.grading.pools import GradingPool, LocalGradingPool

if TYPE_CHECKING:
    pass

__all__ = ["LIMIT_NAMES", "GraderFault", "GradingPool", "Job", "Limits", "Result", "Settings", "cluster_pool",
           "local_pool", "resolve_settings"]


def resolve_settings(sandbox: str, cgroups: str, limits: Limits, warn: Callable[[str], None]) -> Settings:
    """The settings for grading on this machine: ``sandbox`` ('auto', 'bwrap' or 'none') and
    ``cgroups`` ('auto', 'required' or 'off') resolved to what this machine offers, with stale
    control groups of killed graders removed. Each warning (no full sandbox, no control groups) is
    passed to ``warn``; a configuration that cannot be honoured here ('bwrap' without bubblewrap,
    'required' without control groups) raises GraderFault."""
    scratch.remove_stale()  # the temporary folders of grading processes that were killed
    users.remove_stale()  # and their claims on sandbox users
    mode = launch.resolve_mode(sandbox)
    warning = launch.isolation_warning(mode)
    if warning:
        warn(warning)
    use_cgroups = False
    if cgroups != "off":
        control_groups.remove_stale()
        why_not = control_groups.available()
        if why_not and cgroups == "required":
            raise GraderFault(f"IsolatedExecute.cgroups is 'required' but {why_not}")
        if why_not:
            warn(f"WARNING: sandboxes are not capped as a whole on this host ({why_not}): memory and "
                 "processes are capped per process and per user only (rlimits)")
        use_cgroups = why_not is None
        no_cpu = control_groups.cpu_available() if use_cgroups else None
        if no_cpu:
            warn(f"WARNING: sandboxes get no CPU cap nor CPU accounting on this host ({no_cpu}): time limits are "
                 "wall-clock seconds, so grades can depend on the machine's load")
    return Settings(mode=mode, cgroups=use_cgroups, limits=limits)


def local_pool(settings: Settings, processes: int) -> GradingPool:
    """``processes`` grading processes on this machine, grading ahead of nbgrader."""
    return LocalGradingPool(settings, processes)


def cluster_pool(scheduler: str, make_settings: Callable[[logging.Logger], Settings],
                 log: logging.Logger) -> GradingPool:
    """Grading on the Dask cluster whose scheduler is at ``scheduler``; each worker resolves its own
    settings with the picklable ``make_settings(log)`` (see :mod:`catkit.grading.dask_pool`).
    Never raises: a cluster that cannot be used makes every result a GraderFault saying why."""
    return DaskGradingPool(scheduler, make_settings, log)
