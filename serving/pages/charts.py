"""Server-rendered SVG charts: pure functions from numbers and labels to an SVG string.

Every chart is an ``<svg role="img">`` named by its ``<title>`` and described by a ``<desc>``
(``aria-labelledby`` both), with axis labels that state the unit; pages put a table of the same
numbers next to it as the text alternative. Colours are set by presentation attributes (the
content security policy forbids inline styles), series also differ by dash pattern and marker
so that colour is never the only cue, and numbers carry at most 3 decimals. Labels are given
by the caller (already translated); every text is escaped here.

- :func:`waterfall`: a SHAP waterfall from the base value through each contribution to the
  score, in log-odds;
- :func:`bars`: horizontal bars (global importance, mean |SHAP|);
- :func:`line_chart`: lines over a numeric x axis (calibration with its diagonal, recall at
  capacity).

Example:
    >>> svg = bars([("income", 0.3), ("age", 0.1)], svg_id="imp", title="Importance",
    ...            axis_label="mean |SHAP| (log-odds)", desc="two features")
    >>> svg.startswith('<svg id="imp"') and "<title" in svg
    True
"""

from __future__ import annotations

import dataclasses
import math
import unicodedata
from collections.abc import Sequence

from markupsafe import escape

UP, DOWN, INK, MUTED, GRID = "#b3261e", "#1a5fb4", "#1f1f1f", "#4a4a4a", "#c8c8c8"
PALETTE = (  # colour, dash pattern, marker
    ("#1a5fb4", "", "circle"),
    ("#a14a00", "6 3", "square"),
    ("#2e6b30", "2 3", "triangle"),
    ("#6b3fa0", "8 3 2 3", "diamond"),
)
FONT = 13
ROW = 26
LABEL_UNITS = 34
"""Widest label, in half-width units (a CJK character counts two)."""


@dataclasses.dataclass(frozen=True)
class Series:
    """One line of a :func:`line_chart`: a legend label and its points."""

    label: str
    points: Sequence[tuple[float, float]]
    dashed: bool = False
    markers: bool = True


def fmt(value: float, digits: int = 3) -> str:
    """A number with at most ``digits`` decimals, trailing zeros dropped (``-0`` as ``0``);
    beyond a million in scientific notation (no long digit runs on a page).

    >>> fmt(0.14627), fmt(-3.0), fmt(-22638035560.4)
    ('0.146', '-3', '-2.26e+10')
    """
    if not math.isfinite(value):
        return "—"
    if abs(value) >= 1e6:
        return f"{value:.3g}"
    text = f"{value:.{digits}f}".rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


def signed(value: float, digits: int = 3) -> str:
    """A number with an explicit sign (``+0.4``, ``-0.12``)."""
    text = fmt(value, digits)
    return text if text.startswith("-") or text == "0" else f"+{text}"


def nice_ticks(lo: float, hi: float, count: int = 5) -> list[float]:
    """About ``count`` round tick values covering ``[lo, hi]`` (steps of 1, 2 or 5 × 10^k).

    >>> nice_ticks(0, 1)
    [0.0, 0.2, 0.4, 0.6, 0.8, 1.0]
    >>> nice_ticks(-3.9, -3.1, 4)
    [-4.0, -3.8, -3.6, -3.4, -3.2, -3.0]
    """
    if not (math.isfinite(lo) and math.isfinite(hi)):
        raise ValueError("tick bounds must be finite")
    if hi < lo:
        lo, hi = hi, lo
    if hi == lo:
        pad = abs(lo) * 0.1 or 1.0
        lo, hi = lo - pad, hi + pad
    raw = (hi - lo) / max(count, 1)
    power = 10 ** math.floor(math.log10(raw))
    step = next(m * power for m in (1, 2, 5, 10) if m * power >= raw)
    start = math.floor(lo / step + 1e-9) * step
    ticks: list[float] = []
    k = 0
    while True:
        value = start + k * step
        ticks.append(round(value, 10) + 0.0)
        if value >= hi - step * 1e-6:
            break
        k += 1
    return ticks


def shorten(label: str, units: int = LABEL_UNITS) -> str:
    """``label`` cut to ``units`` half-width units with an ellipsis (CJK counts two)."""
    out, used = [], 0
    for ch in label:
        w = 2 if unicodedata.east_asian_width(ch) in ("W", "F") else 1
        if used + w > units - 1:
            return "".join(out) + "…"
        out.append(ch)
        used += w
    return label


class _Scale:
    def __init__(self, lo: float, hi: float, a: float, b: float) -> None:
        self.lo, self.hi, self.a, self.b = lo, hi, a, b

    def __call__(self, v: float) -> float:
        span = (self.hi - self.lo) or 1.0
        return round(self.a + (v - self.lo) / span * (self.b - self.a), 2)


def _open(svg_id: str, width: int, height: int, title: str, desc: str) -> list[str]:
    i = escape(svg_id)
    return [
        f'<svg id="{i}" class="chart" xmlns="http://www.w3.org/2000/svg" role="img" '
        f'viewBox="0 0 {width} {height}" width="{width}" height="{height}" '
        f'aria-labelledby="{i}-title {i}-desc" font-size="{FONT}" '
        f'preserveAspectRatio="xMinYMin meet">',
        f'<title id="{i}-title">{escape(title)}</title>',
        f'<desc id="{i}-desc">{escape(desc)}</desc>',
    ]


def _text(
    x: float, y: float, text: str, anchor: str = "start", fill: str = INK, **attrs: str
) -> str:
    extra = "".join(f' {k.replace("_", "-")}="{escape(v)}"' for k, v in attrs.items())
    return (
        f'<text x="{x}" y="{y}" text-anchor="{anchor}" fill="{fill}"{extra}>{escape(text)}</text>'
    )


def _x_axis(scale: _Scale, ticks: Sequence[float], y: float, label: str, top: float) -> list[str]:
    out = [f'<line x1="{scale.a}" y1="{y}" x2="{scale.b}" y2="{y}" stroke="{INK}"/>']
    for t in ticks:
        x = scale(t)
        out.append(f'<line x1="{x}" y1="{top}" x2="{x}" y2="{y}" stroke="{GRID}"/>')
        out.append(f'<line x1="{x}" y1="{y}" x2="{x}" y2="{y + 5}" stroke="{INK}"/>')
        out.append(_text(x, y + 18, fmt(t), "middle"))
    out.append(_text((scale.a + scale.b) / 2, y + 38, label, "middle", font_weight="bold"))
    return out


def waterfall(
    base_value: float,
    contributions: Sequence[tuple[str, float]],
    score: float,
    *,
    svg_id: str,
    title: str,
    axis_label: str,
    desc: str,
    base_label: str,
    other_label: str,
    score_label: str,
    width: int = 720,
) -> str:
    """A SHAP waterfall: from ``base_value`` through each contribution to ``score`` (log-odds).

    What the listed contributions leave unexplained (``score - base - sum``) is drawn as one
    more bar, ``other_label``, so the bars always end at the score.

    Args:
        base_value: the expected raw score (SHAP base value).
        contributions: ``(label, value)`` in drawing order.
        score: the household's raw score (log-odds).
    """
    rest = score - base_value - sum(v for _, v in contributions)
    steps = [*contributions]
    if abs(rest) >= 5e-4:
        steps.append((other_label, rest))
    rows = len(steps) + 2
    left, right, top = 250, width - 80, 12
    height = top + rows * ROW + 56
    cums = [base_value]
    for _, v in steps:
        cums.append(cums[-1] + v)
    ticks = nice_ticks(min(cums), max(cums), 5)
    scale = _Scale(ticks[0], ticks[-1], left, right)
    axis_y = top + rows * ROW + 4
    out = _open(svg_id, width, height, title, desc)
    out += _x_axis(scale, ticks, axis_y, axis_label, top)

    def marker_row(i: int, label: str, value: float) -> list[str]:
        y = top + i * ROW
        x = scale(value)
        return [
            _text(left - 8, y + 17, shorten(label), "end", font_weight="bold"),
            f'<line x1="{x}" y1="{y + 3}" x2="{x}" y2="{y + ROW - 3}" stroke="{INK}" '
            f'stroke-width="3"/>',
            _text(right + 6, y + 17, fmt(value), "start", font_weight="bold"),
        ]

    out += marker_row(0, base_label, base_value)
    for i, (label, value) in enumerate(steps, start=1):
        y = top + i * ROW
        a, b = scale(cums[i - 1]), scale(cums[i])
        x0, w = min(a, b), max(abs(b - a), 1.0)
        colour = UP if value >= 0 else DOWN
        out.append(f"<g><title>{escape(label)}: {signed(value)}</title>")
        out.append(_text(left - 8, y + 17, shorten(label), "end"))
        out.append(
            f'<rect x="{x0}" y="{y + 5}" width="{round(w, 2)}" height="{ROW - 10}" '
            f'fill="{colour}"/>'
        )
        out.append(
            f'<line x1="{b}" y1="{y + ROW - 5}" x2="{b}" y2="{y + ROW + 5}" stroke="{MUTED}" '
            f'stroke-dasharray="2 2"/>'
        )
        out.append(_text(right + 6, y + 17, signed(value), "start", fill=colour))
        out.append("</g>")
    out += marker_row(rows - 1, score_label, score)
    out.append("</svg>")
    return "\n".join(out)


def bars(
    items: Sequence[tuple[str, float]],
    *,
    svg_id: str,
    title: str,
    axis_label: str,
    desc: str,
    width: int = 720,
) -> str:
    """Horizontal bars from zero, one row per ``(label, value)`` (values >= 0)."""
    left, right, top = 250, width - 80, 12
    rows = max(len(items), 1)
    height = top + rows * ROW + 56
    hi = max((v for _, v in items), default=1.0) or 1.0
    ticks = nice_ticks(0.0, hi, 5)
    scale = _Scale(0.0, ticks[-1], left, right)
    axis_y = top + rows * ROW + 4
    out = _open(svg_id, width, height, title, desc)
    out += _x_axis(scale, ticks, axis_y, axis_label, top)
    for i, (label, value) in enumerate(items):
        y = top + i * ROW
        w = max(scale(value) - left, 1.0)
        out.append(f"<g><title>{escape(label)}: {fmt(value)}</title>")
        out.append(_text(left - 8, y + 17, shorten(label), "end"))
        out.append(
            f'<rect x="{left}" y="{y + 5}" width="{round(w, 2)}" height="{ROW - 10}" '
            f'fill="{PALETTE[0][0]}"/>'
        )
        out.append(_text(left + w + 6, y + 17, fmt(value)))
        out.append("</g>")
    out.append("</svg>")
    return "\n".join(out)


def _marker(kind: str, x: float, y: float, colour: str) -> str:
    if kind == "square":
        return f'<rect x="{x - 4}" y="{y - 4}" width="8" height="8" fill="{colour}"/>'
    if kind == "triangle":
        pts = f"{x},{y - 5} {x - 5},{y + 4} {x + 5},{y + 4}"
        return f'<polygon points="{pts}" fill="{colour}"/>'
    if kind == "diamond":
        pts = f"{x},{y - 5} {x - 5},{y} {x},{y + 5} {x + 5},{y}"
        return f'<polygon points="{pts}" fill="{colour}"/>'
    return f'<circle cx="{x}" cy="{y}" r="4" fill="{colour}"/>'


def line_chart(
    series: Sequence[Series],
    *,
    svg_id: str,
    title: str,
    x_label: str,
    y_label: str,
    desc: str,
    x_range: tuple[float, float],
    y_range: tuple[float, float],
    x_ticks: Sequence[float] | None = None,
    x_tick_labels: Sequence[str] | None = None,
    width: int = 560,
    height: int = 400,
) -> str:
    """Lines over numeric axes, a legend under the plot; a dashed series has no colour
    of its own (grey), e.g. the diagonal of a calibration chart."""
    left, right, top = 64, width - 16, 14
    legend_rows = len(series)
    bottom = height - 58 - legend_rows * 20
    xs = _Scale(x_range[0], x_range[1], left, right)
    ys = _Scale(y_range[0], y_range[1], bottom, top)
    xt = list(x_ticks) if x_ticks is not None else nice_ticks(*x_range, 5)
    out = _open(svg_id, width, height, title, desc)
    out.append(f'<line x1="{left}" y1="{bottom}" x2="{right}" y2="{bottom}" stroke="{INK}"/>')
    for j, t in enumerate(xt):
        x = xs(t)
        text = x_tick_labels[j] if x_tick_labels is not None else fmt(t)
        out.append(f'<line x1="{x}" y1="{top}" x2="{x}" y2="{bottom}" stroke="{GRID}"/>')
        out.append(_text(x, bottom + 18, text, "middle"))
    out.append(_text((left + right) / 2, bottom + 38, x_label, "middle", font_weight="bold"))
    out.append(f'<line x1="{left}" y1="{top}" x2="{left}" y2="{bottom}" stroke="{INK}"/>')
    for t in nice_ticks(*y_range, 5):
        if t > y_range[1] + 1e-9:
            continue
        y = ys(t)
        out.append(f'<line x1="{left}" y1="{y}" x2="{right}" y2="{y}" stroke="{GRID}"/>')
        out.append(_text(left - 6, y + 4, fmt(t), "end"))
    cx, cy = 16, (top + bottom) / 2
    out.append(
        _text(cx, cy, y_label, "middle", font_weight="bold", transform=f"rotate(-90 {cx} {cy})")
    )
    styles = iter(PALETTE)
    for k, s in enumerate(series):
        colour, dash, marker = ("#595959", "5 4", "") if s.dashed else next(styles)
        pts = " ".join(f"{xs(x)},{ys(y)}" for x, y in s.points)
        dash_attr = f' stroke-dasharray="{dash}"' if dash else ""
        out.append(f"<g><title>{escape(s.label)}</title>")
        out.append(
            f'<polyline points="{pts}" fill="none" stroke="{colour}" stroke-width="2"{dash_attr}/>'
        )
        if s.markers and marker:
            out += [_marker(marker, xs(x), ys(y), colour) for x, y in s.points]
        ly = bottom + 58 + k * 20
        out.append(
            f'<line x1="{left}" y1="{ly - 4}" x2="{left + 28}" y2="{ly - 4}" stroke="{colour}" '
            f'stroke-width="2"{dash_attr}/>'
        )
        if marker:
            out.append(_marker(marker, left + 14, ly - 4, colour))
        out.append(_text(left + 36, ly, s.label))
        out.append("</g>")
    out.append("</svg>")
    return "\n".join(out)


def logistic_calibration(
    slope: float, intercept: float, x_max: float, steps: int = 40
) -> list[tuple[float, float]]:
    """Points of the fitted calibration curve ``observed = σ(intercept + slope · logit(p))``
    for ``p`` in ``(0, x_max]`` (what a calibration slope and intercept describe)."""
    out = []
    for i in range(1, steps + 1):
        p = x_max * i / steps
        p = min(max(p, 1e-6), 1 - 1e-6)
        z = min(max(intercept + slope * math.log(p / (1 - p)), -60.0), 60.0)
        out.append((round(p, 6), round(1 / (1 + math.exp(-z)), 6)))
    return out
