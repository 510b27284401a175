"""Writes of the carbon module: results, pledges, campaigns, adoptions. Each is one transaction."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.conf import settings
from django.core import signing
from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from spiral.carbon.actions import catalogue, pledges_savings, proposals
from spiral.carbon.compute import footprint_compute
from spiral.carbon.factorsets import current_factor_set, factor_data
from spiral.carbon.models import Campaign, CollectiveAdoption, FactorSet, FootprintResult, Pledge
from spiral.carbon.questions import INDIVIDUAL_CATEGORIES, answers_clean


def result_link_token(result: FootprintResult) -> str:
    """The private link's token: signed, so it cannot be guessed, and without expiry, so the
    person can come back a year later and redo the questionnaire."""
    return signing.dumps({"r": result.pk}, salt=settings.SPIRAL_CARBON_LINK_SALT, compress=True)


def result_from_token(token: str) -> FootprintResult | None:
    try:
        data = signing.loads(token, salt=settings.SPIRAL_CARBON_LINK_SALT)
    except signing.BadSignature:
        return None
    if not isinstance(data, dict) or not isinstance(data.get("r"), int):
        return None
    return FootprintResult.objects.filter(pk=data["r"]).select_related("factor_set").first()


@transaction.atomic
def footprint_result_create(
    *,
    answers: Mapping[str, Any],
    country: str,
    campaign: Campaign | None = None,
    user: Any = None,
    previous: FootprintResult | None = None,
    client_token: str = "",
    factor_set: FactorSet | None = None,
) -> FootprintResult:
    """Compute and store one result; a resubmitted client token returns the first result."""
    if client_token:
        existing = FootprintResult.objects.filter(client_token=client_token).first()
        if existing is not None:
            return existing
    clean = answers_clean(dict(answers))
    if campaign is not None:
        country = campaign.country
    factor_set = factor_set or current_factor_set(country)
    footprint = footprint_compute(clean, factor_data(factor_set))
    owner = user if user is not None and user.is_authenticated else None
    if previous is not None and campaign is not None and previous.campaign_id == campaign.pk:
        FootprintResult.objects.filter(pk=previous.pk).update(superseded=True)
    try:
        with transaction.atomic():
            return FootprintResult.objects.create(
                campaign=campaign,
                territory_id=campaign.territory_id if campaign else None,
                user=owner,
                previous=previous,
                factor_set=factor_set,
                client_token=client_token,
                answers=clean,
                detail=footprint.as_dict(),
                transport_kg=footprint.category_total("transport"),
                housing_kg=footprint.category_total("housing"),
                food_kg=footprint.category_total("food"),
                goods_kg=footprint.category_total("goods"),
                services_kg=footprint.category_total("services"),
                total_kg=footprint.total,
            )
    except IntegrityError:
        # Two submissions of the same form raced: the first one stands.
        return FootprintResult.objects.get(client_token=client_token)


class PledgeError(ValueError):
    """A pledge or an adoption refused; ``code`` is a stable word for the API."""

    def __init__(self, message: str, *, code: str) -> None:
        super().__init__(message)
        self.code = code


@transaction.atomic
def pledge_add(*, result: FootprintResult, action_key: str) -> Pledge:
    """Record a pledge with its saving on top of the person's earlier pledges (idempotent)."""
    FootprintResult.objects.select_for_update().filter(pk=result.pk).first()
    action = catalogue().get(action_key)
    if action is None or action.kind != "individual":
        raise PledgeError(_("This action is not in the catalogue."), code="unknown_action")
    existing = result.pledges.filter(action=action_key).first()
    if existing is not None:
        return existing
    keys = list(result.pledges.values_list("action", flat=True))
    taken = {catalogue()[key].exclusive for key in keys}
    if action.exclusive and action.exclusive in taken:
        raise PledgeError(
            _("An action of the same kind is already pledged: withdraw it first."),
            code="exclusive_action",
        )
    data = factor_data(result.factor_set)
    if action_key not in {p.action.key for p in proposals(result.answers, data, keys)}:
        raise PledgeError(
            _("This action does not apply to your answers."), code="action_not_applicable"
        )
    _action, saving = pledges_savings(result.answers, data, [*keys, action_key])[-1]
    pledge = Pledge.objects.create(
        result=result, action=action_key, category=action.category, saving_kg=saving
    )
    _pledge_totals_refresh(result)
    return pledge


def _pledge_totals_refresh(result: FootprintResult) -> None:
    """Copy the pledges' sums onto the result, where the campaign aggregates read them."""
    sums = dict.fromkeys(INDIVIDUAL_CATEGORIES, 0.0)
    count = 0
    for category, saving in result.pledges.values_list("category", "saving_kg"):
        sums[category] = sums.get(category, 0.0) + saving
        count += 1
    FootprintResult.objects.filter(pk=result.pk).update(
        pledge_count=count, **{f"pledged_{code}_kg": sums[code] for code in INDIVIDUAL_CATEGORIES}
    )


@transaction.atomic
def pledge_remove(*, result: FootprintResult, action_key: str) -> None:
    """Withdraw a pledge; the savings of the later ones are recomputed in order."""
    result.pledges.filter(action=action_key).delete()
    pledges = list(result.pledges.order_by("created_at", "pk"))
    data = factor_data(result.factor_set)
    savings = pledges_savings(result.answers, data, [p.action for p in pledges])
    for pledge, (_action, saving) in zip(pledges, savings, strict=True):
        if pledge.saving_kg != saving:
            pledge.saving_kg = saving
            pledge.save(update_fields=["saving_kg"])
    _pledge_totals_refresh(result)


@transaction.atomic
def campaign_create(
    *,
    name: str,
    territory: Any,
    country: str,
    user: Any,
    group: Any = None,
    description: str = "",
) -> Campaign:
    current_factor_set(country)  # refuses a country without factors
    return Campaign.objects.create(
        name=name,
        territory=territory,
        group=group,
        country=country,
        description=description,
        created_by=user,
    )


@transaction.atomic
def campaign_update(
    *,
    campaign: Campaign,
    name: str | None = None,
    description: str | None = None,
    is_open: bool | None = None,
) -> Campaign:
    """Rename a campaign, change its description, or close it to new answers (or reopen it)."""
    fields = []
    if name is not None:
        campaign.name = name
        fields.append("name")
    if description is not None:
        campaign.description = description
        fields.append("description")
    if is_open is not None:
        campaign.is_open = is_open
        fields.append("is_open")
    if fields:
        campaign.save(update_fields=[*fields, "updated_at"])
    return campaign


@transaction.atomic
def collective_adopt(
    *, campaign: Campaign, action_key: str, note: str, user: Any
) -> CollectiveAdoption:
    action = catalogue().get(action_key)
    if action is None or action.kind != "collective":
        raise PledgeError(
            _("This collective action is not in the catalogue."), code="unknown_action"
        )
    adoption, _created = CollectiveAdoption.objects.get_or_create(
        campaign=campaign, action=action_key, defaults={"note": note, "adopted_by": user}
    )
    return adoption
