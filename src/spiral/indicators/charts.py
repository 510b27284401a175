"""Charts of co-evaluations, built with the shared SVG module (spiral.core.charts)."""

from __future__ import annotations

from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _

from spiral.core.charts import Series, radar_chart, stacked_bar_chart
from spiral.indicators.models import LEVELS, Level
from spiral.indicators.selectors import EvaluationResults, source_distribution


def _axes(results: EvaluationResults) -> list[tuple[str, str]]:
    return [(str(n), r.indicator.title) for n, r in enumerate(results.indicators, start=1)]


def distribution_bars(results: EvaluationResults) -> SafeString:
    """Answers per indicator, stacked by level of the scale."""
    series = [
        Series(
            key=f"level-{level}",
            label=str(Level(level).label),
            values=[r.all.counts[level] for r in results.indicators],
        )
        for level in LEVELS
    ]
    return mark_safe(
        stacked_bar_chart(
            title=_("Situations by indicator – %(title)s") % {"title": results.evaluation.title},
            description=_(
                "Number of ratings at each of the five levels, for each indicator. "
                "The same figures are in the tables below."
            ),
            categories=_axes(results),
            series=series,
            value_label=_("ratings"),
        )
    )


def median_radar(
    results: EvaluationResults, *, before: EvaluationResults | None = None, source: str = ""
) -> SafeString:
    """The median level of each indicator (1 to 5); with ``before``, both evaluations."""
    series = []
    if before is not None:
        earlier = {r.indicator.pk: r for r in before.indicators}
        from spiral.indicators.services import indicator_lineage_id

        by_lineage = {indicator_lineage_id(r.indicator): r for r in earlier.values()}
        series.append(
            Series(
                key="before",
                label=before.evaluation.title,
                values=[
                    (
                        source_distribution(
                            by_lineage[indicator_lineage_id(r.indicator)], source
                        ).median
                        or 0
                        if indicator_lineage_id(r.indicator) in by_lineage
                        else 0
                    )
                    for r in results.indicators
                ],
            )
        )
    series.append(
        Series(
            key="after" if before is not None else "median",
            label=results.evaluation.title,
            values=[source_distribution(r, source).median or 0 for r in results.indicators],
        )
    )
    return mark_safe(
        radar_chart(
            title=_("Median situation by indicator"),
            description=_(
                "Median level of each indicator on its 5-level scale (1 very unsatisfactory, "
                "5 ideal); 0 when nobody rated it."
            ),
            axes=_axes(results),
            series=series,
            max_value=5,
            value_label=_("median level"),
        )
    )
