"""Server-side SVG charts (stacked bars, grouped bars, radar), shared by pages, PDF and API.

Every chart is a function of its keyword arguments and the active language only, and returns
standalone SVG 1.1 markup as a ``str`` (callers mark it safe). Design choices, in one place:

- Accessibility: the root has ``role="img"`` and ``aria-labelledby`` pointing at ``<title>`` and
  ``<desc>``, which come first; each bar, segment and radar point has its own ``<title>`` giving
  category, series and value (tooltips). Pages still show the data table beside the chart.
- The site's Content-Security-Policy forbids inline styles: presentation attributes only, no
  ``style``, no ``<style>``, no script, no external reference. A white background is drawn so the
  chart reads the same in a dark page, a PDF or an image viewer.
- Colours: Okabe–Ito (colour-blind safe); series also differ without colour: fixed order (legend
  order = stacking order = bar order), value labels, and on radars dash patterns and marker shapes.
- Bars are horizontal with the category label on its own line(s) above the bar, so long labels
  keep the full width on a phone; a label wraps onto a second line (three beside a radar), then
  is cut with "…" and keeps its full text in a ``<title>``. Text widths are estimated from
  DejaVu Sans advances (no font metrics on the server; narrower fonts only leave more room).
- Numbers: integers with U+202F as thousands separator ("12 345"), other values with one decimal,
  percents with one decimal below 10 and rounded above ("4.5%", "37%"); halves round up.
  ``format_number`` is pure; the charts write numbers in the active language, resolved when the
  chart is built (unless ``decimal_separator`` is given), so a French page or PDF says "8,8 %"
  (U+202F before the sign, French typography) like the tables beside the chart.
- A radar with fewer than 3 axes cannot draw a polygon: it falls back to ``grouped_bar_chart`` with
  the same data (a radar compares series, so the grouped chart, not the stacked one, says the same).
- Ids: ``chart_id`` or a hash of the chart's kind and data, so several charts fit on one page
  (two identical charts on one page need an explicit ``chart_id``).
- Output is deterministic and coordinates are rounded to one decimal.
"""

from __future__ import annotations

import hashlib
import math
import numbers
import re
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from django.utils import formats, translation
from django.utils.translation import gettext as _

__all__ = [
    "PALETTE",
    "Series",
    "format_number",
    "grouped_bar_chart",
    "radar_chart",
    "stacked_bar_chart",
]

# Okabe & Ito, "Color Universal Design" (2008): blue, vermillion, bluish green, reddish purple,
# orange, sky blue, yellow, black. The first four keep a 3:1 contrast with white (WCAG 1.4.11).
PALETTE = (
    "#0072B2",
    "#D55E00",
    "#009E73",
    "#CC79A7",
    "#E69F00",
    "#56B4E9",
    "#F0E442",
    "#000000",
)
_DASHES = ("", "6 4", "2 3", "8 3 2 3")
_FONT = "system-ui, sans-serif"
_INK = "#1a1a1a"
_MUTED = "#595959"
_GRID = "#c8c8c8"
_NNBSP = "\u202f"
# Languages whose typography separates the percent sign from the number (others write "8.8%").
_PERCENT_SIGNS = {"fr": _NNBSP + "%"}
_ELLIPSIS = "…"
_MARGIN = 12.0
_BAR_WIDTH = 480.0
_RADAR_WIDTH = 600.0
_KEY_RE = re.compile(r"[A-Za-z0-9_-]+")
_ID_RE = re.compile(r"[A-Za-z_][A-Za-z0-9_.-]*")
_NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


@dataclass(frozen=True)
class Series:
    """One series of a chart: a stable key, a translated label, one value per category."""

    key: str
    label: str
    values: Sequence[float]


# --- numbers --------------------------------------------------------------------------------


def format_number(
    value: float, *, percent: bool = False, decimal_separator: str = ".", percent_sign: str = "%"
) -> str:
    """Format a chart value: "12 345" (U+202F), "2.5", "4.5%", "37%"; halves round up."""
    number = float(value)
    if not math.isfinite(number):
        raise ValueError(f"cannot format {value!r}")
    if number == 0:
        return "0" + percent_sign if percent else "0"
    if percent:
        tenths = Decimal(repr(number)).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)
        digits = 1 if abs(tenths) < 10 else 0
    else:
        digits = 0 if number.is_integer() else 1
    if number.is_integer():
        text = f"{int(number):,}"
    else:
        # Floats that are not integers are below 2**53: the default decimal context is enough.
        quantum = Decimal("0.1") if digits else Decimal(1)
        rounded = Decimal(repr(number)).quantize(quantum, rounding=ROUND_HALF_UP)
        text = f"{rounded:,.{digits}f}"
    head, _sep, tail = text.partition(".")
    if digits and not tail:
        tail = "0"
    text = head.replace(",", _NNBSP) + (decimal_separator + tail if digits else "")
    return text + (percent_sign if percent else "")


def _number_style(decimal_separator: str | None) -> tuple[str, str]:
    """(decimal separator, percent sign) of the active language; an explicit separator wins."""
    if decimal_separator is None:
        decimal_separator = str(formats.get_format("DECIMAL_SEPARATOR"))
    language = (translation.get_language() or "").split("-")[0]
    return decimal_separator, _PERCENT_SIGNS.get(language, "%")


# --- validation -----------------------------------------------------------------------------


def _checked_pairs(pairs: Sequence[tuple[str, str]], what: str) -> list[tuple[str, str]]:
    """Categories or axes as (code, label) string pairs."""
    checked = []
    for pair in pairs:
        if len(pair) != 2 or not all(isinstance(part, str) for part in pair):
            raise ValueError(f"each {what} must be a (code, label) pair of strings, not {pair!r}")
        checked.append((pair[0], pair[1]))
    return checked


def _checked_values(series: Sequence[Series], count: int) -> list[tuple[float, ...]]:
    """The series' values as floats; refuse wrong lengths, negative, NaN, infinite values."""
    keys: set[str] = set()
    rows = []
    for one in series:
        if not _KEY_RE.fullmatch(one.key):
            raise ValueError(f"series key {one.key!r} must be letters, digits, '_' or '-'")
        if one.key in keys:
            raise ValueError(f"series key {one.key!r} is used twice")
        keys.add(one.key)
        if len(one.values) != count:
            raise ValueError(
                f"series {one.key!r} has {len(one.values)} values for {count} categories"
            )
        row: list[float] = []
        for value in one.values:
            if isinstance(value, bool) or not isinstance(value, numbers.Real | Decimal):
                raise TypeError(f"series {one.key!r}: {value!r} is not a number")
            number = float(value)
            if not math.isfinite(number):
                raise ValueError(f"series {one.key!r}: {value!r} is not a finite number")
            if number < 0:
                raise ValueError(f"series {one.key!r}: negative value {value!r}")
            row.append(number)
        rows.append(tuple(row))
    return rows


def _checked_max(max_value: float | None, values: list[tuple[float, ...]]) -> float | None:
    """An explicit scale maximum: finite, positive, not below any value."""
    if max_value is None:
        return None
    top = float(max_value)
    if not math.isfinite(top) or top <= 0:
        raise ValueError(f"max_value must be a positive finite number, not {max_value!r}")
    if any(value > top for row in values for value in row):
        raise ValueError(f"a value exceeds max_value {max_value!r}")
    return top


def _chart_id(chart_id: str | None, *parts: object) -> str:
    """The given id, checked, or one derived from the chart's kind and data."""
    if chart_id is not None:
        if not _ID_RE.fullmatch(chart_id):
            raise ValueError(f"chart_id {chart_id!r} is not a valid XML id")
        return chart_id
    return "chart-" + hashlib.sha256(repr(parts).encode("utf-8", "replace")).hexdigest()[:12]


# --- text -----------------------------------------------------------------------------------


def _esc(text: str) -> str:
    """Escape text for XML content and attributes; characters XML cannot hold become U+FFFD."""
    text = _NOT_XML.sub("\ufffd", text)
    return (
        text.replace("&", "&amp;")
        .replace("<", "&lt;")
        .replace(">", "&gt;")
        .replace('"', "&quot;")
        .replace("'", "&#39;")
    )


def _oneline(text: str) -> str:
    """Collapse runs of whitespace (SVG would anyway) so width estimates hold."""
    return " ".join(text.split())


# Advances of printable ASCII (space to "~") in DejaVu Sans, hundredths of an em, measured in
# chromium: the widest usual fallback for system-ui, so estimates stay safe with narrower fonts.
_ASCII_ADVANCES = (
    "32 40 46 84 64 95 78 28 39 39 50 84 32 36 32 34 64 64 64 64 64 64 64 64 64 64 34 34 84 84 84 "
    "53 100 68 69 70 77 63 58 78 75 30 30 66 56 86 75 79 60 79 69 63 61 73 68 99 69 61 69 39 34 "
    "39 84 50 50 61 63 53 63 57 35 63 63 28 28 58 28 97 63 55 63 63 38 52 39 63 59 82 59 59 52 64 "
    "34 64 84"
)
_ASCII_EM = {chr(32 + i): int(w) / 100 for i, w in enumerate(_ASCII_ADVANCES.split())}
_BOLD_FACTOR = 1.15
# Kerning and hinting make real text a few percent wider than the sum of advances.
_SAFETY = 1.05


def _char_em(char: str) -> float:
    """Estimated advance of one character, in em."""
    if char in _ASCII_EM:
        return _ASCII_EM[char]
    if char == _NNBSP:
        return 0.2
    if unicodedata.combining(char):
        return 0.0
    if unicodedata.east_asian_width(char) in ("W", "F"):
        return 1.0
    if char in "—…œŒ‰":
        return 1.0
    if unicodedata.decomposition(char)[:1] not in ("", "<"):
        # Accented Latin letters are about as wide as their base letter.
        return _ASCII_EM.get(unicodedata.normalize("NFD", char)[:1], 0.7)
    return 0.7


def _width(text: str, size: float, *, bold: bool = False) -> float:
    """Estimated width of one line of text at a font size."""
    return sum(_char_em(char) for char in text) * size * _SAFETY * (_BOLD_FACTOR if bold else 1.0)


def _truncate(text: str, width: float, size: float, *, bold: bool = False) -> str:
    """The text if it fits the width, else its longest prefix that fits followed by "…"."""
    if _width(text, size, bold=bold) <= width:
        return text
    room = width - _width(_ELLIPSIS, size, bold=bold)
    used = 0.0
    cut = 0
    for index, char in enumerate(text):
        used += _char_em(char) * size * _SAFETY * (_BOLD_FACTOR if bold else 1.0)
        if used > room:
            break
        cut = index + 1
    return text[:cut].rstrip() + _ELLIPSIS


def _wrap(text: str, widths: Sequence[float], size: float, *, bold: bool = False) -> list[str]:
    """Greedy word wrap on as many lines as widths are given; the last line ends with "…"."""
    words = text.split()
    lines: list[str] = []
    for number, width in enumerate(widths):
        if not words:
            break
        if number == len(widths) - 1:
            lines.append(_truncate(" ".join(words), width, size, bold=bold))
            break
        line = words.pop(0)
        if _width(line, size, bold=bold) > width:
            # A word longer than the line is split where it stops fitting.
            head = _truncate(line, width, size, bold=bold)[:-1] or line[:1]
            words.insert(0, line[len(head) :])
            line = head
        while words and _width(f"{line} {words[0]}", size, bold=bold) <= width:
            line = f"{line} {words.pop(0)}"
        lines.append(line)
    return lines


# --- SVG building ---------------------------------------------------------------------------


def _n(value: float) -> str:
    """A coordinate rounded to one decimal, written compactly."""
    rounded = round(value, 1)
    if rounded == int(rounded):
        return str(int(rounded))
    return f"{rounded:.1f}"


def _attrs(attrs: dict[str, str | float]) -> str:
    """Attributes in the given order; numbers as coordinates, strings escaped."""
    return "".join(
        f' {name}="{_n(value) if isinstance(value, float | int) else _esc(value)}"'
        for name, value in attrs.items()
    )


def _el(name: str, attrs: dict[str, str | float], content: str | None = None) -> str:
    """One element; ``content`` is markup already escaped."""
    if content is None:
        return f"<{name}{_attrs(attrs)}/>"
    return f"<{name}{_attrs(attrs)}>{content}</{name}>"


def _title(text: str) -> str:
    """A ``<title>`` child (tooltip and accessible name of its parent)."""
    return f"<title>{_esc(text)}</title>"


def _text(x: float, y: float, content: str, **attrs: str | float) -> str:
    """A ``<text>`` at (x, y); keyword names use '_' for '-' (font_size → font-size)."""
    named = {"x": x, "y": y} | {name.replace("_", "-"): value for name, value in attrs.items()}
    return _el("text", named, content)


def _category_label(
    x: float, y: float, category: tuple[str, str], width: float
) -> tuple[str, float]:
    """A category's 'code – label' on up to two lines; returns the ``<text>`` and last baseline."""
    size, line_height = 13.0, 16.0
    code, label = _oneline(category[0]), _oneline(category[1])
    prefix = _truncate(f"{code} – " if label else code, width / 2, size, bold=True) if code else ""
    first_room = width - _width(prefix, size, bold=True)
    lines = _wrap(label, (first_room, width), size) if label else []
    content = f'<tspan font-weight="bold">{_esc(prefix)}</tspan>' if prefix else ""
    for number, line in enumerate(lines):
        if number == 0:
            content += _esc(line)
        else:
            content += f'<tspan x="{_n(x)}" dy="{_n(line_height)}">{_esc(line)}</tspan>'
    if prefix.rstrip(" –") != code or " ".join(lines) != label:
        content = _title(_full_label(*category)) + content
    text = _text(x, y, content, font_size=size, **{"class": "category"})
    return text, y + (max(len(lines), 1) - 1) * line_height


def _full_label(code: str, label: str) -> str:
    """The full category text for titles."""
    return f"{code} – {label}" if code and label else code or label


def _tooltip(category: tuple[str, str], series_label: str, value: str, value_label: str) -> str:
    """The text of one bar's, segment's or point's ``<title>``."""
    parts = [
        _full_label(*category),
        series_label,
        _("%(label)s: %(value)s") % {"label": value_label, "value": value}
        if value_label
        else value,
    ]
    return "; ".join(part for part in parts if part)


def _contrasting_ink(fill: str) -> str:
    """Black or white, whichever contrasts more with a '#rrggbb' fill (WCAG luminance)."""

    def channel(hex_pair: str) -> float:
        c = int(hex_pair, 16) / 255
        return c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4

    lum = 0.2126 * channel(fill[1:3]) + 0.7152 * channel(fill[3:5]) + 0.0722 * channel(fill[5:7])
    return "#000000" if (lum + 0.05) / 0.05 >= 1.05 / (lum + 0.05) else "#ffffff"


def _colour(index: int) -> str:
    """The palette colour of the series at an index (cycling after eight)."""
    return PALETTE[index % len(PALETTE)]


Swatch = Callable[[int, float, float], str]


def _bar_swatch(index: int, x: float, y_mid: float) -> str:
    """A filled square for bar-chart legends."""
    return _el(
        "rect", {"x": x, "y": y_mid - 6, "width": 12.0, "height": 12.0, "fill": _colour(index)}
    )


def _header(
    *,
    title: str,
    show_title: bool,
    legend: Sequence[str],
    swatch: Swatch,
    swatch_width: float,
    caption: str,
    width: float,
) -> tuple[list[str], float]:
    """Visible title, legend (wrapped) and caption; returns the markup and the next free y."""
    parts: list[str] = []
    plot = width - 2 * _MARGIN
    y = _MARGIN
    if show_title and title.strip():
        for line in _wrap(_oneline(title), (plot, plot), 16, bold=True):
            y += 20
            parts.append(_text(_MARGIN, y, _esc(line), font_size=16.0, font_weight="bold"))
        y += 6
    if legend:
        x = _MARGIN
        y_mid = y + 12
        for index, label in enumerate(legend):
            shown = _truncate(_oneline(label), min(240.0, plot - swatch_width - 6), 13)
            item = swatch_width + 6 + _width(shown, 13)
            if x > _MARGIN and x + item > width - _MARGIN:
                x = _MARGIN
                y_mid += 20
            content = (_title(label) if shown != _oneline(label) else "") + _esc(shown)
            parts.append(
                _el(
                    "g",
                    {"class": "legend-item"},
                    swatch(index, x, y_mid)
                    + _text(x + swatch_width + 6, y_mid + 4.5, content, font_size=13.0),
                )
            )
            x += item + 18
        y = y_mid + 8
    if caption.strip():
        y += 16
        shown = _truncate(_oneline(caption), plot, 12)
        parts.append(
            _text(_MARGIN, y, _esc(shown), font_size=12.0, fill=_MUTED, **{"class": "caption"})
        )
    return parts, y + 10


def _svg(
    chart_id: str, kind: str, width: float, height: float, title: str, desc: str, body: list[str]
) -> str:
    """The root element: title and desc first, white background, then the body."""
    title_id, desc_id = f"{chart_id}-title", f"{chart_id}-desc"
    head = _attrs(
        {
            "xmlns": "http://www.w3.org/2000/svg",
            "version": "1.1",
            "id": chart_id,
            "class": f"spiral-chart spiral-chart-{kind}",
            "viewBox": f"0 0 {_n(width)} {_n(height)}",
            "width": "100%",
            "role": "img",
            "aria-labelledby": f"{title_id} {desc_id}",
            "font-family": _FONT,
            "fill": _INK,
        }
    )
    return (
        f"<svg{head}>"
        f'<title id="{title_id}">{_esc(title)}</title>'
        f'<desc id="{desc_id}">{_esc(_description_or_title(desc, title))}</desc>'
        + _el("rect", {"x": 0.0, "y": 0.0, "width": width, "height": height, "fill": "#ffffff"})
        + "".join(body)
        + "</svg>"
    )


def _description_or_title(description: str, title: str) -> str:
    """The description, or the title when the caller gave none (desc must not be empty)."""
    return description if description.strip() else title


def _baseline(x: float, y1: float, y2: float) -> str:
    """The short vertical line where a category's bars start (visible even when empty)."""
    return _el(
        "line", {"x1": x, "y1": y1, "x2": x, "y2": y2, "stroke": _MUTED, "stroke-width": 1.0}
    )


def _length(value: float, top: float, room: float) -> float:
    """The length of a value on a scale whose top fills the room."""
    # Divide first: room / top is infinite for subnormal tops.
    return room * min(value / top, 1.0) if top > 0 else 0.0


def _no_data(y: float) -> str:
    """The line shown when there is nothing to draw."""
    return _text(_MARGIN, y + 16, _esc(_("No data to show.")), font_size=13.0, fill=_MUTED)


# --- bar charts -----------------------------------------------------------------------------


def stacked_bar_chart(
    *,
    title: str,
    description: str,
    categories: Sequence[tuple[str, str]],
    series: Sequence[Series],
    value_label: str,
    chart_id: str | None = None,
    show_title: bool = True,
    decimal_separator: str | None = None,
) -> str:
    """One horizontal bar per category, segments stacked in series order, total at the end."""
    cats = _checked_pairs(categories, "category")
    values = _checked_values(series, len(cats))
    try:
        totals = [math.fsum(row[i] for row in values) for i in range(len(cats))]
    except OverflowError:
        totals = [math.inf]
    if not all(math.isfinite(total) for total in totals):
        raise ValueError("values too large: a total is not a finite number")
    separator, percent_sign = _number_style(decimal_separator)
    cid = _chart_id(
        chart_id,
        "stacked",
        title,
        description,
        cats,
        [(s.key, s.label) for s in series],
        values,
        value_label,
        show_title,
        separator,
        percent_sign,
    )

    def fmt(value: float) -> str:
        return format_number(value, decimal_separator=separator)

    width = _BAR_WIDTH
    plot = width - 2 * _MARGIN
    parts, y = _header(
        title=title,
        show_title=show_title,
        legend=[s.label for s in series],
        swatch=_bar_swatch,
        swatch_width=12,
        caption=value_label,
        width=width,
    )
    if not cats:
        parts.append(_no_data(y))
        return _svg(cid, "stacked", width, y + 30, title, description, parts)

    total_texts = [fmt(total) for total in totals]
    reserve = min(max(_width(text, 12, bold=True) for text in total_texts) + 8, plot / 2)
    bar_room = plot - reserve
    top = max(totals)
    x0 = _MARGIN
    bar_height = 20.0
    for index, category in enumerate(cats):
        label, baseline = _category_label(x0, y + 13, category, plot)
        row = [label]
        bar_y = baseline + 6
        row.append(_baseline(x0, bar_y - 2, bar_y + bar_height + 2))
        cumulated = 0.0
        for position, (one, row_values) in enumerate(zip(series, values, strict=True)):
            value = row_values[index]
            if value <= 0:
                continue
            start = round(x0 + _length(cumulated, top, bar_room), 1)
            cumulated += value
            end = round(x0 + _length(cumulated, top, bar_room), 1)
            colour = _colour(position)
            tip = _tooltip(category, one.label, fmt(value), value_label)
            row.append(
                _el(
                    "rect",
                    {
                        "class": f"bar segment series-{one.key}",
                        "x": start,
                        "y": bar_y,
                        "width": round(end - start, 1),
                        "height": bar_height,
                        "fill": colour,
                        "stroke": "#ffffff",
                        "stroke-width": 1.0,
                    },
                    _title(tip),
                )
            )
            text = fmt(value)
            if end - start >= _width(text, 11) + 6:
                row.append(
                    _text(
                        (start + end) / 2,
                        bar_y + bar_height / 2 + 4,
                        _esc(text),
                        font_size=11.0,
                        text_anchor="middle",
                        fill=_contrasting_ink(colour),
                        **{"class": "value"},
                    )
                )
        end_x = x0 + _length(totals[index], top, bar_room)
        row.append(
            _text(
                end_x + 5,
                bar_y + bar_height / 2 + 4.5,
                _esc(total_texts[index]),
                font_size=12.0,
                font_weight="bold",
                **{"class": "total"},
            )
        )
        parts.append(_el("g", {"class": "category-row"}, "".join(row)))
        y = bar_y + bar_height + 12
    return _svg(cid, "stacked", width, y + 4, title, description, parts)


def grouped_bar_chart(
    *,
    title: str,
    description: str,
    categories: Sequence[tuple[str, str]],
    series: Sequence[Series],
    value_label: str,
    percent: bool = False,
    max_value: float | None = None,
    chart_id: str | None = None,
    show_title: bool = True,
    decimal_separator: str | None = None,
) -> str:
    """For each category one horizontal bar per series, side by side, value written beside."""
    cats = _checked_pairs(categories, "category")
    values = _checked_values(series, len(cats))
    top_value = _checked_max(max_value, values)
    separator, percent_sign = _number_style(decimal_separator)
    cid = _chart_id(
        chart_id,
        "grouped",
        title,
        description,
        cats,
        [(s.key, s.label) for s in series],
        values,
        value_label,
        percent,
        top_value,
        show_title,
        separator,
        percent_sign,
    )

    def fmt(value: float) -> str:
        return format_number(
            value, percent=percent, decimal_separator=separator, percent_sign=percent_sign
        )

    width = _BAR_WIDTH
    plot = width - 2 * _MARGIN
    parts, y = _header(
        title=title,
        show_title=show_title,
        legend=[s.label for s in series],
        swatch=_bar_swatch,
        swatch_width=12,
        caption=value_label,
        width=width,
    )
    if not cats:
        parts.append(_no_data(y))
        return _svg(cid, "grouped", width, y + 30, title, description, parts)

    texts = [[fmt(value) for value in row] for row in values]
    widest = max((_width(text, 11) for row in texts for text in row), default=0.0)
    reserve = min(widest + 8, plot / 2)
    bar_room = plot - reserve
    top = top_value if top_value is not None else max((v for row in values for v in row), default=0)
    x0 = _MARGIN
    bar_height, bar_gap = 15.0, 3.0
    for index, category in enumerate(cats):
        label, baseline = _category_label(x0, y + 13, category, plot)
        row = [label]
        bar_y = baseline + 6
        group_height = max(len(series), 1) * (bar_height + bar_gap) - bar_gap
        row.append(_baseline(x0, bar_y - 2, bar_y + group_height + 2))
        for position, (one, row_values) in enumerate(zip(series, values, strict=True)):
            value = row_values[index]
            length = round(_length(value, top, bar_room), 1)
            text = texts[position][index]
            if value > 0:
                row.append(
                    _el(
                        "rect",
                        {
                            "class": f"bar series-{one.key}",
                            "x": x0,
                            "y": bar_y,
                            "width": length,
                            "height": bar_height,
                            "fill": _colour(position),
                        },
                        _title(_tooltip(category, one.label, text, value_label)),
                    )
                )
            row.append(
                _text(
                    x0 + length + 4,
                    bar_y + bar_height / 2 + 4,
                    _esc(text),
                    font_size=11.0,
                    **{"class": "value"},
                )
            )
            bar_y += bar_height + bar_gap
        parts.append(_el("g", {"class": "category-row"}, "".join(row)))
        y = bar_y - bar_gap + 12
    return _svg(cid, "grouped", width, y + 4, title, description, parts)


# --- radar ----------------------------------------------------------------------------------


def _nice_scale(largest: float, *, integral: bool) -> tuple[float, float]:
    """(top, step) for rings at round values: at most 5 rings, steps 1, 2 or 5 × 10ⁿ."""
    # Rings need a step the eye can read: below 1 for counts or 1e-6 otherwise, values are
    # drawn at the centre anyway.
    largest = max(largest, 1.0 if integral else 1e-6)
    exponent = math.floor(math.log10(largest / 4))
    step = 10.0 ** (exponent + 1)
    for multiple in (1, 2, 5, 10):
        candidate = multiple * 10.0**exponent
        if integral and candidate < 1:
            continue
        if math.ceil(largest / candidate - 1e-9) <= 5:
            step = candidate
            break
    rings = max(1, math.ceil(largest / step - 1e-9))
    return rings * step, step


def _marker(index: int, x: float, y: float, colour: str, content: str = "") -> str:
    """A point marker whose shape depends on the series (circle, square, triangle, diamond)."""
    shape = index % 4
    attrs: dict[str, str | float]
    if shape == 0:
        attrs = {"cx": x, "cy": y, "r": 4.5}
    elif shape == 1:
        attrs = {"x": x - 4, "y": y - 4, "width": 8.0, "height": 8.0}
    else:
        offsets = (
            ((0, -5), (5, 4), (-5, 4)) if shape == 2 else ((0, -5.5), (5.5, 0), (0, 5.5), (-5.5, 0))
        )
        attrs = {"points": " ".join(f"{_n(x + dx)},{_n(y + dy)}" for dx, dy in offsets)}
    attrs |= {"fill": colour, "stroke": "#ffffff", "stroke-width": 1.0}
    name = ("circle", "rect", "polygon", "polygon")[shape]
    return _el(name, attrs, content or None)


def _radar_swatch(index: int, x: float, y_mid: float) -> str:
    """A short line in the series' dash pattern with its marker, for radar legends."""
    colour = _colour(index)
    line: dict[str, str | float] = {
        "x1": x,
        "y1": y_mid,
        "x2": x + 26,
        "y2": y_mid,
        "stroke": colour,
        "stroke-width": 2.5,
    }
    if _DASHES[index % len(_DASHES)]:
        line["stroke-dasharray"] = _DASHES[index % len(_DASHES)]
    return _el("line", line) + _marker(index, x + 13, y_mid, colour)


def radar_chart(
    *,
    title: str,
    description: str,
    axes: Sequence[tuple[str, str]],
    series: Sequence[Series],
    max_value: float | None = None,
    percent: bool = False,
    value_label: str = "",
    chart_id: str | None = None,
    show_title: bool = True,
    decimal_separator: str | None = None,
) -> str:
    """One polygon per series over the axes; fewer than 3 axes fall back to grouped bars."""
    axis_pairs = _checked_pairs(axes, "axis")
    values = _checked_values(series, len(axis_pairs))
    top_value = _checked_max(max_value, values)
    if len(axis_pairs) < 3:
        return grouped_bar_chart(
            title=title,
            description=description,
            categories=axis_pairs,
            series=series,
            value_label=value_label,
            percent=percent,
            max_value=top_value,
            chart_id=chart_id,
            show_title=show_title,
            decimal_separator=decimal_separator,
        )
    separator, percent_sign = _number_style(decimal_separator)
    cid = _chart_id(
        chart_id,
        "radar",
        title,
        description,
        axis_pairs,
        [(s.key, s.label) for s in series],
        values,
        top_value,
        percent,
        value_label,
        show_title,
        separator,
        percent_sign,
    )

    def fmt(value: float) -> str:
        return format_number(
            value, percent=percent, decimal_separator=separator, percent_sign=percent_sign
        )

    if top_value is not None:
        top, step = top_value, top_value / 4
    else:
        flat = [v for row in values for v in row]
        top, step = _nice_scale(max(flat, default=0.0), integral=all(v.is_integer() for v in flat))
        if not math.isfinite(top):
            raise ValueError("values too large for a radar scale")
    rings = max(1, round(top / step))

    width = _RADAR_WIDTH
    parts, y = _header(
        title=title,
        show_title=show_title,
        legend=[s.label for s in series],
        swatch=_radar_swatch,
        swatch_width=26,
        caption=value_label,
        width=width,
    )
    radius = 150.0
    count = len(axis_pairs)
    angles = [-math.pi / 2 + 2 * math.pi * i / count for i in range(count)]
    # The first axis points up; below the centre the chart only needs what its lowest axis
    # reaches (half the radius with 3 axes), plus room for that axis' label.
    depth = radius * max(math.sin(angle) for angle in angles)
    cx, cy = width / 2, y + 52 + radius

    def at(angle: float, distance: float) -> tuple[float, float]:
        return cx + distance * math.cos(angle), cy + distance * math.sin(angle)

    def points(distances: Sequence[float]) -> str:
        return " ".join(
            f"{_n(px)},{_n(py)}"
            for px, py in (at(a, d) for a, d in zip(angles, distances, strict=True))
        )

    grid = []
    for ring in range(1, rings + 1):
        grid.append(
            _el(
                "polygon",
                {
                    "class": "ring",
                    "points": points([radius * ring / rings] * count),
                    "fill": "none",
                    "stroke": "#8c8c8c" if ring == rings else _GRID,
                    "stroke-width": 1.0,
                },
            )
        )
    for angle in angles:
        ax, ay = at(angle, radius)
        grid.append(
            _el(
                "line",
                {"x1": cx, "y1": cy, "x2": ax, "y2": ay, "stroke": _GRID, "stroke-width": 1.0},
            )
        )
    parts.append(_el("g", {"class": "grid"}, "".join(grid)))

    for position, (one, row) in enumerate(zip(series, values, strict=True)):
        colour = _colour(position)
        distances = [radius * value / top for value in row]
        shape: dict[str, str | float] = {
            "class": "area",
            "points": points(distances),
            "fill": colour,
            "fill-opacity": 0.12,
            "stroke": colour,
            "stroke-width": 2.0,
            "stroke-linejoin": "round",
        }
        if _DASHES[position % len(_DASHES)]:
            shape["stroke-dasharray"] = _DASHES[position % len(_DASHES)]
        markers = [
            _marker(
                position,
                *at(angle, distance),
                colour,
                _title(_tooltip(axis, one.label, fmt(value), value_label)),
            )
            for angle, distance, axis, value in zip(angles, distances, axis_pairs, row, strict=True)
        ]
        parts.append(
            _el(
                "g", {"class": f"series series-{one.key}"}, _el("polygon", shape) + "".join(markers)
            )
        )

    # Ring values along the first (upward) axis, inside each ring, drawn above the areas.
    ring_labels = []
    for ring in range(1, rings + 1):
        ring_labels.append(
            _text(
                cx + 4,
                cy - radius * ring / rings + 11,
                _esc(fmt(step * ring)),
                font_size=10.0,
                fill=_MUTED,
            )
        )
    parts.append(_el("g", {"class": "ring-values"}, "".join(ring_labels)))

    labels = []
    size, line_height = 12.0, 14.0
    anchors = [at(angle, radius + 10) for angle in angles]
    for index, (angle, (code, label)) in enumerate(zip(angles, axis_pairs, strict=True)):
        lx, ly = anchors[index]
        cos, sin = math.cos(angle), math.sin(angle)
        if cos > 0.2:
            anchor, room = "start", width - 6 - lx
        elif cos < -0.2:
            anchor, room = "end", lx - 6
        else:
            # A centred label (top or bottom) must stop short of its neighbours' labels, which
            # start at their anchors and run away from it.
            between = abs(anchors[(index + 1) % count][0] - anchors[index - 1][0]) - 14
            anchor, room = "middle", min(2 * min(lx - 6, width - 6 - lx), between, 230.0)
        code, label = _oneline(code), _oneline(label)
        prefix = _truncate(code, room / 2, size, bold=True) if code else ""
        first_room = room - (_width(prefix + " ", size, bold=True) if prefix else 0)
        widths = (first_room, room) if anchor == "middle" else (first_room, room, room)
        lines = _wrap(label, widths, size) if label else []
        cut = prefix != code or " ".join(lines) != label
        # The block of lines moves from above the anchor (top) through centred (sides) to below
        # it (bottom), continuously, so diagonal labels clear the ring and their neighbours.
        block = max(len(lines), 1) * line_height
        first_y = ly + sin * (block / 2 + 2) - block / 2 + 11
        content = _title(_full_label(code, label)) if cut else ""
        if prefix:
            content += f'<tspan font-weight="bold">{_esc(prefix)}</tspan>'
            if lines:
                content += " "
        for number, line in enumerate(lines):
            if number == 0:
                content += _esc(line)
            else:
                content += f'<tspan x="{_n(lx)}" dy="{_n(line_height)}">{_esc(line)}</tspan>'
        labels.append(
            _text(lx, first_y, content, font_size=size, text_anchor=anchor, **{"class": "axis"})
        )
    parts.append(_el("g", {"class": "axis-labels"}, "".join(labels)))
    return _svg(cid, "radar", width, cy + depth + 58, title, description, parts)
