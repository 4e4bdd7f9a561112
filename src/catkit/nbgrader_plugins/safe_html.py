"""Feedback HTML in which nothing a submission wrote can run.

nbconvert's ``HTMLExporter.sanitize_html`` cleans cell outputs, but nbgrader's feedback template
renders markdown cells with its own block, which never cleans them: a student's ``<script>``,
``onerror=`` or ``javascript:`` link reaches the page as written. :class:`SanitizingHTMLExporter`
(``c.GenerateFeedback.exporter_class``) turns ``sanitize_html`` on and cleans the HTML rendered
from markdown as well as the outputs, with nbconvert's own sanitizer (SanitizeHTML, i.e. bleach).
It cleans after markdown is rendered, so links written in markdown are checked too; then the
LaTeX is drawn into images (catkit/nbgrader_plugins/maths.py), so the page needs no CDN. The page
also gets the styles of the per-function table, and nbgrader's list of unnamed "Test cell" links
at the top names each cell's function.

nbconvert's allow-list escapes headings, paragraphs and table headers; the one below keeps what
the course's pages use: the per-function table (FunctionScores), headings and their anchors, the
instructor's tables, highlighted code, images. No event handler, script, style, form or frame;
addresses only http(s), mailto or relative (bleach's protocols), so a picture pasted into a
markdown cell (a data: address) shows as its alt text. Images of outputs are the template's.
"""

import re
from typing import Any

from bleach import ALLOWED_TAGS
from jinja2 import pass_context
from nbconvert.exporters import HTMLExporter
from nbconvert.filters import get_metadata
from nbconvert.preprocessors.sanitize import SanitizeHTML
from traitlets import default

from catkit.course import Course
from catkit.grading.layout import Layout
from catkit.nbgrader_plugins.maths import drop_mathjax, render_maths

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


STYLE = """<style>
.rendered_html table.catkit-scores { border-collapse: collapse; margin: 0.5em 0 1em; table-layout: auto; }
.rendered_html table.catkit-scores th, .rendered_html table.catkit-scores td {
  padding: 6px 16px; text-align: left; vertical-align: top; border: none; border-bottom: 1px solid #ddd; }
.rendered_html table.catkit-scores th { background: #f3f3f3; font-weight: bold; white-space: nowrap; }
.rendered_html table.catkit-scores td:nth-child(2) { white-space: nowrap; text-align: right; }
.rendered_html th, .rendered_html td { padding: 4px 10px; }
.rendered_html table { max-width: 100%; }
.catkit-display-maths { display: block; text-align: center; margin: 0.6em 0; }
img.catkit-maths { display: inline; margin: 0; }
#toc li { margin: 2px 0; }
.catkit-toc-links { color: #555; }
</style>
"""
TOC = re.compile(r'(<div id="toc">\s*<ol>)(.*?)(</ol>)', re.S)
TOC_ITEM = re.compile(r'<li><a href="#([^"]+)">([^<]*)</a>(?: \(Score: ([0-9.]+) / ([0-9.]+)\))?</li>')


def _table_of_contents(page, layout):
    """nbgrader's list at the top of the page (a "Test cell" or "Comment" link per cell, unnamed)
    becomes one line per function: its points, with links to its visible checks, hidden tests and
    comment. Lines that belong to no function (a late penalty, say) stay as nbgrader wrote them."""
    match = TOC.search(page)
    if match is None:
        return page
    functions: dict[str, dict[str, Any]] = {}
    others: list[str] = []
    for item in re.findall(r"<li.*?</li>", match.group(2), re.S):
        found = TOC_ITEM.fullmatch(item)
        function = layout.function_of(found.group(1).removeprefix("comment-")) if found else None
        if function is None or found is None:
            if found is None or not found.group(1).startswith("comment-"):  # empty comments on exercises: noise
                others.append(item)
            continue
        anchor, _, score, points = found.groups()
        entry = functions.setdefault(function, {"score": 0.0, "points": 0.0, "links": []})
        if anchor.startswith("comment-"):
            entry["links"].append(f'<a href="#{anchor}">your answer</a>')
            continue
        entry["score"] += float(score)
        entry["points"] += float(points)
        kind = "hidden tests" if anchor.endswith("hidden_tests") else "visible checks"
        entry["links"].append(f'<a href="#{anchor}">{kind}</a> {float(score):g} / {float(points):g}')
    lines = [f'<li><code>{name}</code>: {entry["score"]:g} / {entry["points"]:g} '
             f'<span class="catkit-toc-links">({", ".join(entry["links"])})</span></li>'
             for name, entry in functions.items()]
    return page[:match.start(2)] + "\n".join(lines + others) + page[match.end(2):]


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
        return render_maths(self.clean_html(super().markdown2html(context, source)))

    def from_notebook_node(self, nb, resources=None, **kw):
        output, resources = super().from_notebook_node(nb, resources, **kw)
        info = resources.get("nbgrader", {})
        layout = (Course.of(self).notebook_layout(info["assignment"], info["notebook"])
                  if "assignment" in info and "notebook" in info else Layout())
        output = _table_of_contents(drop_mathjax(output), layout)
        return output.replace("</head>", STYLE + "</head>", 1), resources

    def default_filters(self):
        yield from super().default_filters()
        yield ("clean_html", self.clean_html)
        yield ("get_metadata", image_metadata)
