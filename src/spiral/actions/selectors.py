"""Reading axes and actions: the plan of a territory and the comparison of candidates."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from django.db.models import QuerySet

from spiral.actions.models import Action, ActionStatus, CycleArchive, StrategicAxis
from spiral.territories.models import Sector, Territory


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


def archive_for_display(*, archive: CycleArchive) -> dict[str, Any]:
    """The snapshot of a closed cycle with codes turned into words of the reader's language
    (the snapshot keeps codes, so it reads the same in every language)."""
    data = archive.snapshot or {}
    statuses = dict(ActionStatus.choices)
    sectors = dict(Sector.choices)
    evaluations = []
    for evaluation in data.get("evaluations", []):
        try:
            held_on: date | str = date.fromisoformat(evaluation.get("held_on", ""))
        except ValueError:
            held_on = evaluation.get("held_on", "")
        indicators = [
            {**i, "total": sum(int(n) for n in (i.get("counts") or {}).values())}
            for i in evaluation.get("indicators", [])
        ]
        evaluations.append({**evaluation, "held_on": held_on, "indicators": indicators})
    actions = [
        {
            **action,
            "status_label": statuses.get(action.get("status"), action.get("status", "")),
            "commitments": [
                {**c, "sector_label": sectors.get(c.get("sector"), c.get("sector", ""))}
                for c in action.get("commitments", [])
            ],
        }
        for action in data.get("actions", [])
    ]
    return {
        "evaluations": evaluations,
        "actions": actions,
        "indicators": data.get("indicators", []),
        "axes": data.get("axes", []),
    }
