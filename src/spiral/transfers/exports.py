"""Lists as CSV and XLSX files: the groups, meetings and criteria (with their codes) of a scope.
The synthesis itself is exported by the syntheses app; these complete it."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.db.models import Count, Q, Sum
from django.http import HttpResponse

from spiral.consultations.models import Criterion, HomogeneousGroup, Meeting
from spiral.consultations.selectors import current_codings_prefetch
from spiral.core import tables
from spiral.syntheses.exports import CRITERIA_COLUMNS, criteria_rows
from spiral.territories.models import Territory

XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
GROUP_COLUMNS = [
    "id",
    "territory",
    "territory_slug",
    "name",
    "profile",
    "size",
    "language",
    "meetings",
    "criteria",
    "archived",
]
MEETING_COLUMNS = [
    "id",
    "territory",
    "group",
    "held_on",
    "question_set",
    "language",
    "place",
    "criteria",
    "expressions",
]


def table_csv(columns: list[str], rows: Iterable[dict[str, Any]]) -> str:
    """The rows as CSV; keys of a row beyond the columns are left out."""
    return tables.table_csv(columns, rows, extra="ignore")


def table_response(
    columns: list[str], rows: Iterable[dict[str, Any]], *, fmt: str, filename: str, title: str
) -> HttpResponse:
    content = (
        table_csv(columns, rows) if fmt == "csv" else tables.table_xlsx(columns, rows, title=title)
    )
    return tables.download_response(content, fmt=fmt, filename=filename)


def group_rows(*, territory: Territory) -> Iterable[dict[str, Any]]:
    """Every group of the territory and below, archived ones included (marked)."""
    groups = (
        HomogeneousGroup.objects.in_subtree(territory.pk)
        .select_related("territory", "profile")
        .annotate(
            meeting_count=Count("meetings", distinct=True),
            criterion_count=Count(
                "criteria", filter=Q(criteria__deleted_at__isnull=True), distinct=True
            ),
        )
        .order_by("territory__name", "name", "pk")
    )
    for group in groups:
        yield {
            "id": group.pk,
            "territory": group.territory.name,
            "territory_slug": group.territory.slug,
            "name": group.name,
            "profile": group.profile.code,
            "size": group.size,
            "language": group.language,
            "meetings": group.meeting_count,  # type: ignore[attr-defined]
            "criteria": group.criterion_count,  # type: ignore[attr-defined]
            "archived": group.is_archived,
        }


def meeting_rows(*, territory: Territory) -> Iterable[dict[str, Any]]:
    meetings = (
        Meeting.objects.filter(group__territory__ancestor_links__ancestor_id=territory.pk)
        .select_related("group__territory", "question_set")
        .annotate(
            criterion_count=Count("criteria", filter=Q(criteria__deleted_at__isnull=True)),
            expression_count=Sum(
                "criteria__expressions", filter=Q(criteria__deleted_at__isnull=True)
            ),
        )
        .order_by("held_on", "pk")
    )
    for meeting in meetings:
        yield {
            "id": meeting.pk,
            "territory": meeting.group.territory.name,
            "group": meeting.group.name,
            "held_on": meeting.held_on.isoformat(),
            "question_set": meeting.question_set.code,
            "language": meeting.language,
            "place": meeting.place,
            "criteria": meeting.criterion_count,
            "expressions": meeting.expression_count or 0,
        }


def scope_criteria_rows(*, territory: Territory) -> Iterable[dict[str, Any]]:
    """Every criterion of the scope with its current codes (the syntheses app's columns)."""
    criteria = (
        Criterion.objects.in_subtree(territory.pk)
        .select_related("territory", "group__profile", "meeting", "question")
        .prefetch_related(current_codings_prefetch())
        .order_by("territory__name", "group__name", "meeting__held_on", "position", "pk")
    )
    return criteria_rows(criteria.iterator(chunk_size=2000))


__all__ = ["CRITERIA_COLUMNS", "GROUP_COLUMNS", "MEETING_COLUMNS"]
