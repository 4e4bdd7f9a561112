"""The queue of submissions waiting to be graded: one per student and assignment, the latest, in turn.

A student who submits again while waiting replaces their pending submission and keeps their place
(the older one is superseded: never graded); a student graded a moment ago who submits again
joins the end. So a student submitting in a loop takes one turn in each round, like everyone else.
With a minimum interval (``Serve.min_interval``), a student's next grading waits until that many
seconds after their last one started; the others go first meanwhile.
"""

from __future__ import annotations

from dataclasses import dataclass

from catkit.serve.inbox import Inbound


@dataclass
class Waiting:
    submission: Inbound
    not_before: float  # time.time() before which it is not graded (the rate limit)


class FairQueue:
    def __init__(self, min_interval: float = 0.0) -> None:
        self.min_interval = min_interval
        self.waiting: dict[tuple[str, str], Waiting] = {}  # in turn order (dicts keep insertion order)
        self.last_started: dict[tuple[str, str], float] = {}

    def __len__(self) -> int:
        return len(self.waiting)

    def offer(self, submission: Inbound) -> Inbound | None:
        """Queue ``submission``; returns the submission it supersedes (the older of the two, which
        may be ``submission`` itself), or None."""
        key = submission.key
        pending = self.waiting.get(key)
        if pending is None:
            started = self.last_started.get(key)
            not_before = started + self.min_interval if started is not None and self.min_interval else 0.0
            self.waiting[key] = Waiting(submission, not_before)
            return None
        if (submission.timestamp, submission.name) <= (pending.submission.timestamp, pending.submission.name):
            return submission
        older, pending.submission = pending.submission, submission
        return older

    def take(self, now: float) -> Inbound | None:
        """The first submission whose turn it is (None if every one waits for its interval)."""
        for key, entry in self.waiting.items():
            if entry.not_before <= now:
                del self.waiting[key]
                self.last_started[key] = now
                return entry.submission
        return None

    def next_after(self, now: float, assignment: str, count: int) -> list[Inbound]:
        """The next ``count`` submissions of ``assignment`` that ``take`` would give, in order."""
        return [entry.submission for entry in self.waiting.values()
                if entry.not_before <= now and entry.submission.assignment == assignment][:count]

    def next_time(self) -> float | None:
        """When the next waiting submission may be graded (None if nothing waits)."""
        return min((entry.not_before for entry in self.waiting.values()), default=None)

    def delayed(self, now: float) -> list[Waiting]:
        """Submissions waiting for their interval."""
        return [entry for entry in self.waiting.values() if entry.not_before > now]
