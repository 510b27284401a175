"""Double coding pages: asking for it, the blind screen of the second coder, the agreement
report, and the queue where disagreements are settled. Writes work as plain form posts and as
JSON calls from double-coding.js."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_POST

from spiral.coding.forms import CodeAddForm
from spiral.coding.selectors import (
    CodingScope,
    ScopeKind,
    component_choices,
    scope_version_ids,
)
from spiral.consultations.models import HomogeneousGroup
from spiral.core.http import AuthenticatedRequest, SpiralRequest
from spiral.core.permissions import can_view_private_data, require
from spiral.grid.codes import CodeError
from spiral.quality.forms import DoubleCodingRequestForm, SettleForm
from spiral.quality.models import DoubleCodingRequest, SampleItem
from spiral.quality.permissions import (
    can_code_sample,
    can_manage_request,
    can_request_double_coding,
    can_settle,
    can_view_coder_pairs,
    can_view_disagreements,
    can_view_report,
)
from spiral.quality.selectors import (
    code_labels,
    coded_count,
    disagreement_rows,
    open_assignments,
    request_items,
    request_progress,
    request_report,
    request_rows,
    requests_in_territory,
    territory_pair_rows,
)
from spiral.quality.services import (
    QualityError,
    disagreement_settle,
    double_coding_request_close,
    double_coding_request_create,
    double_coding_request_reopen,
    sample_item_code_remove,
    sample_item_codes_add,
)
from spiral.territories.models import Territory
from spiral.territories.selectors import territory_ancestors

BLIND_PAGE_SIZE = 50
QUEUE_PAGE_SIZE = 50
REQUESTS_PAGE_SIZE = 20
ROW_ERROR_TAG = "blind-row-"
SETTLE_ERROR_TAG = "settle-"

_REQUEST_RELATED = ("territory", "group", "meeting__group", "second_coder", "requested_by")


def _request(pk: int) -> DoubleCodingRequest:
    return get_object_or_404(DoubleCodingRequest.objects.select_related(*_REQUEST_RELATED), pk=pk)


def _item(pk: int) -> SampleItem:
    return get_object_or_404(
        SampleItem.objects.select_related(
            *(f"request__{name}" for name in _REQUEST_RELATED), "criterion"
        ),
        pk=pk,
    )


def _wants_json(request: SpiralRequest) -> bool:
    return "application/json" in request.headers.get("Accept", "")


def _safe_next(request: SpiralRequest, default: str) -> str:
    """Back to the quality page the form was posted from."""
    target = str(request.POST.get("next", ""))
    if target.startswith("/quality/") and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return default


def _tagged_errors(request: SpiralRequest, prefix: str) -> tuple[list[Any], dict[int, str]]:
    """Errors of a plain form post go beside their row, the other messages at the top."""
    general: list[Any] = []
    rows: dict[int, str] = {}
    for message in messages.get_messages(request):
        tag = message.extra_tags or ""
        if tag.startswith(prefix) and tag[len(prefix) :].isdigit():
            rows[int(tag[len(prefix) :])] = str(message.message)
        else:
            general.append(message)
    return general, rows


# ---------------------------------------------------------------- requests


@login_required
def territory_requests(request: AuthenticatedRequest, slug: str) -> HttpResponse:
    """The double coding requests of a territory and below, with progress and agreement."""
    territory = get_object_or_404(Territory, slug=slug)
    require(can_view_private_data(request.user, territory))
    page = Paginator(requests_in_territory(territory=territory), REQUESTS_PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    requests = list(page.object_list)
    context = {
        "territory": territory,
        "ancestors": territory_ancestors(territory=territory),
        "page": page,
        "rows": request_rows(requests=requests),
        # The second coder of an open request sees its progress, not its figures.
        "blind_ids": {r.pk for r in requests if r.is_open and r.second_coder_id == request.user.pk},
        "assignments": open_assignments(user=request.user, territory=territory),
        "can_request": can_request_double_coding(request.user, territory),
        "pairs": territory_pair_rows(territory=territory)
        if can_view_coder_pairs(request.user, territory)
        else None,
    }
    return render(request, "quality/territory.html", context)


@login_required
def request_new_territory(request: AuthenticatedRequest, slug: str) -> HttpResponse:
    """Ask for double coding of a territory and everything below it."""
    territory = get_object_or_404(Territory, slug=slug)
    require(can_request_double_coding(request.user, territory))
    return _request_form(request, CodingScope(kind=ScopeKind.TERRITORY, territory=territory))


@login_required
def request_new_group(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    """Ask for double coding of a group, or of one of its meetings."""
    group = get_object_or_404(HomogeneousGroup.objects.select_related("territory"), pk=pk)
    require(can_request_double_coding(request.user, group.territory))
    return _request_form(
        request, CodingScope(kind=ScopeKind.GROUP, territory=group.territory, group=group)
    )


def _request_form(request: AuthenticatedRequest, scope: CodingScope) -> HttpResponse:
    form = DoubleCodingRequestForm(request.POST or None, scope=scope)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            created = double_coding_request_create(
                scope=form.chosen_scope(),
                share=data["share"],
                second_coder=data["second_coder"],
                seed=data.get("seed"),
                user=request.user,
            )
        except QualityError as error:
            form.add_error(None, str(error))
        else:
            count = created.items.count()
            messages.success(
                request,
                ngettext(
                    "%(count)s criterion was drawn for %(name)s to code again.",
                    "%(count)s criteria were drawn for %(name)s to code again.",
                    count,
                )
                % {"count": count, "name": created.second_coder.shown_name},
            )
            return redirect(created)
    context = {
        "scope": scope,
        "territory": scope.territory,
        "ancestors": territory_ancestors(territory=scope.territory),
        "form": form,
        "coded": coded_count(scope=scope),
    }
    return render(request, "quality/request_form.html", context)


@login_required
def request_detail(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    """The agreement of one request: by level, by component, by pair of coders."""
    dcr = _request(pk)
    require(can_view_report(request.user, dcr))
    can_manage = can_manage_request(request.user, dcr)
    context = {
        "dcr": dcr,
        "territory": dcr.territory,
        "ancestors": territory_ancestors(territory=dcr.territory),
        "report": request_report(
            request=dcr, with_pairs=can_view_coder_pairs(request.user, dcr.territory)
        ),
        "can_manage": can_manage,
        "can_view_disagreements": can_view_disagreements(request.user, dcr),
    }
    return render(request, "quality/request.html", context)


@login_required
@require_POST
def request_status(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    """Close a request (the second coding ends) or open it again."""
    dcr = _request(pk)
    require(can_manage_request(request.user, dcr))
    if request.POST.get("status") == "open":
        double_coding_request_reopen(request=dcr)
        messages.success(request, _("The double coding is open again."))
    else:
        double_coding_request_close(request=dcr, user=request.user)
        messages.success(request, _("The double coding is closed."))
    return redirect(dcr)


# ---------------------------------------------------------------- the blind screen


def _blind_page_number(request: SpiralRequest, dcr: DoubleCodingRequest) -> int | str:
    """The page asked for, or the one holding the first criterion not yet coded."""
    if request.GET.get("page"):
        return request.GET["page"]
    items = request_items(request=dcr)
    first = items.filter(second_coded_at__isnull=True).first()
    if first is None:
        return 1
    return items.filter(position__lt=first.position).count() // BLIND_PAGE_SIZE + 1


@login_required
def blind_screen(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    """The second coder's screen: the sample's criteria, without their codes."""
    dcr = _request(pk)
    require(can_code_sample(request.user, dcr))
    items = request_items(request=dcr).select_related(
        "criterion__question", "criterion__group__territory", "criterion__meeting"
    )
    page = Paginator(items, BLIND_PAGE_SIZE).get_page(_blind_page_number(request, dcr))
    rows = list(page.object_list)
    general, row_errors = _tagged_errors(request, ROW_ERROR_TAG)
    first_to_do = next((item for item in rows if not item.is_done), None)
    context = {
        "dcr": dcr,
        "territory": dcr.territory,
        "ancestors": territory_ancestors(territory=dcr.territory),
        "page": page,
        "progress": request_progress(request=dcr),
        "labels": code_labels(
            territory=dcr.territory, codes=(c for item in rows for c in item.second_codes)
        ),
        "autofocus_pk": first_to_do.pk if first_to_do else None,
        "next_url": request.get_full_path(),
        "row_errors": row_errors,
        "messages": general,
        "component_choices": component_choices(
            version_ids=scope_version_ids(territory=dcr.territory)
        ),
        "blind_strings": _strings(),
    }
    return render(request, "quality/blind.html", context)


def _strings() -> dict[str, str]:
    return {
        "saving": _("saving…"),
        "waiting": _(
            "The server cannot be reached: the codes typed are kept in this browser and sent "
            "as soon as the connection allows."
        ),
        "login": _(
            "Your session has ended: log in again in another tab; the codes typed are kept "
            "in this browser and will be sent."
        ),
        "refused": _("This change was refused."),
        "serverError": _("The server refused the change."),
    }


def _progress_text(done: int, total: int) -> str:
    return _("%(done)s / %(total)s done") % {"done": done, "total": total}


def _own_item(request: AuthenticatedRequest, pk: int) -> SampleItem:
    item = _item(pk)
    require(can_code_sample(request.user, item.request))
    return item


def _blind_answer(
    request: AuthenticatedRequest, item: SampleItem, message: str, next_url: str
) -> HttpResponse:
    if not _wants_json(request):
        messages.success(request, message)
        return redirect(f"{next_url}#item-{item.pk}")
    item.refresh_from_db(fields=["second_codes", "second_coded_at"])
    progress = request_progress(request=item.request)
    return JsonResponse(
        {
            "ok": True,
            "item": item.pk,
            "done": item.is_done,
            "codes_html": render_to_string(
                "quality/_second_codes.html",
                {
                    "item": item,
                    "dcr": item.request,
                    "labels": code_labels(
                        territory=item.request.territory, codes=item.second_codes
                    ),
                    "next_url": next_url,
                },
                request=request,
            ),
            "progress": _progress_text(progress.done, progress.total),
            "message": message,
        }
    )


def _blind_error(
    request: AuthenticatedRequest, item: SampleItem, error: str, next_url: str, status: int
) -> HttpResponse:
    if _wants_json(request):
        return JsonResponse({"ok": False, "error": error}, status=status)
    messages.error(request, error, extra_tags=f"{ROW_ERROR_TAG}{item.pk}")
    return redirect(f"{next_url}#item-{item.pk}")


@login_required
@require_POST
def item_codes_add(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    """The second coder adds codes to a criterion of the sample (stored with the sample only)."""
    item = _own_item(request, pk)
    next_url = _safe_next(request, reverse("quality:blind", kwargs={"pk": item.request_id}))
    form = CodeAddForm(request.POST)
    form.is_valid()
    codes: list[str] = form.cleaned_data.get("code") or []
    try:
        added = sample_item_codes_add(item=item, codes=codes)
    except CodeError as error:
        return _blind_error(request, item, str(error), next_url, 422)
    except QualityError as error:
        return _blind_error(request, item, str(error), next_url, 409)
    if added:
        message = _("%(codes)s saved.") % {"codes": ", ".join(added)}
    else:
        message = _("This criterion already has this code.")
    return _blind_answer(request, item, message, next_url)


@login_required
@require_POST
def item_code_remove(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    """The second coder takes one of their codes off a criterion of the sample."""
    item = _own_item(request, pk)
    next_url = _safe_next(request, reverse("quality:blind", kwargs={"pk": item.request_id}))
    code = str(request.POST.get("code", "")).strip()
    try:
        removed = sample_item_code_remove(item=item, code=code)
    except QualityError as error:
        return _blind_error(request, item, str(error), next_url, 409)
    if removed:
        message = _("%(code)s removed.") % {"code": code}
    else:
        message = _("This code had already been removed.")
    return _blind_answer(request, item, message, next_url)


# ---------------------------------------------------------------- disagreements


@login_required
def disagreements(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    """Criteria the two coders coded differently, side by side, to settle one by one."""
    dcr = _request(pk)
    require(can_view_disagreements(request.user, dcr))
    to_settle = disagreement_rows(request=dcr, settled=False)
    page = Paginator(to_settle, QUEUE_PAGE_SIZE).get_page(request.GET.get("page"))
    for row in page.object_list:
        row.item.request = dcr
    general, row_errors = _tagged_errors(request, SETTLE_ERROR_TAG)
    context = {
        "dcr": dcr,
        "territory": dcr.territory,
        "ancestors": territory_ancestors(territory=dcr.territory),
        "page": page,
        "settled": disagreement_rows(request=dcr, settled=True),
        "may_settle": {
            row.item.pk for row in page.object_list if can_settle(request.user, row.item)
        },
        "row_errors": row_errors,
        "messages": general,
        "next_url": request.get_full_path(),
        "component_choices": component_choices(
            version_ids=scope_version_ids(territory=dcr.territory)
        ),
    }
    return render(request, "quality/disagreements.html", context)


@login_required
@require_POST
def item_settle(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    """Record the decision on one disagreement and give the criterion the decided codes."""
    item = _item(pk)
    require(can_view_disagreements(request.user, item.request) and can_settle(request.user, item))
    next_url = _safe_next(request, reverse("quality:disagreements", kwargs={"pk": item.request_id}))
    form = SettleForm(request.POST)
    error = ""
    if form.is_valid():
        data = form.cleaned_data
        try:
            adjudication = disagreement_settle(
                item=item,
                decision=data["decision"],
                codes=data["codes"],
                note=data["note"],
                user=request.user,
            )
        except (CodeError, QualityError) as problem:
            error = str(problem)
        else:
            text = item.criterion.text
            text = text if len(text) <= 60 else text[:59] + "…"
            messages.success(
                request,
                _("Settled: “%(text)s” is coded %(codes)s.")
                % {"text": text, "codes": ", ".join(adjudication.codes)},
            )
            return redirect(next_url)
    else:
        error = " ".join(str(m) for errors in form.errors.values() for m in errors)
    messages.error(request, error, extra_tags=f"{SETTLE_ERROR_TAG}{item.pk}")
    return redirect(f"{next_url}#item-{item.pk}")
