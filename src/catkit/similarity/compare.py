"""Similar answers to one function, across a class: candidate pairs, their similarity, clusters.

**Rarity.** A fingerprint's weight says how much sharing it tells, from the number ``n`` of
students whose answer holds it, in a class of ``N`` answers to the function:

- it is *common*, weight 0, once ``n`` reaches ``C = max(3, min(N / 2, max(10, N / 20)))``: half
  the class, or (as MOSS ignores passages found in more than 10 programs) 10 students, 5 % of a
  large class; what many wrote alike (the canonical one-line ``sigmoid``, the model everyone
  builds the same way) is never evidence;
- held by 2 students only, weight 1;
- in between, ``log(C / n) / log(C / 2)``: the rarer, the heavier (an inverse document frequency
  scaled to 0-1).

**Similarity** of two answers ``a`` and ``b`` (0-1, symmetric), over their tokens. A token of ``a``
is *covered* by the heaviest fingerprint ``a`` shares with ``b`` that spans it: a whole statement
both wrote, at its weight, or a k-gram of one, at ``PARTIAL`` times its weight (the same fragment in
two different statements, such as the textbook cross-entropy, tells less). It weighs
``COMMON_MASS + (1 - COMMON_MASS) * w`` in ``a``'s mass, ``w`` the heaviest weight of ``a``'s own
fingerprints spanning it (its rarity in the class). Then::

    containment(a in b) = sum over a's tokens of their covering weight / mass(a)
    similarity(a, b)    = sqrt(containment(a in b) * containment(b in a))

Rare code the other did not write lowers it (two different ways of writing the function); common
code lowers it a quarter as much; a dead line added lowers it only by its few tokens. It is 1 for the
same rare answer, 0 for answers that share only common code.

**Candidates.** Only pairs sharing a fingerprint of weight at least ``w_c`` are scored, found from
an inverted index fingerprint -> students: a token covered by weight ``w`` counts at least
``COMMON_MASS + (1 - COMMON_MASS) w`` in the mass, so a pair whose shared fingerprints all weigh
less than ``w_c`` scores below ``w_c / (COMMON_MASS + (1 - COMMON_MASS) w_c)``; ``w_c`` is chosen
so that bound is the threshold. The pruning loses no flagged pair, and a class of 1,000 takes
seconds, not half a million full comparisons.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from itertools import combinations

from catkit.similarity.fingerprints import fingerprints
from catkit.similarity.normalise import Answer

COMMON_SHARE = 0.5        # a fingerprint in half the class is common, however small the class
MOSS_COUNT = 10           # ... or in 10 students of a class of up to 200,
LARGE_CLASS_SHARE = 0.05  # ... or in 5 % of a larger one
COMMON_MASS = 0.25        # what common code weighs in an answer's mass, against rare code's 1
PARTIAL = 0.5             # what a shared fragment of a statement weighs, against the whole statement's 1


def common_count(students: int) -> float:
    """The number of students from which a shared fingerprint is common (weight 0)."""
    return max(3.0, min(COMMON_SHARE * students, max(MOSS_COUNT, LARGE_CLASS_SHARE * students)))


def weight(holders: int, students: int) -> float:
    """The evidence a fingerprint held by ``holders`` of ``students`` answers carries, 0-1."""
    if holders <= 2:
        return 1.0
    common = common_count(students)
    return max(0.0, math.log(common / holders) / math.log(common / 2))


def candidate_weight(threshold: float) -> float:
    """The lightest shared fingerprint a pair at or above ``threshold`` must hold at least one of."""
    return COMMON_MASS * threshold / (1 - (1 - COMMON_MASS) * threshold)


@dataclass(frozen=True)
class Pair:
    """Two students' answers to one function at or above the threshold (``student_a < student_b``)."""

    function: str
    student_a: str
    student_b: str
    similarity: float
    matched_a: frozenset[int] = frozenset()  # lines of a's answer holding rare code b holds too
    matched_b: frozenset[int] = frozenset()
    common_a: frozenset[int] = frozenset()   # lines holding only code many students wrote
    common_b: frozenset[int] = frozenset()


@dataclass
class FunctionResult:
    """The comparison of one function's answers across the class."""

    function: str
    answers: dict[str, Answer]                                # the students compared
    skipped: dict[str, str] = field(default_factory=dict)     # student -> why not compared
    candidates: int = 0                                       # pairs compared in full
    pairs: list[Pair] = field(default_factory=list)           # flagged, most similar first

    @property
    def clusters(self) -> list[list[str]]:
        """Groups of three or more students linked by flagged pairs (connected components)."""
        return clusters((pair.student_a, pair.student_b) for pair in self.pairs)


def clusters(edges: Iterable[tuple[str, str]], smallest: int = 3) -> list[list[str]]:
    parent: dict[str, str] = {}

    def root(node: str) -> str:
        while parent.setdefault(node, node) != node:
            parent[node] = parent[parent[node]]
            node = parent[node]
        return node

    for a, b in edges:
        parent[root(a)] = root(b)
    groups: dict[str, list[str]] = defaultdict(list)
    for node in parent:
        groups[root(node)].append(node)
    return sorted((sorted(group) for group in groups.values() if len(group) >= smallest), key=lambda g: (-len(g), g))


def _lines(answer: Answer, masks: tuple[int, ...], covered: int) -> set[int]:
    """The source lines of the units of ``answer`` with a token in ``covered``."""
    found: set[int] = set()
    for unit, mask in zip(answer.units, masks, strict=True):
        if mask & covered:
            found.update(range(unit.first, unit.last + 1))
    return found


def _coverage(covers: dict[int, int], chosen: Iterable[int], weights: Mapping[int, float]) -> tuple[float, int]:
    """(sum over the tokens covered by ``chosen`` fingerprints of the heaviest weight covering them,
    the tokens covered by a fingerprint of weight > 0)."""
    total, covered, rare = 0.0, 0, 0
    for fingerprint in sorted(chosen, key=lambda f: -weights[f]):
        new = covers[fingerprint] & ~covered
        if new:
            total += weights[fingerprint] * new.bit_count()
            covered |= new
            if weights[fingerprint] > 0:
                rare |= new
    return total, rare


def compare_function(function: str, answers: Mapping[str, Answer], threshold: float) -> FunctionResult:
    """Flag the pairs of ``answers`` (student -> answer, the empty ones skipped) at or above ``threshold``."""
    result = FunctionResult(function, {})
    for student, answer in sorted(answers.items()):
        if answer.empty:
            result.skipped[student] = "untouched: nothing but the released stub"
        else:
            result.answers[student] = answer
    prints = {student: fingerprints(answer.units) for student, answer in result.answers.items()}
    holders: dict[int, list[str]] = defaultdict(list)
    for student, found in prints.items():
        for fingerprint in found.covers:
            holders[fingerprint].append(student)
    students = len(prints)
    whole = frozenset().union(*(found.whole for found in prints.values()))
    weights = {fingerprint: weight(len(who), students) for fingerprint, who in holders.items()}
    mass = {}
    for student, found in prints.items():
        rarity, _ = _coverage(found.covers, found.covers, weights)
        mass[student] = COMMON_MASS * found.tokens + (1 - COMMON_MASS) * rarity
    lightest = candidate_weight(threshold)
    candidates: set[tuple[str, str]] = set()
    for fingerprint, who in holders.items():
        if len(who) > 1 and weights[fingerprint] >= lightest:
            candidates.update(combinations(who, 2))  # (holders are in sorted student order)
    result.candidates = len(candidates)
    partial = {f: w if f in whole else PARTIAL * w for f, w in weights.items()}
    for a, b in candidates:
        shared = prints[a].covers.keys() & prints[b].covers.keys()
        in_a, rare_a = _coverage(prints[a].covers, shared, partial)
        in_b, rare_b = _coverage(prints[b].covers, shared, partial)
        score = math.sqrt(in_a / mass[a] * in_b / mass[b])
        if score >= threshold:
            all_a = _coverage(prints[a].covers, shared, {f: 1.0 for f in shared})[1]
            all_b = _coverage(prints[b].covers, shared, {f: 1.0 for f in shared})[1]
            matched_a = _lines(result.answers[a], prints[a].units, rare_a)
            matched_b = _lines(result.answers[b], prints[b].units, rare_b)
            result.pairs.append(Pair(
                function, a, b, min(1.0, score), frozenset(matched_a), frozenset(matched_b),
                frozenset(_lines(result.answers[a], prints[a].units, all_a) - matched_a),
                frozenset(_lines(result.answers[b], prints[b].units, all_b) - matched_b)))
    result.pairs.sort(key=lambda pair: (-pair.similarity, pair.student_a, pair.student_b))
    return result


@dataclass
class Result:
    """The comparison of one assignment's answers, function by function, in notebook order."""

    assignment: str
    threshold: float
    functions: list[FunctionResult]
    students: list[str]                                         # every student considered
    unreadable: dict[str, str] = field(default_factory=dict)    # student -> which notebook, why
    no_notebook: list[str] = field(default_factory=list)        # students who submitted no notebook

    def summary(self) -> list[str]:
        """One line per function, as the command prints it."""
        lines = []
        for found in self.functions:
            clusters = found.clusters
            lines.append(f"{found.function}: {len(found.answers)} answers compared, {len(found.skipped)} skipped, "
                         f"{found.candidates} candidate pairs, {len(found.pairs)} flagged"
                         + (f", {len(clusters)} cluster(s) of 3 or more" if clusters else ""))
        if self.unreadable:
            lines.append(f"{len(self.unreadable)} unreadable notebook(s) skipped: {', '.join(sorted(self.unreadable))}")
        return lines
