"""Reading axes and actions: the plan of a territory and the comparison of candidates."""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import QuerySet

from spiral.actions.models import Action, ActionStatus, StrategicAxis
from spiral.territories.models import Territory


def actions_of_territory(*, territory: Territory, with_candidates: bool) -> QuerySet[Action]:
    actions = Action.objects.of_territory(territory.pk)
    if not with_candidates:
        actions = actions.planned()
    return actions.select_related("axis").prefetch_related("indicators", "commitments")


@dataclass(frozen=True)
class CandidateRow:
    action: Action
    scores: list[int | None]
    total: int


def candidate_comparison(*, axis: StrategicAxis) -> tuple[list[str], list[CandidateRow]]:
    """The axis' comparison criteria and each candidate's scores, best total first."""
    criteria = axis.criteria_list()
    rows = []
    for action in axis.actions.exclude(status=ActionStatus.DROPPED).prefetch_related(
        "scores", "indicators"
    ):
        by_criterion = {s.criterion: s.score for s in action.scores.all()}
        scores = [by_criterion.get(c) for c in criteria]
        rows.append(CandidateRow(action, scores, sum(s or 0 for s in scores)))
    rows.sort(key=lambda r: (-r.total, r.action.title))
    return criteria, rows
