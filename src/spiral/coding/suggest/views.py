"""Suggestions on the coding screen: accept one, pre-code a page or a scope, and the page of
the suggestion models (network administrators)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ObjectDoesNotExist
from django.http import Http404, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext
from django.views.decorators.http import require_POST

from spiral.coding.forms import IdListField
from spiral.coding.models import SuggestionModel, SuggestionModelStatus
from spiral.coding.selectors import current_codings_of
from spiral.coding.suggest.services import (
    SuggestionNotOffered,
    scope_criteria,
    scope_territory,
    shown_suggestions,
    suggestion_accept,
    suggestions_fill,
    suggestions_precode,
)
from spiral.coding.suggest.training import suggestion_model_request, training_in_progress
from spiral.coding.views import (
    _added_message,
    _back_to_row,
    _codable_criterion,
    _default_screen,
    _row_payload,
    _safe_next,
    _wants_json,
)
from spiral.consultations.models import Criterion
from spiral.core.http import AuthenticatedRequest, SpiralRequest
from spiral.core.permissions import can_code, is_network_admin, require
from spiral.grid.codes import CodeError
from spiral.grid.models import GridVersion
from spiral.territories.models import Territory

SCOPE_KINDS = ("territory", "group", "meeting")


def suggestions_html(
    request: SpiralRequest, criterion: Criterion, suggestions: list[Any], next_url: str
) -> str:
    return render_to_string(
        "coding/_suggestions.html",
        {"criterion": criterion, "suggestions": suggestions, "next_url": next_url},
        request=request,
    )


@login_required
@require_POST
def suggestion_accept_view(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    """Accept one suggested component: it becomes a coding (source "suggestion")."""
    criterion = _codable_criterion(request, pk)
    next_url = _safe_next(request, _default_screen(criterion))
    component = str(request.POST.get("component", "")).strip()[:20]
    try:
        change = suggestion_accept(criterion=criterion, component=component, user=request.user)
    except (SuggestionNotOffered, CodeError) as error:
        if _wants_json(request):
            return JsonResponse({"ok": False, "error": str(error)}, status=422)
        messages.error(request, str(error))
        return _back_to_row(next_url, criterion)
    message = _added_message(change, criterion)
    if _wants_json(request):
        payload = _row_payload(request, criterion, next_url, message)
        payload["added"] = [c.full_code for c in change.created]
        return JsonResponse(payload)
    messages.success(request, message)
    return _back_to_row(next_url, criterion)


class PrecodeForm(forms.Form):
    scope = forms.ChoiceField(choices=[(k, k) for k in SCOPE_KINDS])
    scope_id = forms.IntegerField(min_value=1)
    criteria = IdListField(required=False)  # the page's rows; empty: the whole scope


@login_required
@require_POST
def suggestions_precode_view(request: AuthenticatedRequest) -> HttpResponse:
    """Batch pre-coding of the page's rows or of the whole scope: stores suggestions, writes no
    coding. A large scope is pre-coded by the task worker."""
    form = PrecodeForm(request.POST)
    if not form.is_valid():
        return JsonResponse({"ok": False, "error": _("The request could not be read.")}, status=422)
    kind, scope_id = form.cleaned_data["scope"], form.cleaned_data["scope_id"]
    try:
        territory = scope_territory(kind=kind, pk=scope_id)
    except ObjectDoesNotExist:
        raise Http404 from None
    require(can_code(request.user, territory))
    criteria = scope_criteria(kind=kind, pk=scope_id)
    ids = form.cleaned_data["criteria"] if request.POST.get("what") != "scope" else []
    if ids:
        criteria = criteria.filter(pk__in=ids)
    next_url = _safe_next(request, "/")
    count = criteria.count()
    if count > settings.SPIRAL_SUGGEST_SYNC_LIMIT:
        from spiral.coding.tasks import suggestions_precode_task

        suggestions_precode_task.enqueue(scope_kind=kind, scope_id=scope_id)
        message = ngettext(
            "Suggestions for %(count)s criterion are being computed in the background.",
            "Suggestions for %(count)s criteria are being computed in the background.",
            count,
        ) % {"count": count}
        rows: dict[str, str] = {}
    else:
        outcome = suggestions_precode(criteria=criteria)
        message = ngettext(
            "Suggestions ready for %(count)s criterion; none of them is a code until you "
            "accept it.",
            "Suggestions ready for %(count)s criteria; none of them is a code until you accept it.",
            outcome.criteria,
        ) % {"count": outcome.criteria}
        rows = _rows_html(request, list(criteria.select_related("question")[:500]), next_url)
    if _wants_json(request):
        return JsonResponse({"ok": True, "message": message, "rows": rows})
    messages.success(request, message)
    return redirect(next_url)


def _rows_html(request: SpiralRequest, criteria: list[Criterion], next_url: str) -> dict[str, str]:
    stored = suggestions_fill(criteria=criteria, compute=False).suggestions
    codings = current_codings_of(criterion_ids=[c.pk for c in criteria])
    shown = shown_suggestions(stored)
    return {
        str(c.pk): suggestions_html(request, c, shown.get(c.pk, []), next_url)
        for c in criteria
        if not codings.get(c.pk)
    }


# ---------------------------------------------------------------- the models page


class TrainForm(forms.Form):
    grid_version: forms.ModelChoiceField[GridVersion] = forms.ModelChoiceField(
        label=gettext_lazy("Grid version"), queryset=GridVersion.objects.all(), empty_label=None
    )
    territory: forms.ModelChoiceField[Territory] = forms.ModelChoiceField(
        label=gettext_lazy("Territory"),
        queryset=Territory.objects.order_by("name"),
        required=False,
        empty_label=gettext_lazy("the whole network"),
        help_text=gettext_lazy(
            "A territory's own model is used by it and the territories below it; its codings "
            "count three times as much as the rest of the network's."
        ),
    )


@login_required
def suggestion_models_view(request: AuthenticatedRequest) -> HttpResponse:
    """The suggestion models, with their held-out scores; train a new one in the background."""
    require(is_network_admin(request.user))
    default = GridVersion.objects.default()
    form = TrainForm(request.POST or None, initial={"grid_version": default})
    if request.method == "POST" and form.is_valid():
        version = form.cleaned_data["grid_version"]
        territory: Territory | None = form.cleaned_data["territory"]
        if training_in_progress(
            version_id=version.pk, territory_id=territory.pk if territory else None
        ):
            messages.info(request, _("A model of this grid version is already being trained."))
        else:
            suggestion_model_request(version=version, territory=territory, user=request.user)
            messages.success(
                request,
                _(
                    "A new model will be trained in the background; it becomes current when it "
                    "is ready, and the previous one is kept."
                ),
            )
        return redirect("coding:suggestion_models")
    models = SuggestionModel.objects.select_related(
        "grid_version", "territory", "requested_by"
    ).order_by("-created_at", "-pk")[:100]
    return render(
        request,
        "coding/suggestion_models.html",
        {
            "form": form,
            "models": models,
            "retrain_after": settings.SPIRAL_RETRAIN_AFTER_CODINGS,
            "statuses": SuggestionModelStatus,
        },
    )
