"""Charts as server-rendered inline SVG: no JavaScript, no inline styles (the CSP forbids
both), only SVG presentation attributes and the classes in insight.css.

Every chart is an `<svg role="img">` labelled by its own `<title>` and `<desc>`, and the
page puts the figure's data table right below it. Series are told apart by pattern and
by the numbers written on them as well as by colour (WCAG 1.4.1).
"""

from __future__ import annotations

from collections.abc import Sequence

from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

# Colours with at least 3:1 contrast against white; each series also has a pattern.
PALETTE = ["#0b4f71", "#b35c00", "#1e6b34", "#6a3d9a", "#a0161b", "#4a5563", "#00838f"]
# The five-point scale, from "Helt uenig" to "Helt enig": a diverging palette.
SCALE = ["#a0161b", "#e0787d", "#b8bfc7", "#6fa8c7", "#0b4f71"]
FONT = 12


def _e(value) -> str:
    return escape(str(value))


def _patterns(chart_id: str, colours: Sequence[str]) -> str:
    """One fill per series: solid, hatched, dotted, cross-hatched … over its colour."""
    out = []
    for i, colour in enumerate(colours):
        pid = f"{chart_id}-p{i}"
        kind = i % 4
        if kind == 0:
            mark = ""
        elif kind == 1:
            mark = '<path d="M0,6 L6,0" stroke="#fff" stroke-width="1.5"/>'
        elif kind == 2:
            mark = '<circle cx="3" cy="3" r="1.2" fill="#fff"/>'
        else:
            mark = '<path d="M0,0 L6,6 M6,0 L0,6" stroke="#fff" stroke-width="1"/>'
        out.append(f'<pattern id="{pid}" width="6" height="6" patternUnits="userSpaceOnUse">'
                   f'<rect width="6" height="6" fill="{colour}"/>{mark}</pattern>')
    return "<defs>" + "".join(out) + "</defs>"


def _text_class(colour: str) -> str:
    """White text on dark fills, dark text on light ones."""
    r, g, b = (int(colour[i:i + 2], 16) / 255 for i in (1, 3, 5))
    luminance = 0.2126 * r + 0.7152 * g + 0.0722 * b
    return "on-light" if luminance > 0.5 else "on-fill"


def _open(chart_id: str, width: int, height: int, title: str, desc: str) -> str:
    return (f'<svg class="chart" id="{chart_id}" role="img" viewBox="0 0 {width} {height}" width="100%" '
            f'preserveAspectRatio="xMinYMin meet" aria-labelledby="{chart_id}-t {chart_id}-d" '
            f'xmlns="http://www.w3.org/2000/svg">'
            f'<title id="{chart_id}-t">{_e(title)}</title><desc id="{chart_id}-d">{_e(desc)}</desc>')


def _label_width(labels: Sequence[str], least: int = 100, most: int = 340) -> int:
    """Room for the longest row label (about 7 px a character at 12 px)."""
    longest = max((len(str(label)) for label in labels), default=0)
    return max(least, min(most, 7 * longest + 16))


def _nice_max(value: float) -> float:
    if value <= 0:
        return 1
    for step in (1, 2, 5, 10, 20, 25, 50, 100, 200, 250, 500, 1000, 2000, 5000, 10_000, 20_000, 50_000,
                 100_000, 200_000, 500_000, 1_000_000):
        if value <= step * 5:
            return step * (int((value - 1e-9) // step) + 1)
    return value


def _ticks(top: float, count: int = 5) -> list[float]:
    step = top / count
    return [round(step * i, 6) for i in range(count + 1)]


def _fmt(value: float) -> str:
    if value == int(value):
        return f"{int(value):,}".replace(",", ".")
    return f"{value:.1f}".replace(".", ",")


def bar_chart(*, chart_id: str, title: str, desc: str, labels: Sequence[str], values: Sequence[float | None],
              value_labels: Sequence[str] | None = None, axis_label: str = "", max_value: float | None = None,
              width: int = 640) -> SafeString:
    """Horizontal bars: one per label, the value written at the end of the bar."""
    left, right, top, bar, gap = _label_width(labels), 90, 10, 22, 10
    height = top + len(labels) * (bar + gap) + 40
    numbers = [v or 0 for v in values]
    vmax = max_value or _nice_max(max(numbers, default=0))
    plot = width - left - right
    parts = [_open(chart_id, width, height, title, desc), _patterns(chart_id, PALETTE[:1])]
    axis_y = top + len(labels) * (bar + gap)
    for t in _ticks(vmax):
        x = left + plot * t / vmax
        parts.append(f'<line x1="{x:.1f}" y1="{top - 4}" x2="{x:.1f}" y2="{axis_y}" stroke="#c9d1da"/>'
                     f'<text x="{x:.1f}" y="{axis_y + 14}" text-anchor="middle">{_fmt(t)}</text>')
    for i, (label, value) in enumerate(zip(labels, values, strict=True)):
        y = top + i * (bar + gap)
        w = plot * (value or 0) / vmax
        text = value_labels[i] if value_labels else ("—" if value is None else _fmt(value))
        parts.append(f'<text x="{left - 8}" y="{y + bar * 0.7:.1f}" text-anchor="end">{_e(label)}</text>'
                     f'<rect x="{left}" y="{y}" width="{w:.1f}" height="{bar}" fill="url(#{chart_id}-p0)"/>'
                     f'<text x="{left + w + 6:.1f}" y="{y + bar * 0.7:.1f}">{_e(text)}</text>')
    parts.append(f'<line x1="{left}" y1="{top - 4}" x2="{left}" y2="{axis_y}" stroke="#1b1f24"/>')
    if axis_label:
        parts.append(f'<text x="{left + plot / 2:.1f}" y="{axis_y + 32}" text-anchor="middle">{_e(axis_label)}</text>')
    parts.append("</svg>")
    return mark_safe("".join(parts))


def column_chart(*, chart_id: str, title: str, desc: str, labels: Sequence[str], values: Sequence[float | None],
                 value_labels: Sequence[str] | None = None, x_label: str = "", y_label: str = "",
                 max_value: float | None = None, width: int = 640, height: int = 260) -> SafeString:
    """Vertical columns (histograms, series over time) with both axes labelled."""
    left, right, top, bottom = 56, 16, 22, 56
    plot_w, plot_h = width - left - right, height - top - bottom
    numbers = [v or 0 for v in values]
    vmax = max_value or _nice_max(max(numbers, default=0))
    n = max(len(labels), 1)
    slot = plot_w / n
    bar = max(min(slot * 0.7, 48), 2)
    parts = [_open(chart_id, width, height, title, desc), _patterns(chart_id, PALETTE[:1])]
    base = top + plot_h
    for t in _ticks(vmax):
        y = base - plot_h * t / vmax
        parts.append(f'<line x1="{left}" y1="{y:.1f}" x2="{width - right}" y2="{y:.1f}" stroke="#c9d1da"/>'
                     f'<text x="{left - 6}" y="{y + 4:.1f}" text-anchor="end">{_fmt(t)}</text>')
    every = max(1, int(n / 16) + (1 if n % 16 and n > 16 else 0))
    for i, (label, value) in enumerate(zip(labels, values, strict=True)):
        x = left + i * slot + (slot - bar) / 2
        h = plot_h * (value or 0) / vmax
        text = value_labels[i] if value_labels else ("—" if value is None else _fmt(value))
        parts.append(f'<rect x="{x:.1f}" y="{base - h:.1f}" width="{bar:.1f}" height="{h:.1f}" '
                     f'fill="url(#{chart_id}-p0)"/>')
        if text and (n <= 24 or value):
            parts.append(f'<text x="{x + bar / 2:.1f}" y="{base - h - 4:.1f}" text-anchor="middle" '
                         f'class="value">{_e(text)}</text>')
        if i % every == 0:
            parts.append(f'<text x="{x + bar / 2:.1f}" y="{base + 16}" text-anchor="middle">{_e(label)}</text>')
    parts.append(f'<line x1="{left}" y1="{base}" x2="{width - right}" y2="{base}" stroke="#1b1f24"/>'
                 f'<line x1="{left}" y1="{top}" x2="{left}" y2="{base}" stroke="#1b1f24"/>')
    if x_label:
        parts.append(f'<text x="{left + plot_w / 2:.1f}" y="{height - 12}" text-anchor="middle">{_e(x_label)}</text>')
    if y_label:
        parts.append(f'<text x="14" y="{top + plot_h / 2:.1f}" text-anchor="middle" '
                     f'transform="rotate(-90 14 {top + plot_h / 2:.1f})">{_e(y_label)}</text>')
    parts.append("</svg>")
    return mark_safe("".join(parts))


def stacked_percent_chart(*, chart_id: str, title: str, desc: str, rows: Sequence[tuple[str, Sequence[int]]],
                          series: Sequence[str], colours: Sequence[str] | None = None, width: int = 640,
                          suffix: Sequence[str] | None = None) -> SafeString:
    """100 % bars, one per row (a clock, a survey round), split into the series; each
    segment carries its percentage when there is room, and the legend repeats the patterns."""
    colours = list(colours or PALETTE)[: len(series)]
    left, right, top, bar, gap = _label_width([label for label, _c in rows]), 60, 10, 26, 12
    legend_rows = (len(series) + 2) // 3
    height = top + len(rows) * (bar + gap) + 30 + legend_rows * 20
    plot = width - left - right
    parts = [_open(chart_id, width, height, title, desc), _patterns(chart_id, colours)]
    for i, (label, counts) in enumerate(rows):
        y = top + i * (bar + gap)
        total = sum(counts)
        parts.append(f'<text x="{left - 8}" y="{y + bar * 0.68:.1f}" text-anchor="end">{_e(label)}</text>')
        x = float(left)
        if not total:
            parts.append(f'<rect x="{left}" y="{y}" width="{plot}" height="{bar}" fill="none" stroke="#c9d1da"/>'
                         f'<text x="{left + 6}" y="{y + bar * 0.68:.1f}">ingen</text>')
        for j, count in enumerate(counts):
            if not total or not count:
                continue
            w = plot * count / total
            share = 100 * count / total
            parts.append(f'<rect x="{x:.1f}" y="{y}" width="{w:.1f}" height="{bar}" fill="url(#{chart_id}-p{j})" '
                         f'stroke="#fff" stroke-width="1"/>')
            if w >= 34:
                parts.append(f'<text x="{x + w / 2:.1f}" y="{y + bar * 0.68:.1f}" text-anchor="middle" '
                             f'class="{_text_class(colours[j])}">{share:.0f} %</text>')
            x += w
        if suffix:
            parts.append(f'<text x="{left + plot + 6}" y="{y + bar * 0.68:.1f}">{_e(suffix[i])}</text>')
    ly = top + len(rows) * (bar + gap) + 10
    col_w = (width - 20) / 3
    for j, name in enumerate(series):
        lx = 10 + (j % 3) * col_w
        yy = ly + (j // 3) * 20
        parts.append(f'<rect x="{lx:.1f}" y="{yy}" width="14" height="14" fill="url(#{chart_id}-p{j})" '
                     f'stroke="#1b1f24" stroke-width="0.5"/><text x="{lx + 20:.1f}" y="{yy + 11}">{_e(name)}</text>')
    parts.append("</svg>")
    return mark_safe("".join(parts))
