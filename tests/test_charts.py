"""SVG charts: accessibility, no inline style, geometry matches the data, robustness."""

from __future__ import annotations

import itertools
import math
import re
import xml.etree.ElementTree as ET
from collections.abc import Callable, Iterator

import pytest
from django.utils import translation
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from spiral.core.charts import (
    PALETTE,
    Series,
    format_number,
    grouped_bar_chart,
    radar_chart,
    stacked_bar_chart,
)

SVG = "{http://www.w3.org/2000/svg}"
DIMENSIONS = [
    ("A", "Access to essential resources"),
    ("B", "Living environment"),
    ("C", "Relations with and between organisations"),
    ("D", "Personal relations"),
    ("E", "Social balances"),
    ("F", "Personal balance"),
    ("G", "Feelings of well-being/ill-being"),
    ("H", "Attitudes and initiatives"),
]
QUESTIONS = [
    Series("well_being", "Well-being", [120, 80, 35, 140, 22, 95, 60, 12]),
    Series("ill_being", "Ill-being", [90, 60, 48, 70, 30, 40, 55, 4]),
    Series("what_i_do", "What I do", [30, 25, 12, 60, 8, 20, 10, 1430]),
]
SCOPES = [
    Series("scope-a", "Young people", [22.5, 14.0, 6.3, 25.1, 4.2, 12.0, 9.9, 6.0]),
    Series("scope-b", "Elderly people", [30.1, 10.2, 8.8, 20.0, 3.0, 15.5, 7.4, 5.0]),
]


NNBSP = "\u202f"


@pytest.fixture(autouse=True)
def _english() -> Iterator[None]:
    # Charts write numbers in the active language: English unless a test overrides it to French.
    with translation.override("en"):
        yield


# The helpers take ``categories`` for every chart (the radar's ``axes``) and drop arguments a chart
# does not have, so one test can run against all three.


def stacked(**overrides: object) -> str:
    overrides.pop("percent", None)
    kwargs: dict[str, object] = {
        "title": "Criteria by dimension",
        "description": "Counts of criteria by dimension and question.",
        "categories": DIMENSIONS,
        "series": QUESTIONS,
        "value_label": "Number of criteria",
    }
    return stacked_bar_chart(**(kwargs | overrides))  # type: ignore[arg-type]


def grouped(**overrides: object) -> str:
    kwargs: dict[str, object] = {
        "title": "Young vs elderly people",
        "description": "Shares of criteria by dimension.",
        "categories": DIMENSIONS,
        "series": SCOPES,
        "value_label": "Share of criteria",
        "percent": True,
    }
    return grouped_bar_chart(**(kwargs | overrides))  # type: ignore[arg-type]


def radar(**overrides: object) -> str:
    if "categories" in overrides:
        overrides["axes"] = overrides.pop("categories")
    kwargs: dict[str, object] = {
        "title": "Young vs elderly people",
        "description": "Shares of criteria by dimension.",
        "axes": DIMENSIONS,
        "series": SCOPES,
        "percent": True,
    }
    return radar_chart(**(kwargs | overrides))  # type: ignore[arg-type]


CHARTS: list[Callable[..., str]] = [stacked, grouped, radar]


def parse(svg: str) -> ET.Element:
    root = ET.fromstring(svg)
    assert root.tag == f"{SVG}svg"
    return root


def view_box(root: ET.Element) -> tuple[float, float]:
    x, y, width, height = (float(v) for v in root.attrib["viewBox"].split())
    assert (x, y) == (0, 0)
    return width, height


def classes(element: ET.Element) -> list[str]:
    return element.get("class", "").split()


def with_class(root: ET.Element, name: str) -> list[ET.Element]:
    return [element for element in root.iter() if name in classes(element)]


def child_title(element: ET.Element) -> str | None:
    title = element.find(f"{SVG}title")
    return None if title is None else title.text


def all_text(element: ET.Element) -> str:
    """Rendered text of an element: its text and tspans, without its <title>."""
    parts = [element.text or ""]
    for child in element:
        if child.tag != f"{SVG}title":
            parts.append(all_text(child))
        parts.append(child.tail or "")
    return "".join(parts)


def points(element: ET.Element) -> list[tuple[float, float]]:
    pairs = element.attrib["points"].split()
    return [(float(x), float(y)) for x, y in (pair.split(",") for pair in pairs)]


def coordinates(root: ET.Element) -> Iterator[tuple[str, float]]:
    """Every absolute coordinate of the drawing, with the axis it lies on ('x' or 'y')."""
    axis_of = {"x": "x", "x1": "x", "x2": "x", "cx": "x", "y": "y", "y1": "y", "y2": "y"}
    axis_of |= {"cy": "y"}
    for element in root.iter():
        for name, axis in axis_of.items():
            if name in element.attrib:
                yield axis, float(element.attrib[name])
        if element.tag in (f"{SVG}rect",):
            yield "x", float(element.attrib["x"]) + float(element.attrib["width"])
            yield "y", float(element.attrib["y"]) + float(element.attrib["height"])
        if element.tag == f"{SVG}text":
            dys = sum(float(t.get("dy", "0")) for t in element.iter(f"{SVG}tspan"))
            yield "y", float(element.attrib["y"]) + dys
        if "points" in element.attrib:
            for x, y in points(element):
                yield "x", x
                yield "y", y


def assert_within_view_box(root: ET.Element) -> None:
    width, height = view_box(root)
    for axis, value in coordinates(root):
        assert math.isfinite(value)
        assert 0 <= value <= (width if axis == "x" else height), (axis, value)
    for element in root.iter():
        for name in ("width", "height", "r"):
            if name in element.attrib and element.tag != f"{SVG}svg":
                assert float(element.attrib[name]) >= 0


# --- structure and accessibility --------------------------------------------------------------


@pytest.mark.parametrize("chart", CHARTS)
def test_root_is_accessible_svg(chart: Callable[..., str]) -> None:
    root = parse(chart())
    assert root.attrib["role"] == "img"
    assert root.attrib["width"] == "100%"
    assert root.attrib["version"] == "1.1"
    title, desc = root[0], root[1]
    assert title.tag == f"{SVG}title"
    assert desc.tag == f"{SVG}desc"
    assert root.attrib["aria-labelledby"] == f"{title.attrib['id']} {desc.attrib['id']}"
    assert title.text in ("Criteria by dimension", "Young vs elderly people")
    assert desc.text in (
        "Counts of criteria by dimension and question.",
        "Shares of criteria by dimension.",
    )
    width, height = view_box(root)
    assert width > 0
    assert height > 0


@pytest.mark.parametrize("chart", CHARTS)
def test_no_style_script_or_external_reference(chart: Callable[..., str]) -> None:
    svg = chart()
    root = parse(svg)
    for element in root.iter():
        assert "style" not in element.attrib
        assert element.tag not in (f"{SVG}style", f"{SVG}script", f"{SVG}image", f"{SVG}a")
        assert not any("href" in name for name in element.attrib)
        assert not any(name.startswith("on") for name in element.attrib)
    assert "url(" not in svg
    assert "style" not in svg


@pytest.mark.parametrize("chart", CHARTS)
def test_ids_are_unique_and_prefixed(chart: Callable[..., str]) -> None:
    root = parse(chart())
    ids = [element.attrib["id"] for element in root.iter() if "id" in element.attrib]
    assert len(ids) == len(set(ids))
    assert all(identifier.startswith(root.attrib["id"]) for identifier in ids)


def test_two_charts_on_a_page_get_different_ids() -> None:
    first = parse(stacked())
    second = parse(stacked(title="Another title"))
    third = parse(grouped())
    assert len({first.attrib["id"], second.attrib["id"], third.attrib["id"]}) == 3


def test_explicit_chart_id_is_used_and_checked() -> None:
    root = parse(stacked(chart_id="synthesis-town"))
    assert root.attrib["id"] == "synthesis-town"
    assert root[0].attrib["id"] == "synthesis-town-title"
    for bad in ('x" onload="alert(1)', "chart\n", "1chart"):
        with pytest.raises(ValueError, match="chart_id"):
            stacked(chart_id=bad)


@pytest.mark.parametrize("chart", CHARTS)
def test_output_is_deterministic(chart: Callable[..., str]) -> None:
    assert chart() == chart()


@pytest.mark.parametrize("chart", CHARTS)
def test_every_coordinate_is_within_the_view_box(chart: Callable[..., str]) -> None:
    svg = chart()
    assert_within_view_box(parse(svg))
    # Compact: coordinates carry at most one decimal.
    assert not re.search(r"\d\.\d\d", svg.split("</desc>")[1].replace("…", ""))


def test_palette_is_okabe_ito() -> None:
    assert PALETTE[:3] == ("#0072B2", "#D55E00", "#009E73")


# --- stacked bars -----------------------------------------------------------------------------


def test_stacked_segment_widths_are_proportional_to_values() -> None:
    root = parse(stacked())
    rows = with_class(root, "category-row")
    assert len(rows) == len(DIMENSIONS)
    totals = [sum(s.values[i] for s in QUESTIONS) for i in range(len(DIMENSIONS))]
    widest_row = rows[totals.index(max(totals))]
    scale = sum(float(r.attrib["width"]) for r in with_class(widest_row, "segment")) / max(totals)
    for index, row in enumerate(rows):
        segments = with_class(row, "segment")
        expected = [s.values[index] for s in QUESTIONS if s.values[index] > 0]
        assert len(segments) == len(expected)
        for rect, value in zip(segments, expected, strict=True):
            assert float(rect.attrib["width"]) == pytest.approx(value * scale, abs=0.15)


def test_stacked_segments_follow_series_order_and_touch() -> None:
    root = parse(stacked())
    for row in with_class(root, "category-row"):
        segments = with_class(row, "segment")
        keys = [c.removeprefix("series-") for r in segments for c in classes(r) if "series-" in c]
        assert keys == [s.key for s in QUESTIONS]
        for left, right in itertools.pairwise(segments):
            end = float(left.attrib["x"]) + float(left.attrib["width"])
            assert float(right.attrib["x"]) == pytest.approx(end, abs=0.11)
        assert [r.attrib["fill"] for r in segments] == list(PALETTE[:3])


def test_stacked_total_label_is_the_sum_and_follows_the_bar() -> None:
    root = parse(stacked())
    for index, row in enumerate(with_class(root, "category-row")):
        (total,) = with_class(row, "total")
        assert all_text(total) == format_number(sum(s.values[index] for s in QUESTIONS))
        last = with_class(row, "segment")[-1]
        assert float(total.attrib["x"]) > float(last.attrib["x"]) + float(last.attrib["width"])
    assert "1\u202f446" in [all_text(t) for t in with_class(root, "total")]


def test_stacked_segments_have_titles_with_category_series_and_value() -> None:
    root = parse(stacked())
    first = with_class(root, "segment")[0]
    assert child_title(first) == (
        "A – Access to essential resources; Well-being; Number of criteria: 120"
    )


def test_stacked_value_labels_only_where_they_fit_and_contrast() -> None:
    root = parse(stacked())
    values = with_class(root, "value")
    assert values
    for text in values:
        assert text.attrib["fill"] in ("#000000", "#ffffff")
    # Blue takes white text, vermillion and green take black (higher contrast).
    row_a = with_class(root, "category-row")[0]
    fills = [t.attrib["fill"] for t in with_class(row_a, "value")]
    assert fills[0] == "#ffffff"
    assert fills[1] == "#000000"


def test_stacked_legend_lists_series_in_order() -> None:
    root = parse(stacked())
    items = with_class(root, "legend-item")
    assert [all_text(item.find(f"{SVG}text")) for item in items] == [  # type: ignore[arg-type]
        s.label for s in QUESTIONS
    ]


# --- grouped bars -----------------------------------------------------------------------------


def test_grouped_bar_widths_are_proportional_and_values_in_percent() -> None:
    root = parse(grouped())
    bars = with_class(root, "bar")
    values = [s.values[i] for i in range(len(DIMENSIONS)) for s in SCOPES]
    assert len(bars) == len(values)
    scale = float(bars[values.index(max(values))].attrib["width"]) / max(values)
    for rect, value in zip(bars, values, strict=True):
        assert float(rect.attrib["width"]) == pytest.approx(value * scale, abs=0.11)
    labels = [all_text(t) for t in with_class(root, "value")]
    assert labels[:4] == ["23%", "30%", "14%", "10%"]
    assert "6.3%" in labels
    assert "9.9%" in labels


def test_grouped_bars_side_by_side_in_series_order() -> None:
    root = parse(grouped())
    for row in with_class(root, "category-row"):
        bars = with_class(row, "bar")
        assert [b.attrib["fill"] for b in bars] == list(PALETTE[:2])
        ys = [float(b.attrib["y"]) for b in bars]
        assert ys == sorted(ys)
        assert ys[1] - ys[0] >= float(bars[0].attrib["height"])
        assert len({b.attrib["x"] for b in bars}) == 1


def test_grouped_max_value_sets_the_scale() -> None:
    root = parse(grouped(max_value=100))
    bars = with_class(root, "bar")
    root_auto = parse(grouped())
    widest_auto = max(float(b.attrib["width"]) for b in with_class(root_auto, "bar"))
    assert max(float(b.attrib["width"]) for b in bars) < widest_auto * 0.5
    with pytest.raises(ValueError, match="exceeds max_value"):
        grouped(max_value=25)


def test_grouped_counts_without_percent() -> None:
    root = parse(grouped(series=QUESTIONS, percent=False, value_label="Criteria"))
    labels = [all_text(t) for t in with_class(root, "value")]
    assert "1\u202f430" in labels
    assert not any(label.endswith("%") for label in labels)


# --- radar ------------------------------------------------------------------------------------


def radar_geometry(root: ET.Element) -> tuple[tuple[float, float], list[tuple[float, float]]]:
    """Centre and outer ring vertices."""
    axis_line = root.find(f".//{SVG}g[@class='grid']/{SVG}line")
    assert axis_line is not None
    centre = (float(axis_line.attrib["x1"]), float(axis_line.attrib["y1"]))
    outer = points(with_class(root, "ring")[-1])
    return centre, outer


def test_radar_points_inside_and_max_touches_outer_ring() -> None:
    series = [Series("a", "A", [100, 50, 0, 25, 75]), Series("b", "B", [10, 20, 30, 40, 50])]
    root = parse(radar(axes=DIMENSIONS[:5], series=series, max_value=100))
    (cx, cy), outer = radar_geometry(root)
    radius = math.dist((cx, cy), outer[0])
    areas = with_class(root, "area")
    assert len(areas) == 2
    for area in areas:
        for x, y in points(area):
            assert math.dist((cx, cy), (x, y)) <= radius + 0.1
    first = points(areas[0])
    assert first[0] == pytest.approx(outer[0], abs=0.1)
    assert first[2] == pytest.approx((cx, cy), abs=0.1)
    assert math.dist((cx, cy), first[1]) == pytest.approx(radius / 2, abs=0.15)
    assert_within_view_box(root)


def test_radar_automatic_scale_uses_round_rings() -> None:
    root = parse(radar())  # largest share 30.1% → rings up to 40%
    labels = [all_text(t) for g in with_class(root, "ring-values") for t in g]
    assert labels == ["10%", "20%", "30%", "40%"]
    counts = [Series("a", "A", [40, 10, 5]), Series("b", "B", [7, 3, 1])]
    root = parse(radar(axes=DIMENSIONS[:3], series=counts, percent=False))
    _centre, outer = radar_geometry(root)
    assert points(with_class(root, "area")[0])[0] == pytest.approx(outer[0], abs=0.1)
    labels = [all_text(t) for g in with_class(root, "ring-values") for t in g]
    assert labels == ["10", "20", "30", "40"]


def test_radar_series_differ_without_colour() -> None:
    root = parse(radar(series=[*SCOPES, Series("c", "C", [1] * 8)]))
    areas = with_class(root, "area")
    assert [a.get("stroke-dasharray") for a in areas] == [None, "6 4", "2 3"]
    groups = with_class(root, "series")
    shapes = [group[1].tag for group in groups]
    assert shapes == [f"{SVG}circle", f"{SVG}rect", f"{SVG}polygon"]


def test_radar_points_have_titles_and_axis_labels_have_codes() -> None:
    root = parse(radar())
    markers = [m for g in with_class(root, "series") for m in list(g)[1:]]
    assert len(markers) == len(DIMENSIONS) * len(SCOPES)
    assert child_title(markers[0]) == "A – Access to essential resources; Young people; 23%"
    axis_texts = with_class(root, "axis")
    assert len(axis_texts) == len(DIMENSIONS)
    for text, (code, _label) in zip(axis_texts, DIMENSIONS, strict=True):
        bold = text.find(f"{SVG}tspan")
        assert bold is not None
        assert bold.attrib["font-weight"] == "bold"
        assert bold.text == code


def test_radar_with_twelve_axes_stays_in_view() -> None:
    axes = [(chr(65 + i), f"A fairly long label for axis number {i}") for i in range(12)]
    series = [Series("a", "A", [float(i) for i in range(12)])]
    assert_within_view_box(parse(radar(axes=axes, series=series, percent=False)))


@pytest.mark.parametrize("count", [0, 1, 2])
def test_radar_with_fewer_than_three_axes_falls_back_to_grouped_bars(count: int) -> None:
    series = [Series("a", "A", [5.0] * count), Series("b", "B", [7.0] * count)]
    svg = radar(axes=DIMENSIONS[:count], series=series)
    root = parse(svg)
    assert "spiral-chart-grouped" in classes(root)
    assert root[0].text == "Young vs elderly people"
    assert len(with_class(root, "bar")) == 2 * count
    assert_within_view_box(root)


def test_radar_refuses_bad_max_value() -> None:
    with pytest.raises(ValueError, match="max_value"):
        radar(max_value=0)
    with pytest.raises(ValueError, match="max_value"):
        radar(max_value=math.inf)
    with pytest.raises(ValueError, match="exceeds max_value"):
        radar(max_value=30)


# --- robustness -------------------------------------------------------------------------------


@pytest.mark.parametrize("chart", CHARTS)
def test_all_zero_data_gives_a_readable_empty_chart(chart: Callable[..., str]) -> None:
    zeros = [Series("well_being", "Well-being", [0] * 8), Series("ill_being", "Ill-being", [0] * 8)]
    svg = chart(series=zeros)
    assert "nan" not in svg.lower()
    assert "inf" not in svg.lower()
    root = parse(svg)
    assert with_class(root, "bar") == []
    assert_within_view_box(root)
    texts = [all_text(t) for t in root.iter(f"{SVG}text")]
    assert any("Access to essential resources" in t for t in texts)


def test_zero_data_totals_read_zero() -> None:
    zeros = [Series("well_being", "Well-being", [0, 0])]
    root = parse(stacked(categories=DIMENSIONS[:2], series=zeros))
    assert [all_text(t) for t in with_class(root, "total")] == ["0", "0"]


@pytest.mark.parametrize("chart", [stacked, grouped])
def test_no_categories_says_so(chart: Callable[..., str]) -> None:
    root = parse(chart(categories=[], series=[Series("a", "A", [])]))
    assert "No data to show." in [all_text(t) for t in root.iter(f"{SVG}text")]
    assert_within_view_box(root)


def test_no_series_draws_empty_rows() -> None:
    root = parse(stacked(series=[]))
    assert len(with_class(root, "category-row")) == len(DIMENSIONS)
    assert with_class(root, "legend-item") == []


@pytest.mark.parametrize("chart", [stacked, grouped])
def test_single_category(chart: Callable[..., str]) -> None:
    series = [Series("a", "Only", [3])]
    root = parse(chart(categories=[("A", "Access")], series=series, percent=False))
    bars = with_class(root, "bar")
    assert len(bars) == 1
    assert child_title(bars[0]) is not None
    assert_within_view_box(root)


@pytest.mark.parametrize("chart", CHARTS)
def test_long_labels_are_cut_with_ellipsis_and_kept_whole_in_title(
    chart: Callable[..., str],
) -> None:
    long_label = "Attitudes and initiatives, commitment " * 8 + "end"
    unbroken = "x" * 300
    categories = [("A", long_label), ("B", unbroken), *DIMENSIONS[2:]]
    root = parse(chart(categories=categories))
    labelled = with_class(root, "category") + with_class(root, "axis")
    cut = [t for t in labelled if all_text(t).endswith("…")]
    assert len(cut) == 2
    assert child_title(cut[0]) == f"A – {long_label.strip()}"
    assert child_title(cut[1]) == f"B – {unbroken}"
    for text in cut:
        assert len(all_text(text)) < len(child_title(text) or "")
    assert_within_view_box(root)


def test_short_labels_have_no_title() -> None:
    root = parse(stacked())
    assert all(child_title(t) is None for t in with_class(root, "category"))


@pytest.mark.parametrize("chart", CHARTS)
def test_xml_special_characters_are_escaped(chart: Callable[..., str]) -> None:
    nasty = "<script>alert('x')</script> & \"quoted\" > 'single'"
    series = [Series("a", nasty, [1] * 8), Series("b", "B & co", [2] * 8)]
    categories = [("<A>", nasty), *DIMENSIONS[1:]]
    svg = chart(
        title=nasty,
        description=nasty,
        categories=categories,
        series=series,
        value_label=nasty,
    )
    assert "<script" not in svg
    root = parse(svg)
    assert root[0].text == nasty
    assert root[1].text == nasty
    texts = [all_text(t) for t in root.iter(f"{SVG}text")]
    assert "B & co" in texts
    titles = [t.text for t in root.iter(f"{SVG}title")]
    assert any(t and t.startswith(f"<A> – {nasty}; {nasty}") for t in titles)


@pytest.mark.parametrize("chart", CHARTS)
def test_characters_xml_cannot_hold_are_replaced(chart: Callable[..., str]) -> None:
    series = [Series("a", "bell\x07 and nul\x00", [1] * 8)]
    root = parse(chart(title="form\x0cfeed", series=series))
    assert root[0].text == "form\ufffdfeed"


def test_large_numbers_use_narrow_no_break_space() -> None:
    series = [Series("a", "A", [1_234_567, 0]), Series("b", "B", [8_765_433, 5])]
    root = parse(stacked(categories=DIMENSIONS[:2], series=series))
    assert [all_text(t) for t in with_class(root, "total")] == ["10\u202f000\u202f000", "5"]
    assert_within_view_box(root)


# --- refused input ----------------------------------------------------------------------------


@pytest.mark.parametrize("chart", CHARTS)
@pytest.mark.parametrize(
    ("values", "message"),
    [
        ([1, 2, -1, 0, 0, 0, 0, 0], "negative"),
        ([1, 2, math.nan, 0, 0, 0, 0, 0], "finite"),
        ([1, 2, math.inf, 0, 0, 0, 0, 0], "finite"),
        ([1, 2, 3], "3 values for 8"),
        ([1] * 9, "9 values for 8"),
    ],
)
def test_bad_values_are_refused(
    chart: Callable[..., str], values: list[float], message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        chart(series=[Series("a", "A", [1] * 8), Series("b", "B", values)])


@pytest.mark.parametrize("chart", CHARTS)
def test_bad_series_keys_and_categories_are_refused(chart: Callable[..., str]) -> None:
    with pytest.raises(ValueError, match="used twice"):
        chart(series=[Series("a", "A", [1] * 8), Series("a", "B", [1] * 8)])
    for key in ("a b", "a\n", "", "é"):
        with pytest.raises(ValueError, match="series key"):
            chart(series=[Series(key, "A", [1] * 8)])
    bad = [("A", "x", "y"), *DIMENSIONS[1:]]
    with pytest.raises(ValueError, match="pair"):
        chart(categories=bad)
    with pytest.raises(TypeError, match="not a number"):
        chart(series=[Series("a", "A", ["1"] * 8)])  # type: ignore[list-item]


def test_overflowing_totals_are_refused() -> None:
    series = [Series("a", "A", [1e308]), Series("b", "B", [1e308])]
    with pytest.raises(ValueError, match="too large"):
        stacked(categories=DIMENSIONS[:1], series=series)


# --- numbers ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "percent", "expected"),
    [
        (0, False, "0"),
        (7, False, "7"),
        (999, False, "999"),
        (12345, False, "12\u202f345"),
        (1234567.0, False, "1\u202f234\u202f567"),
        (2.5, False, "2.5"),
        (2.45, False, "2.5"),
        (1234.56, False, "1\u202f234.6"),
        (0, True, "0%"),
        (4.25, True, "4.3%"),
        (4, True, "4.0%"),
        (9.94, True, "9.9%"),
        (9.96, True, "10%"),
        (12.5, True, "13%"),
        (37.4, True, "37%"),
        (100, True, "100%"),
    ],
)
def test_format_number(value: float, percent: bool, expected: str) -> None:
    assert format_number(value, percent=percent) == expected


def test_format_number_decimal_separator_and_refusals() -> None:
    assert format_number(1234.56, decimal_separator=",") == "1\u202f234,6"
    assert format_number(4.25, percent=True, decimal_separator=",") == "4,3%"
    assert format_number(4.25, percent=True, percent_sign=NNBSP + "%") == "4.3\u202f%"
    assert format_number(0, percent=True, percent_sign=NNBSP + "%") == "0\u202f%"
    with translation.override("fr"):  # pure: the active language does not matter
        assert format_number(4.25, percent=True) == "4.3%"
    with pytest.raises(ValueError, match="cannot format"):
        format_number(math.nan)


# --- languages --------------------------------------------------------------------------------


def test_charts_write_numbers_in_english_style_in_english() -> None:
    with translation.override("en"):
        labels = [all_text(t) for t in with_class(parse(grouped()), "value")]
        tip = child_title(with_class(parse(grouped()), "bar")[0])
        totals = [all_text(t) for t in with_class(parse(stacked(series=[SCOPES[0]])), "total")]
    assert labels[:4] == ["23%", "30%", "14%", "10%"]
    assert "6.3%" in labels
    assert tip == "A – Access to essential resources; Young people; Share of criteria: 23%"
    assert totals[:3] == ["22.5", "14", "6.3"]


def test_charts_write_numbers_in_french_style_in_french() -> None:
    with translation.override("fr"):
        root = parse(grouped())
        radar_root = parse(radar())
        stacked_root = parse(stacked(series=[SCOPES[0]]))
        explicit = parse(grouped(decimal_separator="."))
    labels = [all_text(t) for t in with_class(root, "value")]
    assert labels[:4] == [f"23{NNBSP}%", f"30{NNBSP}%", f"14{NNBSP}%", f"10{NNBSP}%"]
    assert f"6,3{NNBSP}%" in labels
    assert f"8,8{NNBSP}%" in labels
    # French puts a no-break space before the colon too.
    assert child_title(with_class(root, "bar")[0]) == (
        f"A – Access to essential resources; Young people; Share of criteria\u00a0: 23{NNBSP}%"
    )
    rings = [all_text(t) for g in with_class(radar_root, "ring-values") for t in g]
    assert rings == [f"10{NNBSP}%", f"20{NNBSP}%", f"30{NNBSP}%", f"40{NNBSP}%"]
    totals = [all_text(t) for t in with_class(stacked_root, "total")]
    assert totals[:3] == ["22,5", "14", "6,3"]
    # An explicit separator wins over the language's.
    assert f"6.3{NNBSP}%" in [all_text(t) for t in with_class(explicit, "value")]


@settings(max_examples=40, deadline=None)
@given(value=st.floats(min_value=0, max_value=1e6, allow_nan=False), percent=st.booleans())
def test_french_numbers_are_english_ones_with_french_separators(
    value: float, percent: bool
) -> None:
    series = [Series("a", "A", [value])]
    texts = {}
    for language in ("en", "fr"):
        with translation.override(language):
            root = parse(grouped(categories=DIMENSIONS[:1], series=series, percent=percent))
        texts[language] = all_text(with_class(root, "value")[0])
    english = texts["en"].replace(".", ",")
    assert texts["fr"] == (english[:-1] + NNBSP + "%" if percent else english)


# --- properties -------------------------------------------------------------------------------

labels = st.text(max_size=120)
values = st.one_of(
    st.integers(min_value=0, max_value=10**9),
    st.floats(min_value=0, max_value=1e9, allow_nan=False, allow_infinity=False),
)


@st.composite
def chart_data(draw: st.DrawFn) -> tuple[list[tuple[str, str]], list[Series]]:
    count = draw(st.integers(min_value=0, max_value=12))
    categories = draw(
        st.lists(st.tuples(st.text(max_size=4), labels), min_size=count, max_size=count)
    )
    series_count = draw(st.integers(min_value=1, max_value=4))
    series = [
        Series(
            f"s{index}",
            draw(labels),
            draw(st.lists(values, min_size=count, max_size=count)),
        )
        for index in range(series_count)
    ]
    return categories, series


def count_titled_bars(root: ET.Element) -> int:
    return sum(1 for rect in with_class(root, "bar") if child_title(rect))


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=chart_data(), title=labels, percent=st.booleans())
def test_property_bar_charts(
    data: tuple[list[tuple[str, str]], list[Series]], title: str, percent: bool
) -> None:
    categories, series = data
    non_zero = sum(1 for s in series for v in s.values if v > 0)
    for svg in (
        stacked_bar_chart(
            title=title, description="d", categories=categories, series=series, value_label="n"
        ),
        grouped_bar_chart(
            title=title,
            description="d",
            categories=categories,
            series=series,
            value_label="n",
            percent=percent,
        ),
    ):
        root = parse(svg)
        assert count_titled_bars(root) == non_zero
        assert_within_view_box(root)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=chart_data(), title=labels, percent=st.booleans())
def test_property_radar(
    data: tuple[list[tuple[str, str]], list[Series]], title: str, percent: bool
) -> None:
    axes, series = data
    root = parse(
        radar_chart(title=title, description="d", axes=axes, series=series, percent=percent)
    )
    assert_within_view_box(root)
    if len(axes) >= 3:
        markers = [m for g in with_class(root, "series") for m in list(g)[1:]]
        assert len(markers) == len(axes) * len(series)
        assert all(child_title(m) for m in markers)
        (cx, cy), outer = radar_geometry(root)
        radius = math.dist((cx, cy), outer[0])
        for area in with_class(root, "area"):
            assert all(math.dist((cx, cy), p) <= radius + 0.1 for p in points(area))
    else:
        assert count_titled_bars(root) == sum(1 for s in series for v in s.values if v > 0)
