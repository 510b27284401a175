"""Charts of syntheses, built with the shared SVG module (spiral.core.charts)."""

from __future__ import annotations

from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _

from spiral.core.charts import Series, grouped_bar_chart, radar_chart, stacked_bar_chart
from spiral.syntheses.selectors import Synthesis


def dimension_bars(synthesis: Synthesis) -> SafeString:
    """Criteria by dimension, stacked by question."""
    categories = [(d.code, d.label) for d in synthesis.dimensions]
    series = [
        Series(
            key=kind, label=label, values=[d.figure(kind).criteria for d in synthesis.dimensions]
        )
        for kind, label in synthesis.kinds
    ]
    svg = stacked_bar_chart(
        title=_("Criteria by dimension – %(scope)s") % {"scope": synthesis.scope_label},
        description=_(
            "Number of criteria in each dimension of the grid, split by question. "
            "The same figures are in the table below."
        ),
        categories=categories,
        series=series,
        value_label=_("criteria"),
    )
    return mark_safe(svg)


def dimension_radar(synthesis: Synthesis) -> SafeString:
    """Share of the scope's criteria in each dimension."""
    base = synthesis.total.criteria or 1
    svg = radar_chart(
        title=_("Profile of the dimensions – %(scope)s") % {"scope": synthesis.scope_label},
        description=_("Share of the criteria that fall in each dimension, all questions together."),
        axes=[(d.code, d.label) for d in synthesis.dimensions],
        series=[
            Series(
                key="scope",
                label=synthesis.scope_label,
                values=[100 * d.total.criteria / base for d in synthesis.dimensions],
            )
        ],
        percent=True,
    )
    return mark_safe(svg)


def comparison_bars(a: Synthesis, b: Synthesis, label_a: str, label_b: str) -> SafeString:
    """Shares of criteria by dimension, side by side (shares, since the scopes differ in size)."""

    def shares(synthesis: Synthesis) -> list[float]:
        base = synthesis.total.criteria or 1
        return [100 * d.total.criteria / base for d in synthesis.dimensions]

    svg = grouped_bar_chart(
        title=_("Comparison by dimension"),
        description=_("Share of each scope's criteria in each dimension of the grid."),
        categories=[(d.code, d.label) for d in a.dimensions],
        series=[
            Series(key="a", label=label_a, values=shares(a)),
            Series(key="b", label=label_b, values=shares(b)),
        ],
        value_label=_("share of criteria (%)"),
        percent=True,
    )
    return mark_safe(svg)
