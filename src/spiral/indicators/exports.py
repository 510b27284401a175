"""The results of a co-evaluation as CSV and XLSX (the same figures as the page and the API)."""

from __future__ import annotations

import csv
import io
from typing import Any

import xlsxwriter
from django.utils.translation import gettext as _

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
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=COLUMNS, lineterminator="\n")
    writer.writeheader()
    writer.writerows(results_rows(results))
    return out.getvalue()


def results_xlsx(results: EvaluationResults) -> bytes:
    """A workbook with the figures and a sheet saying what they are."""
    buffer = io.BytesIO()
    workbook = xlsxwriter.Workbook(buffer, {"in_memory": True})
    bold = workbook.add_format({"bold": True})
    sheet = workbook.add_worksheet(_("Results")[:31])
    sheet.write_row(0, 0, COLUMNS, bold)
    for index, row in enumerate(results_rows(results), start=1):
        for column, name in enumerate(COLUMNS):
            value = row[name]
            if value is None:
                sheet.write_blank(index, column, None)
            else:
                sheet.write(index, column, value)
    sheet.freeze_panes(1, 0)
    sheet.set_column(1, 1, 40)
    evaluation = results.evaluation
    about = workbook.add_worksheet(_("About")[:31])
    for index, (label, value) in enumerate(
        [
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
    ):
        about.write(index, 0, label, bold)
        about.write(index, 1, value)
    about.set_column(0, 0, 24)
    about.set_column(1, 1, 80)
    workbook.close()
    return buffer.getvalue()
