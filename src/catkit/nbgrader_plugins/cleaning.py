"""HTML of a notebook's markdown, cleaned for a page the instructor or a student opens.

Two policies, both bleach (nbconvert's sanitizer) with an allow-list, then a filter that keeps the
page offline:

- :func:`clean_instructor`: the instructor's own cells (trusted: see trust.py) keep headings and their
  anchors, tables, highlighted code, classes and images from the course folder or drawn inline;
- :func:`clean_student`: whatever a submission wrote keeps its structure (paragraphs, lists,
  emphasis, code, tables, headings) and nothing else: no attribute at all (no class, id or style, so
  it can neither restyle the page nor take the kit's anchors or look like the kit's table), and is
  framed and labelled as the submission's (:func:`student_frame`).

In both, a link to another site or an image from one is shown as text (its label and address):
the page requests nothing from the network, and no ``javascript:`` address survives (bleach drops
every address whose protocol is not allowed before the filter sees it). Tags outside the
allow-list (``<script>``, ``<svg>``, ``<style>``, ``<form>``, ...) are shown as text.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from bleach import ALLOWED_TAGS
from bleach.css_sanitizer import CSSSanitizer
from bleach.html5lib_shim import Filter
from bleach.sanitizer import Cleaner

HEADINGS = ["h1", "h2", "h3", "h4", "h5", "h6"]
STRUCTURE = sorted({*ALLOWED_TAGS, *HEADINGS, "p", "br", "hr", "div", "span", "pre", "kbd", "sub", "sup",
                    "del", "table", "thead", "tbody", "tr", "th", "td", "img"})
INSTRUCTOR_TAGS = sorted({*STRUCTURE, "font"})
CELL = ["style", "align", "colspan", "rowspan"]
INSTRUCTOR_ATTRIBUTES = {
    "*": ["class"],  # pygments' highlighting, the anchor links
    "a": ["href", "title", "name"],  # name: the instructor's <a name='4-2'> targets
    **{heading: ["id"] for heading in HEADINGS},  # targets of the table of contents
    "img": ["src", "alt", "title", "width", "height"],
    "font": ["color"],
    "table": ["style"], "th": CELL, "td": CELL,  # style: only bleach's safe CSS properties
}
# Seen by the filter below, which turns every link and image into text: nothing else is kept.
STUDENT_ATTRIBUTES = {"a": ["href"], "img": ["src", "alt"]}
PROTOCOLS = ["http", "https", "mailto", "data"]  # what the filter may see; it decides what stays
LOCAL_IMAGE = re.compile(r"data:image/(png|jpeg|gif);base64,|(?![a-z][a-z0-9+.-]*:|//)", re.I)
LABEL = "written in the submission"
FRAME = ('<div class="catkit-student" title="{label}" style="border-left: 4px solid #e3a21a; '
         'padding: 2px 0 2px 10px; margin: 4px 0;"><div class="catkit-student-label" style="font-size: 80%; '
         'color: #8a5a00; font-style: italic;">{label}:</div>{html}</div>')


def _words(*parts: str) -> list[dict[str, str]]:
    text = " ".join(p for p in parts if p) if len(parts) > 1 else parts[0]
    return [{"type": "Characters", "data": text}] if text else []


class _OfflineLinks(Filter):
    """Links and images that would leave the page become text; ``local`` keeps in-page anchors
    and images from the course folder or inline (the instructor's)."""

    local = False

    def __iter__(self) -> Iterator[dict[str, Any]]:
        opened: list[str | None] = []  # per open <a>: None if kept, else the address shown after its text
        for token in super().__iter__():
            name, kind = token.get("name"), token["type"]
            attributes = token.get("data") or {} if kind in ("StartTag", "EmptyTag") else {}
            if name == "a" and kind == "StartTag":
                href = attributes.get((None, "href"))
                if self.local and (href is None or href.startswith("#")):
                    opened.append(None)
                    yield token
                else:
                    opened.append(href or "")
            elif name == "a" and kind == "EndTag":
                shown = opened.pop() if opened else None
                if shown is None:
                    yield token
                elif shown:
                    yield from _words(f" ({shown})")
            elif name == "img":
                src = attributes.get((None, "src"), "")
                if self.local and LOCAL_IMAGE.match(src):
                    yield token
                else:
                    alt = attributes.get((None, "alt"), "")
                    yield from _words(f"[image{': ' + alt if alt else ''}]",
                                      f"({src})" if src and not src.startswith("data:") else "")
            else:
                yield token


class _InstructorLinks(_OfflineLinks):
    local = True


_INSTRUCTOR = Cleaner(tags=INSTRUCTOR_TAGS, attributes=INSTRUCTOR_ATTRIBUTES, protocols=PROTOCOLS,
                      css_sanitizer=CSSSanitizer(), strip=False, strip_comments=True, filters=[_InstructorLinks])
_STUDENT = Cleaner(tags=STRUCTURE, attributes=STUDENT_ATTRIBUTES, protocols=PROTOCOLS, strip=False,
                   strip_comments=True, filters=[_OfflineLinks])


def clean_instructor(html: str) -> str:
    """The instructor's rendered markdown, without anything that runs or leaves the page."""
    return _INSTRUCTOR.clean(str(html))


def clean_student(html: str) -> str:
    """A submission's rendered markdown: structure and text only (not yet framed)."""
    return _STUDENT.clean(str(html))


def student_frame(html: str) -> str:
    """Cleaned student markup inside the kit's frame, labelled as the submission's (the kit's own
    markup: the student's has no class or style, so it cannot draw or close this frame)."""
    return FRAME.format(label=LABEL, html=html)


CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")


def ansi_text(text: str) -> str:
    """Printed output as HTML (nbconvert's ``ansi2html``: colours kept, text escaped), without the
    control characters it leaves (cursor moves, terminal hyperlinks, bells)."""
    from nbconvert.filters.ansi import ansi2html
    return CONTROL.sub("", ansi2html(text))
