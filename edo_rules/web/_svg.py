"""Server-side SVG charts: no JavaScript, no CDN, readable as text.

Each chart is an ``<svg role="img">`` with a ``<title>`` and a ``<desc>``
listing every value, and prints each value next to its bar, so the numbers
do not depend on telling colours apart. Colours are the Okabe–Ito palette,
distinguishable with the common colour-vision deficiencies.
"""

from __future__ import annotations

from collections.abc import Sequence
from html import escape

from markupsafe import Markup

PALETTE = ("#0072B2", "#E69F00", "#009E73", "#D55E00", "#CC79A7", "#56B4E9")

_BAR_H = 22
_LABEL_W = 150
_WIDTH = 560


def bars(title: str, items: Sequence[tuple[str, float]], color: str = PALETTE[0]) -> Markup:
    """A horizontal bar chart of ``(label, value)`` pairs."""
    top = max((v for _, v in items), default=0) or 1
    span = _WIDTH - _LABEL_W - 60
    height = _BAR_H * len(items) + 10
    desc = "; ".join(f"{label}: {_num(value)}" for label, value in items)
    parts = [_open(title, desc, _WIDTH, height)]
    for i, (label, value) in enumerate(items):
        y = 5 + i * _BAR_H
        width = max(1.0, span * value / top) if value else 0
        parts.append(
            f'<text x="{_LABEL_W - 6}" y="{y + 15}" text-anchor="end">{escape(label)}</text>'
            f'<rect x="{_LABEL_W}" y="{y + 3}" width="{width:.1f}" height="{_BAR_H - 6}"'
            f' fill="{color}"/>'
            f'<text x="{_LABEL_W + width + 4:.1f}" y="{y + 15}">{_num(value)}</text>'
        )
    parts.append("</svg>")
    return Markup("".join(parts))


def columns(
    title: str, labels: Sequence[str], series: Sequence[tuple[str, Sequence[float]]]
) -> Markup:
    """Grouped vertical columns: one group per label, one column per series, with a legend."""
    height, base, legend_h = 240, 200, 20
    top = max((v for _, values in series for v in values), default=0) or 1
    group_w = (_WIDTH - 40) / max(1, len(labels))
    col_w = max(4.0, (group_w - 6) / max(1, len(series)))
    desc = "; ".join(
        f"{label}: " + ", ".join(f"{name} {_num(values[i])}" for name, values in series)
        for i, label in enumerate(labels)
    )
    parts = [_open(title, desc, _WIDTH, height + legend_h)]
    for s, (name, values) in enumerate(series):
        color = PALETTE[s % len(PALETTE)]
        parts.append(
            f'<rect x="{40 + s * 110}" y="4" width="12" height="12" fill="{color}"/>'
            f'<text x="{56 + s * 110}" y="15">{escape(name)}</text>'
        )
        for i, value in enumerate(values):
            h = (base - 40) * value / top
            x = 40 + i * group_w + s * col_w
            parts.append(
                f'<rect x="{x:.1f}" y="{base - h + legend_h:.1f}" width="{col_w - 1:.1f}"'
                f' height="{h:.1f}" fill="{color}"><title>{escape(labels[i])}: {escape(name)}'
                f" {_num(value)}</title></rect>"
            )
    for i, label in enumerate(labels):
        x = 40 + i * group_w + group_w / 2
        parts.append(
            f'<text x="{x:.1f}" y="{base + legend_h + 16}" text-anchor="middle"'
            f' class="tick">{escape(label)}</text>'
        )
    parts.append("</svg>")
    return Markup("".join(parts))


def _open(title: str, desc: str, width: int, height: int) -> str:
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" role="img" class="chart"'
        f' viewBox="0 0 {width} {height}" width="{width}" height="{height}"'
        f' aria-label="{escape(title)}"><title>{escape(title)}</title>'
        f"<desc>{escape(desc)}</desc>"
    )


def _num(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else f"{value:.1f}"
