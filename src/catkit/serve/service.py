"""The grading service: watch the exchange, grade the latest submission of each student in turn, release feedback.

Each submission goes through nbgrader's own classes, in this one process: the kit's safe copy
into ``submitted/`` (instead of ``ExchangeCollect``, which follows links), ``Autograde`` (the
course's configuration: the kit's per-function grading, late penalties, the gradebook),
``GenerateFeedback`` and ``ExchangeReleaseFeedback``, so the grades are those of ``nbgrader
autograde`` and the student's stock ``fetch_feedback`` gets the page. The kit's grading processes
stay warm from one submission to the next (:func:`catkit.nbgrader_plugins.execute.kept_pools`),
and grade the next submissions in the queue while nbgrader writes the current one's results.
"""

from __future__ import annotations

import copy
import fcntl
import logging
import os
import shutil
import signal
import time
from collections.abc import Callable, Container
from pathlib import Path
from types import FrameType
from typing import IO, Any

from nbgrader.auth import Authenticator
from nbgrader.converters import Autograde, GenerateFeedback
from nbgrader.coursedir import CourseDirectory
from nbgrader.exchange.default import Exchange, ExchangeReleaseFeedback
from traitlets import Bool, Float
from traitlets.config import LoggingConfigurable

from catkit.course import Course, is_graded
from catkit.errors import CatkitError
from catkit.nbgrader_plugins import execute
from catkit.scores import function_maxima, function_scores
from catkit.serve import inbox, pages
from catkit.serve.fair_queue import FairQueue
from catkit.serve.inbox import Inbound, Refused
from catkit.serve.journal import GRADED, NOT_GRADED, SUPERSEDED, Journal

AHEAD = (os.cpu_count() or 1) + 1  # submissions collected and graded ahead of the one nbgrader writes


class Serve(LoggingConfigurable):
    """``catkit serve``'s settings (``c.Serve.*`` in the course's nbgrader_config.py)."""

    poll_seconds = Float(0.25, help="How often the exchange's inbound folder is looked at, in seconds.").tag(
        config=True)
    min_interval = Float(0.0, help=(
        "Rate limit: seconds between the start of two gradings of one student's submissions of one assignment "
        "(0: off). A submission that comes sooner waits (the student's fetch_feedback says until when); "
        "the others go first meanwhile.")).tag(config=True)
    max_submission_mb = Float(100.0, help="A submission larger than this (all its files) is not graded.").tag(
        config=True)
    check_owner = Bool(True, help=(
        "Grade only submissions whose folder belongs to the student they name (or to the user running the "
        "service): nbgrader's CollectApp.check_owner only warns; here a student cannot submit as another.")).tag(
        config=True)


def _utc(submission: Inbound) -> str:
    return submission.timestamp.strftime("%Y-%m-%d %H:%M:%S UTC")


class Service:
    """``catkit serve`` for the course at ``course.root`` (``scheduler``: grade on that Dask cluster)."""

    def __init__(self, course: Course, scheduler: str | None = None, say: Callable[[str], None] = print) -> None:
        config = copy.deepcopy(course.config)
        if scheduler:
            config.IsolatedExecute.scheduler = scheduler
        if "preprocessors" in config.GenerateFeedback:  # one page at a time: its line says it, no bar for each
            config.GenerateFeedback.preprocessors = [name for name in config.GenerateFeedback.preprocessors
                                                     if not name.endswith(".FeedbackProgress")]
        self.config, self.say = config, say
        self.settings = Serve(config=config)
        self.coursedir = CourseDirectory(config=config, root=str(course.root))
        self.course = Course(self.coursedir)
        self.authenticator = Authenticator(config=config)
        if not self.coursedir.course_id:
            raise CatkitError("the course has no course id: set c.CourseDirectory.course_id in nbgrader_config.py "
                              "(students submit to <exchange>/<course id>/inbound)")
        exchange = Path(Exchange(coursedir=self.coursedir, authenticator=self.authenticator, config=config).root)
        self.exchange = exchange / self.coursedir.course_id
        self.inbound, self.feedback_pages = self.exchange / "inbound", self.exchange / "feedback"
        if not self.inbound.is_dir():
            raise CatkitError(f"no inbound folder in the exchange, {self.inbound}: release an assignment first "
                              "(nbgrader release_assignment ASSIGNMENT), and check c.Exchange.root")
        self.folder = self.course.state_dir / "serve"
        self.journal = Journal(self.folder)
        self.queue = FairQueue(self.settings.min_interval)
        self.queue.last_started.update(self.journal.last_started)  # the rate limit holds across restarts
        self.seen: set[str] = set()
        self.collected: dict[tuple[str, str], str] = {}  # (student, assignment) -> submission now in submitted/
        self.refused_ahead: dict[str, str] = {}  # submission -> why, found when collecting it ahead
        self.announced: dict[tuple[str, str], str] = {}  # (student, assignment) -> submission told to wait
        self.stopping = False
        self.current: Inbound | None = None
        self.started = time.time()
        self.log = _file_log(self.folder / "serve.log")

    # --- the loop ---------------------------------------------------------------------------------

    def run(self, once: bool = False) -> None:
        """Serve until SIGTERM or SIGINT (the submission being graded is finished first; a second
        signal abandons it: a restart grades it again). ``once``: stop when nothing is left."""
        lock = self._lock()
        handlers = {number: signal.signal(number, self._stop) for number in (signal.SIGTERM, signal.SIGINT)}
        self.say(f"catkit serve: watching {self.inbound} for {', '.join(sorted(self.released())) or 'no assignment'}"
                 f" (log: {self.folder / 'serve.log'}; stop with Ctrl-C)")
        try:
            with execute.kept_pools() as kept:
                while not self.stopping:
                    try:
                        self.scan()
                    except OSError as error:  # the exchange unreachable a moment (a network file system)
                        self.log.warning("cannot read %s: %s", self.inbound, error)
                    if not self.grade_next(kept):
                        self.write_status()
                        if once:  # nothing is ready (what is left waits for the rate limit)
                            break
                        time.sleep(self.settings.poll_seconds)
        except _Abandon:
            self.say("catkit serve: stopped; the submission being graded is graded again at the next start")
        finally:
            for number, handler in handlers.items():
                signal.signal(number, handler)
            self.current = None
            self.write_status(running=False)
            lock.close()

    def _lock(self) -> IO[str]:
        """One service per course: a second one would grade the same submissions at once."""
        lock = open(self.folder / "lock", "a+")
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            lock.close()
            status = self.journal.read_status() or {}
            raise CatkitError(f"catkit serve is already running for this course (pid {status.get('pid', '?')}); "
                              "'catkit serve --status' says how it is doing") from None
        return lock

    def _stop(self, number: int, frame: FrameType | None) -> None:
        if self.stopping or self.current is None:
            self.stopping = True
            if self.current is not None:
                raise _Abandon()
            return
        self.stopping = True
        self.say(f"catkit serve: stopping after {self.current.student}'s submission (again to stop now)")

    def released(self) -> set[str]:
        """The course's assignments released through the exchange."""
        return {name for name in self.course.assignments() if (self.exchange / "outbound" / name).is_dir()}

    def scan(self) -> None:
        """Queue what is new in the inbound folder; supersede what a newer submission replaces."""
        submissions, odd = inbox.scan(self.inbound, self.released(), _Either(self.seen, self.journal.handled))
        for name, why in odd.items():
            if name not in self.seen:
                self.seen.add(name)
                self.log.warning("ignored %r in the inbound folder: %s", name, why)
        now = time.time()
        for submission in submissions:
            if submission.name in self.seen or submission.name in self.journal.handled:
                continue
            if not submission.complete(now):  # nbgrader submit is still writing it
                continue
            self.seen.add(submission.name)
            graded = self.journal.latest_graded.get(submission.key)
            if graded is not None and submission.timestamp.isoformat() <= graded:
                self.supersede(submission, "a later submission of yours is already graded")
                continue
            older = self.queue.offer(submission)
            if older is not None:
                newer = submission if older is not submission else self.queue.waiting[submission.key].submission
                self.supersede(older, f"you submitted again at {_utc(newer)}")
        for waiting in self.queue.delayed(time.time()):
            self._announce_wait(waiting.submission, waiting.not_before)

    def _announce_wait(self, submission: Inbound, not_before: float) -> None:
        if self.announced.get(submission.key) == submission.name:
            return
        self.announced[submission.key] = submission.name
        when = time.strftime("%H:%M:%S UTC", time.gmtime(not_before))
        pages.write(self.feedback_pages, submission, "Waiting to be graded", (
            f"This submission will be graded at about {when}: the course grades one submission per student "
            f"every {self.settings.min_interval:g} seconds. Run nbgrader fetch_feedback again after that time. "
            "If you submit again meanwhile, the latest submission is graded instead."))

    def supersede(self, submission: Inbound, why: str) -> None:
        pages.write(self.feedback_pages, submission, "Not graded: submitted again",
                    f"This submission is not graded: {why}. Only the latest submission is graded; "
                    "fetch its feedback.")
        self._record(submission, SUPERSEDED, why)

    def grade_next(self, kept: execute.KeptPools) -> bool:
        """Grade the submission whose turn it is; False if none is ready."""
        now = time.time()
        submission = self.queue.take(now)
        if submission is None:
            return False
        self.current = submission
        self.write_status()
        try:
            kept.upcoming = [ahead.student for ahead in self.queue.next_after(now, submission.assignment, AHEAD)
                             if self._collect_ahead(ahead)]
            self.grade(submission)
        finally:
            self.current = None
        return True

    # --- one submission -----------------------------------------------------------------------------

    def grade(self, submission: Inbound) -> None:
        start, started = time.monotonic(), time.time()
        student, assignment = submission.key
        try:
            self.collect(submission)
            self.autograde(submission)
            self.release_feedback(submission)
        except Refused as why:
            self._not_graded(submission, str(why), start, started)
            return
        except Exception as error:  # noqa: BLE001 - the grader's fault: logged, and the others still served
            self.log.exception("grading %s failed", submission.name)
            self._not_graded(submission, f"the grader failed ({type(error).__name__}: {error}); this is not your "
                             "doing, and the instructor sees it in catkit serve --status", start, started)
            return
        seconds = time.monotonic() - start
        with self.course.open_gradebook() as gradebook:
            layout = self.course.layout(assignment)
            scores = function_scores(gradebook, assignment, student, layout)
            top = sum(function_maxima(gradebook, assignment, layout).values())
        self._record(submission, GRADED, "", points=scores.get("total", 0.0), max_points=top,
                     seconds=round(seconds, 2), started=started)
        self.say(f"graded  {student}  {assignment}  {scores.get('total', 0.0):g}/{top:g}  {seconds:.1f} s")

    def _not_graded(self, submission: Inbound, why: str, start: float, started: float) -> None:
        advice = "" if "submit" in why else "\n\nFix this and submit again."  # (most reasons say what to do)
        pages.write(self.feedback_pages, submission, "Not graded",
                    f"This submission was not graded: {why.rstrip('.')}.{advice}")
        self._record(submission, NOT_GRADED, why, seconds=round(time.monotonic() - start, 2), started=started)
        self.say(f"not graded  {submission.student}  {submission.assignment}  {why.splitlines()[0]}")

    def _owner_check(self, submission: Inbound) -> None:
        if self.settings.check_owner and not submission.owned_by_us():
            owner = submission.owner()
            if owner != submission.student:
                raise Refused(f"this submission, of {submission.student}, belongs to the user {owner}: submit as "
                              "yourself (nbgrader submit, without --student for another student)")

    def collect(self, submission: Inbound) -> None:
        """Copy the submission into submitted/ (as ``nbgrader collect --update`` would), safely."""
        if self.refused_ahead.get(submission.name):
            raise Refused(self.refused_ahead.pop(submission.name))
        if self.collected.get(submission.key) == submission.name:
            return  # copied ahead, unchanged since
        self._owner_check(submission)
        target = self.course.submitted_dir(*submission.key)
        incoming = self.folder / "incoming" / f"{submission.student}+{submission.assignment}"
        shutil.rmtree(incoming, ignore_errors=True)
        inbox.copy_submission(submission.path, incoming, list(self.coursedir.ignore),
                              int(self.settings.max_submission_mb * 1e6))
        names = self.course.notebook_names(submission.assignment)
        present = [name for name in names if (incoming / name).is_file()]
        if not present:
            held = sorted(path.name for path in incoming.glob("*.ipynb"))
            shutil.rmtree(incoming)
            hint = (f"it holds {', '.join(held)}: rename it back to {', '.join(names)}" if held
                    else "it holds no notebook")
            raise Refused(f"the submission has no notebook named {', '.join(names)}; {hint}, and submit again")
        if target.exists():
            shutil.rmtree(target)
        target.parent.mkdir(parents=True, exist_ok=True)
        incoming.rename(target)
        self.collected[submission.key] = submission.name

    def _collect_ahead(self, submission: Inbound) -> bool:
        try:
            self.collect(submission)
            return True
        except Refused as why:
            self.refused_ahead[submission.name] = str(why)
        except Exception:  # noqa: BLE001 - tried again, and reported, at its turn
            self.log.exception("collecting %s ahead failed", submission.name)
        return False

    def _select(self, submission: Inbound) -> None:
        self.coursedir.assignment_id, self.coursedir.student_id = submission.assignment, submission.student
        self.coursedir.notebook_id = "*"

    def autograde(self, submission: Inbound) -> None:
        """nbgrader's Autograde of this one submission (the course's preprocessors, the gradebook)."""
        self._select(submission)
        self.course.clear_failure(submission.assignment, submission.student)
        try:
            Autograde(coursedir=self.coursedir, config=self.config, force=True).start()
        except Exception:  # noqa: BLE001 - nbgrader has logged it; the reason is recorded below
            self.log.exception("autograde failed for %s", submission.name)
        status = self.course.status(submission.assignment, submission.student)
        if not is_graded(status):
            raise Refused(status.split(":", 1)[-1].strip())

    def release_feedback(self, submission: Inbound) -> None:
        self._select(submission)
        GenerateFeedback(coursedir=self.coursedir, config=self.config, force=True).start()
        ExchangeReleaseFeedback(coursedir=self.coursedir, authenticator=self.authenticator, config=self.config).start()

    # --- state ------------------------------------------------------------------------------------

    def _record(self, submission: Inbound, outcome: str, reason: str, **more: Any) -> None:
        self.announced.pop(submission.key, None)
        entry = self.journal.record(submission=submission.name, student=submission.student,
                                    assignment=submission.assignment, timestamp=submission.timestamp.isoformat(),
                                    outcome=outcome, reason=reason, **more)
        if outcome != GRADED:
            self.log.warning("%s %s: %s", outcome, submission.name, reason)
        self.log.info("%s", entry)

    def write_status(self, running: bool = True) -> None:
        now = time.time()
        self.journal.write_status({
            "pid": os.getpid(), "running": running, "started": self.started, "updated": now,
            "inbound": str(self.inbound),
            "grading": self.current.name if self.current else None,
            "queue": [{"student": entry.submission.student, "assignment": entry.submission.assignment,
                       "submitted": entry.submission.timestamp.isoformat(), "not_before": entry.not_before}
                      for entry in self.queue.waiting.values()],
        })


class _Either:
    """A name in either of two collections (without building their union at every scan)."""

    def __init__(self, first: Container[str], second: Container[str]) -> None:
        self.first, self.second = first, second

    def __contains__(self, name: object) -> bool:
        return name in self.first or name in self.second


class _Abandon(BaseException):
    """A second SIGTERM/SIGINT: leave the submission being graded (it is graded again at restart)."""


def _file_log(path: Path) -> logging.Logger:
    """nbgrader's log (its classes log to 'traitlets') and the service's, into ``path``."""
    handler = logging.FileHandler(path, encoding="utf-8")
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    for name in ("traitlets", "catkit.serve"):
        logger = logging.getLogger(name)
        logger.handlers = [handler]
        logger.setLevel(logging.INFO)
        logger.propagate = False
    return logging.getLogger("catkit.serve")


__all__ = ["GRADED", "NOT_GRADED", "SUPERSEDED", "Serve", "Service"]
