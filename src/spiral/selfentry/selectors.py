"""Reading self-entry data: the open session behind a code, the wall, the public restitution."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.db.models import Count, Max, Prefetch, QuerySet

from spiral.consultations.models import (
    Criterion,
    CriterionRevision,
    HomogeneousGroup,
    Meeting,
    Question,
)
from spiral.consultations.selectors import current_codings_prefetch
from spiral.selfentry.models import CriterionMerge, GroupRestitution, PostIt, SelfEntrySession


def session_by_code(*, code: str) -> SelfEntrySession | None:
    """The session a code names, open or closed (a closed one says so to the phone)."""
    return (
        SelfEntrySession.objects.select_related("meeting__group", "meeting__question_set")
        .filter(code=code)
        .first()
    )


def open_session_of(*, meeting: Meeting) -> SelfEntrySession | None:
    return SelfEntrySession.objects.filter(meeting=meeting, closed_at__isnull=True).first()


def participants_of(*, meeting: Meeting) -> int:
    """Phones that wrote at least one post-it in this meeting (counted, never identified)."""
    return PostIt.objects.filter(session__meeting=meeting).values("participant").distinct().count()


def wall_version(*, meeting: Meeting) -> str:
    """Changes whenever anything on the wall changes: every criterion write leaves a revision."""
    revision = CriterionRevision.objects.filter(criterion__meeting=meeting).aggregate(m=Max("pk"))[
        "m"
    ]
    session = open_session_of(meeting=meeting)
    return f"{revision or 0}-{session.pk if session else 0}"


@dataclass
class WallColumn:
    question: Question
    criteria: list[Criterion] = field(default_factory=list)

    @property
    def expressions(self) -> int:
        return sum(c.expressions for c in self.criteria)


def wall_columns(*, meeting: Meeting) -> list[WallColumn]:
    """The meeting's criteria, one column per question, in the order they arrived."""
    columns = {q.pk: WallColumn(question=q) for q in meeting.question_set.questions.all()}
    criteria = (
        Criterion.objects.filter(meeting=meeting)
        .annotate(from_phone=Count("postit"))
        .order_by("position", "pk")
    )
    for criterion in criteria:
        if criterion.question_id in columns:
            columns[criterion.question_id].criteria.append(criterion)
    return list(columns.values())


def merges_of(*, meeting: Meeting, limit: int = 20) -> QuerySet[CriterionMerge]:
    return (
        CriterionMerge.objects.filter(meeting=meeting)
        .select_related("target", "merged_by", "undone_by")
        .prefetch_related(Prefetch("merged", queryset=Criterion.all_objects.order_by("pk")))
        .order_by("-merged_at", "-pk")[:limit]
    )


def restitution_by_token(*, token: str) -> GroupRestitution | None:
    return (
        GroupRestitution.objects.select_related("group__territory", "group__profile")
        .filter(token=token, is_enabled=True)
        .first()
    )


def restitution_of(*, group_id: int) -> GroupRestitution | None:
    """The group's public link, if it exists and is switched on."""
    return GroupRestitution.objects.filter(group_id=group_id, is_enabled=True).first()


def group_participants(*, group: HomogeneousGroup) -> int:
    """The most reliable headcount: the declared size, or the phones counted if more."""
    phones = (
        PostIt.objects.filter(session__meeting__group=group)
        .values("participant")
        .distinct()
        .count()
    )
    return max(group.size or 0, phones)


def restitution_criteria(*, group: HomogeneousGroup) -> list[dict[str, Any]]:
    """The group's criteria by question, each with the components it was coded in."""
    questions: dict[int, dict[str, Any]] = {}
    criteria = (
        Criterion.objects.filter(group=group)
        .select_related("question")
        .prefetch_related(current_codings_prefetch())
        .order_by("question__position", "-expressions", "position", "pk")
    )
    for criterion in criteria:
        entry = questions.setdefault(
            criterion.question_id, {"question": criterion.question, "criteria": []}
        )
        entry["criteria"].append(criterion)
    return list(questions.values())


def small_numbers_hidden(*, participants: int) -> bool:
    return participants < settings.SPIRAL_SMALL_NUMBERS_THRESHOLD
