"""LaTeX in feedback pages, rendered when the page is written: the page needs no network.

nbgrader's feedback template loads MathJax from a CDN, so a student reading the page offline (or
behind a strict proxy) sees raw ``$\\frac{\\partial J}{\\partial w}$``. :func:`render_maths` replaces
each ``$...$`` and ``$$...$$`` of rendered markdown with a PNG drawn by matplotlib's mathtext
(a dependency already), embedded as a ``data:`` address, the LaTeX kept as its alt text;
:func:`drop_mathjax` removes the CDN script. What mathtext cannot draw is left as it was.

Drawing costs about 50 ms a snippet (0.5 s for 400 characters), and a submission decides how much
maths it holds: 3000 snippets in one cell took 187 s. So the submission's maths is drawn within a
:class:`MathsBudget` per page (``MAX_SNIPPETS`` snippets, ``MAX_MATHS_CHARS`` characters of LaTeX,
a few seconds at most); past it, the rest is shown as its LaTeX source. The instructor's cells
(a fixed, known amount, drawn once per process and cached) are not counted.
"""

from __future__ import annotations

import base64
import html
import io
import re
from dataclasses import dataclass
from functools import lru_cache

DISPLAY = re.compile(r"\$\$([^$<]+?)\$\$", re.S)
INLINE = re.compile(r"(?<![\\$])\$([^$<\n]+?)\$(?!\$)")
MATHJAX = re.compile(r"<!-- Load mathjax -->.*?<!-- End of mathjax configuration -->", re.S)
DPI = 200  # drawn at 200 dpi, shown at 100: sharp on high-density screens
FONT_PT = 11
MAX_CHARS = 400  # longer "maths" (a student's pasted text between dollars, say) is left as text
MAX_SNIPPETS = 60  # of a submission's own maths drawn per page (the instructor's notebook has 56 in all)
MAX_MATHS_CHARS = 4000  # characters of a submission's LaTeX drawn per page


@dataclass
class MathsBudget:
    """How much of a submission's maths one page may still draw."""

    snippets: int = MAX_SNIPPETS
    chars: int = MAX_MATHS_CHARS

    def take(self, latex: str) -> bool:
        """Whether ``latex`` may be drawn (and count it); False once the page's budget is spent."""
        if self.snippets <= 0 or len(latex) > self.chars:
            self.snippets = 0 if len(latex) > self.chars else self.snippets
            return False
        self.snippets -= 1
        self.chars -= len(latex)
        return True


def _mathtext(latex):
    """The LaTeX the notebook uses, in mathtext's dialect: \\tag{n} becomes a trailing (n)."""
    tag = re.search(r"\\tag\{([^}]*)\}", latex)
    latex = re.sub(r"\\tag\{[^}]*\}", "", latex)
    latex = re.sub(r"\\text\{([^}]*)\}", lambda m: r"\mathrm{" + (m.group(1).strip() or r"\ ") + "}", latex)
    return latex.strip(), tag.group(1) if tag else None


@lru_cache(maxsize=512)
def _png(latex):
    """(base64 PNG, width, height in CSS pixels, depth below the baseline) or None."""
    from matplotlib import mathtext
    from matplotlib.font_manager import FontProperties
    buffer = io.BytesIO()
    try:
        depth = mathtext.math_to_image(f"${latex}$", buffer, dpi=DPI, format="png",
                                       prop=FontProperties(size=FONT_PT))
    except Exception:  # noqa: BLE001 - whatever mathtext cannot parse stays as LaTeX text
        return None
    from PIL import Image
    buffer.seek(0)
    width, height = Image.open(buffer).size
    scale = 100 / DPI
    return (base64.b64encode(buffer.getvalue()).decode("ascii"), round(width * scale), round(height * scale),
            round((depth or 0) * scale))


def _img(latex: str, display: bool, budget: MathsBudget | None = None) -> str | None:
    if len(latex) > MAX_CHARS or (budget is not None and not budget.take(latex)):
        return None
    source, tag = _mathtext(html.unescape(latex))
    drawn = _png(source)
    if drawn is None:
        return None
    data, width, height, depth = drawn
    alt = html.escape(html.unescape(latex).strip(), quote=True)  # latex comes HTML-escaped: once, not twice
    image = (f'<img class="catkit-maths" src="data:image/png;base64,{data}" alt="{alt}" width="{width}" '
             f'height="{height}" style="vertical-align: -{depth}px">')
    if display:
        return f'<span class="catkit-display-maths">{image}{f" &nbsp; ({html.escape(tag)})" if tag else ""}</span>'
    return image


def render_maths(markup: str, budget: MathsBudget | None = None) -> str:
    """Rendered markdown with its maths drawn as images (trusted output: call after cleaning);
    with a ``budget`` (a submission's cells), only as much as it allows, the rest left as LaTeX."""
    def replace(display):
        return lambda match: _img(match.group(1), display, budget) or match.group(0)
    return INLINE.sub(replace(False), DISPLAY.sub(replace(True), str(markup)))


def drop_mathjax(page):
    """The page without nbconvert's MathJax loader (nothing is left for it to typeset)."""
    return MATHJAX.sub("<!-- maths drawn when the page was written: no MathJax -->", page)
