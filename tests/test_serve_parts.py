"""The parts of ``catkit serve`` that need no process: the fair queue, the inbound folder, the journal, the pages."""

import os
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from nbgrader.utils import notebook_hash

from catkit.serve import inbox, pages
from catkit.serve.fair_queue import FairQueue
from catkit.serve.inbox import Inbound, Refused
from catkit.serve.journal import GRADED, NOT_GRADED, Journal

T0 = datetime(2026, 11, 30, 9, 0, 0)


def sub(student, minutes=0, assignment="a1"):
    stamp = T0 + timedelta(minutes=minutes)
    return Inbound(Path(f"/x/{student}+{assignment}+{stamp}+r{minutes}"), student, assignment, stamp)


# --- the fair queue -----------------------------------------------------------------------------------

def test_a_resubmission_replaces_the_pending_one_and_keeps_its_place():
    queue = FairQueue()
    first, other = sub("ann", 0), sub("bob", 1)
    assert queue.offer(first) is None and queue.offer(other) is None
    later = sub("ann", 2)
    assert queue.offer(later) is first  # the older one is superseded
    assert queue.offer(sub("ann", 1)) is not None  # an older one arriving late is superseded at once
    assert [queue.take(0), queue.take(0), queue.take(0)] == [later, other, None]


def test_a_student_graded_a_moment_ago_waits_behind_the_others():
    queue = FairQueue()
    for submission in (sub("ann", 0), sub("bob", 1)):
        queue.offer(submission)
    assert queue.take(0).student == "ann"
    queue.offer(sub("ann", 2))  # ann again, while bob waits
    assert [queue.take(0).student, queue.take(0).student] == ["bob", "ann"]


def test_the_rate_limit_delays_only_that_student():
    queue = FairQueue(min_interval=600)
    queue.offer(sub("ann", 0))
    assert queue.take(1000).student == "ann"
    queue.offer(sub("ann", 1))
    queue.offer(sub("bob", 2))
    assert [w.submission.student for w in queue.delayed(1100)] == ["ann"]
    assert queue.take(1100).student == "bob" and queue.take(1100) is None
    assert queue.next_time() == 1600 and queue.take(1600).student == "ann"


def test_next_after_lists_the_coming_turns_of_one_assignment():
    queue = FairQueue()
    for submission in (sub("ann", 0), sub("bob", 1, "a2"), sub("cid", 2)):
        queue.offer(submission)
    assert [s.student for s in queue.next_after(0, "a1", 5)] == ["ann", "cid"]


# --- the inbound folder -------------------------------------------------------------------------------

def test_names_of_submissions_are_parsed_and_odd_ones_explained():
    found = inbox.parse(Path("/in/ann+a1+2026-11-30 09:00:00.123456 UTC+AbC"))
    assert isinstance(found, Inbound) and found.key == ("ann", "a1") and found.timestamp.microsecond == 123456
    assert "not named" in inbox.parse(Path("/in/readme.txt"))
    assert "not a plain name" in inbox.parse(Path("/in/..+a1+2026-11-30 09:00:00 UTC+x"))
    assert "not a plain name" in inbox.parse(Path("/in/a b+a1+2026-11-30 09:00:00 UTC+x"))
    assert "not a timestamp" in inbox.parse(Path("/in/ann+a1+yesterday+x"))


@pytest.fixture()
def submitted(tmp_path):
    origin = tmp_path / "inbound" / "ann+a1+2026-11-30 09:00:00 UTC+x"
    (origin / "data").mkdir(parents=True)
    (origin / "nb.ipynb").write_text("{}")
    (origin / "data" / "d.h5").write_bytes(b"1" * 1000)
    (origin / ".ipynb_checkpoints").mkdir()
    (origin / ".ipynb_checkpoints" / "nb-checkpoint.ipynb").write_text("{}")
    return origin, tmp_path / "copy"


def test_a_submission_is_copied_without_checkpoints(submitted):
    origin, target = submitted
    inbox.copy_submission(origin, target, [".ipynb_checkpoints"], 10**6)
    assert sorted(str(p.relative_to(target)) for p in target.rglob("*")) == ["data", "data/d.h5", "nb.ipynb"]


@pytest.mark.parametrize("make, why", [
    (lambda o: os.symlink("/etc/passwd", o / "data" / "link"), "link is a symbolic link"),
    (lambda o: os.mkfifo(o / "pipe"), "pipe is not a regular file"),  # would block a plain copy
    (lambda o: (o / "big").write_bytes(b"0" * 2_000_000), "larger than the 1 MB the course allows"),
    (lambda o: (o / "bell\x07").write_text(""), "a file named 'bell\\x07'"),
])
def test_what_cannot_be_graded_is_refused_and_nothing_is_left(submitted, make, why):
    origin, target = submitted
    make(origin)
    with pytest.raises(Refused, match=why.replace("\\", "\\\\").replace("(", r"\(")):
        inbox.copy_submission(origin, target, [], 10**6)
    assert not target.exists()


def test_too_many_files_are_refused(submitted):
    origin, target = submitted
    for i in range(20):
        (origin / f"f{i}").write_text("")
    with pytest.raises(Refused, match="too many files"):
        inbox.copy_submission(origin, target, [], 10**6, max_files=10)


def test_the_secret_is_read_without_following_a_link(submitted, tmp_path):
    origin, _ = submitted
    (tmp_path / "elsewhere").write_text("s" * 128)
    os.symlink(tmp_path / "elsewhere", origin / "submission_secret.txt")
    assert inbox.parse(origin).secret() is None


# --- the journal and the pages ------------------------------------------------------------------------

def test_the_journal_survives_a_restart_and_a_line_cut_by_a_crash(tmp_path):
    journal = Journal(tmp_path)
    journal.record(submission="s1", student="ann", assignment="a1", timestamp="2026-11-30T09:00:00",
                   outcome=GRADED, reason="", started=100.0)
    journal.record(submission="s2", student="ann", assignment="a1", timestamp="2026-11-30T09:05:00",
                   outcome=NOT_GRADED, reason="renamed", started=200.0)
    with open(journal.path, "a") as handle:
        handle.write('{"submission": "s3", "stud')  # killed while writing
    again = Journal(tmp_path)
    assert set(again.handled) == {"s1", "s2"}
    assert again.latest_graded[("ann", "a1")] == "2026-11-30T09:05:00"
    assert again.last_started[("ann", "a1")] == 200.0
    assert again.counts[GRADED] == 1 and [f["reason"] for f in again.failures] == ["renamed"]


def test_a_page_is_named_as_fetch_feedback_looks_for_it_and_shows_the_student_nothing_live(submitted, tmp_path):
    origin, _ = submitted
    (origin / "submission_secret.txt").write_text("f" * 128)
    (origin / "<img src=x onerror=alert(1)>.ipynb").write_text("{}")
    submission = inbox.parse(origin)
    written = pages.write(tmp_path / "feedback", submission, "Not graded",
                          "it holds <img src=x onerror=alert(1)>.ipynb")
    names = {path.name for path in written}
    assert f"{notebook_hash(secret='f' * 128, notebook_id='nb')}.html" in names and len(names) == 2
    page = written[0].read_text()
    assert "<img" not in page and "&lt;img src=x" in page and "default-src 'none'" in page


def test_the_settings_documented_in_the_course_configuration_are_the_defaults():
    import re

    from catkit.serve.service import Serve
    text = (Path(__file__).resolve().parents[1] / "nbgrader_config.py").read_text()
    documented = dict(re.findall(r"^# c\.Serve\.(\w+) = (\S+)", text, re.MULTILINE))
    defaults = Serve()
    assert set(documented) == set(defaults.trait_names(config=True))
    for name, value in documented.items():
        assert float(value) == getattr(defaults, name) if value[0].isdigit() else value == str(getattr(defaults, name))


def test_a_submission_is_taken_only_once_nbgrader_submit_has_finished_writing_it(submitted):
    import time
    origin, _ = submitted
    submission = inbox.parse(origin)
    now = time.time()
    assert not submission.complete(now)  # no secret yet: still being copied
    (origin / "submission_secret.txt").write_text("f" * 128)
    origin.chmod(0o755)
    assert not submission.complete(now)  # submit's last step, chmod 0777, not done yet
    origin.chmod(0o777)
    assert submission.complete(now)
    origin.chmod(0o755)
    assert submission.complete(now + inbox.SETTLE_SECONDS + 1)  # unchanged for a while: finished
    (origin / "submission_secret.txt").unlink()  # an empty folder, say: handled (not graded), not ignored
    assert not submission.complete(now) and submission.complete(now + inbox.SETTLE_SECONDS + 1)
