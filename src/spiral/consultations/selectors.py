"""Reading groups, meetings and criteria."""

from __future__ import annotations

from typing import Any

from django.db.models import Count, Prefetch, Q, QuerySet, Sum

from spiral.coding.models import Coding
from spiral.consultations.models import (
    Criterion,
    CriterionRevision,
    HomogeneousGroup,
    Meeting,
    Question,
)


def groups_of_user(*, user: Any) -> QuerySet[HomogeneousGroup]:
    """Groups the user facilitates."""
    return (
        HomogeneousGroup.objects.active()
        .filter(facilitators=user)
        .select_related("territory", "profile")
        .order_by("territory__name", "name")
    )


def groups_of_territory(
    *, territory_id: int, with_descendants: bool = False
) -> QuerySet[HomogeneousGroup]:
    """Active groups of the territory (and below, if asked), with their meetings and criteria."""
    groups = (
        HomogeneousGroup.objects.in_subtree(territory_id)
        if with_descendants
        else HomogeneousGroup.objects.filter(territory_id=territory_id)
    )
    return (
        groups.active()
        .select_related("territory", "profile")
        .annotate(
            meeting_count=Count("meetings", distinct=True),
            criterion_count=Count(
                "criteria", filter=Q(criteria__deleted_at__isnull=True), distinct=True
            ),
        )
        .order_by("territory__name", "name")
    )


def meetings_of_group(*, group: HomogeneousGroup) -> QuerySet[Meeting]:
    return (
        group.meetings.select_related("question_set")
        .annotate(
            criterion_count=Count("criteria", filter=Q(criteria__deleted_at__isnull=True)),
            expression_count=Sum(
                "criteria__expressions", filter=Q(criteria__deleted_at__isnull=True)
            ),
        )
        .order_by("-held_on", "-pk")
    )


def current_codings_prefetch() -> Any:
    return Prefetch(
        "codings",
        queryset=Coding.objects.current().select_related("component").order_by("pk"),
        to_attr="current_codings",
    )


def criteria_of_meeting(
    *, meeting: Meeting, question: Question | None = None
) -> QuerySet[Criterion]:
    criteria = Criterion.objects.filter(meeting=meeting)
    if question is not None:
        criteria = criteria.filter(question=question)
    return criteria.prefetch_related(current_codings_prefetch()).order_by("position", "pk")


def deleted_criteria_of_meeting(*, meeting: Meeting) -> QuerySet[Criterion]:
    return Criterion.all_objects.filter(meeting=meeting, deleted_at__isnull=False).select_related(
        "question"
    )


def criterion_history(*, criterion: Criterion) -> tuple[list[CriterionRevision], list[Coding]]:
    revisions = list(criterion.revisions.select_related("changed_by", "question"))
    codings = list(
        Coding.objects.filter(criterion=criterion)
        .select_related("component", "coded_by")
        .order_by("created_at", "pk")
    )
    return revisions, codings


def question_counts(*, meeting: Meeting) -> dict[int, int]:
    rows = Criterion.objects.filter(meeting=meeting).values("question_id").annotate(n=Count("pk"))
    return {row["question_id"]: row["n"] for row in rows}
