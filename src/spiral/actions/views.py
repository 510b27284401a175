"""Pages of strategic axes, actions in coresponsibility, their follow-up and review, and the
closing of a cycle. The territory's action page is public for public territories."""

from __future__ import annotations

import mimetypes
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import FileResponse, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from spiral.actions.forms import (
    ActionForm,
    AxisForm,
    CommitmentForm,
    CycleCloseForm,
    DecisionForm,
    DocumentForm,
    NoteForm,
    ReviewForm,
)
from spiral.actions.models import Action, ActionDocument, ActionStatus, CycleArchive, StrategicAxis
from spiral.actions.selectors import (
    actions_of_territory,
    archive_for_display,
    candidate_comparison,
)
from spiral.actions.services import (
    ActionError,
    action_decide,
    action_review_record,
    action_save,
    axis_create,
    axis_update,
    candidate_scores_record,
    commitment_add,
    cycle_close,
    document_add,
    progress_note_add,
)
from spiral.core.http import AuthenticatedRequest, SpiralRequest
from spiral.core.permissions import require
from spiral.core.text import is_plain_number
from spiral.indicators.forms import levels_from_post
from spiral.indicators.models import Indicator
from spiral.indicators.permissions import (
    can_close_cycle,
    can_manage_progress,
    can_view_progress,
    can_view_progress_details,
)
from spiral.territories.method import CYCLE_LABELS
from spiral.territories.models import Territory
from spiral.territories.selectors import territory_ancestors


def _territory(request: SpiralRequest, slug: str) -> Territory:
    territory = get_object_or_404(Territory, slug=slug)
    require(can_view_progress(request.user, territory))
    return territory


def _action(request: SpiralRequest, pk: int) -> Action:
    action = get_object_or_404(Action.objects.select_related("territory", "axis"), pk=pk)
    require(can_view_progress(request.user, action.territory))
    # Candidates and dropped actions are the coordination group's working material.
    if action.status in (ActionStatus.CANDIDATE, ActionStatus.DROPPED):
        require(can_view_progress_details(request.user, action.territory))
    return action


def _manage_action(request: SpiralRequest, pk: int) -> Action:
    action = _action(request, pk)
    require(can_manage_progress(request.user, action.territory))
    return action


def _base(territory: Territory) -> dict[str, object]:
    return {"territory": territory, "ancestors": territory_ancestors(territory=territory)}


def territory_actions(request: SpiralRequest, slug: str) -> HttpResponse:
    """The actions of a territory: the plan for everyone, axes and candidates for its team."""
    territory = _territory(request, slug)
    details = can_view_progress_details(request.user, territory)
    actions = list(actions_of_territory(territory=territory, with_candidates=details))
    context = {
        **_base(territory),
        # A second cycle starts from what carried over; earlier cycles stay readable below.
        "actions": [a for a in actions if a.cycle == territory.cycle],
        "earlier_actions": [a for a in actions if a.cycle != territory.cycle],
        "axes": (
            StrategicAxis.objects.filter(territory=territory).order_by("-cycle", "title")
            if details
            else []
        ),
        "archives": CycleArchive.objects.filter(territory=territory) if details else [],
        "details": details,
        "can_manage": can_manage_progress(request.user, territory),
        "can_close": can_close_cycle(request.user, territory),
        "cycle_label": CYCLE_LABELS.get(territory.cycle, ""),
    }
    return render(request, "actions/territory.html", context)


@login_required
def axis_new(request: AuthenticatedRequest, slug: str) -> HttpResponse:
    territory = _territory(request, slug)
    require(can_manage_progress(request.user, territory))
    form = AxisForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        axis = axis_create(territory=territory, **form.cleaned_data)
        messages.success(request, _("The strategic axis was created."))
        return redirect(axis)
    return render(
        request,
        "actions/form.html",
        {**_base(territory), "form": form, "heading": _("New strategic axis")},
    )


@login_required
def axis_edit(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    axis = get_object_or_404(StrategicAxis.objects.select_related("territory"), pk=pk)
    require(can_manage_progress(request.user, axis.territory))
    form = AxisForm(request.POST or None, instance=axis)
    if request.method == "POST" and form.is_valid():
        axis_update(axis=axis, **form.cleaned_data)
        messages.success(request, _("The strategic axis was saved."))
        return redirect(axis)
    return render(
        request,
        "actions/form.html",
        {**_base(axis.territory), "form": form, "heading": _("Change the strategic axis")},
    )


@login_required
def axis_detail(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    """Candidate actions of an axis compared on the group's criteria; scores are entered here."""
    axis = get_object_or_404(StrategicAxis.objects.select_related("territory"), pk=pk)
    require(can_view_progress_details(request.user, axis.territory))
    manage = can_manage_progress(request.user, axis.territory)
    if request.method == "POST":
        require(manage)
        raw = request.POST.get("action", "")
        action = get_object_or_404(Action, pk=int(raw) if is_plain_number(raw) else 0, axis=axis)
        scores = {}
        for number, criterion in enumerate(axis.criteria_list()):
            value = request.POST.get(f"score-{number}", "")
            if is_plain_number(value):
                scores[criterion] = int(value)
        try:
            candidate_scores_record(action=action, scores=scores)
            messages.success(request, _("The scores were saved."))
        except ActionError as exc:
            messages.error(request, exc.message)
        return redirect(axis)
    criteria, rows = candidate_comparison(axis=axis)
    context = {
        **_base(axis.territory),
        "axis": axis,
        "criteria": criteria,
        "rows": rows,
        "can_manage": manage,
        "score_range": range(4),
    }
    return render(request, "actions/axis.html", context)


def _action_form(
    request: AuthenticatedRequest, territory: Territory, action: Action | None
) -> HttpResponse:
    initial: dict[str, Any] = {}
    if action is None:
        wanted = [int(v) for v in request.GET.getlist("indicator") if is_plain_number(v)]
        initial["indicators"] = Indicator.objects.filter(pk__in=wanted, territory=territory)
        if is_plain_number(request.GET.get("axis", "")):
            initial["axis"] = request.GET["axis"]
    form = ActionForm(request.POST or None, instance=action, territory=territory, initial=initial)
    if request.method == "POST" and form.is_valid():
        fields = {k: v for k, v in form.cleaned_data.items() if k != "indicators"}
        try:
            saved = action_save(
                territory=territory,
                fields=fields,
                indicators=list(form.cleaned_data["indicators"]),
                user=request.user,
                action=action,
            )
        except ActionError as exc:
            form.add_error(None, exc.message)
        else:
            messages.success(request, _("The action was saved."))
            return redirect(saved)
    heading = _("New action") if action is None else _("Change the action")
    return render(
        request, "actions/form.html", {**_base(territory), "form": form, "heading": heading}
    )


@login_required
def action_new(request: AuthenticatedRequest, slug: str) -> HttpResponse:
    territory = _territory(request, slug)
    require(can_manage_progress(request.user, territory))
    return _action_form(request, territory, None)


@login_required
def action_edit(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    action = _manage_action(request, pk)
    return _action_form(request, action.territory, action)


def action_detail(request: SpiralRequest, pk: int) -> HttpResponse:
    action = _action(request, pk)
    details = can_view_progress_details(request.user, action.territory)
    today = timezone.localdate()
    context = {
        **_base(action.territory),
        "action": action,
        "details": details,
        "can_manage": can_manage_progress(request.user, action.territory),
        "commitments": action.commitments.all(),
        "notes": action.notes.select_related("author"),
        "documents": action.documents.all(),
        "reviews": action.reviews.select_related("evaluation"),
        "indicators": action.indicators.all(),
        "decision_form": DecisionForm(initial={"decided_on": today, "is_pilot": action.is_pilot}),
        "commitment_form": CommitmentForm(),
        "note_form": NoteForm(initial={"written_on": today}),
        "document_form": DocumentForm(),
    }
    return render(request, "actions/action.html", context)


@login_required
@require_POST
def action_decide_view(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    action = _manage_action(request, pk)
    form = DecisionForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Give the date of the decision."))
        return redirect(action)
    data = form.cleaned_data
    commitments = []
    if data["actor"] and data["commitment"]:
        commitments.append((data["actor"], data["sector"] or "citizen", data["commitment"]))
    try:
        action_decide(
            action=action,
            decided_on=data["decided_on"],
            note=data["note"],
            commitments=commitments,
            is_pilot=data["is_pilot"],
        )
        messages.success(request, _("The decision was recorded."))
    except ActionError as exc:
        messages.error(request, exc.message)
    return redirect(action)


@login_required
@require_POST
def commitment_add_view(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    action = _manage_action(request, pk)
    form = CommitmentForm(request.POST)
    if form.is_valid():
        commitment_add(action=action, **form.cleaned_data)
        messages.success(request, _("The commitment was added."))
    else:
        messages.error(request, _("Name the actor and what they commit to."))
    return redirect(action)


@login_required
@require_POST
def note_add_view(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    action = _manage_action(request, pk)
    form = NoteForm(request.POST)
    if form.is_valid():
        progress_note_add(action=action, user=request.user, **form.cleaned_data)
        messages.success(request, _("The progress note was added."))
    else:
        messages.error(request, _("Write what happened, with its date."))
    return redirect(action)


@login_required
@require_POST
def document_add_view(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    action = _manage_action(request, pk)
    form = DocumentForm(request.POST, request.FILES)
    if not form.is_valid():
        messages.error(request, _("Choose a file."))
        return redirect(action)
    try:
        document_add(
            action=action,
            file=form.cleaned_data["file"],
            caption=form.cleaned_data["caption"],
            user=request.user,
        )
        messages.success(request, _("The document was added."))
    except ActionError as exc:
        messages.error(request, exc.message)
    except ValidationError:  # a file type that is not accepted
        messages.error(request, _("This kind of file is not accepted (PDF, images, documents)."))
    return redirect(action)


def document_download(request: SpiralRequest, pk: int) -> FileResponse:
    """Documents follow the visibility of their action (media are never served directly)."""
    document = get_object_or_404(ActionDocument.objects.select_related("action"), pk=pk)
    _action(request, document.action_id)
    content_type = mimetypes.guess_type(document.file.name)[0] or "application/octet-stream"
    response = FileResponse(document.file.open("rb"), content_type=content_type)
    if not document.is_image:
        response["Content-Disposition"] = (
            f'attachment; filename="{document.file.name.rsplit("/", 1)[-1]}"'
        )
    return response


@login_required
def action_review(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    """The ex-post co-evaluation of an action, on its indicators."""
    action = _manage_action(request, pk)
    indicators = list(action.indicators.prefetch_related("levels"))
    form = ReviewForm(request.POST or None, initial={"held_on": timezone.localdate()})
    if request.method == "POST" and form.is_valid():
        try:
            review = action_review_record(
                action=action,
                levels=levels_from_post(request.POST, [i.pk for i in indicators]),
                user=request.user,
                **form.cleaned_data,
            )
        except ActionError as exc:
            form.add_error(None, exc.message)
        else:
            messages.success(request, _("The ex-post co-evaluation was recorded."))
            if review.evaluation and review.evaluation.baseline_id:
                return redirect("indicators:compare", pk=review.evaluation.pk)
            return redirect(action)
    context = {**_base(action.territory), "action": action, "form": form, "indicators": indicators}
    return render(request, "actions/review.html", context)


@login_required
def cycle_close_view(request: AuthenticatedRequest, slug: str) -> HttpResponse:
    territory = _territory(request, slug)
    require(can_close_cycle(request.user, territory))
    form = CycleCloseForm(request.POST or None, territory=territory)
    if request.method == "POST" and form.is_valid():
        cycle_close(
            territory=territory,
            lessons=form.cleaned_data["lessons"],
            carry_over_ids=[a.pk for a in form.cleaned_data["carry_over"]],
            user=request.user,
        )
        messages.success(request, _("The cycle was closed and archived; the next one is open."))
        return redirect("territories:dashboard", slug=territory.slug)
    context = {
        **_base(territory),
        "form": form,
        "archives": CycleArchive.objects.filter(territory=territory),
        "cycle_label": CYCLE_LABELS.get(territory.cycle, ""),
    }
    return render(request, "actions/cycle_close.html", context)


@login_required
def cycle_archive(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    archive = get_object_or_404(CycleArchive.objects.select_related("territory"), pk=pk)
    require(can_view_progress_details(request.user, archive.territory))
    return render(
        request,
        "actions/cycle_archive.html",
        {
            **_base(archive.territory),
            "archive": archive,
            "cycle_label": CYCLE_LABELS.get(archive.cycle, ""),
            "snapshot": archive_for_display(archive=archive),
        },
    )
