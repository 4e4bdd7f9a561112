"""What grading one submission takes and gives: plain, picklable data.

A :class:`Job` holds everything grading a submission needs (the instructor's test cells, the
student's function cells, the reference, the course secret), so it can be graded anywhere: in
nbgrader's process, in a pool of grading processes, on another machine. :class:`Settings` say how
(the isolation resolved on the grading machine, and the :class:`~catkit.grading.limits.Limits`);
they are hashable (sandboxes started ahead are kept per settings) and picklable (they travel to
grading processes and Dask workers).
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import hmac
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from catkit.grading.layout import Layout
from catkit.grading.limits import Limits

Output = dict[str, Any]  # one notebook output, as plain data (nbformat is slow to import)


@dataclass(frozen=True)
class Settings:
    mode: str = "bwrap"    # "bwrap" or "none", see catkit.grading.isolation.launch
    cgroups: bool = True   # a control group per sandbox (see catkit.grading.isolation.cgroups)
    limits: Limits = field(default_factory=Limits)

    def with_limits(self, overrides: Mapping[str, float | int] | Iterable[tuple[str, float | int]]) -> Settings:
        """These settings with some limits replaced, by name (an assignment's own, ``Layout.limits``)."""
        replaced: dict[str, Any] = dict(overrides)
        return dataclasses.replace(self, limits=dataclasses.replace(self.limits, **replaced))


@dataclass(frozen=True)
class Job:
    """Everything needed to grade one submission."""

    student: str
    tests: tuple[tuple[str, str], ...]  # ((grade_id, source of the instructor's test cell), ...) in notebook order
    functions: dict[str, str | None]    # graded function -> source of the student's cell defining it (or None)
    references: dict[str, str]          # graded function -> source of the instructor's solution cell
    secret: str                         # the course secret, from which hidden tests draw their inputs
    layout: Layout                      # the assignment's graded functions and imports, from its notebook

    @functools.cached_property
    def key(self) -> str:
        """A digest of everything the grades depend on (computed once: the job is frozen)."""
        return hashlib.sha256(json.dumps([self.student, self.tests, sorted(self.functions.items()),
                                          sorted(self.references.items()), self.secret,
                                          repr(self.layout)]).encode()).hexdigest()


@dataclass
class Result:
    outputs: dict[str, list[Output]]  # grade_id -> notebook outputs of the graded cell
    seconds: float


def graded_code_digest(functions: Mapping[str, str | None]) -> str:
    """A digest of a submission's graded code: the cells that define its graded functions."""
    return hashlib.sha256(json.dumps(sorted(functions.items())).encode()).hexdigest()


def grading_seed(secret: str, student: str, cell_id: str, code_digest: str) -> int:
    """The seed of one hidden test cell for one submission: unpredictable without the secret, the
    same at every regrade of the same submission, and redrawn by any change to its graded code
    (``code_digest``, :func:`graded_code_digest`), so inputs read from one submission's feedback
    are worth nothing to the next one."""
    message = f"{student}\0{cell_id}\0{code_digest}".encode()
    return int.from_bytes(hmac.new(secret.encode(), message, hashlib.sha256).digest()[:8], "big")
