"""Carbon API: the footprint computation (anonymous, stores nothing), factor sets, the
anonymous aggregates of campaigns and territories (small-numbers rule as on the pages), and the
writes: campaigns (create, change, close), collective actions adopted, stored results and
their pledges.

Writes follow the API's rules (spiral.api.auth): a read/write token, limited to its
territories when scoped, and the same rights as the pages. A stored result is addressed by its
private-link token, as on the page: whoever holds the link may pledge on it."""

from __future__ import annotations

from typing import Any

from django.http import Http404, HttpRequest
from django.shortcuts import get_object_or_404
from django.utils import timezone
from ninja import Field, Path, Query, Router, Schema, Status
from pydantic import create_model, field_validator

from spiral.api.auth import ApiCaller, caller_of
from spiral.api.errors import ApiError, forbidden, require_write, territory_to_manage_groups
from spiral.api.pagination import PageOut, PageQuery, page_of
from spiral.api.schemas import ERRORS, ERRORS_WITH_404, WRITE_ERRORS, invalid, printable_text
from spiral.carbon.actions import catalogue, pledges_savings, proposals
from spiral.carbon.compute import footprint_compute
from spiral.carbon.factorsets import current_factor_set, factor_data, factor_documents
from spiral.carbon.forms import territory_country
from spiral.carbon.models import Campaign, FactorSet, FootprintResult
from spiral.carbon.permissions import (
    can_run_campaign,
    can_see_campaign_details,
    can_view_campaign,
)
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
from spiral.carbon.services import (
    PledgeError,
    campaign_create,
    campaign_update,
    collective_adopt,
    footprint_result_create,
    pledge_add,
    pledge_remove,
    result_from_token,
    result_link_token,
)
from spiral.consultations.models import HomogeneousGroup
from spiral.territories.models import Territory

router = Router(tags=["carbon"])
MAX_ID = 2**63 - 1  # larger numbers overflow the databases' integers
ID = Path(..., ge=1, le=MAX_ID)


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
    minimum: float | None = Field(
        description="Null for callers who may not see the scope's private data: the lowest "
        "and highest figures are one person's each."
    )
    maximum: float | None = Field(description="Null like minimum.")
    mean: float


class AggregateOut(Schema):
    count: int
    hidden: bool = Field(
        description="True when fewer results than the small-numbers threshold: count only."
    )
    spreads: dict[str, SpreadOut] = Field(description="kgCO2e/person/year by category and total.")
    histogram: list[tuple[float, int]] = Field(
        description="(lower bound kg, people) by band of one tonne; each band ends where the "
        "next begins. Without the right to see the scope's private data, empty bands at both "
        "ends are left out and bands are merged so that none holds fewer people than the "
        "small-numbers threshold."
    )
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
        "spreads": {
            code: {
                **vars(spread),
                # One person's figure each: kept for the people who may see private data.
                "minimum": spread.minimum if agg.full_view else None,
                "maximum": spread.maximum if agg.full_view else None,
            }
            for code, spread in agg.spreads.items()
        },
        "histogram": agg.histogram,
        "pledged_kg": agg.pledged_kg,
        "pledges": agg.pledges,
        "path": path,
    }


class AdoptionOut(Schema):
    action: str = Field(description="Key of the collective action in the catalogue.")
    label: str
    note: str = Field(description="Who does what.")
    adopted_at: str = Field(description="Date of the adoption (YYYY-MM-DD).")


class CampaignOut(Schema):
    id: int
    name: str
    territory: str
    territory_id: int
    group: str | None
    country: str
    is_open: bool
    description: str
    adopted: list[AdoptionOut] = Field(description="Collective actions the group adopted.")
    results: AggregateOut


def _adoptions_out(campaign: Campaign) -> list[dict[str, Any]]:
    actions = catalogue()
    return [
        {
            "action": adoption.action,
            "label": actions[adoption.action].label if adoption.action in actions else "",
            "note": adoption.note,
            "adopted_at": adoption.created_at.date().isoformat(),
        }
        for adoption in campaign.adoptions.all()
    ]


def _campaign_out(campaign: Campaign, user: Any) -> dict[str, Any]:
    agg = aggregate(campaign_results(campaign), full_view=can_see_campaign_details(user, campaign))
    return {
        "id": campaign.pk,
        "name": campaign.name,
        "territory": campaign.territory.slug,
        "territory_id": campaign.territory_id,
        "group": campaign.group.name if campaign.group and not agg.hidden else None,
        "country": campaign.country,
        "is_open": campaign.is_open,
        "description": campaign.description,
        "adopted": _adoptions_out(campaign),
        "results": _aggregate_out(agg, campaign.country),
    }


@router.get(
    "/carbon/campaigns/{campaign_id}",
    response={200: CampaignOut, **ERRORS_WITH_404},
    summary="A campaign's anonymous results",
)
def campaign_detail(request: HttpRequest, campaign_id: int = ID) -> Any:
    caller = caller_of(request)
    campaign = _campaign(caller, campaign_id)
    return _campaign_out(campaign, _scoped_user(caller, campaign))


@router.get(
    "/carbon/territories/{territory_id}",
    response={200: AggregateOut, **ERRORS_WITH_404},
    summary="Every campaign of a territory and below, rolled up",
)
def territory_detail(request: HttpRequest, territory_id: int = ID) -> Any:
    caller = caller_of(request)
    territory = get_object_or_404(Territory, pk=territory_id)
    if not caller.can_view_territory(territory):
        raise Http404
    agg = aggregate(
        territory_results(territory.pk), full_view=caller.can_view_private_data(territory)
    )
    return _aggregate_out(agg, territory_country(territory))


# --- Campaigns: list and writes ----------------------------------------------------------------


def _scoped_user(caller: ApiCaller, campaign: Campaign) -> Any:
    """The caller's user where its token reaches the campaign's territory; elsewhere nobody's
    rights (public data only), as for every scoped token."""
    from django.contrib.auth.models import AnonymousUser

    return caller.user if caller.in_scope(campaign.territory_id) else AnonymousUser()


def _campaign(caller: ApiCaller, campaign_id: int) -> Campaign:
    campaign = (
        Campaign.objects.select_related("territory", "group")
        .prefetch_related("adoptions")
        .filter(pk=campaign_id)
        .first()
    )
    if campaign is None or not can_view_campaign(_scoped_user(caller, campaign), campaign):
        raise Http404("no such campaign")
    return campaign


def _campaign_to_run(caller: ApiCaller, campaign_id: int) -> Campaign:
    require_write(caller)
    campaign = _campaign(caller, campaign_id)
    if not can_run_campaign(_scoped_user(caller, campaign), campaign):
        raise forbidden("You may not run this campaign.")
    return campaign


class CampaignListQuery(PageQuery):
    territory: int | None = Field(
        None, ge=1, le=MAX_ID, description="Only the campaigns of this territory and below."
    )
    is_open: bool | None = Field(None, description="Only open (true) or closed (false) ones.")


class CampaignSummaryOut(Schema):
    id: int
    name: str
    territory: str
    territory_id: int
    country: str
    is_open: bool
    created_at: str = Field(description="Date of creation (YYYY-MM-DD).")


class CampaignPageOut(PageOut):
    results: list[CampaignSummaryOut]


def _campaign_summary(campaign: Campaign) -> dict[str, Any]:
    return {
        "id": campaign.pk,
        "name": campaign.name,
        "territory": campaign.territory.slug,
        "territory_id": campaign.territory_id,
        "country": campaign.country,
        "is_open": campaign.is_open,
        "created_at": campaign.created_at.date().isoformat(),
    }


@router.get(
    "/carbon/campaigns",
    response={200: CampaignPageOut, **ERRORS},
    summary="Campaigns the caller may see",
)
def campaign_list(request: HttpRequest, query: Query[CampaignListQuery]) -> Any:
    """Campaigns of the territories the caller may see (public ones for everybody)."""
    caller = caller_of(request)
    campaigns = Campaign.objects.filter(
        territory__in=caller.visible_territories().values("pk")
    ).select_related("territory")
    if query.territory is not None:
        campaigns = campaigns.filter(territory__ancestor_links__ancestor_id=query.territory)
    if query.is_open is not None:
        campaigns = campaigns.filter(is_open=query.is_open)
    return page_of(request, campaigns.order_by("-created_at", "-pk"), query, _campaign_summary)


class CampaignIn(Schema):
    territory_id: int = Field(ge=1, le=MAX_ID)
    name: str = Field(min_length=1, max_length=200)
    country: str | None = Field(
        None,
        min_length=2,
        max_length=2,
        description="Country of the factors; by default the territory's country.",
    )
    group_id: int | None = Field(
        None, ge=1, le=MAX_ID, description="A homogeneous group of the territory or below."
    )
    description: str = Field("", max_length=5000)

    @field_validator("name", "country", "description")
    @classmethod
    def _printable(cls, value: str | None) -> str | None:
        return printable_text(value)


@router.post(
    "/carbon/campaigns",
    response={201: CampaignOut, **WRITE_ERRORS},
    summary="Create a carbon campaign",
)
def campaign_create_endpoint(request: HttpRequest, payload: CampaignIn) -> Any:
    """Needs a read/write token and the right to manage groups on the territory."""
    caller = caller_of(request)
    territory = territory_to_manage_groups(
        caller,
        payload.territory_id,
        refusal="You may not create campaigns in this territory.",
    )
    name = payload.name.strip()
    if not name:
        raise invalid("name", "must not be blank", location="body")
    country = (payload.country or territory_country(territory)).upper()
    if not FactorSet.objects.current().filter(country=country).exists():
        raise invalid("country", "no factor set for this country", location="body")
    group = None
    if payload.group_id is not None:
        group = (
            HomogeneousGroup.objects.in_subtree(territory.pk).filter(pk=payload.group_id).first()
        )
        if group is None:
            raise invalid("group_id", "no such group in this territory", location="body")
    campaign = campaign_create(
        name=name,
        territory=territory,
        country=country,
        group=group,
        description=payload.description,
        user=caller.user,
    )
    return Status(201, _campaign_out(_campaign(caller, campaign.pk), caller.user))


class CampaignPatch(Schema):
    name: str | None = Field(None, min_length=1, max_length=200)
    description: str | None = Field(None, max_length=5000)
    is_open: bool | None = Field(None, description="False closes the campaign to new answers.")

    @field_validator("name", "description")
    @classmethod
    def _printable(cls, value: str | None) -> str | None:
        return printable_text(value)


@router.patch(
    "/carbon/campaigns/{campaign_id}",
    response={200: CampaignOut, **WRITE_ERRORS},
    summary="Change a campaign (name, description, open or closed)",
)
def campaign_update_endpoint(
    request: HttpRequest, payload: CampaignPatch, campaign_id: int = ID
) -> Any:
    """Needs a read/write token and the right to run the campaign (its territory's
    coordinators and facilitators, the group's facilitators)."""
    caller = caller_of(request)
    campaign = _campaign_to_run(caller, campaign_id)
    fields = payload.dict(exclude_unset=True)
    for name in fields:
        if fields[name] is None:
            raise invalid(name, "must not be null", location="body")
    if "name" in fields:
        fields["name"] = fields["name"].strip()
        if not fields["name"]:
            raise invalid("name", "must not be blank", location="body")
    campaign_update(campaign=campaign, **fields)
    return _campaign_out(_campaign(caller, campaign.pk), caller.user)


class AdoptionIn(Schema):
    action: str = Field(
        max_length=60,
        description="Key of a collective action: "
        + ", ".join(a.key for a in catalogue().values() if a.kind == "collective")
        + ".",
    )
    note: str = Field("", max_length=5000, description="Who does what.")


@router.post(
    "/carbon/campaigns/{campaign_id}/adoptions",
    response={201: AdoptionOut, **WRITE_ERRORS},
    summary="The group adopts a collective action",
)
def campaign_adopt_endpoint(
    request: HttpRequest, payload: AdoptionIn, campaign_id: int = ID
) -> Any:
    """Needs a read/write token and the right to run the campaign. Adopting an action already
    adopted keeps the first adoption."""
    caller = caller_of(request)
    campaign = _campaign_to_run(caller, campaign_id)
    try:
        adoption = collective_adopt(
            campaign=campaign, action_key=payload.action, note=payload.note, user=caller.user
        )
    except PledgeError as error:
        raise invalid("action", str(error), location="body") from error
    return Status(
        201,
        {
            "action": adoption.action,
            "label": catalogue()[adoption.action].label,
            "note": adoption.note,
            "adopted_at": adoption.created_at.date().isoformat(),
        },
    )


# --- Stored results and pledges ----------------------------------------------------------------


class ResultIn(Schema):
    country: str = Field(
        "FR",
        min_length=2,
        max_length=2,
        description="Country of the factors (ignored for a campaign: the campaign's country).",
    )
    campaign_id: int | None = Field(
        None, ge=1, le=MAX_ID, description="An open campaign the result counts in, anonymously."
    )
    answers: AnswersIn = Field(  # type: ignore[valid-type]
        default_factory=AnswersIn,
        description="The questionnaire's answers; any may be left out (national average).",
    )
    client_token: str = Field(
        "",
        max_length=64,
        pattern=r"^[A-Za-z0-9_-]*$",
        description="An id chosen by the client: sending the same one twice stores one result.",
    )


class PledgeOut(Schema):
    action: str
    label: str
    category: str
    saving_kg: float = Field(
        description="Estimated saving, kgCO2e/year, on top of the pledges made before it."
    )


class ResultOut(Schema):
    token: str = Field(description="The private-link token: keep it to pledge or redo later.")
    url: str = Field(description="The private page of the result.")
    country: str
    factor_set_version: str
    campaign_id: int | None
    created_at: str = Field(description="Date of the result (YYYY-MM-DD).")
    total: float = Field(description="kgCO2e per person and per year, collective share included.")
    individual_total: float
    collective_total: float
    categories: dict[str, CategoryOut]
    defaults_used: list[str]
    pledges: list[PledgeOut] = Field(description="Pledged actions, in the order they were made.")
    pledged_kg: float = Field(description="Savings of the pledges together, kgCO2e/year.")
    actions: list[ActionOut] = Field(
        description="Individual actions that still apply after the pledges, best first."
    )


def _result_out(request: HttpRequest, result: FootprintResult) -> dict[str, Any]:
    from django.urls import reverse

    data = factor_data(result.factor_set)
    keys = list(result.pledges.order_by("created_at", "pk").values_list("action", flat=True))
    pledged = pledges_savings(result.answers, data, keys)
    token = result_link_token(result)
    return {
        "token": token,
        "url": request.build_absolute_uri(reverse("carbon:result", kwargs={"token": token})),
        "country": result.factor_set.country,
        "factor_set_version": result.factor_set.version,
        "campaign_id": result.campaign_id,
        "created_at": result.created_at.date().isoformat(),
        **result.detail,
        "pledges": [
            {
                "action": action.key,
                "label": action.label,
                "category": action.category,
                "saving_kg": round(saving, 1),
            }
            for action, saving in pledged
        ],
        "pledged_kg": round(sum(saving for _action, saving in pledged), 1),
        "actions": [
            {
                "key": p.action.key,
                "label": p.action.label,
                "category": p.action.category,
                "saving_kg": round(p.saving_kg, 1),
            }
            for p in proposals(result.answers, data, keys)
        ],
    }


def _result(caller: ApiCaller, token: str, *, write: bool) -> FootprintResult:
    """The result of a private-link token; writing needs a read/write token that reaches the
    campaign's territory, if the result belongs to a campaign."""
    if write:
        require_write(caller)
    result = result_from_token(token)
    if result is None:
        raise Http404("no such result")
    if write and result.territory_id is not None and not caller.in_scope(result.territory_id):
        raise forbidden("This API token does not reach the campaign's territory.")
    return result


@router.post(
    "/carbon/results",
    response={201: ResultOut, **WRITE_ERRORS},
    summary="Store a footprint result (in a campaign or on its own)",
)
def result_create_endpoint(request: HttpRequest, payload: ResultIn) -> Any:
    """For tools that gather questionnaires (paper forms typed in after a workshop...). Needs a
    read/write token; a campaign must be open and visible to the token. The result belongs to
    no account: the answer's token is its private link."""
    caller = caller_of(request)
    require_write(caller)
    campaign = None
    if payload.campaign_id is not None:
        campaign = _campaign(caller, payload.campaign_id)
        if not caller.in_scope(campaign.territory_id):
            raise forbidden("This API token does not reach the campaign's territory.")
        if not campaign.is_open:
            raise ApiError(409, "This campaign is closed to new answers.", code="campaign_closed")
        country = campaign.country
    else:
        country = payload.country.upper()
    if not FactorSet.objects.current().filter(country=country).exists():
        raise invalid("country", "no factor set for this country", location="body")
    answers: Schema = payload.answers
    try:
        clean = answers_clean(answers.model_dump(exclude_none=True))
    except InvalidAnswers as error:
        raise invalid(
            next(iter(error.errors)), "; ".join(error.errors.values()), location="body"
        ) from error
    result = footprint_result_create(
        answers=clean,
        country=country,
        campaign=campaign,
        client_token=payload.client_token,
    )
    return Status(201, _result_out(request, result))


TOKEN = Path(..., max_length=300, description="The private-link token of a result.")


@router.get(
    "/carbon/results/{token}",
    response={200: ResultOut, **ERRORS_WITH_404},
    summary="A stored result, by its private-link token",
)
def result_detail(request: HttpRequest, token: str = TOKEN) -> Any:
    """Whoever holds the private link may read the result, as on the page."""
    return _result_out(request, _result(caller_of(request), token, write=False))


class PledgeIn(Schema):
    action: str = Field(
        max_length=60,
        description="Key of an individual action: "
        + ", ".join(a.key for a in catalogue().values() if a.kind == "individual")
        + ". Only actions that apply to the answers (see ``actions``) are accepted.",
    )


@router.post(
    "/carbon/results/{token}/pledges",
    response={201: ResultOut, **WRITE_ERRORS},
    summary="Pledge an action on a stored result",
)
def pledge_create_endpoint(request: HttpRequest, payload: PledgeIn, token: str = TOKEN) -> Any:
    """Needs a read/write token and the result's private-link token. The saving is computed on
    the person's own answers, after the pledges already made (nothing counted twice). 409 when
    an action of the same kind is pledged already or the action does not apply; pledging the
    same action again changes nothing."""
    result = _result(caller_of(request), token, write=True)
    try:
        pledge_add(result=result, action_key=payload.action)
    except PledgeError as error:
        if error.code == "unknown_action":
            raise invalid("action", str(error), location="body") from error
        raise ApiError(409, str(error), code=error.code) from error
    return Status(201, _result_out(request, result))


@router.delete(
    "/carbon/results/{token}/pledges/{action}",
    response={200: ResultOut, **WRITE_ERRORS},
    summary="Withdraw a pledge",
)
def pledge_delete_endpoint(
    request: HttpRequest, token: str = TOKEN, action: str = Path(..., max_length=60)
) -> Any:
    """Needs a read/write token and the result's private-link token; the savings of the later
    pledges are computed again. 404 when the action is not pledged."""
    result = _result(caller_of(request), token, write=True)
    if not result.pledges.filter(action=action).exists():
        raise Http404("no such pledge")
    pledge_remove(result=result, action_key=action)
    return _result_out(request, result)
