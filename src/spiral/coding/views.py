"""The coding screen (attribution): criteria of a scope, codes typed row after row or given to
ticked rows at once. Every write works as a plain form post and as a JSON call from coding.js."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.messages.storage.base import Message
from django.http import HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.template.loader import render_to_string
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_POST

from spiral.coding.forms import BulkCodeForm, CodeAddForm, CodingFilterForm
from spiral.coding.selectors import (
    CodingScope,
    GridsByTerritory,
    ScopeKind,
    coding_counts,
    coding_page,
    component_choices,
    criteria_for_coding,
    current_codings_of,
    scope_filter_options,
    scope_version_ids,
)
from spiral.coding.services import (
    CodingChange,
    criteria_code_bulk,
    criterion_code_remove,
    criterion_codes_add,
)
from spiral.coding.suggest.services import page_suggestions
from spiral.consultations.models import Criterion, HomogeneousGroup, Meeting
from spiral.core.http import AuthenticatedRequest, SpiralRequest
from spiral.core.permissions import can_code, is_network_admin, require
from spiral.grid.codes import CodeError
from spiral.territories.models import Territory
from spiral.territories.selectors import territory_ancestors

ROW_ERROR_TAG = "coding-row-"
BULK_ERROR_TAG = "coding-bulk"


@login_required
def coding_territory(request: AuthenticatedRequest, slug: str) -> HttpResponse:
    """Code the criteria of a territory and of everything below it."""
    territory = get_object_or_404(Territory, slug=slug)
    require(can_code(request.user, territory))
    return _screen(request, CodingScope(kind=ScopeKind.TERRITORY, territory=territory))


@login_required
def coding_group(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    group = get_object_or_404(HomogeneousGroup.objects.select_related("territory"), pk=pk)
    require(can_code(request.user, group.territory))
    return _screen(
        request, CodingScope(kind=ScopeKind.GROUP, territory=group.territory, group=group)
    )


@login_required
def coding_meeting(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    meeting = get_object_or_404(
        Meeting.objects.select_related("group__territory", "question_set"), pk=pk
    )
    require(can_code(request.user, meeting.group.territory))
    scope = CodingScope(
        kind=ScopeKind.MEETING,
        territory=meeting.group.territory,
        group=meeting.group,
        meeting=meeting,
    )
    return _screen(request, scope)


def _split_messages(request: SpiralRequest) -> tuple[list[Message], dict[int, str], str]:
    """Errors of a plain form post are shown beside their input, the rest at the top."""
    general: list[Message] = []
    row_errors: dict[int, str] = {}
    bulk_error = ""
    for message in messages.get_messages(request):
        tag = message.extra_tags or ""
        if tag.startswith(ROW_ERROR_TAG) and tag[len(ROW_ERROR_TAG) :].isdigit():
            row_errors[int(tag[len(ROW_ERROR_TAG) :])] = str(message.message)
        elif tag == BULK_ERROR_TAG:
            bulk_error = str(message.message)
        else:
            general.append(message)
    return general, row_errors, bulk_error


def _screen(request: SpiralRequest, scope: CodingScope) -> HttpResponse:
    options = scope_filter_options(scope=scope)
    form = CodingFilterForm(request.GET, options=options, auto_id="coding-%s")
    filters = form.filters()
    criteria = criteria_for_coding(scope=scope, filters=filters)
    page = coding_page(
        criteria=criteria,
        order=filters.order,
        after=request.GET.get("after"),
        before=request.GET.get("before"),
    )
    query = request.GET.copy()
    for name in ("after", "before"):
        query.pop(name, None)
    general, row_errors, bulk_error = _split_messages(request)
    target = request.htmx.target if request.htmx else None
    context: dict[str, Any] = {
        "scope": scope,
        "territory": scope.territory,
        "form": form,
        "filters": filters,
        "filtered": any(
            [
                filters.group_id,
                filters.question_kind,
                filters.profile,
                filters.language,
                filters.state,
                filters.words,
            ]
        ),
        "counts": coding_counts(criteria=criteria),
        "page": page,
        "page_query": query.urlencode(),
        "next_url": request.get_full_path(),
        "show_group": scope.kind == ScopeKind.TERRITORY,
        "show_meeting": scope.kind == ScopeKind.GROUP,
        "autofocus_first": not request.htmx,
        "row_errors": row_errors,
        "bulk_error": bulk_error,
        "messages": general,
    }
    if target == "coding-summary":
        return render(request, "coding/screen.html#summary", context)
    context["suggestions"] = page_suggestions(page.rows)
    context["precode_ids"] = [row.pk for row in page.rows]
    context["confident_percent"] = round(settings.SPIRAL_SUGGESTION_CONFIDENT * 100)
    context["minimum_percent"] = round(settings.SPIRAL_SUGGESTION_MIN_CONFIDENCE * 100)
    if target == "coding-results":
        return render(request, "coding/screen.html#results", context)
    context.update(
        {
            "ancestors": territory_ancestors(territory=scope.territory),
            "component_choices": component_choices(
                version_ids=scope_version_ids(territory=scope.territory)
            ),
            "coding_strings": _strings(),
            "can_manage_models": is_network_admin(request.user),
        }
    )
    return render(request, "coding/screen.html", context)


def _strings() -> dict[str, str]:
    return {
        "saving": _("saving…"),
        "waiting": _(
            "The server cannot be reached: the codes typed are kept in this browser and sent "
            "as soon as the connection allows."
        ),
        "pendingOne": _("1 change not yet saved."),
        "pendingMany": _("%(count)s changes not yet saved."),
        "login": _(
            "Your session has ended: log in again in another tab; the codes typed are kept "
            "in this browser and will be sent."
        ),
        "refused": _("This change was refused: you may not code this criterion."),
        "serverError": _("The server refused the change."),
        "tickedNone": _("No criterion ticked."),
        "tickedOne": _("1 criterion ticked."),
        "tickedMany": _("%(count)s criteria ticked."),
        "tickFirst": _("Tick at least one criterion."),
        "bulkNetwork": _("The server could not be reached: nothing was changed. Try again."),
        "undone": _("Putting the code back…"),
        "noSuggestion": _("No suggestion for this criterion."),
        "suggesting": _("Computing suggestions…"),
    }


def _safe_next(request: SpiralRequest, default: str) -> str:
    """Back to the coding screen the form was posted from, with its filters."""
    target = str(request.POST.get("next", ""))
    if target.startswith("/coding/") and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return default


def _wants_json(request: SpiralRequest) -> bool:
    return "application/json" in request.headers.get("Accept", "")


def _codable_criterion(request: AuthenticatedRequest, pk: int) -> Criterion:
    criterion = get_object_or_404(Criterion.objects.select_related("territory", "group"), pk=pk)
    require(can_code(request.user, criterion.territory))
    return criterion


def _default_screen(criterion: Criterion) -> str:
    return CodingScope(
        kind=ScopeKind.GROUP, territory=criterion.territory, group=criterion.group
    ).url


def _codes_html(
    request: SpiralRequest, criterion: Criterion, codings: list[Any], next_url: str
) -> str:
    return render_to_string(
        "coding/_codes.html",
        {"criterion": criterion, "codings": codings, "next_url": next_url},
        request=request,
    )


def _row_payload(
    request: SpiralRequest, criterion: Criterion, next_url: str, message: str
) -> dict[str, Any]:
    codings = current_codings_of(criterion_ids=[criterion.pk])[criterion.pk]
    return {
        "ok": True,
        "criterion": criterion.pk,
        "coded": bool(codings),
        "codes_html": _codes_html(request, criterion, codings, next_url),
        "message": message,
    }


def _back_to_row(next_url: str, criterion: Criterion) -> HttpResponse:
    return redirect(f"{next_url}#criterion-{criterion.pk}")


def _added_message(change: CodingChange, criterion: Criterion) -> str:
    codes = ", ".join(c.full_code for c in change.created)
    text = criterion.text if len(criterion.text) <= 60 else criterion.text[:59] + "…"
    if not change.created:
        return _("“%(text)s” already has this code.") % {"text": text}
    return ngettext(
        "%(codes)s added to “%(text)s”.",
        "%(codes)s added to “%(text)s”.",
        len(change.created),
    ) % {"codes": codes, "text": text}


@login_required
@require_POST
def code_add(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    """Add the typed code(s) to one criterion; adding a code it already has writes nothing."""
    criterion = _codable_criterion(request, pk)
    next_url = _safe_next(request, _default_screen(criterion))
    form = CodeAddForm(request.POST)
    form.is_valid()
    codes: list[str] = form.cleaned_data.get("code") or []
    try:
        change = criterion_codes_add(criterion=criterion, codes=codes, user=request.user)
    except CodeError as error:
        if _wants_json(request):
            return JsonResponse({"ok": False, "error": str(error)}, status=422)
        messages.error(request, str(error), extra_tags=f"{ROW_ERROR_TAG}{criterion.pk}")
        return _back_to_row(next_url, criterion)
    message = _added_message(change, criterion)
    if _wants_json(request):
        payload = _row_payload(request, criterion, next_url, message)
        payload["added"] = [c.full_code for c in change.created]
        return JsonResponse(payload)
    messages.success(request, message)
    return _back_to_row(next_url, criterion)


@login_required
@require_POST
def code_remove(request: AuthenticatedRequest, pk: int, coding_pk: int) -> HttpResponse:
    """Take one code off a criterion; it stays in the criterion's history."""
    criterion = _codable_criterion(request, pk)
    next_url = _safe_next(request, _default_screen(criterion))
    removed = criterion_code_remove(criterion=criterion, coding_id=coding_pk, user=request.user)
    if removed is None:
        message = _("This code had already been removed.")
    else:
        message = _("%(code)s removed; it stays in the history of the criterion.") % {
            "code": removed.full_code
        }
    if _wants_json(request):
        payload = _row_payload(request, criterion, next_url, message)
        payload["removed"] = removed.full_code if removed else ""
        return JsonResponse(payload)
    messages.info(request, message)
    return _back_to_row(next_url, criterion)


@login_required
@require_POST
def code_bulk(request: AuthenticatedRequest) -> HttpResponse:
    """Give one code to every ticked criterion, added to their codes or replacing them."""
    form = BulkCodeForm(request.POST)
    valid = form.is_valid()
    ids: list[int] = form.cleaned_data.get("criteria") or []
    criteria = list(
        Criterion.objects.filter(pk__in=ids).select_related("territory", "group").order_by("pk")
    )
    next_url = _safe_next(request, _default_screen(criteria[0]) if criteria else "/")
    if not valid:
        error = " ".join(str(m) for errors in form.errors.values() for m in errors)
        return _bulk_error(request, next_url, error)
    # A forged id of a criterion the user may not code refuses the whole request.
    territories = {c.territory_id: c.territory for c in criteria}
    require(all(can_code(request.user, t) for t in territories.values()))
    if not criteria:
        return _bulk_error(request, next_url, _("Tick at least one criterion."))
    code = form.cleaned_data["code"]
    grids = GridsByTerritory()
    try:
        change = criteria_code_bulk(
            criteria=criteria,
            code=code,
            replace=form.cleaned_data["replace"],
            user=request.user,
            grids=grids,
        )
    except CodeError as error:
        return _bulk_error(request, next_url, str(error))
    full_code = grids.for_territory(criteria[0].territory_id).resolve(code).full_code
    if form.cleaned_data["replace"]:
        message = ngettext(
            "%(count)s criterion now coded %(code)s only.",
            "%(count)s criteria now coded %(code)s only.",
            change.criteria,
        )
    else:
        message = ngettext(
            "%(count)s criterion coded %(code)s.",
            "%(count)s criteria coded %(code)s.",
            change.criteria,
        )
    message = message % {"count": change.criteria, "code": full_code}
    if _wants_json(request):
        codings = current_codings_of(criterion_ids=[c.pk for c in criteria])
        rows = {
            str(c.pk): _codes_html(request, c, codings.get(c.pk, []), next_url) for c in criteria
        }
        return JsonResponse({"ok": True, "message": message, "rows": rows})
    messages.success(request, message)
    return redirect(next_url)


def _bulk_error(request: SpiralRequest, next_url: str, error: str) -> HttpResponse:
    if _wants_json(request):
        return JsonResponse({"ok": False, "error": error}, status=422)
    messages.error(request, error, extra_tags=BULK_ERROR_TAG)
    return redirect(f"{next_url}#coding-bulk")
