"""Draw the one-neuron network of logistic regression for section 3 of the notebook.

    python scripts/draw_neuron_diagram.py [OUT]   (default: source/logistic_regression/images/logistic_regression.png)

The inputs x1 ... xn of one example, weighted by w1 ... wn, are summed with the bias b into
z = wᵀx + b; the sigmoid turns z into the prediction ŷ = a, and the loss compares a with the label y.
The picture is deterministic (no timestamp in the file), so rerunning the script changes nothing.
"""

import sys
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.patches import Circle, FancyArrowPatch, FancyBboxPatch  # noqa: E402

DEFAULT_OUT = (Path(__file__).resolve().parents[1] / "source" / "logistic_regression" / "images"
               / "logistic_regression.png")

INPUT = "#dbe9f6"
NEURON = "#fde9c9"
OUTPUT = "#d9f0d3"
LOSS = "#f6d5d5"
EDGE = "#333333"


def arrow(ax, start, end, label=None, label_xy=None, color=EDGE):
    ax.add_patch(FancyArrowPatch(start, end, arrowstyle="-|>", mutation_scale=16, lw=1.4, color=color,
                                 shrinkA=0, shrinkB=0))
    if label:
        ax.text(*label_xy, label, fontsize=12, ha="center", va="center", color=color,
                bbox=dict(boxstyle="round,pad=0.15", fc="white", ec="none"))


def box(ax, center, width, height, color, text, fontsize=14):
    x, y = center
    ax.add_patch(FancyBboxPatch((x - width / 2, y - height / 2), width, height,
                                boxstyle="round,pad=0.02,rounding_size=0.15",
                                fc=color, ec=EDGE, lw=1.4))
    ax.text(x, y, text, fontsize=fontsize, ha="center", va="center")


def draw(out):
    fig, ax = plt.subplots(figsize=(12, 5.2), dpi=120)
    ax.set_xlim(0, 12)
    ax.set_ylim(0, 5.2)
    ax.set_aspect("equal")
    ax.axis("off")

    # inputs: the n = 12288 numbers of one flattened picture
    ys = {"$x_1$": 4.2, "$x_2$": 3.2, "$x_n$": 1.2}
    for name, y in ys.items():
        ax.add_patch(Circle((1.0, y), 0.38, fc=INPUT, ec=EDGE, lw=1.4))
        ax.text(1.0, y, name, fontsize=15, ha="center", va="center")
    ax.text(1.0, 2.25, "⋮", fontsize=20, ha="center", va="center")
    ax.text(1.0, 0.35, "one picture, flattened:\n$n = 64 \\times 64 \\times 3 = 12288$ inputs",
            fontsize=10.5, ha="center", va="center")

    # the neuron: a weighted sum, then the sigmoid
    neuron = (5.0, 2.7)
    ax.add_patch(Circle(neuron, 1.05, fc=NEURON, ec=EDGE, lw=1.6))
    ax.plot([neuron[0], neuron[0]], [neuron[1] - 1.05, neuron[1] + 1.05], color=EDGE, lw=1.0, ls=":")
    ax.text(neuron[0] - 0.52, neuron[1] + 0.12, "$z$", fontsize=17, ha="center", va="center")
    ax.text(neuron[0] - 0.52, neuron[1] - 0.38, "sum", fontsize=9.5, ha="center", va="center")
    ax.text(neuron[0] + 0.52, neuron[1] + 0.12, "$\\sigma$", fontsize=17, ha="center", va="center")
    ax.text(neuron[0] + 0.52, neuron[1] - 0.38, "sigmoid", fontsize=9.5, ha="center", va="center")
    ax.text(neuron[0], 4.55, "$z = w^T x + b$", fontsize=14, ha="center", va="center")
    ax.text(neuron[0], 0.9, "$a = \\sigma(z) = \\dfrac{1}{1 + e^{-z}}$", fontsize=13, ha="center", va="center")

    weights = {"$x_1$": "$w_1$", "$x_2$": "$w_2$", "$x_n$": "$w_n$"}
    for name, y in ys.items():
        start, end = (1.4, y), (neuron[0] - 1.07, neuron[1] + (y - neuron[1]) * 0.35)
        arrow(ax, start, end, weights[name], ((start[0] + end[0]) / 2 - 0.1, (start[1] + end[1]) / 2 + 0.05))
    # the bias enters the sum too
    ax.add_patch(Circle((3.0, 0.45), 0.3, fc="white", ec=EDGE, lw=1.2))
    ax.text(3.0, 0.45, "$b$", fontsize=14, ha="center", va="center")
    arrow(ax, (3.22, 0.66), (neuron[0] - 0.72, neuron[1] - 0.78))

    # prediction, then the loss against the label
    box(ax, (8.05, 2.7), 1.6, 0.95, OUTPUT, "$\\hat{y} = a$")
    ax.text(8.05, 1.85, "probability of \"cat\"", fontsize=10.5, ha="center", va="center")
    arrow(ax, (neuron[0] + 1.07, 2.7), (7.23, 2.7))
    box(ax, (10.75, 2.7), 2.1, 0.95, LOSS, "$\\mathcal{L}(a, y)$")
    ax.text(10.75, 1.65, "$-y\\,\\log a \\;-\\; (1 - y)\\,\\log(1 - a)$", fontsize=10.5, ha="center", va="center")
    arrow(ax, (8.87, 2.7), (9.68, 2.7))
    ax.text(10.75, 4.05, "label $y$: 1 = cat, 0 = non-cat", fontsize=10.5, ha="center", va="center")
    arrow(ax, (10.75, 3.85), (10.75, 3.2))

    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out, bbox_inches="tight", pad_inches=0.1, metadata={"Software": None})
    plt.close(fig)
    return out


if __name__ == "__main__":
    print(draw(sys.argv[1] if len(sys.argv) > 1 else DEFAULT_OUT))
