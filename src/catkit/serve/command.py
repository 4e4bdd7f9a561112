"""``catkit serve`` on the command line: run the service, or say how it is doing (``--status``)."""

from __future__ import annotations

import argparse
import os
import time
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # (nbgrader is slow to import: --help should not wait for it)
    from catkit.course import Course


def add_parser(commands: Any) -> None:
    served = commands.add_parser("serve", help="grade each submission as it arrives through the exchange and "
                                 "release its feedback (until Ctrl-C / SIGTERM)")
    served.add_argument("--status", action="store_true", help="say how the running service is doing, and exit")
    served.add_argument("--scheduler", metavar="tcp://HOST:PORT", help="grade on this dask.distributed cluster")
    served.add_argument("--once", action="store_true", help="grade what is waiting, then exit")


def run(course: Course, args: argparse.Namespace) -> None:
    if args.status:
        print(status_text(course))
        return
    from catkit.serve.service import Service
    Service(course, args.scheduler, say=lambda line: print(line, flush=True)).run(once=args.once)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def status_text(course: Course) -> str:
    from catkit.serve.journal import Journal
    journal = Journal(course.state_dir / "serve")
    status = journal.read_status()
    if status is None:
        return f"catkit serve has not run in {course.root} (no {journal.status_path})"
    running = status.get("running") and _alive(int(status["pid"]))
    age = time.time() - float(status["updated"])
    lines = [f"catkit serve: {'running, pid ' + str(status['pid']) if running else 'not running'} "
             f"(status of {age:.0f} s ago; watching {status['inbound']})",
             f"queue: {len(status['queue'])} waiting" + (f", grading {status['grading']}" if status["grading"] else ""),
             "handled: " + ", ".join(f"{count} {outcome}" for outcome, count in status["counts"].items())]
    for entry in status["queue"]:
        wait = f" (rate limit: not before {time.strftime('%H:%M:%S', time.gmtime(entry['not_before']))} UTC)" \
            if entry["not_before"] > time.time() else ""
        lines.append(f"  waiting  {entry['student']}  {entry['assignment']}  submitted {entry['submitted']}{wait}")
    if status["recent"]:
        last = status["recent"][-1]
        points = f"{last['points']:g}/{last['max_points']:g}" if "points" in last else last["reason"]
        lines.append(f"last graded: {last['student']}  {last['assignment']}  {points}  at {last['at']}")
    for failure in status["failures"][-5:]:
        lines.append(f"  {failure['outcome']}  {failure['student']}  {failure['assignment']}: "
                     f"{failure['reason'].splitlines()[0] if failure['reason'] else ''}")
    return "\n".join(lines)
