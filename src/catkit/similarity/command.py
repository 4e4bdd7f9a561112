"""``catkit similarity ASSIGNMENT [--threshold T]``: the similarity report, from the command line.

The command line (``catkit.cli``) adds the sub-command with :func:`add_parser` and runs it with
:func:`run`; user errors (an unknown assignment, a threshold outside (0, 1)) are CatkitErrors.
"""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING, Any

from catkit.errors import CatkitError
from catkit.similarity import DEFAULT_THRESHOLD, write

if TYPE_CHECKING:
    from catkit.course import Course


def _threshold(text: str) -> float:
    try:
        return float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None


def add_parser(commands: Any) -> argparse.ArgumentParser:
    """Add ``similarity`` to the sub-commands ``commands`` (what ``add_subparsers`` returned)."""
    found: argparse.ArgumentParser = commands.add_parser(
        "similarity", help="per function, pairs of students with similar answers (after grading): "
        "exports/similarity_<assignment>.csv and reports/<assignment>_similarity.html")
    found.add_argument("assignment")
    found.add_argument("--threshold", type=_threshold, default=DEFAULT_THRESHOLD, metavar="T",
                       help=f"flag pairs whose similarity (0-1) is at least T (default {DEFAULT_THRESHOLD}: at "
                       "least half of the two answers is rare code both wrote)")
    return found


def run(course: Course, args: argparse.Namespace) -> None:
    """Write the report for ``args.assignment``; print its two paths and one line per function."""
    threshold = float(args.threshold)
    if not 0 < threshold < 1:
        raise CatkitError(f"--threshold must be between 0 and 1 (exclusive), not {threshold:g}; "
                          f"the default is {DEFAULT_THRESHOLD}")
    csv_path, page_path, result = write(course, args.assignment, threshold)
    print(f"Similar answers (CSV):  {csv_path}")
    print(f"Similar answers (page): {page_path}")
    for line in result.summary():
        print(f"  {line}")
