from __future__ import annotations

import json
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpResponse, HttpResponseBadRequest, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.template.loader import render_to_string
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from spiral.coding.selectors import component_choices
from spiral.consultations.forms import CriterionEditForm, GroupForm, MeetingForm
from spiral.consultations.models import Criterion, HomogeneousGroup, Meeting, Question
from spiral.consultations.paste import parse_pasted_text
from spiral.consultations.selectors import (
    criteria_of_meeting,
    criterion_history,
    current_codings_prefetch,
    deleted_criteria_of_meeting,
    meetings_of_group,
    question_counts,
)
from spiral.consultations.services import (
    CriterionInput,
    CriterionOutcome,
    criteria_add,
    criterion_delete,
    criterion_restore,
    criterion_update,
    grid_index_for_meeting,
    group_create,
    group_update,
    meeting_create,
)
from spiral.core.http import AuthenticatedRequest, SpiralRequest
from spiral.core.languages import criterion_language_choices
from spiral.core.permissions import (
    can_code,
    can_manage_groups,
    can_transcribe,
    can_view_group,
    can_view_territory,
    require,
)
from spiral.grid.models import Component
from spiral.territories.models import Territory

PASTE_LINE_LIMIT = 5000


@login_required
def group_new(request: AuthenticatedRequest, slug: str) -> HttpResponse:
    territory = get_object_or_404(Territory, slug=slug)
    require(can_manage_groups(request.user, territory))
    form = GroupForm(request.POST or None, territory=territory)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        group = group_create(
            territory=territory,
            name=data["name"],
            profile=data["profile"],
            size=data["size"],
            language=data["language"],
            description=data["description"],
            facilitators=list(data["facilitators"]),
            user=request.user,
        )
        messages.success(request, _("The group “%(name)s” was created.") % {"name": group.name})
        return redirect(group)
    return render(
        request,
        "consultations/group_form.html",
        {"form": form, "territory": territory, "group": None},
    )


@login_required
def group_detail(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    group = get_object_or_404(
        HomogeneousGroup.objects.select_related("territory", "profile"), pk=pk
    )
    require(can_view_group(request.user, group))
    context = {
        "group": group,
        "territory": group.territory,
        "meetings": meetings_of_group(group=group),
        "facilitators": group.facilitators.all(),
        "can_manage": can_manage_groups(request.user, group.territory),
        "can_transcribe": can_transcribe(request.user, group),
        "can_code": can_code(request.user, group.territory),
    }
    return render(request, "consultations/group_detail.html", context)


@login_required
def group_edit(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    group = get_object_or_404(HomogeneousGroup.objects.select_related("territory"), pk=pk)
    require(can_manage_groups(request.user, group.territory))
    form = GroupForm(request.POST or None, instance=group, territory=group.territory)
    if request.method == "POST" and form.is_valid():
        data = dict(form.cleaned_data)
        group_update(group=group, facilitators=list(data.pop("facilitators")), **data)
        messages.success(request, _("The group was saved."))
        return redirect(group)
    return render(
        request,
        "consultations/group_form.html",
        {"form": form, "territory": group.territory, "group": group},
    )


@login_required
def meeting_new(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    group = get_object_or_404(HomogeneousGroup.objects.select_related("territory"), pk=pk)
    require(can_transcribe(request.user, group))
    form = MeetingForm(request.POST or None, initial={"language": group.language})
    if request.method == "POST" and form.is_valid():
        meeting = meeting_create(group=group, user=request.user, **form.cleaned_data)
        messages.success(request, _("The meeting was created: you can now type the criteria."))
        return redirect("consultations:transcribe", pk=meeting.pk)
    return render(
        request, "consultations/meeting_form.html", {"form": form, "group": group, "meeting": None}
    )


def _meeting_for(request: SpiralRequest, pk: int) -> Meeting:
    meeting = get_object_or_404(
        Meeting.objects.select_related("group__territory", "group__profile", "question_set"), pk=pk
    )
    require(can_view_group(request.user, meeting.group))
    return meeting


@login_required
def meeting_detail(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    meeting = _meeting_for(request, pk)
    questions = list(meeting.question_set.questions.all())
    criteria = list(criteria_of_meeting(meeting=meeting))
    sections = [(q, [c for c in criteria if c.question_id == q.pk]) for q in questions]
    context = {
        "meeting": meeting,
        "group": meeting.group,
        "sections": sections,
        "can_transcribe": can_transcribe(request.user, meeting.group),
        "can_code": can_code(request.user, meeting.group.territory),
        "total_expressions": sum(c.expressions for c in criteria),
        "total_criteria": len(criteria),
    }
    return render(request, "consultations/meeting_detail.html", context)


@login_required
def meeting_edit(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    meeting = _meeting_for(request, pk)
    require(can_transcribe(request.user, meeting.group))
    form = MeetingForm(request.POST or None, instance=meeting)
    if meeting.criteria.exists():
        form.fields["question_set"].disabled = True
        form.fields["question_set"].help_text = _(
            "Criteria were typed: the question set can no longer change."
        )
    if request.method == "POST" and form.is_valid():
        form.save()
        messages.success(request, _("The meeting was saved."))
        return redirect(meeting)
    return render(
        request,
        "consultations/meeting_form.html",
        {"form": form, "group": meeting.group, "meeting": meeting},
    )


def _transcription_context(
    request: SpiralRequest, meeting: Meeting, **extra: Any
) -> dict[str, Any]:
    questions = list(meeting.question_set.questions.all())
    # Newest first: what was just typed stays in sight under the entry row.
    criteria = list(criteria_of_meeting(meeting=meeting).order_by("-position", "-pk"))
    counts = question_counts(meeting=meeting)
    version_id = meeting.group.territory.effective_grid_version_id()
    components = (
        Component.objects.filter(version_id=version_id).order_by("position") if version_id else []
    )
    active = extra.pop("active_question", None) or (questions[0].pk if questions else None)
    return {
        "meeting": meeting,
        "group": meeting.group,
        "questions": [
            {
                "question": q,
                "criteria": [c for c in criteria if c.question_id == q.pk],
                "count": counts.get(q.pk, 0),
            }
            for q in questions
        ],
        "active_question": active,
        "components": components,
        "component_choices": component_choices(version_ids=[version_id] if version_id else []),
        "criterion_languages": criterion_language_choices(),
        "deleted": deleted_criteria_of_meeting(meeting=meeting),
        "transcribe_strings": {
            "sending": _("sending…"),
            "waiting": _("waiting for the connection"),
            "outboxOne": _(
                "1 line typed but not yet saved: it is kept in this browser and sent as soon "
                "as the connection allows."
            ),
            "outboxMany": _(
                "%(count)s lines typed but not yet saved: they are kept in this browser and "
                "sent as soon as the connection allows."
            ),
            "empty": _("Type a criterion first."),
            "network": _(
                "The server could not be reached: nothing is lost, the lines will be sent again."
            ),
            "pasteSavedOne": _("1 line saved."),
            "pasteSavedMany": _("%(count)s lines saved."),
            "pasteNetwork": _(
                "The server could not be reached. The lines stay in the box, kept in this "
                "browser: add them again when the connection is back."
            ),
            "pasteRejected": _(
                "These lines could not be saved; they are back in the box above. "
                "Correct them and add them again:"
            ),
            "serverError": _("The server refused the line; it is kept here."),
        },
        **extra,
    }


@login_required
def transcribe(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    """The transcription screen: one tab per question, Enter saves a line and opens the next."""
    meeting = _meeting_for(request, pk)
    require(can_transcribe(request.user, meeting.group))
    requested = _question_of(meeting, request.GET.get("q"))
    context = _transcription_context(
        request, meeting, active_question=requested.pk if requested else None
    )
    return render(request, "consultations/transcribe.html", context)


def _wants_json(request: SpiralRequest) -> bool:
    return request.content_type == "application/json" or "application/json" in request.headers.get(
        "Accept", ""
    )


def _request_data(request: SpiralRequest) -> dict[str, Any]:
    if request.content_type == "application/json":
        try:
            data = json.loads(request.body or b"{}")
        except (json.JSONDecodeError, UnicodeDecodeError):
            return {}
        return data if isinstance(data, dict) else {}
    return request.POST.dict()


def _question_of(meeting: Meeting, value: Any) -> Question | None:
    try:
        return meeting.question_set.questions.get(pk=int(value))
    except (TypeError, ValueError, Question.DoesNotExist):
        return None


def _row_html(request: SpiralRequest, criterion: Criterion) -> str:
    criterion = Criterion.all_objects.prefetch_related(current_codings_prefetch()).get(
        pk=criterion.pk
    )
    return render_to_string(
        "consultations/_criterion_row.html",
        {"criterion": criterion, "can_transcribe": True},
        request=request,
    )


def _outcome_json(request: SpiralRequest, outcome: CriterionOutcome) -> dict[str, Any]:
    if outcome.errors or outcome.criterion is None:
        return {"ok": False, "errors": outcome.errors}
    return {
        "ok": True,
        "created": outcome.created,
        "id": outcome.criterion.pk,
        "client_token": outcome.criterion.client_token,
        "row_html": _row_html(request, outcome.criterion),
    }


def _parse_expressions(value: Any) -> int:
    try:
        return int(str(value).strip() or "1")
    except ValueError:
        return 0  # refused by validation with a clear message


@login_required
@require_POST
def criterion_add(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    """Save one typed criterion. JSON for the screen's script, a plain form post without it."""
    meeting = _meeting_for(request, pk)
    require(can_transcribe(request.user, meeting.group))
    data = _request_data(request)
    question = _question_of(meeting, data.get("question"))
    if question is None:
        message = _("This question does not belong to the meeting.")
        if _wants_json(request):
            return JsonResponse({"ok": False, "errors": {"question": message}}, status=400)
        return HttpResponseBadRequest(message)
    item = CriterionInput(
        text=str(data.get("text", "")),
        expressions=_parse_expressions(data.get("expressions", "1")),
        language=str(data.get("language", "")),
        code=str(data.get("code", "")),
        client_token=str(data.get("client_token", ""))[:80],
    )
    [outcome] = criteria_add(meeting=meeting, question=question, inputs=[item], user=request.user)
    if _wants_json(request):
        payload = _outcome_json(request, outcome)
        payload["counts"] = question_counts(meeting=meeting)
        return JsonResponse(payload, status=200 if outcome.ok else 422)
    if outcome.ok:
        return redirect(f"{meeting.get_absolute_url()}transcribe/?q={question.pk}")
    context = _transcription_context(
        request, meeting, active_question=question.pk, entry_errors=outcome.errors, entry=item
    )
    return render(request, "consultations/transcribe.html", context, status=422)


@login_required
@require_POST
def criteria_paste(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    """Save pasted lines; the lines that cannot be read come back with their error."""
    meeting = _meeting_for(request, pk)
    require(can_transcribe(request.user, meeting.group))
    data = _request_data(request)
    question = _question_of(meeting, data.get("question"))
    if question is None:
        return JsonResponse(
            {
                "ok": False,
                "errors": {"question": _("This question does not belong to the meeting.")},
            },
            status=400,
        )
    text = str(data.get("text", ""))
    batch = str(data.get("batch_token", ""))[:40]
    language = str(data.get("language", "")) or meeting.language
    lines = parse_pasted_text(text)
    if len(lines) > PASTE_LINE_LIMIT:
        message = _("Paste at most %(limit)s lines at a time, or use the import.") % {
            "limit": PASTE_LINE_LIMIT
        }
        return JsonResponse({"ok": False, "errors": {"text": message}}, status=422)
    readable = [line for line in lines if not line.error]
    inputs = [
        CriterionInput(
            text=line.text,
            expressions=line.expressions,
            code=line.code,
            language=language,
            client_token=f"{batch}:{line.number}" if batch else "",
        )
        for line in readable
    ]
    outcomes = criteria_add(
        meeting=meeting,
        question=question,
        inputs=inputs,
        user=request.user,
        grid=grid_index_for_meeting(meeting),
    )
    rejected: list[dict[str, Any]] = [
        {"number": line.number, "raw": line.raw, "error": line.error}
        for line in lines
        if line.error
    ]
    saved: list[Criterion] = []
    for line, outcome in zip(readable, outcomes, strict=True):
        if outcome.ok and outcome.criterion is not None:
            saved.append(outcome.criterion)
        else:
            rejected.append(
                {"number": line.number, "raw": line.raw, "error": " ".join(outcome.errors.values())}
            )
    rejected.sort(key=lambda r: r["number"])
    rows = Criterion.all_objects.filter(pk__in=[c.pk for c in saved]).prefetch_related(
        current_codings_prefetch()
    )
    rows_html = render_to_string(
        "consultations/_criterion_rows.html",
        {"criteria": rows.order_by("-position", "-pk")},
        request=request,
    )
    payload = {
        "ok": not rejected,
        "saved": len(saved),
        "created": sum(1 for o in outcomes if o.created),
        "rejected": rejected,
        "rows_html": rows_html,
        "counts": question_counts(meeting=meeting),
    }
    if _wants_json(request):
        return JsonResponse(payload, status=200)
    if rejected:
        context = _transcription_context(
            request,
            meeting,
            active_question=question.pk,
            paste_rejected=rejected,
            paste_text="\n".join(r["raw"] for r in rejected),
        )
        return render(request, "consultations/transcribe.html", context, status=422)
    messages.success(request, _("%(count)s lines saved.") % {"count": len(saved)})
    return redirect(f"{meeting.get_absolute_url()}transcribe/?q={question.pk}")


def _criterion_for(request: SpiralRequest, pk: int) -> Criterion:
    criterion = get_object_or_404(
        Criterion.all_objects.select_related(
            "meeting__group__territory", "meeting__question_set", "question"
        ),
        pk=pk,
    )
    require(can_transcribe(request.user, criterion.meeting.group))
    return criterion


@login_required
def criterion_edit(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    """Inline correction of a criterion (htmx swaps the table row)."""
    criterion = _criterion_for(request, pk)
    codings = list(criterion.codings.filter(superseded_at__isnull=True).order_by("pk"))
    current_code = codings[0].full_code if len(codings) == 1 else ""
    if request.method == "POST":
        form = CriterionEditForm(request.POST, meeting=criterion.meeting)
        if form.is_valid():
            data = form.cleaned_data
            new_code = data["code"].strip()
            # With several codings (from the coding screen) an empty box means "leave them".
            code_arg = (
                None
                if (len(codings) > 1 and not new_code) or new_code == current_code
                else new_code
            )
            moved = data["question"].pk != criterion.question_id
            outcome = criterion_update(
                criterion=criterion,
                text=data["text"],
                expressions=data["expressions"],
                language=data["language"],
                question=data["question"],
                code=code_arg,
                user=request.user,
            )
            if outcome.ok and moved:
                # The row belongs to another tab now: open that tab.
                response = HttpResponse(status=204)
                response["HX-Redirect"] = (
                    f"{criterion.meeting.get_absolute_url()}transcribe/?q={criterion.question_id}"
                )
                return response
            if outcome.ok:
                return HttpResponse(_row_html(request, criterion))
            for field, message in outcome.errors.items():
                form.add_error(field if field in form.fields else None, message)
        return render(
            request,
            "consultations/_criterion_edit_row.html",
            {"criterion": criterion, "form": form},
            status=422,
        )
    form = CriterionEditForm(
        meeting=criterion.meeting,
        initial={
            "text": criterion.text,
            "expressions": criterion.expressions,
            "code": current_code,
            "language": criterion.language,
            "question": criterion.question_id,
        },
    )
    return render(
        request, "consultations/_criterion_edit_row.html", {"criterion": criterion, "form": form}
    )


@login_required
def criterion_row(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    """The plain row again (cancel an inline edit)."""
    criterion = _criterion_for(request, pk)
    return HttpResponse(_row_html(request, criterion))


@login_required
@require_POST
def criterion_remove(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    criterion = _criterion_for(request, pk)
    criterion_delete(criterion=criterion, user=request.user)
    if request.htmx:
        return render(
            request, "consultations/_criterion_deleted_row.html", {"criterion": criterion}
        )
    messages.info(
        request, _("The criterion was deleted; it stays in the history and can be restored.")
    )
    return redirect("consultations:transcribe", pk=criterion.meeting_id)


@login_required
@require_POST
def criterion_undelete(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    criterion = _criterion_for(request, pk)
    criterion_restore(criterion=criterion, user=request.user)
    if request.htmx:
        return HttpResponse(_row_html(request, criterion))
    messages.success(request, _("The criterion was restored."))
    return redirect("consultations:transcribe", pk=criterion.meeting_id)


@login_required
def criterion_history_view(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    criterion = get_object_or_404(
        Criterion.all_objects.select_related("meeting__group__territory"), pk=pk
    )
    require(
        can_view_group(request.user, criterion.meeting.group)
        and can_view_territory(request.user, criterion.territory)
    )
    revisions, codings = criterion_history(criterion=criterion)
    return render(
        request,
        "consultations/criterion_history.html",
        {"criterion": criterion, "revisions": revisions, "codings": codings},
    )
