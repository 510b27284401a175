"""The numbers of a synthesis as CSV and XLSX files (the same rows the API returns)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.utils.translation import gettext as _

from spiral.consultations.models import Criterion
from spiral.core.tables import table_csv, table_xlsx
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
    return table_csv(SYNTHESIS_COLUMNS, synthesis.as_rows())


def synthesis_xlsx(synthesis: Synthesis) -> bytes:
    """A workbook with the figures and a sheet saying what they are."""
    return table_xlsx(
        SYNTHESIS_COLUMNS,
        synthesis.as_rows(),
        title=_("Synthesis"),
        number_formats={"share_of_question_criteria": "0.0%"},
        widths={2: 45},
        about=_about_rows(synthesis),
    )


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
    return table_csv(CRITERIA_COLUMNS, criteria_rows(criteria))
