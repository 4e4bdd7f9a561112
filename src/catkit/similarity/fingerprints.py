"""Fingerprints of an answer: each unit's own hash, and hashed k-grams of its tokens, winnowed
(Schleimer, Wilkerson and Aiken, "Winnowing: local algorithms for document fingerprinting",
SIGMOD 2003, as in MOSS).

Every fingerprint knows the tokens it covers (a bit mask over the answer's tokens, unit after
unit): a whole unit's hash covers its tokens, a k-gram its ``k``. k-grams never cross a unit's
boundary, so moving a statement keeps its fingerprints. Of each ``window`` consecutive k-grams of a
unit, the one with the smallest hash is kept (the rightmost on a tie): a run of ``window + k - 1``
tokens two answers share within a statement always gives them a common fingerprint, with a
fraction of the hashes. Hashes are CRC-32 of the tokens' text: the same in every run, on every
machine.
"""

from __future__ import annotations

import zlib
from collections.abc import Sequence
from dataclasses import dataclass

from catkit.similarity.normalise import Unit

K = 5        # tokens per k-gram: ``V = np . zeros (`` is one
WINDOW = 3   # k-grams per winnowing window: a match of 7 tokens or more within a statement is always seen


def _hash(tokens: Sequence[str], tag: str = "") -> int:
    return zlib.crc32((tag + "\x1f".join(tokens)).encode("utf-8"))


def kgram_hashes(tokens: Sequence[str], k: int = K) -> list[int]:
    """The hash of every k-gram of ``tokens``, in order (none if fewer than k)."""
    return [_hash(tokens[i:i + k]) for i in range(len(tokens) - k + 1)]


def winnow(hashes: Sequence[int], window: int = WINDOW) -> list[int]:
    """Positions of the kept hashes: the minimum of each window (rightmost on a tie), each once."""
    if not hashes:
        return []
    kept: list[int] = []
    for start in range(max(1, len(hashes) - window + 1)):
        best = min(range(start, min(start + window, len(hashes))), key=lambda i: (hashes[i], -i))
        if not kept or kept[-1] != best:
            kept.append(best)
    return kept


@dataclass(frozen=True)
class Fingerprints:
    """{fingerprint: the answer's tokens it covers, as a bit mask}, and each unit's mask."""

    covers: dict[int, int]
    units: tuple[int, ...]  # unit i's tokens, as a bit mask
    tokens: int             # how many tokens the answer has
    whole: frozenset[int]   # the fingerprints of whole units


def fingerprints(units: Sequence[Unit], k: int = K, window: int = WINDOW) -> Fingerprints:
    covers: dict[int, int] = {}
    masks = []
    whole_units = set()
    offset = 0
    for unit in units:
        size = len(unit.tokens)
        whole = ((1 << size) - 1) << offset
        masks.append(whole)
        key = _hash(unit.tokens, "unit:")
        whole_units.add(key)
        covers[key] = covers.get(key, 0) | whole
        hashes = kgram_hashes(unit.tokens, k)
        if len(hashes) > 1:  # (a unit of k tokens is its one k-gram)
            for position in winnow(hashes, window):
                span = ((1 << k) - 1) << (offset + position)
                covers[hashes[position]] = covers.get(hashes[position], 0) | span
        offset += size
    return Fingerprints(covers, tuple(masks), offset, frozenset(whole_units))
