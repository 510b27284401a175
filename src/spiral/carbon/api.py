"""Carbon API: the footprint computation (anonymous, stores nothing), factor sets, and the
anonymous aggregates of campaigns and territories (small-numbers rule as on the pages)."""

from __future__ import annotations

from typing import Any

from django.http import Http404, HttpRequest
from django.shortcuts import get_object_or_404
from django.utils import timezone
from ninja import Field, Query, Router, Schema, Status
from pydantic import create_model

from spiral.api.auth import caller_of
from spiral.api.pagination import PageOut, PageQuery, page_of
from spiral.api.schemas import ERRORS
from spiral.carbon.actions import proposals
from spiral.carbon.compute import footprint_compute
from spiral.carbon.factorsets import current_factor_set, factor_data, factor_documents
from spiral.carbon.forms import territory_country
from spiral.carbon.models import Campaign, FactorSet
from spiral.carbon.permissions import can_see_campaign_details, can_view_campaign
from spiral.carbon.questions import (
    CATEGORIES,
    DONT_KNOW,
    QUESTIONS,
    SUBCATEGORIES,
    InvalidAnswers,
    answers_clean,
)
from spiral.carbon.selectors import (
    Aggregate,
    aggregate,
    campaign_results,
    path_to_target,
    territory_results,
)
from spiral.territories.models import Territory

router = Router(tags=["carbon"])


def _question_description(question: Any) -> str:
    """Unit, choices and the default of every shipped country, from the factor files."""
    parts = [str(question.label) + "."]
    if question.unit:
        parts.append(f"Unit: {question.unit}.")
    if question.kind == "choice":
        parts.append(f"One of: {', '.join(question.choice_values)} (or '{DONT_KNOW}').")
    else:
        parts.append(f"Range {question.minimum:g} to {question.maximum:g}.")
    defaults = []
    for country, document in factor_documents().items():
        value = document["defaults"].get(question.key, {}).get("value")
        defaults.append(f"{country} {value if value is not None else 'estimated'}")
    parts.append(
        "Default when left out, null or 'dont_know': the national average of the country ("
        + "; ".join(defaults)
        + ")."
    )
    return " ".join(parts)


def _answers_fields() -> dict[str, Any]:
    fields: dict[str, Any] = {}
    for question in QUESTIONS:
        kind: Any = str | None if question.kind == "choice" else float | str | None
        fields[question.key] = (
            kind,
            Field(None, description=_question_description(question)),
        )
    return fields


AnswersIn: type[Schema] = create_model("CarbonAnswers", __base__=Schema, **_answers_fields())


class FootprintIn(Schema):
    country: str = Field(
        "FR", description="Country code of the factor set (FR, BE, IT, PT, CV, GA, MA, TN)."
    )
    answers: AnswersIn = Field(  # type: ignore[valid-type]
        default_factory=AnswersIn,
        description="The questionnaire's answers; any may be left out (national average).",
    )


class CategoryOut(Schema):
    total: float = Field(description="kgCO2e per person and per year.")
    subcategories: dict[str, float] = Field(description="kgCO2e per person and per year.")


class ActionOut(Schema):
    key: str
    label: str
    category: str
    saving_kg: float = Field(description="Estimated saving for these answers, kgCO2e/year.")


class FootprintOut(Schema):
    country: str
    factor_set_version: str
    total: float = Field(description="kgCO2e per person and per year, collective share included.")
    individual_total: float = Field(description="What the person can act on, kgCO2e/year.")
    collective_total: float = Field(
        description="Share of collective services, the same for everyone of the country."
    )
    categories: dict[str, CategoryOut] = Field(
        description="By category: "
        + ", ".join(code for code, _l in CATEGORIES)
        + "; sub-categories: "
        + "; ".join(f"{c}: {', '.join(s for s, _l in subs)}" for c, subs in SUBCATEGORIES.items())
    )
    defaults_used: list[str] = Field(description="Questions answered by the national average.")
    national_footprint: float | None = Field(
        description="National figure of the factor set (kg/person/year), if any."
    )
    actions: list[ActionOut] = Field(description="Individual actions that apply, best first.")


class CarbonErrorOut(Schema):
    """The API's one error envelope (see spiral.api.errors)."""

    detail: Any
    code: str


@router.post(
    "/carbon/footprint",
    response={200: FootprintOut, 422: CarbonErrorOut, 404: CarbonErrorOut},
    auth=None,
    summary="Compute a carbon footprint",
)
def footprint(request: HttpRequest, payload: FootprintIn) -> Any:
    """Answers in, totals by category and sub-category out (kgCO2e per person and per year).
    Needs no account and stores nothing."""
    try:
        factor_set = current_factor_set(payload.country.upper())
    except FactorSet.DoesNotExist:
        return Status(404, {"detail": "No factor set for this country.", "code": "not_found"})
    try:
        answers: Schema = payload.answers
        clean = answers_clean(answers.model_dump(exclude_none=True))
    except InvalidAnswers as error:
        return Status(
            422,
            {
                "detail": [{"loc": ["answers", k], "msg": m} for k, m in error.errors.items()],
                "code": "validation_error",
            },
        )
    data = factor_data(factor_set)
    result = footprint_compute(clean, data).as_dict()
    return {
        "country": factor_set.country,
        "factor_set_version": factor_set.version,
        **result,
        "national_footprint": factor_set.national_footprint,
        "actions": [
            {
                "key": p.action.key,
                "label": p.action.label,
                "category": p.action.category,
                "saving_kg": round(p.saving_kg, 1),
            }
            for p in proposals(clean, data)
        ],
    }


class FactorSetOut(Schema):
    country: str
    version: str
    name: str
    is_current: bool
    national_footprint: float | None
    document: dict[str, Any] = Field(description="Every factor and default with unit and source.")


class FactorSetPageOut(PageOut):
    results: list[FactorSetOut]


@router.get(
    "/carbon/factor-sets", response={200: FactorSetPageOut, **ERRORS}, summary="Factor sets"
)
def factor_sets(request: HttpRequest, query: Query[PageQuery]) -> Any:
    return page_of(
        request,
        FactorSet.objects.order_by("country", "-created_at", "-pk"),
        query,
        lambda fs: {
            "country": fs.country,
            "version": fs.version,
            "name": fs.name,
            "is_current": fs.is_current,
            "national_footprint": fs.national_footprint,
            "document": fs.document,
        },
    )


class SpreadOut(Schema):
    median: float
    q1: float
    q3: float
    minimum: float
    maximum: float
    mean: float


class AggregateOut(Schema):
    count: int
    hidden: bool = Field(
        description="True when fewer results than the small-numbers threshold: count only."
    )
    spreads: dict[str, SpreadOut] = Field(description="kgCO2e/person/year by category and total.")
    histogram: list[tuple[float, int]] = Field(description="(lower bound kg, people) by tonne.")
    pledged_kg: dict[str, float] = Field(description="Savings pledged by category, and total.")
    pledges: int
    path: list[tuple[int, float]] = Field(description="(year, budget kg) from the median to 2 t.")


def _aggregate_out(agg: Aggregate, country: str) -> dict[str, Any]:
    path: list[tuple[int, float]] = []
    if agg.spreads:
        path = [
            (p.year, round(p.budget_kg, 1))
            for p in path_to_target(
                start_kg=agg.spreads["total"].median,
                start_year=timezone.now().year,
                factor_set=current_factor_set(country),
            )
        ]
    return {
        "count": agg.count,
        "hidden": agg.hidden,
        "spreads": {k: vars(v) for k, v in agg.spreads.items()},
        "histogram": agg.histogram,
        "pledged_kg": agg.pledged_kg,
        "pledges": agg.pledges,
        "path": path,
    }


class CampaignOut(Schema):
    id: int
    name: str
    territory: str
    group: str | None
    country: str
    is_open: bool
    results: AggregateOut


@router.get(
    "/carbon/campaigns/{campaign_id}",
    response={200: CampaignOut, 404: CarbonErrorOut},
    summary="A campaign's anonymous results",
)
def campaign_detail(request: HttpRequest, campaign_id: int) -> Any:
    campaign = get_object_or_404(
        Campaign.objects.select_related("territory", "group"), pk=campaign_id
    )
    user = caller_of(request).user
    if not can_view_campaign(user, campaign):
        raise Http404
    agg = aggregate(campaign_results(campaign), full_view=can_see_campaign_details(user, campaign))
    return {
        "id": campaign.pk,
        "name": campaign.name,
        "territory": campaign.territory.slug,
        "group": campaign.group.name if campaign.group and not agg.hidden else None,
        "country": campaign.country,
        "is_open": campaign.is_open,
        "results": _aggregate_out(agg, campaign.country),
    }


@router.get(
    "/carbon/territories/{territory_id}",
    response={200: AggregateOut, 404: CarbonErrorOut},
    summary="Every campaign of a territory and below, rolled up",
)
def territory_detail(request: HttpRequest, territory_id: int) -> Any:
    caller = caller_of(request)
    territory = get_object_or_404(Territory, pk=territory_id)
    if not caller.can_view_territory(territory):
        raise Http404
    agg = aggregate(
        territory_results(territory.pk), full_view=caller.can_view_private_data(territory)
    )
    return _aggregate_out(agg, territory_country(territory))
