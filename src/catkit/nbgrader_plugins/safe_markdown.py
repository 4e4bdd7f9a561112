"""A ``markdown2html`` filter for any HTML page of a submission: the formgrader's and the feedback.

nbgrader's formgrader renders a submission with nbconvert's ``HTMLExporter`` and its ``formgrade``
template, whose markdown block never cleans the HTML: a student's ``<img onerror>`` would run in the
instructor's authenticated Jupyter session. The exporter's class is fixed, but its filters are
configurable: ``c.HTMLExporter.filters = {"markdown2html": "catkit.nbgrader_plugins.safe_markdown.SafeMarkdown"}``
in nbgrader_config.py replaces the renderer. :class:`SafeMarkdown` renders a cell's markdown as
nbconvert does, then cleans it (cleaning.py): the instructor's cells (trust.py) with the instructor's
allow-list, any other cell with the student's, framed and labelled as the submission's. Heading ids
are kept once per page: a cell copied twice cannot duplicate an anchor.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from jinja2 import pass_context
from jinja2.runtime import Context
from nbconvert.filters.markdown_mistune import IPythonRenderer, MarkdownWithMath
from traitlets.config import LoggingConfigurable

from catkit.course import Course
from catkit.nbgrader_plugins.cleaning import clean_instructor, clean_student, student_frame
from catkit.nbgrader_plugins.maths import MathsBudget
from catkit.nbgrader_plugins.trust import instructor_sources, is_instructors, page_notebook

PAGE = "catkit_page"  # resources key of the page's PageState
ID = re.compile(r' id="([^"]*)"')


@dataclass
class PageState:
    """What one page has used up: heading ids, and the submission's maths drawn so far."""

    ids: set[str] = field(default_factory=set)
    maths: MathsBudget = field(default_factory=MathsBudget)
    trusted: frozenset[str] | None = None


def page_state(resources: dict[str, Any]) -> PageState:
    state = resources.get(PAGE)
    if not isinstance(state, PageState):
        state = resources[PAGE] = PageState()
    return state


def _is_comment(cell: Any, source: str) -> bool:
    comment = (cell.get("metadata") or {}).get("nbgrader", {}).get("comment") if hasattr(cell, "get") else None
    return comment is not None and str(comment) == str(source) and source != cell.get("source")


def clean_output(html: str) -> str:
    """``clean_html`` filter (outputs, raw cells): everything it gets is the submission's."""
    return student_frame(clean_student(str(html)))


class SafeMarkdown(LoggingConfigurable):
    """Jinja filter (an instance is made by the exporter, its parent): markdown to clean HTML."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        pass_context(self)  # jinja passes the template context: the cell and the page's resources
        self._course: Course | None = None

    def __call__(self, context: Context, source: str) -> str:
        html, trusted = self.render(context, source)
        return html if trusted else student_frame(html)

    def render(self, context: Context, source: str) -> tuple[str, bool]:
        """(cleaned HTML, whether the cell is the instructor's)."""
        cell = context.get("cell") or {}
        resources = context.get("resources") or {}
        state = page_state(resources)
        if _is_comment(cell, source):  # the grader's comment on an answer (nbgrader's feedback): not framed
            return clean_student(self._markdown(str(source), cell, resources, anchors=False)), True
        trusted = is_instructors(str(source), self._trusted(resources, state), resources)
        html = self._markdown(str(source), cell, resources, anchors=trusted)
        if not trusted:
            return clean_student(html), False
        return ID.sub(lambda m: self._unique(m, state.ids), clean_instructor(html)), True

    def _trusted(self, resources: dict[str, Any], state: PageState) -> frozenset[str]:
        if state.trusted is None:
            where = page_notebook(resources)
            state.trusted = frozenset()
            if where is not None:
                try:
                    state.trusted = instructor_sources(self._course_of(), *where)
                except Exception as error:  # noqa: BLE001 - no course, no trust: every cell is the student's
                    self.log.warning("catkit: the instructor's cells of %s/%s are unknown (%s): every "
                                     "markdown cell is shown as the submission's", *where, error)
        return state.trusted

    def _course_of(self) -> Course:
        if self._course is None:
            self._course = Course.of(self)
        return self._course

    def _markdown(self, source: str, cell: Any, resources: dict[str, Any], anchors: bool) -> str:
        """nbconvert's rendering (HTMLExporter.markdown2html): attachments, paths, maths kept as TeX."""
        exporter = self.parent
        renderer = IPythonRenderer(
            escape=False, attachments=dict(cell.get("attachments", {})),
            embed_images=anchors and bool(getattr(exporter, "embed_images", False)),  # reads local files
            path=resources.get("metadata", {}).get("path", ""),
            anchor_link_text=getattr(exporter, "anchor_link_text", "¶"),
            exclude_anchor_links=not anchors or bool(getattr(exporter, "exclude_anchor_links", False)),
            **getattr(exporter, "lexer_options", {}))
        return MarkdownWithMath(renderer=renderer).render(source)

    @staticmethod
    def _unique(match: re.Match[str], seen: set[str]) -> str:
        if match.group(1) in seen:
            return ""
        seen.add(match.group(1))
        return match.group(0)
