"""What the service has done, kept so that a restart (after ``kill -9``, say) neither loses nor repeats work.

``.catkit/serve/journal.jsonl`` gets one line per submission handled (graded, not graded,
superseded), written and flushed to disk after its feedback is released: a submission
without its line is graded again at restart, from the start (nbgrader's own ``--force``: the
half-written results of a killed grading are replaced); one with its line never is.
``status.json`` is the service's state for ``catkit serve --status``, replaced atomically.
"""

from __future__ import annotations

import json
import os
import time
from collections import deque
from pathlib import Path
from typing import Any

GRADED, NOT_GRADED, SUPERSEDED = "graded", "not graded", "superseded"


class Journal:
    def __init__(self, folder: Path) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        self.path = folder / "journal.jsonl"
        self.status_path = folder / "status.json"
        self.handled: dict[str, dict[str, Any]] = {}  # inbound folder name -> its line
        self.latest_graded: dict[tuple[str, str], str] = {}  # (student, assignment) -> timestamp (ISO)
        self.last_started: dict[tuple[str, str], float] = {}  # (student, assignment) -> time.time() (rate limit)
        self.recent: deque[dict[str, Any]] = deque(maxlen=20)
        self.failures: deque[dict[str, Any]] = deque(maxlen=20)
        self.counts = {GRADED: 0, NOT_GRADED: 0, SUPERSEDED: 0}
        if self.path.exists():
            for line in self.path.read_text(encoding="utf-8").splitlines():
                try:
                    self._note(json.loads(line))
                except (ValueError, KeyError):  # a line cut by a crash while being written
                    continue

    def _note(self, entry: dict[str, Any]) -> None:
        self.handled[entry["submission"]] = entry
        self.counts[entry["outcome"]] = self.counts.get(entry["outcome"], 0) + 1
        if entry["outcome"] in (GRADED, NOT_GRADED):
            key = (entry["student"], entry["assignment"])
            self.latest_graded[key] = max(self.latest_graded.get(key, ""), entry["timestamp"])
            self.last_started[key] = max(self.last_started.get(key, 0.0), float(entry.get("started", 0.0)))
            self.recent.append(entry)
        if entry["outcome"] != GRADED and entry["outcome"] != SUPERSEDED:
            self.failures.append(entry)

    def record(self, **entry: Any) -> dict[str, Any]:
        entry = {"at": time.strftime("%Y-%m-%dT%H:%M:%S%z"), **entry}
        with open(self.path, "a", encoding="utf-8") as handle:
            handle.write(json.dumps(entry) + "\n")
            handle.flush()
            os.fsync(handle.fileno())
        self._note(entry)
        return entry

    def write_status(self, status: dict[str, Any]) -> None:
        status = {**status, "counts": self.counts, "recent": list(self.recent), "failures": list(self.failures)}
        partial = self.status_path.with_suffix(".json.partial")
        partial.write_text(json.dumps(status, indent=1), encoding="utf-8")
        partial.replace(self.status_path)

    def read_status(self) -> dict[str, Any] | None:
        try:
            status: dict[str, Any] = json.loads(self.status_path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        return status
