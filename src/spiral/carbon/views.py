"""Pages of the carbon module: questionnaire, result, campaigns, workshop, factor sets."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from spiral.carbon import charts
from spiral.carbon.actions import (
    action_answer_keys,
    catalogue,
    collective_actions,
    pledges_savings,
    proposals,
)
from spiral.carbon.compute import footprint_compute
from spiral.carbon.exports import results_csv, results_xlsx
from spiral.carbon.factorsets import (
    FactorChangeError,
    current_factor_set,
    factor_data,
    factor_set_new_version,
)
from spiral.carbon.forms import (
    AdoptForm,
    CampaignForm,
    CountryForm,
    FactorChangeForm,
    QuestionnaireForm,
    territory_country,
)
from spiral.carbon.models import Campaign, FactorSet, FootprintResult
from spiral.carbon.permissions import (
    can_create_campaign,
    can_join_campaign,
    can_manage_factor_sets,
    can_run_campaign,
    can_see_campaign_details,
    can_view_campaign,
)
from spiral.carbon.questions import CATEGORIES, COLLECTIVE_CATEGORY, SUBCATEGORIES
from spiral.carbon.selectors import (
    aggregate,
    campaign_results,
    group_wellbeing,
    path_milestones,
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
from spiral.core.http import AuthenticatedRequest, SpiralRequest
from spiral.core.permissions import can_view_private_data, can_view_territory, require
from spiral.core.tables import EXPORT_FORMATS, download_response
from spiral.territories.models import Territory

# --- the questionnaire and the result --------------------------------------------------------


def _url(name: str, **kwargs: Any) -> str:
    return reverse(name, kwargs=kwargs or None)


def home(request: SpiralRequest) -> HttpResponse:
    """Start a questionnaire (country), the open campaigns one may join, one's own results."""
    form = CountryForm(request.GET or None)
    if form.is_bound and form.is_valid():
        return redirect(f"{_url('carbon:start')}?country={form.cleaned_data['country']}")
    campaigns = list(
        Campaign.objects.filter(is_open=True, territory__is_public=True)
        .select_related("territory")
        .order_by("-created_at")[:20]
    )
    return render(request, "carbon/home.html", {"form": form, "campaigns": campaigns})


def _questionnaire(
    request: SpiralRequest,
    *,
    factor_set: FactorSet,
    campaign: Campaign | None,
    previous: FootprintResult | None,
) -> HttpResponse:
    defaults = factor_set.document["defaults"]
    default_values = {key: entry["value"] for key, entry in defaults.items()}
    if request.method == "POST":
        form = QuestionnaireForm(request.POST, defaults=default_values)
        if form.is_valid():
            result = footprint_result_create(
                answers=form.answers(),
                country=factor_set.country,
                campaign=campaign,
                user=request.user,
                previous=previous,
                client_token=form.cleaned_data.get("client_token") or "",
            )
            return redirect("carbon:result", token=result_link_token(result))
    else:
        initial = dict(previous.answers) if previous else {}
        form = QuestionnaireForm(initial=initial, defaults=default_values)
    return render(
        request,
        "carbon/questionnaire.html",
        {
            "form": form,
            "factor_set": factor_set,
            "campaign": campaign,
            "previous": previous,
            "collective_kg": factor_set.document["factors"]["collective_services_year"]["value"],
        },
    )


def start(request: SpiralRequest) -> HttpResponse:
    """The questionnaire on its own, for one country; no account needed."""
    country = request.GET.get("country", "").upper()
    try:
        factor_set = current_factor_set(country)
    except FactorSet.DoesNotExist:
        return redirect("carbon:home")
    return _questionnaire(request, factor_set=factor_set, campaign=None, previous=None)


def campaign_join(request: SpiralRequest, pk: int) -> HttpResponse:
    campaign = get_object_or_404(Campaign.objects.select_related("territory", "group"), pk=pk)
    require(can_join_campaign(request.user, campaign))
    return _questionnaire(
        request,
        factor_set=current_factor_set(campaign.country),
        campaign=campaign,
        previous=None,
    )


def _result_by_token(token: str) -> FootprintResult:
    result = result_from_token(token)
    if result is None:
        raise Http404
    return result


def result_redo(request: SpiralRequest, token: str) -> HttpResponse:
    """Redo the questionnaire (a year later...), starting from the earlier answers."""
    previous = _result_by_token(token)
    campaign = previous.campaign
    if campaign is not None and not campaign.is_open:
        campaign = None
    country = campaign.country if campaign else previous.factor_set.country
    return _questionnaire(
        request, factor_set=current_factor_set(country), campaign=campaign, previous=previous
    )


def _rows(detail: dict[str, Any], average: dict[str, Any]) -> list[dict[str, Any]]:
    """Categories and sub-categories of a result, each beside the country's average."""
    rows = []
    for code, label in CATEGORIES:
        category = detail["categories"][code]
        mean = average["categories"][code]
        subs = dict(SUBCATEGORIES[code])
        rows.append(
            {
                "code": code,
                "label": label,
                "total": category["total"],
                "average": mean["total"],
                "collective": code == COLLECTIVE_CATEGORY,
                "subs": [
                    (subs[s], v, mean["subcategories"].get(s, 0.0))
                    for s, v in category["subcategories"].items()
                ],
            }
        )
    return rows


def average_labels(factor_set: FactorSet) -> tuple[str, str]:
    """What the comparison is called, in full and as a column head: a project estimate is
    never shown as a measured national average."""
    country = factor_set.name
    if factor_set.average_basis == "national":
        return _("Average in %(country)s") % {"country": country}, _("Average")
    if factor_set.average_basis == "estimate_tuned":
        return _("Estimated average in %(country)s") % {"country": country}, _("Estimate")
    return _("Project estimate for %(country)s") % {"country": country}, _("Estimate")


def _reference_set(factor_set: FactorSet) -> FactorSet | None:
    """A country whose average is a measured national footprint, for a country without one."""
    if factor_set.average_basis != "no_national_figure":
        return None
    others = FactorSet.objects.current().exclude(country=factor_set.country).order_by("country")
    return next((other for other in others if other.average_basis == "national"), None)


def _category_values(detail: dict[str, Any]) -> dict[str, float]:
    return {code: detail["categories"][code]["total"] for code, _label in CATEGORIES}


def result_view(request: SpiralRequest, token: str) -> HttpResponse:
    result = _result_by_token(token)
    factor_set = result.factor_set
    data = factor_data(factor_set)
    average = footprint_compute({}, data).as_dict()
    pledged_keys = list(result.pledges.values_list("action", flat=True))
    pledged = pledges_savings(result.answers, data, pledged_keys)
    path = path_to_target(
        start_kg=result.total_kg, start_year=result.created_at.year, factor_set=factor_set
    )
    milestones = path_milestones(path)
    previous = result.previous
    average_label, average_column = average_labels(factor_set)
    defaults_used = set(result.detail.get("defaults_used", []))
    offered = [
        (proposal, bool(action_answer_keys(proposal.action) & defaults_used))
        for proposal in proposals(result.answers, data, pledged_keys)
    ]
    comparison: list[tuple[str, float, float, float]] = []
    if previous is not None:
        for code, label in CATEGORIES:
            before = previous.category_kg(code)
            now = result.category_kg(code)
            comparison.append((str(label), before, now, now - before))
        comparison.append(
            (_("Total"), previous.total_kg, result.total_kg, result.total_kg - previous.total_kg)
        )
    adopted = []
    if result.campaign is not None:
        actions = catalogue()
        for adoption in result.campaign.adoptions.all():
            action = actions.get(adoption.action)
            if action is not None:
                helps = [actions[key] for key in action.enables if key in actions]
                adopted.append((action, adoption, helps))
    return render(
        request,
        "carbon/result.html",
        {
            "result": result,
            "token": token,
            "rows": _rows(result.detail, average),
            "average": average,
            "average_label": average_label,
            "average_column": average_column,
            "reference_set": _reference_set(factor_set),
            "chart": charts.footprint_bars(
                [
                    ("you", _("You"), _category_values(result.detail)),
                    ("average", average_label, _category_values(average)),
                ]
            ),
            "path": milestones,
            "path_chart": charts.path_bars(milestones, _("Your yearly budget")),
            "target_year": path[-1].year,
            "yearly_cut": (path[0].budget_kg - path[-1].budget_kg) / max(len(path) - 1, 1),
            "pledged": pledged,
            "pledged_total": sum(saving for _a, saving in pledged),
            "after_pledges": result.total_kg - sum(saving for _a, saving in pledged),
            "proposals": offered,
            "previous": previous,
            "comparison": comparison,
            "previous_pledges": list(previous.pledges.all()) if previous else [],
            "adopted": adopted,
            "previous_token": result_link_token(previous) if previous else "",
            "link": request.build_absolute_uri(_url("carbon:result", token=token)),
            "defaults_used": len(result.detail.get("defaults_used", [])),
        },
    )


@require_POST
def result_pledge(request: SpiralRequest, token: str) -> HttpResponse:
    result = _result_by_token(token)
    action = request.POST.get("action", "")
    try:
        if request.POST.get("remove"):
            pledge_remove(result=result, action_key=action)
        else:
            pledge_add(result=result, action_key=action)
            messages.success(request, _("Your pledge is recorded."))
    except PledgeError as error:
        messages.error(request, str(error))
    return redirect(f"{_url('carbon:result', token=token)}#pledges")


@login_required
def mine(request: AuthenticatedRequest) -> HttpResponse:
    results = FootprintResult.objects.filter(user=request.user).select_related(
        "campaign", "factor_set"
    )
    rows = [(r, result_link_token(r)) for r in results]
    return render(request, "carbon/mine.html", {"rows": rows})


# --- campaigns -------------------------------------------------------------------------------


def _campaign(request: SpiralRequest, pk: int) -> Campaign:
    campaign = get_object_or_404(Campaign.objects.select_related("territory", "group"), pk=pk)
    require(can_view_campaign(request.user, campaign))
    return campaign


def _campaign_context(request: SpiralRequest, campaign: Campaign) -> dict[str, Any]:
    details = can_see_campaign_details(request.user, campaign)
    agg = aggregate(campaign_results(campaign), full_view=details)
    factor_set = current_factor_set(campaign.country)
    context: dict[str, Any] = {
        "campaign": campaign,
        "aggregate": agg,
        "details": details,
        "can_run": can_run_campaign(request.user, campaign),
        "categories": CATEGORIES,
        "wellbeing": group_wellbeing(campaign),
        "adopted": [
            (catalogue()[a.action], a) for a in campaign.adoptions.all() if a.action in catalogue()
        ],
        # Offer only what the group has not adopted yet.
        "collective": [
            action
            for action in collective_actions()
            if not any(adoption.action == action.key for adoption in campaign.adoptions.all())
        ],
    }
    if agg.spreads:
        spread_rows = [(code, label, agg.spreads[code]) for code, label in CATEGORIES]
        path = path_to_target(
            start_kg=agg.spreads["total"].median,
            start_year=timezone.now().year,
            factor_set=factor_set,
        )
        milestones = path_milestones(path)
        context.update(
            spread_rows=spread_rows,
            bars=charts.aggregate_bars(agg),
            histogram=charts.histogram_bars(agg),
            path=milestones,
            path_chart=charts.path_bars(milestones, _("The group's budget (median)")),
        )
    return context


def campaign_view(request: SpiralRequest, pk: int) -> HttpResponse:
    campaign = _campaign(request, pk)
    context = _campaign_context(request, campaign)
    context["adopt_form"] = AdoptForm()
    return render(request, "carbon/campaign.html", context)


def campaign_workshop(request: SpiralRequest, pk: int) -> HttpResponse:
    """Large figures for a projector in a meeting: no menus, no names, auto-refreshed."""
    campaign = _campaign(request, pk)
    require(can_run_campaign(request.user, campaign))
    return render(request, "carbon/workshop.html", _campaign_context(request, campaign))


@require_POST
def campaign_adopt(request: SpiralRequest, pk: int) -> HttpResponse:
    campaign = _campaign(request, pk)
    require(can_run_campaign(request.user, campaign))
    form = AdoptForm(request.POST)
    if form.is_valid():
        try:
            collective_adopt(
                campaign=campaign,
                action_key=form.cleaned_data["action"],
                note=form.cleaned_data["note"],
                user=request.user,
            )
            messages.success(request, _("The group adopted this collective action."))
        except PledgeError as error:
            messages.error(request, str(error))
    return redirect("carbon:campaign", pk=campaign.pk)


@require_POST
def campaign_toggle(request: SpiralRequest, pk: int) -> HttpResponse:
    """Close a campaign to new answers after the meeting, or open it again."""
    campaign = _campaign(request, pk)
    require(can_run_campaign(request.user, campaign))
    campaign_update(campaign=campaign, is_open=not campaign.is_open)
    return redirect("carbon:campaign", pk=campaign.pk)


def campaign_new(request: SpiralRequest, slug: str) -> HttpResponse:
    territory = get_object_or_404(Territory, slug=slug)
    require(can_create_campaign(request.user, territory))
    form = CampaignForm(request.POST or None, territory=territory)
    if request.method == "POST" and form.is_valid():
        campaign = campaign_create(
            name=form.cleaned_data["name"],
            territory=territory,
            country=form.cleaned_data["country"],
            group=form.cleaned_data["group"],
            description=form.cleaned_data["description"],
            user=request.user,
        )
        return redirect(campaign)
    return render(request, "carbon/campaign_form.html", {"form": form, "territory": territory})


def campaign_export(request: SpiralRequest, pk: int, fmt: str) -> HttpResponse:
    """The campaign's results, one anonymous row each (no account, no link, no date to the
    second), for the people running it."""
    campaign = _campaign(request, pk)
    require(
        can_see_campaign_details(request.user, campaign) or can_run_campaign(request.user, campaign)
    )
    results = campaign_results(campaign).order_by("pk")
    if fmt not in EXPORT_FORMATS:
        raise Http404
    content = results_csv(results) if fmt == "csv" else results_xlsx(results, title=campaign.name)
    return download_response(content, fmt=fmt, filename=f"carbon-campaign-{campaign.pk}")


def territory_view(request: SpiralRequest, slug: str) -> HttpResponse:
    """Every campaign of the territory and below, rolled up, with the small-numbers rule."""
    territory = get_object_or_404(Territory, slug=slug)
    require(can_view_territory(request.user, territory))
    details = can_view_private_data(request.user, territory)
    agg = aggregate(territory_results(territory.pk), full_view=details)
    campaigns = Campaign.objects.filter(
        territory__ancestor_links__ancestor_id=territory.pk
    ).select_related("territory")
    context: dict[str, Any] = {
        "territory": territory,
        "aggregate": agg,
        "campaigns": campaigns,
        "categories": CATEGORIES,
        "can_create": can_create_campaign(request.user, territory),
    }
    if agg.spreads:
        path = path_to_target(
            start_kg=agg.spreads["total"].median,
            start_year=timezone.now().year,
            factor_set=current_factor_set(territory_country(territory)),
        )
        milestones = path_milestones(path)
        context.update(
            spread_rows=[(code, label, agg.spreads[code]) for code, label in CATEGORIES],
            bars=charts.aggregate_bars(agg, _("The territory by category")),
            histogram=charts.histogram_bars(agg),
            path=milestones,
            path_chart=charts.path_bars(milestones, _("The territory's budget (median)")),
        )
    return render(request, "carbon/territory.html", context)


# --- factor sets ----------------------------------------------------------------------------


def factor_sets(request: SpiralRequest) -> HttpResponse:
    sets = FactorSet.objects.order_by("country", "-created_at")
    return render(request, "carbon/factor_sets.html", {"sets": sets})


def factor_set_view(request: SpiralRequest, pk: int) -> HttpResponse:
    factor_set = get_object_or_404(FactorSet, pk=pk)
    can_manage = can_manage_factor_sets(request.user)
    form = FactorChangeForm(request.POST or None)
    if request.method == "POST":
        require(can_manage)
        if form.is_valid():
            data = form.cleaned_data
            try:
                new = factor_set_new_version(
                    factor_set=factor_set,
                    version=data["version"],
                    changes={
                        data["key"]: {
                            "value": data["value"],
                            "source": data["source"],
                            "note": data["note"],
                        }
                    },
                    note=data["note"],
                    user=request.user,
                )
            except FactorChangeError as error:
                form.add_error(None, str(error))
            else:
                messages.success(request, _("New version published."))
                return redirect("carbon:factor_set", pk=new.pk)
    document = factor_set.document
    return render(
        request,
        "carbon/factor_set.html",
        {
            "factor_set": factor_set,
            "factors": sorted(document["factors"].items()),
            "defaults": sorted(document["defaults"].items()),
            "national": document.get("national_footprint"),
            "references": document.get("reference_figures", []),
            "form": form if can_manage else None,
            "results": factor_set.results.count(),
        },
    )
