"""``catkit serve`` with a real exchange: students submit with stock nbgrader, fetch_feedback gets the pages.

Everything real: ``nbgrader release_assignment``, each student's ``fetch_assignment`` / ``submit`` /
``fetch_feedback`` in a home of their own, ``catkit serve`` as a process of its own, killed with
SIGKILL in one test. No verdict depends on how fast the machine is (the latency is measured by
``make bench``, not asserted here).
"""

import os
import signal
import subprocess
import time

import pytest

from catkit.course import Course
from conftest import MISTAKES, assert_clean_failure, gradebook_scores, nbgrader, solved
from exchange_course import ASSIGNMENT, BIN, NOTEBOOK, ExchangeCourse, Server, environment
from processes import alive, descendants

pytestmark = pytest.mark.slow


def graded_score(page):
    """'Score: 20.0 / 20.0' -> 20.0, from a feedback page."""
    return float(page.split("Score: ", 1)[1].split(" /", 1)[0])


def serve_once(course, *args):
    result = subprocess.run([str(BIN / "catkit"), "serve", "--once", *args], cwd=course.root, env=environment(),
                            capture_output=True, text=True, timeout=900)
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout


def status(course):
    result = subprocess.run([str(BIN / "catkit"), "serve", "--status"], cwd=course.root, env=environment(),
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    return result.stdout


@pytest.fixture(scope="module")
def class_day(tmp_path_factory):
    """A class submits (good work, a mistake, a resubmission, bad submissions), served once; then a
    late submission after the due date, served again."""
    course = ExchangeCourse(tmp_path_factory.mktemp("serve"), "\nc.LateSubmissionPlugin.penalty_method = 'zero'\n"
                            "c.Serve.max_submission_mb = 20\n")
    correct, wrong = solved(course.root), solved(course.root, MISTAKES["sigmoid-sign-error"].edits)
    students = {name: course.student(name) for name in
                ("alice", "bob", "carol", "dave", "eve", "frank", "grace", "heidi", "ivan")}
    inbound = {"alice": students["alice"].submit(correct), "bob": students["bob"].submit(wrong)}
    inbound["carol-first"] = students["carol"].submit(wrong)
    time.sleep(0.01)
    inbound["carol"] = students["carol"].submit(correct)
    students["dave"].write(correct)  # the notebook renamed before submitting
    (students["dave"].folder / NOTEBOOK).rename(students["dave"].folder / "my copy.ipynb")
    inbound["dave"] = students["dave"].submit()
    # What stock submit cannot send, a student can still put in their folder of the inbound:
    inbound["eve"] = students["eve"].submit(correct)  # a link to the instructor's solution notebook
    os.unlink(inbound["eve"] / NOTEBOOK)
    os.symlink(course.root / "source" / ASSIGNMENT / NOTEBOOK, inbound["eve"] / NOTEBOOK)
    inbound["frank"] = students["frank"].submit(correct)  # not a notebook
    (inbound["frank"] / NOTEBOOK).write_text("{ this is not JSON")
    inbound["grace"] = students["grace"].submit(correct)  # a huge file (sparse: 25 MB over the 20 MB allowed)
    with open(inbound["grace"] / "weights.bin", "wb") as handle:
        handle.truncate(25 * 10**6)
    inbound["heidi"] = students["heidi"].submit(correct)  # a FIFO: reading it would block the service
    os.mkfifo(inbound["heidi"] / "pipe")
    (course.inbound / "not a submission").mkdir()
    (course.inbound / ".. +logistic_regression+2026-01-01 00:00:00 UTC+x").mkdir()
    first = serve_once(course)
    scores = gradebook_scores(course.root)
    # The same submissions by nbgrader autograde, the same course secret (frank's, not a notebook,
    # fails there too)
    nbgrader(course.root, "autograde", ASSIGNMENT, "--force", "--CourseDirectory.student_id_exclude=frank")
    batch = gradebook_scores(course.root)

    # After the due date: the course's late penalty (zero) applies, as in nbgrader autograde.
    nbgrader(course.root, "db", "assignment", "add", ASSIGNMENT, "--duedate=2020-01-01 00:00:00 UTC")
    inbound["ivan"] = students["ivan"].submit(correct)
    second = serve_once(course)
    feedback = {name: student.fetch_feedback() for name, student in students.items()}
    return course, students, inbound, feedback, scores, first + second, batch


def test_each_student_fetches_the_feedback_of_their_graded_submission(class_day):
    course, _, inbound, feedback, scores, output, _ = class_day
    top = scores["alice"]["total"]
    assert top == 20 and graded_score(next(iter(feedback["alice"].values()))) == 20.0
    assert scores["bob"]["sigmoid"] == 0 and 0 < scores["bob"]["total"] < top
    assert graded_score(next(iter(feedback["bob"].values()))) == scores["bob"]["total"]
    assert f"graded  alice  {ASSIGNMENT}  20/20" in output


def test_the_latest_submission_is_graded_and_the_earlier_one_says_so(class_day):
    course, _, inbound, feedback, scores, _, _ = class_day
    assert scores["carol"]["total"] == 20
    stamp = lambda folder: folder.name.split("+")[2]  # noqa: E731
    assert graded_score(feedback["carol"][stamp(inbound["carol"])]) == 20.0
    earlier = feedback["carol"][stamp(inbound["carol-first"])]
    assert "Not graded: submitted again" in earlier and "Only the latest submission is graded" in earlier
    outcomes = {entry["submission"]: entry["outcome"] for entry in course.journal()}
    assert outcomes[inbound["carol-first"].name] == "superseded" and outcomes[inbound["carol"].name] == "graded"


@pytest.mark.parametrize("student, why", [
    ("dave", f"no notebook named {NOTEBOOK}; it holds my copy.ipynb: rename it back to {NOTEBOOK}"),
    ("frank", f"{NOTEBOOK} is not a notebook (invalid JSON)"),
    ("grace", "larger than the 20 MB the course allows"),
    ("heidi", "pipe is not a regular file"),
])
def test_a_bad_submission_gets_a_page_saying_why_it_is_not_graded(class_day, student, why):
    course, _, _, feedback, scores, _, _ = class_day
    (page,) = feedback[student].values()
    assert "<h1>Not graded</h1>" in page and why in page.replace("&#x27;", "'"), page
    assert Course.at(course.root).status(ASSIGNMENT, student).startswith("not graded")  # as the export says


def test_a_link_to_the_instructors_files_is_refused_and_nothing_is_read_through_it(class_day):
    course, _, _, feedback, scores, _, _ = class_day
    assert "eve" not in scores
    assert not (course.root / "submitted" / "eve").exists()
    entry = next(e for e in course.journal() if e["student"] == "eve")
    assert entry["outcome"] == "not graded" and "symbolic link" in entry["reason"]
    (page,) = feedback["eve"].values()
    assert "symbolic link" in page and "BEGIN SOLUTION" not in page and "HIDDEN TESTS" not in page


def test_every_submission_is_handled_exactly_once_and_odd_entries_are_left_alone(class_day):
    course, _, inbound, _, _, _, _ = class_day
    handled = [entry["submission"] for entry in course.journal()]
    assert sorted(handled) == sorted(folder.name for folder in inbound.values())
    assert (course.inbound / "not a submission").is_dir()  # logged, not removed
    log = (course.root / ".catkit" / "serve" / "serve.log").read_text()
    assert "ignored 'not a submission'" in log and "is not a plain name" in log


def test_the_grades_are_those_of_nbgrader_autograde(class_day):
    _, _, _, _, scores, _, batch = class_day
    assert batch == scores


def test_after_the_due_date_the_late_penalty_applies_as_in_nbgrader_autograde(class_day):
    course, *_ = class_day
    served = gradebook_scores(course.root)["ivan"]
    assert served["total"] == 0 and served["model"] > 0  # on time it would be 20: the course's late penalty is zero
    nbgrader(course.root, "autograde", ASSIGNMENT, "--force", "--student=ivan")
    assert gradebook_scores(course.root)["ivan"] == served


def test_status_says_what_was_handled_and_what_failed(class_day):
    course, *_ = class_day
    text = status(course)
    assert "not running" in text and "queue: 0 waiting" in text
    assert "4 graded" in text and "5 not graded" in text and "1 superseded" in text
    assert "not graded  heidi" in text


@pytest.fixture()
def live(tmp_path):
    course = ExchangeCourse(tmp_path, "\nc.Serve.min_interval = 3600\n")
    server = Server(course)
    yield course, server
    server.stop(signal.SIGKILL)


def test_a_running_service_grades_limits_the_rate_survives_kill_9_and_stops_cleanly(live):
    course, server = live
    correct = solved(course.root)
    alice, bob = course.student("alice"), course.student("bob")
    alice.submit(correct)
    server.wait_graded(1)
    assert graded_score(next(iter(alice.fetch_feedback().values()))) == 20.0
    second = subprocess.run([str(BIN / "catkit"), "serve", "--once"], cwd=course.root, env=environment(),
                            capture_output=True, text=True, timeout=300)
    assert_clean_failure(second, "catkit serve is already running for this course", one_line=True)

    # The rate limit: alice's next submission waits (she is told until when); bob is graded meanwhile.
    again = alice.submit(correct)
    bob.submit(correct)
    server.wait_graded(2)
    server.wait_for(lambda: "1 waiting" in status(course), "alice's submission to wait")
    told = alice.fetch_feedback()[again.name.split("+")[2]]
    assert "Waiting to be graded" in told and "one submission per student every 3600 seconds" in told
    assert "rate limit: not before" in status(course)

    # kill -9 in the middle of grading: no process is left, and a restart grades the rest, once each.
    others = [course.student(name) for name in ("carol", "dave", "erin")]
    server.process.send_signal(signal.SIGSTOP)  # (so that the three wait together, however fast the machine)
    for student in others:
        student.submit(correct)
    server.process.send_signal(signal.SIGCONT)
    server.wait_for(lambda: '"grading": "' in (course.root / ".catkit/serve/status.json").read_text(),
                    "a grading to start")
    below = descendants(server.process.pid)
    assert below  # its grading processes (and their sandboxes)
    server.stop(signal.SIGKILL)
    left = lambda: {pid: line for (pid, start), line in below.items() if alive(pid, start)}  # noqa: E731
    deadline = time.monotonic() + 60
    while left() and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not left(), f"processes of the killed service still run: {left()}"
    restarted = Server(course)
    restarted.wait_graded(5)
    handled = [entry["submission"] for entry in course.journal()]
    assert len(handled) == len(set(handled)) == 5  # alice's waiting submission is not among them
    for student in others:
        assert graded_score(next(iter(student.fetch_feedback().values()))) == 20.0

    # SIGTERM while grading: the submission is finished, the service exits with 0.
    frank = course.student("frank")
    restarted.process.send_signal(signal.SIGSTOP)  # (SIGTERM is sent while frank's grading runs)
    frank.submit(correct)
    restarted.process.send_signal(signal.SIGCONT)
    restarted.wait_for(lambda: '"grading": "frank' in (course.root / ".catkit/serve/status.json").read_text(),
                       "frank's grading to start")
    assert restarted.stop(signal.SIGTERM) == 0
    assert course.journal()[-1]["student"] == "frank" and course.journal()[-1]["outcome"] == "graded"
    assert "waiting  alice" in status(course)
    assert Course.at(course.root).status(ASSIGNMENT, "frank") == "graded"
