"""The numbers of a synthesis as CSV and XLSX files (the same rows the API returns)."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from typing import Any

import xlsxwriter
from django.utils.translation import gettext as _

from spiral.consultations.models import Criterion
from spiral.syntheses.selectors import Synthesis

SYNTHESIS_COLUMNS = [
    "level",
    "code",
    "label",
    "question",
    "criteria",
    "expressions",
    "share_of_question_criteria",
    "provisional",
]
CRITERIA_COLUMNS = [
    "id",
    "territory",
    "group",
    "profile",
    "meeting_date",
    "question",
    "language",
    "expressions",
    "text",
    "codes",
]


def _about_rows(synthesis: Synthesis) -> list[tuple[str, str]]:
    filters = synthesis.filters
    return [
        (_("Scope"), synthesis.scope_label),
        (_("Grid version"), synthesis.version.code),
        (_("Question"), filters.question_kind or _("all")),
        (_("Group profile"), filters.profile or _("all")),
        (_("Language"), filters.language or _("all")),
        (_("Period"), f"{filters.period_start or '…'} – {filters.period_end or '…'}"),
        (_("Criteria"), str(synthesis.total.criteria)),
        (_("Expressions"), str(synthesis.total.expressions)),
        (_("Criteria not coded"), str(synthesis.uncoded_criteria)),
        (
            _("Counting rule"),
            _(
                "A criterion coded in several components counts once in each, "
                "and once per dimension."
            ),
        ),
    ]


def synthesis_csv(synthesis: Synthesis) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=SYNTHESIS_COLUMNS, lineterminator="\n")
    writer.writeheader()
    for row in synthesis.as_rows():
        writer.writerow(row)
    return out.getvalue()


def synthesis_xlsx(synthesis: Synthesis) -> bytes:
    """A workbook with the figures and a sheet saying what they are."""
    buffer = io.BytesIO()
    workbook = xlsxwriter.Workbook(buffer, {"in_memory": True})
    bold = workbook.add_format({"bold": True})
    percent = workbook.add_format({"num_format": "0.0%"})
    sheet = workbook.add_worksheet(_("Synthesis")[:31])
    sheet.write_row(0, 0, SYNTHESIS_COLUMNS, bold)
    for index, row in enumerate(synthesis.as_rows(), start=1):
        for column, name in enumerate(SYNTHESIS_COLUMNS):
            value = row[name]
            if name == "share_of_question_criteria" and value is not None:
                sheet.write_number(index, column, value, percent)
            elif isinstance(value, bool):
                sheet.write_boolean(index, column, value)
            elif value is None:
                sheet.write_blank(index, column, None)
            else:
                sheet.write(index, column, value)
    sheet.freeze_panes(1, 0)
    sheet.set_column(2, 2, 45)
    about = workbook.add_worksheet(_("About")[:31])
    for index, (label, value) in enumerate(_about_rows(synthesis)):
        about.write(index, 0, label, bold)
        about.write(index, 1, value)
    about.set_column(0, 0, 24)
    about.set_column(1, 1, 80)
    workbook.close()
    return buffer.getvalue()


def criteria_rows(criteria: Iterable[Criterion]) -> Iterable[dict[str, Any]]:
    for criterion in criteria:
        yield {
            "id": criterion.pk,
            "territory": criterion.territory.name,
            "group": criterion.group.name,
            "profile": criterion.group.profile.code,
            "meeting_date": criterion.meeting.held_on.isoformat(),
            "question": criterion.question.kind,
            "language": criterion.language,
            "expressions": criterion.expressions,
            "text": criterion.text,
            "codes": " ".join(c.full_code for c in getattr(criterion, "current_codings", [])),
        }


def criteria_csv(criteria: Iterable[Criterion]) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=CRITERIA_COLUMNS, lineterminator="\n")
    writer.writeheader()
    writer.writerows(criteria_rows(criteria))
    return out.getvalue()
