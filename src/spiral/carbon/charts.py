"""Charts of the carbon module, built with the shared SVG module (spiral.core.charts).

Figures are drawn in tonnes (one decimal): kilograms to the unit suggest a precision the
estimate does not have."""

from __future__ import annotations

from collections.abc import Sequence

from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _

from spiral.carbon.questions import CATEGORIES
from spiral.carbon.selectors import Aggregate, PathYear
from spiral.core.charts import Series, grouped_bar_chart, stacked_bar_chart


def _t(kg: float) -> float:
    return round(max(kg, 0.0) / 1000, 1)


def footprint_bars(rows: Sequence[tuple[str, str, dict[str, float]]]) -> SafeString:
    """One bar per row (you, the country average...), stacked by category, collective last."""
    series = [
        Series(key=code, label=str(label), values=[_t(values[code]) for _k, _l, values in rows])
        for code, label in CATEGORIES
    ]
    svg = stacked_bar_chart(
        title=_("Carbon footprint by category"),
        description=_(
            "Tonnes of CO2e per person and per year, by category; collective services come "
            "last. The same figures are in the table."
        ),
        categories=[("", label) for _key, label, _values in rows],
        series=series,
        value_label=_("t CO2e/year"),
    )
    return mark_safe(svg)


def path_bars(path: Sequence[PathYear], label: str) -> SafeString:
    """The yearly budget towards the target, one bar per milestone year."""
    svg = grouped_bar_chart(
        title=_("Path to 2 tonnes"),
        description=_(
            "The budget of each year if the footprint shrinks by the same amount every year "
            "until the target year. The same figures are in the table."
        ),
        categories=[(str(p.year), "") for p in path],
        series=[Series(key="budget", label=label, values=[_t(p.budget_kg) for p in path])],
        value_label=_("t CO2e/year"),
    )
    return mark_safe(svg)


def aggregate_bars(aggregate: Aggregate, title: str | None = None) -> SafeString:
    """Median and quartiles of each category in a group (or a territory: ``title``)."""
    categories = [(code, str(label)) for code, label in CATEGORIES]
    shown = [("", label) for _code, label in categories]
    svg = grouped_bar_chart(
        title=title or _("The group by category"),
        description=_(
            "Median and quartiles of the group's footprints by category, in tonnes of CO2e per "
            "person and per year. The same figures are in the table."
        ),
        categories=shown,
        series=[
            Series(
                key="q1",
                label=_("First quartile"),
                values=[_t(aggregate.spreads[c].q1) for c, _l in categories],
            ),
            Series(
                key="median",
                label=_("Median"),
                values=[_t(aggregate.spreads[c].median) for c, _l in categories],
            ),
            Series(
                key="q3",
                label=_("Third quartile"),
                values=[_t(aggregate.spreads[c].q3) for c, _l in categories],
            ),
        ],
        value_label=_("t CO2e/year"),
    )
    return mark_safe(svg)


def histogram_bars(aggregate: Aggregate) -> SafeString:
    """How many people in each one-tonne band of total footprint."""
    categories = []
    for lower, upper, _count in aggregate.bands:
        low = int(lower // 1000)
        label = f"≥ {low} t" if upper is None else f"{low}–{int(upper // 1000)} t"
        categories.append(("", label))
    svg = grouped_bar_chart(
        title=_("Distribution of footprints"),
        description=_(
            "Number of people in each band of total footprint (bands of one tonne, merged in "
            "public views so that none holds fewer people than the small-numbers threshold)."
        ),
        categories=categories,
        series=[
            Series(key="people", label=_("People"), values=[n for _l, _u, n in aggregate.bands])
        ],
        value_label=_("people"),
    )
    return mark_safe(svg)
