"""Pages of progress indicators and co-evaluations, and the public self-survey (no account)."""

from __future__ import annotations

import io
from typing import Any

import segno
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db.models import Q
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from spiral.consultations.models import Criterion, GroupProfile, HomogeneousGroup
from spiral.core.http import AuthenticatedRequest, SpiralRequest
from spiral.core.permissions import require
from spiral.core.tables import EXPORT_FORMATS, download_response
from spiral.grid.models import Component
from spiral.indicators import charts
from spiral.indicators.exports import results_csv, results_xlsx
from spiral.indicators.forms import (
    EvaluationForm,
    IndicatorHeadForm,
    RatingForm,
    levels_from_post,
    scale_from_post,
    scale_initial,
)
from spiral.indicators.models import LEVELS, Category, Evaluation, Indicator, Level, RaterKind
from spiral.indicators.permissions import (
    can_manage_progress,
    can_rate_for_group,
    can_view_progress,
    can_view_progress_details,
)
from spiral.indicators.selectors import (
    categories_from_coding,
    component_criteria_counts,
    criteria_by_category,
    criteria_for_components,
    evaluation_comparison,
    evaluation_indicators,
    evaluation_results,
    evaluations_of_territory,
    indicator_evaluations,
    indicator_versions,
    indicators_of_territory,
    rating_sources,
    recorded_raters,
    reuse_territories,
    shared_indicators,
)
from spiral.indicators.services import (
    IndicatorError,
    SurveyRejected,
    evaluation_create,
    evaluation_survey_set_open,
    indicator_create,
    indicator_reuse,
    indicator_revise,
    is_plain_number,
    ratings_record,
    survey_field,
    survey_submit,
    survey_token_issue,
)
from spiral.territories.models import Territory
from spiral.territories.selectors import territory_ancestors

SURVEY_COOKIE = "spiral_survey_{pk}"
TOKEN_COOKIE_AGE = 60 * 60 * 24 * 90
DONE_COOKIE_AGE = 60 * 60 * 24 * 365


def _set_survey_cookie(response: HttpResponse, name: str, value: str, max_age: int) -> None:
    """The browser's own token (or "done"); scripts never need it."""
    response.set_cookie(
        name,
        value,
        max_age=max_age,
        samesite="Lax",
        httponly=True,
        secure=settings.SESSION_COOKIE_SECURE,
    )


def _territory(request: SpiralRequest, slug: str) -> Territory:
    territory = get_object_or_404(Territory, slug=slug)
    require(can_view_progress(request.user, territory))
    return territory


def _indicator(request: SpiralRequest, pk: int) -> Indicator:
    indicator = get_object_or_404(Indicator.objects.select_related("territory"), pk=pk)
    require(can_view_progress(request.user, indicator.territory))
    return indicator


def _evaluation(request: SpiralRequest, pk: int) -> Evaluation:
    evaluation = get_object_or_404(
        Evaluation.objects.select_related("territory", "baseline"), pk=pk
    )
    require(can_view_progress(request.user, evaluation.territory))
    return evaluation


def territory_indicators(request: SpiralRequest, slug: str) -> HttpResponse:
    """A territory's indicators and its co-evaluations."""
    territory = _territory(request, slug)
    context = {
        "territory": territory,
        "ancestors": territory_ancestors(territory=territory),
        "indicators": indicators_of_territory(territory=territory),
        "evaluations": evaluations_of_territory(territory=territory),
        "can_manage": can_manage_progress(request.user, territory),
    }
    return render(request, "indicators/territory.html", context)


def _component_choices(territory: Territory) -> list[Component]:
    version_id = territory.effective_grid_version_id()
    return list(Component.objects.filter(version_id=version_id).order_by("position", "code"))


def _builder(
    request: AuthenticatedRequest,
    territory: Territory,
    *,
    indicator: Indicator | None = None,
) -> HttpResponse:
    """The indicator builder: components, their coded criteria sorted into the 4 categories,
    and the 5 levels written from them."""
    if indicator is not None:
        component_ids = list(indicator.components.values_list("pk", flat=True))
    else:
        component_ids = [int(v) for v in request.GET.getlist("components") if is_plain_number(v)]
    counts = component_criteria_counts(territory=territory) if indicator is None else {}
    components = _component_choices(territory)
    chosen = [c for c in components if c.pk in component_ids]
    # Only the components where this territory's criteria are coded can make an indicator.
    offered = [(c, counts[c.pk]) for c in components if counts.get(c.pk)]
    criteria = list(
        criteria_for_components(territory=territory, component_ids=[c.pk for c in chosen])
    )
    # Criteria cited by an existing indicator stay on screen even if recoded since.
    if indicator is not None:
        extra = {row.criterion_id for row in indicator.sorted.all()} - {c.pk for c in criteria}
        if extra:
            criteria += list(Criterion.objects.filter(pk__in=extra))
    criterion_ids = [c.pk for c in criteria]
    head = IndicatorHeadForm(
        request.POST or None,
        initial=(
            {
                "title": indicator.title,
                "question": indicator.question,
                "is_shared": indicator.is_shared,
            }
            if indicator
            else {"title": " / ".join(c.label for c in chosen)}
        ),
    )
    error = ""
    if request.method == "POST":
        sorted_criteria, levels = scale_from_post(request.POST, criterion_ids)
        if head.is_valid():
            try:
                if indicator is None:
                    saved = indicator_create(
                        territory=territory,
                        title=head.cleaned_data["title"],
                        question=head.cleaned_data["question"],
                        components=chosen,
                        sorted_criteria=sorted_criteria,
                        levels=levels,
                        user=request.user,
                        is_shared=head.cleaned_data["is_shared"],
                    )
                    messages.success(request, _("The indicator was saved."))
                else:
                    saved = indicator_revise(
                        indicator=indicator,
                        title=head.cleaned_data["title"],
                        question=head.cleaned_data["question"],
                        sorted_criteria=sorted_criteria,
                        levels=levels,
                        user=request.user,
                        is_shared=head.cleaned_data["is_shared"],
                    )
                    if saved.pk != indicator.pk:
                        messages.success(
                            request,
                            _("The indicator was already rated: version %(n)s was created.")
                            % {"n": saved.version},
                        )
                    else:
                        messages.success(request, _("The indicator was saved."))
                return redirect(saved)
            except IndicatorError as exc:
                error = exc.message
    elif indicator is not None:
        sorted_criteria, levels = scale_initial(indicator)
    else:
        sorted_criteria = categories_from_coding(
            criterion_ids=criterion_ids, component_ids=[c.pk for c in chosen]
        )
        levels = {}
    level_rows = [
        {
            "level": n,
            "label": Level(n).label,
            "text": levels[n].text if n in levels else "",
            "cited": set(levels[n].criterion_ids) if n in levels else set(),
        }
        for n in LEVELS
    ]
    context = {
        "territory": territory,
        "ancestors": territory_ancestors(territory=territory),
        "indicator": indicator,
        "components": offered,
        "chosen_ids": {c.pk for c in chosen},
        "chosen": chosen,
        "criteria": criteria,
        "sorted": sorted_criteria,
        "categories": Category.choices,
        "level_rows": level_rows,
        "head": head,
        "error": error,
    }
    return render(request, "indicators/builder.html", context, status=400 if error else 200)


@login_required
def indicator_new(request: AuthenticatedRequest, slug: str) -> HttpResponse:
    territory = _territory(request, slug)
    require(can_manage_progress(request.user, territory))
    return _builder(request, territory)


@login_required
def indicator_edit(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    indicator = _indicator(request, pk)
    require(can_manage_progress(request.user, indicator.territory))
    return _builder(request, indicator.territory, indicator=indicator)


def indicator_detail(request: SpiralRequest, pk: int) -> HttpResponse:
    indicator = _indicator(request, pk)
    territory = indicator.territory
    user = request.user
    show_criteria = can_view_progress_details(user, territory)
    reuse_targets: list[Territory] = []
    if user.is_authenticated and indicator.is_shared:
        reuse_targets = [
            t
            for t in reuse_territories(user=user, exclude=territory)
            if can_manage_progress(user, t)
        ]
    context = {
        "territory": territory,
        "ancestors": territory_ancestors(territory=territory),
        "indicator": indicator,
        "levels": indicator.levels.prefetch_related("criteria"),
        "by_category": criteria_by_category(indicator=indicator) if show_criteria else [],
        "rated_in": indicator_evaluations(indicator=indicator),
        "show_criteria": show_criteria,
        "versions": indicator_versions(indicator=indicator),
        "can_manage": can_manage_progress(user, territory),
        "reuse_targets": reuse_targets,
        "actions": indicator.actions.planned() if show_criteria else indicator.actions.none(),
    }
    return render(request, "indicators/indicator.html", context)


def indicator_library(request: SpiralRequest) -> HttpResponse:
    """Indicators shared by public territories, to be reused by others."""
    return render(request, "indicators/library.html", {"indicators": shared_indicators()})


@login_required
@require_POST
def indicator_reuse_view(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    source = _indicator(request, pk)
    require(source.is_shared)
    raw = request.POST.get("territory", "")
    target = get_object_or_404(Territory, pk=int(raw) if is_plain_number(raw) else 0)
    require(can_manage_progress(request.user, target))
    try:
        copy = indicator_reuse(source=source, territory=target, user=request.user)
    except IndicatorError as exc:
        messages.error(request, exc.message)
        return redirect(source)
    messages.success(
        request, _("The indicator was copied: adapt its scale with your own criteria.")
    )
    return redirect("indicators:indicator_edit", pk=copy.pk)


# --- evaluations ------------------------------------------------------------------------------


@login_required
def evaluation_new(request: AuthenticatedRequest, slug: str) -> HttpResponse:
    territory = _territory(request, slug)
    require(can_manage_progress(request.user, territory))
    # In a second cycle the new evaluation is read against the last one (usually the ex-post of
    # the cycle before): proposed as the comparison, the coordinator may clear it.
    latest = Evaluation.objects.of_territory(territory.pk).order_by("-held_on", "-pk").first()
    form = EvaluationForm(
        request.POST or None,
        territory=territory,
        initial={
            "held_on": timezone.localdate(),
            "kind": "ex_ante",
            "ask_profile": True,
            "baseline": latest.pk if latest else None,
        },
    )
    if request.method == "POST" and form.is_valid():
        try:
            evaluation = evaluation_create(
                territory=territory,
                user=request.user,
                **dict(form.cleaned_data.items()),
            )
        except IndicatorError as exc:
            form.add_error(None, exc.message)
        else:
            messages.success(request, _("The co-evaluation was created."))
            return redirect(evaluation)
    context = {
        "territory": territory,
        "ancestors": territory_ancestors(territory=territory),
        "form": form,
    }
    return render(request, "indicators/evaluation_form.html", context)


def _survey_url(request: SpiralRequest, evaluation: Evaluation) -> str:
    return request.build_absolute_uri(
        reverse("indicators:survey", kwargs={"key": evaluation.survey_key})
    )


def evaluation_detail(request: SpiralRequest, pk: int) -> HttpResponse:
    """The results: distribution, median, by rater and by profile, the radar."""
    evaluation = _evaluation(request, pk)
    territory = evaluation.territory
    details = can_view_progress_details(request.user, territory)
    results = evaluation_results(evaluation=evaluation, show_small=details)
    context = {
        "territory": territory,
        "ancestors": territory_ancestors(territory=territory),
        "evaluation": evaluation,
        "results": results,
        "bars": charts.distribution_bars(results) if results.has_ratings else "",
        "radar": charts.median_radar(results) if results.has_ratings else "",
        "can_manage": can_manage_progress(request.user, territory),
        "details": details,
        "survey_url": _survey_url(request, evaluation) if details else "",
        "raters": dict(RaterKind.choices),
        "threshold": settings.SPIRAL_SMALL_NUMBERS_THRESHOLD,
        # Without a named baseline, the latest earlier evaluation is the natural "before".
        "other_evaluation": (
            None
            if evaluation.baseline_id
            else Evaluation.objects.of_territory(territory.pk)
            .filter(
                Q(held_on__lt=evaluation.held_on)
                | Q(held_on=evaluation.held_on, pk__lt=evaluation.pk)
            )
            .order_by("-held_on", "-pk")
            .first()
        ),
    }
    return render(request, "indicators/evaluation.html", context)


def evaluation_export(request: SpiralRequest, pk: int, fmt: str) -> HttpResponse:
    """The results as CSV or XLSX, with the same small-numbers rule as the page."""
    if fmt not in EXPORT_FORMATS:
        raise Http404("unknown format")
    evaluation = _evaluation(request, pk)
    details = can_view_progress_details(request.user, evaluation.territory)
    results = evaluation_results(evaluation=evaluation, show_small=details)
    name = f"co-evaluation-{evaluation.pk}"
    content = results_csv(results) if fmt == "csv" else results_xlsx(results)
    return download_response(content, fmt=fmt, filename=name)


def evaluation_compare(request: SpiralRequest, pk: int) -> HttpResponse:
    """Before/after: where the situation moved, indicator by indicator."""
    after_evaluation = _evaluation(request, pk)
    other = request.GET.get("with") or after_evaluation.baseline_id
    if not other or not is_plain_number(str(other)):
        raise Http404("nothing to compare with")
    before_evaluation = get_object_or_404(
        Evaluation, pk=int(other), territory=after_evaluation.territory
    )
    source = request.GET.get("source", "")
    if source not in RaterKind.values:
        source = ""
    details = can_view_progress_details(request.user, after_evaluation.territory)
    before = evaluation_results(evaluation=before_evaluation, show_small=details)
    after = evaluation_results(evaluation=after_evaluation, show_small=details)
    before_sources, after_sources = rating_sources(before), rating_sources(after)
    context = {
        "territory": after_evaluation.territory,
        "ancestors": territory_ancestors(territory=after_evaluation.territory),
        "before": before,
        "after": after,
        "source": source,
        "sources": RaterKind.choices,
        # Comparing a citizens' survey with one coordination rating moves the median for the
        # wrong reason: say so, and offer to compare one source with itself.
        "mixed_sources": not source and set(before_sources) != set(after_sources),
        "before_sources": [(RaterKind(k).label, n) for k, n in before_sources.items()],
        "after_sources": [(RaterKind(k).label, n) for k, n in after_sources.items()],
        "lines": evaluation_comparison(before=before, after=after, source=source),
        "radar": charts.median_radar(after, before=before, source=source),
        "others": Evaluation.objects.of_territory(after_evaluation.territory_id).exclude(
            pk=after_evaluation.pk
        ),
    }
    return render(request, "indicators/compare.html", context)


@login_required
def evaluation_rate(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    """The coordination group's or a homogeneous group's rating, entered after its meeting."""
    evaluation = _evaluation(request, pk)
    territory = evaluation.territory
    manage = can_manage_progress(request.user, territory)
    groups = [
        g
        for g in HomogeneousGroup.objects.in_subtree(territory.pk)
        .active()
        .select_related("territory", "profile")
        if manage or can_rate_for_group(request.user, g)
    ]
    require(manage or bool(groups))
    asked = request.GET.get("rater", "")
    form = RatingForm(request.POST or None, groups=groups, initial={"rater": asked})
    if not manage:
        form.fields["rater"].choices = form.fields["rater"].choices[1:]  # type: ignore[attr-defined]
    choices = dict(form.fields["rater"].choices)  # type: ignore[attr-defined]
    indicators = evaluation_indicators(evaluation)
    # What was chosen stays on screen when the form comes back with an error.
    chosen = {i.pk: request.POST.get(f"indicator-{i.pk}", "") for i in indicators}
    notes = {i.pk: request.POST.get(f"note-{i.pk}", "") for i in indicators}
    recorded = recorded_raters(evaluation=evaluation)
    if request.method == "GET" and asked in choices and asked in recorded:
        # Opening a rater's earlier rating to correct it: its levels and whys are on screen.
        for rating in recorded[asked]:
            chosen[rating.indicator_id] = str(rating.level)
            notes[rating.indicator_id] = rating.note
    error = ""
    if request.method == "POST" and form.is_valid():
        rater_value = form.cleaned_data["rater"]
        group = form.groups.get(rater_value.removeprefix("group-"))
        levels = levels_from_post(request.POST, [i.pk for i in indicators])
        if not levels:
            error = _("Choose a level for at least one indicator.")
        else:
            try:
                ratings_record(
                    evaluation=evaluation,
                    levels=levels,
                    rater=RaterKind.GROUP if group else RaterKind.COORDINATION,
                    group=group,
                    user=request.user,
                    notes={i.pk: request.POST.get(f"note-{i.pk}", "").strip() for i in indicators},
                )
            except IndicatorError as exc:
                error = exc.message
            else:
                messages.success(request, _("The rating was saved."))
                return redirect(evaluation)
    context = {
        "territory": territory,
        "ancestors": territory_ancestors(territory=territory),
        "evaluation": evaluation,
        "indicators": indicators,
        "form": form,
        "error": error,
        "items": [(i, chosen[i.pk], notes[i.pk]) for i in indicators],
        "recorded": [(value, choices[value]) for value in recorded if value in choices],
    }
    return render(request, "indicators/rate.html", context, status=400 if error else 200)


@login_required
@require_POST
def evaluation_survey_toggle(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    evaluation = _evaluation(request, pk)
    require(can_manage_progress(request.user, evaluation.territory))
    evaluation_survey_set_open(evaluation=evaluation, is_open=request.POST.get("open") == "1")
    if evaluation.survey_open:
        messages.success(request, _("The self-survey is open."))
    else:
        messages.info(request, _("The self-survey is closed."))
    return redirect(evaluation)


@login_required
def evaluation_qr(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    """The self-survey link as a QR code (SVG), to print or show on a screen."""
    evaluation = _evaluation(request, pk)
    require(can_view_progress_details(request.user, evaluation.territory))
    qr = segno.make(_survey_url(request, evaluation), error="m")
    buffer = io.BytesIO()
    qr.save(
        buffer,
        kind="svg",
        scale=6,
        xmldecl=False,
        title=_("Self-survey: %(title)s") % {"title": evaluation.title},
    )
    return HttpResponse(buffer.getvalue(), content_type="image/svg+xml")


# --- the public self-survey -------------------------------------------------------------------


def _survey_context(
    evaluation: Evaluation, token: str, posted: Any = None, errors: dict[str, str] | None = None
) -> dict[str, Any]:
    indicators = evaluation_indicators(evaluation)
    return {
        "evaluation": evaluation,
        "territory": evaluation.territory,
        "token": token,
        "items": [
            {
                "indicator": i,
                "field": survey_field(i.pk),
                "levels": list(i.levels.all()),
                "chosen": (posted or {}).get(survey_field(i.pk), ""),
                "error": (errors or {}).get(survey_field(i.pk), ""),
            }
            for i in indicators
        ],
        "profiles": GroupProfile.objects.filter(is_active=True) if evaluation.ask_profile else [],
        "chosen_profile": (posted or {}).get("profile", ""),
        "errors": errors or {},
    }


@csrf_exempt  # no session or account to ride on; the signed one-time token guards the form
def survey(request: SpiralRequest, key: str) -> HttpResponse:
    """The self-survey, for anyone holding the link: one answer per browser, no identity."""
    evaluation = Evaluation.objects.select_related("territory").filter(survey_key=key).first()
    if evaluation is None:
        return render(request, "indicators/survey_closed.html", {"unknown": True}, status=404)
    cookie = SURVEY_COOKIE.format(pk=evaluation.pk)
    if request.method == "POST":
        token = request.POST.get("token", "")
        indicator_ids = list(evaluation.indicators.values_list("pk", flat=True))
        try:
            outcome = survey_submit(
                evaluation=evaluation, token=token, data=request.POST, indicator_ids=indicator_ids
            )
        except SurveyRejected as rejected:
            if not evaluation.survey_open:
                return render(
                    request, "indicators/survey_closed.html", {"evaluation": evaluation}, status=403
                )
            # Keep the token when it is sound, so the corrected answer still counts once.
            keep = token if "" not in rejected.errors else survey_token_issue(evaluation=evaluation)
            context = _survey_context(evaluation, keep, request.POST, rejected.errors)
            response = render(request, "indicators/survey.html", context, status=400)
            _set_survey_cookie(response, cookie, keep, TOKEN_COOKIE_AGE)
            return response
        response = redirect("indicators:survey_thanks", key=key)
        _set_survey_cookie(response, cookie, "done", DONE_COOKIE_AGE)
        if not outcome.created:
            response["Location"] += "?again=1"
        return response
    if not evaluation.survey_open:
        return render(request, "indicators/survey_closed.html", {"evaluation": evaluation})
    if request.COOKIES.get(cookie) == "done":
        return redirect(reverse("indicators:survey_thanks", kwargs={"key": key}) + "?again=1")
    token = request.COOKIES.get(cookie) or survey_token_issue(evaluation=evaluation)
    response = render(request, "indicators/survey.html", _survey_context(evaluation, token))
    _set_survey_cookie(response, cookie, token, TOKEN_COOKIE_AGE)
    return response


def survey_thanks(request: SpiralRequest, key: str) -> HttpResponse:
    evaluation = get_object_or_404(Evaluation.objects.select_related("territory"), survey_key=key)
    context = {
        "evaluation": evaluation,
        "again": request.GET.get("again") == "1",
        "results_public": evaluation.territory.is_public,
    }
    return render(request, "indicators/survey_thanks.html", context)
