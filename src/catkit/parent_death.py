"""Processes the kit starts that must not outlive the process that started them."""

import ctypes
import signal

PR_SET_PDEATHSIG = 1


def die_with_parent() -> None:
    """Ask the kernel to kill this process when its parent dies (a kill -9 of the grader leaves no
    worker). Meant as a ``preexec_fn``: the signal follows the thread that forked."""
    ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
