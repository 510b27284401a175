"""The results of a co-evaluation as CSV and XLSX (the same figures as the page and the API)."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext as _

from spiral.core.tables import table_csv, table_xlsx
from spiral.indicators.models import LEVELS
from spiral.indicators.selectors import EvaluationResults

COLUMNS = [
    "indicator_id",
    "indicator",
    "rated_by",
    "profile",
    *(f"level_{n}" for n in LEVELS),
    "total",
    "median",
]


def results_rows(results: EvaluationResults) -> list[dict[str, Any]]:
    """One row per indicator for all ratings, then per rater kind, then per profile shown."""
    rows = []
    for result in results.indicators:
        lines: list[tuple[str, str, Any]] = [("all", "", result.all)]
        lines += [(rater, "", d) for rater, d in result.by_rater.items()]
        lines += [
            ("all", line.profile.code if line.profile else "", line.distribution)
            for line in result.by_profile
            if not line.hidden
        ]
        for rated_by, profile, distribution in lines:
            rows.append(
                {
                    "indicator_id": result.indicator.pk,
                    "indicator": result.indicator.title,
                    "rated_by": rated_by,
                    "profile": profile,
                    **{f"level_{n}": distribution.counts[n] for n in LEVELS},
                    "total": distribution.total,
                    "median": distribution.median,
                }
            )
    return rows


def results_csv(results: EvaluationResults) -> str:
    return table_csv(COLUMNS, results_rows(results))


def results_xlsx(results: EvaluationResults) -> bytes:
    """A workbook with the figures and a sheet saying what they are."""
    evaluation = results.evaluation
    about = [
        (_("Co-evaluation"), evaluation.title),
        (_("Territory"), evaluation.territory.name),
        (_("Kind"), evaluation.get_kind_display()),
        (_("Date"), evaluation.held_on.isoformat()),
        (_("Self-survey answers"), str(results.respondents)),
        (
            _("Levels"),
            _(
                "1 very unsatisfactory, 2 unsatisfactory, 3 average, 4 good, 5 ideal; "
                "“I do not know” is not counted."
            ),
        ),
    ]
    return table_xlsx(
        COLUMNS, results_rows(results), title=_("Results"), widths={1: 40}, about=about
    )
