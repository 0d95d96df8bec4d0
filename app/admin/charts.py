"""Draw a console figure as SVG (with leather) and write it as CSV: numbers in, text out.

No database and no Flask here. The SVG uses presentation attributes only — no script, no <style>,
no style attributes, no external reference — so the console inlines it under its strict
Content-Security-Policy (style-src 'self', no 'unsafe-inline'). A suppressed value (a count under 5,
or a rate computed from one) is not drawn at all: no bar, a gap in a line. Its label and the table
say "< 5", so the picture never shows a size the numbers hide.
"""
from __future__ import annotations

import csv
import io
import math
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from datetime import date

import leather
from leather import theme

WIDTH, HEIGHT, NOTE_HEIGHT = 360, 240, 22  # drawn phone-sized: on a 360 px screen text stays ~12.5 px
COLOURS = ("#1f5fbf", "#b35c00")  # the console's blue, and an orange told apart by its dashes too
DASHES = ("none", "6 4")
LABEL_CHARS = 16  # a ranking's labels are cut to this; the table beside the chart has them whole

# leather reads its theme from module globals at render time; every chart in this process shares one
# look, so it is set once here rather than passed around.
for _name in ("title_font_family", "legend_font_family", "axis_title_font_family", "tick_font_family"):
    setattr(theme, _name, "system-ui, -apple-system, 'Segoe UI', Roboto, sans-serif")
theme.background_color, theme.label_color, theme.legend_color = "#ffffff", "#333333", "#333333"
theme.tick_color, theme.tick_font_size, theme.legend_font_size = "#e3e6eb", 15, 15
theme.tick_font_char_width = theme.legend_font_char_width = 8.5  # leather sizes margins from these
theme.tick_font_char_height = theme.legend_font_char_height = 15
theme.default_line_width, theme.margin = 2.5, 0.055  # room for half of the last day's label


@dataclass(frozen=True)
class Row:
    """One line of a figure's table: its label, the cells as shown, the values as drawn."""

    label: str
    cells: tuple[str, ...]  # as the table and the CSV show them: "12", "< 5", "83", "—"
    values: tuple[float | None, ...]  # as the chart draws them; None where suppressed (not drawn)


@dataclass(frozen=True)
class Figure:
    """One chart with the table beside it and its CSV; all three read these rows."""

    name: str  # in its CSV address, /admin/analytics/<name>.csv
    title: str
    caption: str  # what is counted, from which data, under which consent
    kind: str  # "days": a line per series over the window's days; "ranking": bars, largest first
    columns: tuple[str, ...]  # the label column's heading, then one heading per cell
    series: tuple[int, ...]  # the cells the chart draws
    percent: bool
    rows: tuple[Row, ...]


class _Line(leather.Line):
    """A leather line whose lone points still show (a day between two suppressed days) as dots."""

    def to_svg(self, width, height, x_scale, y_scale, series, palette):
        group = super().to_svg(width, height, x_scale, y_scale, series, palette)
        for place, path in enumerate(list(group)):
            _, x, y, *more = path.get("d").split()
            if not more:  # a moveto alone draws nothing
                group.remove(path)
                group.insert(place, ET.Element("circle", cx=x, cy=y, r="3.5", fill=path.get("stroke")))
        return group


def _ticks(top: float, most: int = 5) -> list[int]:
    """Return whole-number ticks from 0 past top in a round step (1, 2, 5, 10, 20…): counts have no halves."""
    step = 1
    while top / step > most:
        step = step * 5 // 2 if str(step)[0] == "2" else step * 2
    return list(range(0, int(top) + step, step))


def _days_chart(figure: Figure) -> leather.Chart:
    chart = leather.Chart()
    days = [date.fromisoformat(row.label) for row in figure.rows]
    drawn = [row.values[i] for row in figure.rows for i in figure.series if row.values[i] is not None]
    ticks = [0, 25, 50, 75, 100] if figure.percent and max(drawn) <= 100 else _ticks(max(drawn))
    # Days ticked back from today, at most four, inside the window (leather's own round to weeks past it).
    chart.add_x_scale(days[0], days[-1])
    chart.add_y_scale(0, ticks[-1])
    chart.add_x_axis(ticks=days[::-math.ceil(len(days) / 4)][::-1],
                     tick_formatter=lambda day, i, n: f"{day.day} {day:%b}")
    unit = " %" if figure.percent else ""
    chart.add_y_axis(ticks=ticks, tick_formatter=lambda value, i, n: f"{value:g}{unit}")
    for number, cell in enumerate(figure.series):
        chart.add_series(leather.Series([(day, row.values[cell]) for day, row in zip(days, figure.rows)],
                                        name=figure.columns[cell + 1]),
                         _Line(COLOURS[number % 2], stroke_dasharray=DASHES[number % 2]))
    return chart


def _short(label: str) -> str:
    """Cut a long label, at a word if one ends in its second half."""
    if len(label) <= LABEL_CHARS:
        return label
    cut = label[:LABEL_CHARS - 1]
    if " " in cut[LABEL_CHARS // 2:]:
        cut = cut[:cut.rindex(" ")]
    return cut.rstrip(" ,;:") + "…"


def _ranking_chart(figure: Figure) -> leather.Chart:
    chart = leather.Chart()
    cell = figure.series[0]
    # Labels carry the number as shown ("< 5" where suppressed) and their rank, which keeps them unique.
    data = [(row.values[cell], f"{rank}. {_short(row.label)}: {row.cells[cell]}")
            for rank, row in enumerate(figure.rows, start=1)]
    chart.add_bars(list(reversed(data)), fill_color=COLOURS[0])  # leather draws the first at the bottom
    ticks = _ticks(max(v for v, _ in data if v is not None), most=3)
    chart.add_x_scale(0, ticks[-1])
    chart.add_x_axis(ticks=ticks, tick_formatter=lambda value, i, n: f"{value:g}")
    return chart


_CHARTS = {"days": _days_chart, "ranking": _ranking_chart}
_NOTES = {"days": "A gap in a line: under 5 that day", "ranking": "No bar: under 5 (labelled “< 5”)"}


def _drawable(figure: Figure) -> bool:
    return any(row.values[i] is not None for row in figure.rows for i in figure.series)


def svg(figure: Figure) -> str:
    """Return the figure as one <svg> element that scales to its container's width."""
    height = HEIGHT if _drawable(figure) else 0  # nothing to draw: the note alone, no empty frame
    root = ET.Element("svg", xmlns="http://www.w3.org/2000/svg", role="img",
                      viewBox=f"0 0 {WIDTH} {height + NOTE_HEIGHT}")
    root.set("aria-label", f"Chart: {figure.title}. The table beside it has the same numbers.")
    if height:
        root.append(_CHARTS[figure.kind](figure).to_svg_group(WIDTH, HEIGHT))
    text = ET.SubElement(root, "text", x="8", y=str(height + NOTE_HEIGHT - 6), fill="#444444")
    text.set("font-family", theme.tick_font_family)
    text.set("font-size", "14")
    text.text = _NOTES[figure.kind] if height else "Nothing to draw: all under 5, or none"
    return ET.tostring(root, encoding="unicode", short_empty_elements=True)


def csv_text(figure: Figure) -> str:
    """Return the figure's table as CSV: the same rows and cells the page shows."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(figure.columns)
    for row in figure.rows:
        # A spreadsheet runs a cell starting with = + - @ as a formula; labels can be visitor questions.
        label = "'" + row.label if row.label[:1] in ("=", "+", "-", "@", "\t", "\r") else row.label
        writer.writerow((label, *row.cells))
    return out.getvalue()
