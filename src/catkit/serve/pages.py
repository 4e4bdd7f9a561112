"""Pages for submissions that get no graded feedback: not graded (and why), waiting, superseded.

nbgrader's ``fetch_feedback`` looks, for each notebook of each submission in the student's
cache, for ``<exchange>/<course>/feedback/<md5(submission secret + notebook id)>.html``. A page
written there under that name reaches the student like graded feedback (and is replaced by it,
when the submission is graded later). Everything shown is escaped; the page loads nothing.
"""

from __future__ import annotations

import html
import os
from pathlib import Path

from nbgrader.utils import notebook_hash

from catkit.serve.inbox import Inbound

PAGE = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'">
<title>{title}</title>
<style>body {{ font-family: sans-serif; max-width: 46em; margin: 2em auto; line-height: 1.5; }}
.box {{ border-left: 6px solid {colour}; background: #f7f7f7; padding: 0.6em 1em; white-space: pre-wrap; }}</style>
</head><body>
<h1>{title}</h1>
<p>{assignment}, submitted by {student} at {submitted}.</p>
<div class="box">{message}</div>
</body></html>
"""

COLOURS = {"Not graded": "#c0392b", "Waiting to be graded": "#e1a500", "Not graded: submitted again": "#7f8c8d"}


def write(feedback_folder: Path, submission: Inbound, title: str, message: str) -> list[Path]:
    """Write the page for every notebook of ``submission`` (none if it has no secret or notebook:
    then ``fetch_feedback`` finds nothing to ask for). Returns the pages written."""
    secret = submission.secret()
    if secret is None:
        return []
    page = PAGE.format(title=html.escape(title), colour=COLOURS.get(title, "#c0392b"),
                       assignment=html.escape(submission.assignment), student=html.escape(submission.student),
                       submitted=html.escape(submission.timestamp.strftime("%Y-%m-%d %H:%M:%S UTC")),
                       message=html.escape(message))
    written = []
    feedback_folder.mkdir(parents=True, exist_ok=True)
    for notebook_id in submission.notebook_ids():
        path = feedback_folder / f"{notebook_hash(secret=secret, notebook_id=notebook_id)}.html"
        partial = path.with_suffix(".catkit-partial")
        partial.write_text(page, encoding="utf-8")
        os.chmod(partial, 0o644)
        partial.replace(path)  # atomic: fetch_feedback never reads half a page
        written.append(path)
    return written
