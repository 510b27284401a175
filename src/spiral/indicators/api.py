"""Read-only API of progress indicators, co-evaluation results and actions.

Public territories need no account; private ones need a token (or the site's session) of someone
who may see them, else 404 as if they did not exist. Without the right to read the territory's
private data, results by profile under the small-numbers threshold are left out, and candidate
actions are not listed."""

from __future__ import annotations

from datetime import date
from typing import Any

from django.http import Http404, HttpRequest
from ninja import Query, Router, Schema

from spiral.actions.models import Action
from spiral.api.auth import caller_of
from spiral.api.pagination import PageOut, PageQuery, page_of
from spiral.api.schemas import ERRORS_WITH_404
from spiral.indicators.models import LEVELS, Evaluation, Indicator
from spiral.indicators.selectors import evaluation_results
from spiral.territories.models import Territory

router = Router(tags=["indicators"])


class LevelOut(Schema):
    level: int
    text: str
    criterion_ids: list[int]


class IndicatorOut(Schema):
    id: int
    territory_id: int
    title: str
    question: str
    version: int
    previous_id: int | None
    derived_from_id: int | None
    is_shared: bool
    components: list[str]
    levels: list[LevelOut]


class ProfileResultOut(Schema):
    profile: str
    counts: list[int]
    median: float | None


class IndicatorResultOut(Schema):
    indicator_id: int
    title: str
    counts: list[int]  # levels 1 to 5
    total: int
    median: float | None
    by_rater: dict[str, list[int]]
    by_profile: list[ProfileResultOut]


class EvaluationOut(Schema):
    id: int
    territory_id: int
    title: str
    kind: str
    cycle: int
    held_on: date
    baseline_id: int | None
    respondents: int
    indicators: list[IndicatorResultOut]


class EvaluationSummaryOut(Schema):
    id: int
    title: str
    kind: str
    cycle: int
    held_on: date
    baseline_id: int | None
    survey_open: bool
    indicator_ids: list[int]


class CommitmentOut(Schema):
    actor: str
    sector: str
    commitment: str


class ActionOut(Schema):
    id: int
    title: str
    status: str
    cycle: int
    is_pilot: bool
    objectives: str
    starts_on: date | None
    ends_on: date | None
    axis: str | None
    indicator_ids: list[int]
    commitments: list[CommitmentOut]


class IndicatorPageOut(PageOut):
    results: list[IndicatorOut]


class EvaluationSummaryPageOut(PageOut):
    results: list[EvaluationSummaryOut]


class ActionPageOut(PageOut):
    results: list[ActionOut]


def _territory(request: HttpRequest, territory_id: int) -> Territory:
    territory = Territory.objects.filter(pk=territory_id).first()
    if territory is None or not caller_of(request).can_view_territory(territory):
        raise Http404("no such territory")
    return territory


def _counts(distribution: Any) -> list[int]:
    return [distribution.counts[level] for level in LEVELS]


@router.get(
    "/territories/{territory_id}/indicators",
    response={200: IndicatorPageOut, **ERRORS_WITH_404},
    summary="A territory's progress indicators (latest versions) and their scales",
)
def indicator_list(request: HttpRequest, territory_id: int, query: Query[PageQuery]) -> Any:
    territory = _territory(request, territory_id)
    show_criteria = caller_of(request).can_view_private_data(territory)
    indicators = (
        Indicator.objects.of_territory(territory.pk)
        .current()
        .prefetch_related("components", "levels__criteria")
        .order_by("title", "pk")
    )

    def indicator_out(i: Indicator) -> dict[str, Any]:
        return {
            "id": i.pk,
            "territory_id": i.territory_id,
            "title": i.title,
            "question": i.question,
            "version": i.version,
            "previous_id": i.previous_id,
            "derived_from_id": i.derived_from_id,
            "is_shared": i.is_shared,
            "components": [c.code for c in i.components.all()],
            "levels": [
                {
                    "level": level.level,
                    "text": level.text,
                    "criterion_ids": [c.pk for c in level.criteria.all()] if show_criteria else [],
                }
                for level in i.levels.all()
            ],
        }

    return page_of(request, indicators, query, indicator_out)


@router.get(
    "/territories/{territory_id}/evaluations",
    response={200: EvaluationSummaryPageOut, **ERRORS_WITH_404},
    summary="A territory's co-evaluations (ex-ante and ex-post), newest first",
)
def evaluation_list(request: HttpRequest, territory_id: int, query: Query[PageQuery]) -> Any:
    territory = _territory(request, territory_id)
    evaluations = Evaluation.objects.of_territory(territory.pk).prefetch_related("indicators")
    return page_of(
        request,
        evaluations.order_by("-held_on", "-pk"),
        query,
        lambda e: {
            "id": e.pk,
            "title": e.title,
            "kind": e.kind,
            "cycle": e.cycle,
            "held_on": e.held_on,
            "baseline_id": e.baseline_id,
            "survey_open": e.survey_open,
            "indicator_ids": sorted(i.pk for i in e.indicators.all()),
        },
    )


@router.get(
    "/evaluations/{evaluation_id}/results",
    response={200: EvaluationOut, **ERRORS_WITH_404},
    summary="Results of a co-evaluation: levels 1-5, median, by rater and by profile",
)
def evaluation_result(request: HttpRequest, evaluation_id: int) -> Any:
    evaluation = Evaluation.objects.select_related("territory").filter(pk=evaluation_id).first()
    caller = caller_of(request)
    if evaluation is None or not caller.can_view_territory(evaluation.territory):
        raise Http404("no such evaluation")
    results = evaluation_results(
        evaluation=evaluation, show_small=caller.can_view_private_data(evaluation.territory)
    )
    return {
        "id": evaluation.pk,
        "territory_id": evaluation.territory_id,
        "title": evaluation.title,
        "kind": evaluation.kind,
        "cycle": evaluation.cycle,
        "held_on": evaluation.held_on,
        "baseline_id": evaluation.baseline_id,
        "respondents": results.respondents,
        "indicators": [
            {
                "indicator_id": r.indicator.pk,
                "title": r.indicator.title,
                "counts": _counts(r.all),
                "total": r.all.total,
                "median": r.all.median,
                "by_rater": {rater: _counts(d) for rater, d in r.by_rater.items()},
                "by_profile": [
                    {
                        "profile": line.profile.code if line.profile else "",
                        "counts": _counts(line.distribution),
                        "median": line.distribution.median,
                    }
                    for line in r.by_profile
                    if not line.hidden
                ],
            }
            for r in results.indicators
        ],
    }


@router.get(
    "/territories/{territory_id}/actions",
    response={200: ActionPageOut, **ERRORS_WITH_404},
    summary="A territory's actions (the plan; candidates too for people with a role)",
)
def action_list(request: HttpRequest, territory_id: int, query: Query[PageQuery]) -> Any:
    territory = _territory(request, territory_id)
    actions = Action.objects.of_territory(territory.pk)
    if not caller_of(request).can_view_private_data(territory):
        actions = actions.planned()
    actions = actions.select_related("axis").prefetch_related("indicators", "commitments")
    return page_of(
        request,
        actions.order_by("title", "pk"),
        query,
        lambda a: {
            "id": a.pk,
            "title": a.title,
            "status": a.status,
            "cycle": a.cycle,
            "is_pilot": a.is_pilot,
            "objectives": a.objectives,
            "starts_on": a.starts_on,
            "ends_on": a.ends_on,
            "axis": a.axis.title if a.axis else None,
            "indicator_ids": [i.pk for i in a.indicators.all()],
            "commitments": [
                {"actor": c.actor, "sector": c.sector, "commitment": c.commitment}
                for c in a.commitments.all()
            ],
        },
    )
