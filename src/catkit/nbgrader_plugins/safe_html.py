"""Feedback HTML in which nothing a submission wrote can run.

nbconvert's ``HTMLExporter.sanitize_html`` cleans cell outputs, but nbgrader's feedback template
renders markdown cells with its own block, which never cleans them: a student's ``<script>``,
``onerror=`` or ``javascript:`` link reaches the page as written. :class:`SanitizingHTMLExporter`
(``c.GenerateFeedback.exporter_class``) turns ``sanitize_html`` on and cleans the HTML rendered
from markdown as well as the outputs, with nbconvert's own sanitizer (SanitizeHTML, i.e. bleach).
It cleans after markdown is rendered, so links written in markdown are checked too, and LaTeX
reaches MathJax unchanged.

nbconvert's allow-list escapes headings, paragraphs and table headers; the one below keeps what
the course's pages use: the per-function table (FunctionScores), headings and their anchors, the
instructor's tables, highlighted code, images. No event handler, script, style, form or frame;
addresses only http(s), mailto or relative (bleach's protocols), so a picture pasted into a
markdown cell (a data: address) shows as its alt text. Images of outputs are the template's.
"""

from bleach import ALLOWED_TAGS
from jinja2 import pass_context
from nbconvert.exporters import HTMLExporter
from nbconvert.filters import get_metadata
from nbconvert.preprocessors.sanitize import SanitizeHTML
from traitlets import default

HEADINGS = ["h1", "h2", "h3", "h4", "h5", "h6"]
TAGS = sorted({*ALLOWED_TAGS, *HEADINGS, "p", "br", "hr", "div", "span", "pre", "kbd", "sub", "sup",
               "del", "font", "img", "table", "thead", "tbody", "tr", "th", "td"})
CELL = ["style", "align", "colspan", "rowspan"]
ATTRIBUTES = {
    "*": ["class"],  # pygments' highlighting, the anchor links
    "a": ["href", "title", "name"],  # name: the instructor's <a name='4-2'> targets
    **{heading: ["id"] for heading in HEADINGS},  # targets of the table of contents
    "img": ["src", "alt", "title", "width", "height"],
    "font": ["color"],
    "table": ["style"], "th": CELL, "td": CELL,  # style: only bleach's safe CSS properties
}


def image_metadata(output, key, mimetype=None):
    """nbconvert writes an image's width and height into <img> unquoted: only digits go there."""
    value = get_metadata(output, key, mimetype)
    return value if key not in ("width", "height") or str(value).isdigit() else None


class SanitizingHTMLExporter(HTMLExporter):

    @default("sanitize_html")
    def _sanitize_html_default(self):
        return True  # outputs: text/html cleaned, javascript and widgets left out

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self._sanitizer = SanitizeHTML(parent=self, tags=TAGS, attributes=ATTRIBUTES)

    def clean_html(self, html):
        return self._sanitizer.sanitize_html_tags(str(html))

    @pass_context  # like the method it extends: the renderer needs the cell (attachments)
    def markdown2html(self, context, source):
        return self.clean_html(super().markdown2html(context, source))

    def default_filters(self):
        yield from super().default_filters()
        yield ("clean_html", self.clean_html)
        yield ("get_metadata", image_metadata)
