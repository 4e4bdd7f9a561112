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

Markdown is rendered and cleaned by SafeMarkdown (safe_markdown.py, the formgrader's filter too):
the instructor's cells keep headings and their anchors, tables, highlighted code and local images;
anything a submission wrote keeps its structure and text only (no class, id, style, link or image),
framed and labelled as the submission's. Links and images that would leave the page are shown as
text: the page requests nothing. Outputs (``text/html`` of a notebook graded elsewhere) get the
student's policy; the submission's maths is drawn within a budget (maths.py). Printed output is
wrapped and scrolls inside its box: it cannot widen or stretch the page.
"""

import re
from typing import Any

from jinja2 import pass_context
from nbconvert.exporters import HTMLExporter
from nbconvert.filters import get_metadata
from traitlets import default

from catkit.course import Course
from catkit.grading.layout import Layout
from catkit.nbgrader_plugins.cleaning import ansi_text, student_frame
from catkit.nbgrader_plugins.maths import drop_mathjax, render_maths
from catkit.nbgrader_plugins.safe_markdown import SafeMarkdown, clean_output, page_state

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
.catkit-student { border-left: 4px solid #e3a21a; padding: 2px 0 2px 10px; margin: 4px 0; overflow-x: auto; }
.output_text pre, .output_subarea pre { white-space: pre-wrap; overflow-wrap: anywhere; max-height: 40em;
  overflow: auto; }
.output_subarea, .text_cell_render { max-width: 100%; overflow-x: auto; }
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
        self._markdown = SafeMarkdown(parent=self)

    def clean_html(self, html):
        """Outputs and raw cells: a submission's, so the student's policy (framed)."""
        return clean_output(html)

    @pass_context  # like the method it extends: the renderer needs the cell (attachments)
    def markdown2html(self, context, source):
        html, trusted = self._markdown.render(context, source)
        if trusted:
            return render_maths(html)
        return student_frame(render_maths(html, page_state(context.get("resources") or {}).maths))

    def _create_environment(self):
        """Its own markdown2html, whatever ``c.HTMLExporter.filters`` gives the formgrader's exporter."""
        environment = super()._create_environment()
        environment.filters["markdown2html"] = self.markdown2html
        environment.filters["clean_html"] = self.clean_html
        environment.filters["ansi2html"] = ansi_text
        return environment

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
        yield ("ansi2html", ansi_text)
