"""Self-entry screens: the facilitator's projection page and wall, the participants' phone page
and the public restitution page. Thin: parse, check permission, call one service or selector."""

from __future__ import annotations

import json
from typing import Any

import segno
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse, JsonResponse
from django.middleware.csrf import get_token
from django.shortcuts import get_object_or_404, redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import ensure_csrf_cookie
from django.views.decorators.http import require_GET, require_POST

from spiral.consultations.models import Criterion, Meeting
from spiral.core.http import AuthenticatedRequest, SpiralRequest
from spiral.core.permissions import can_transcribe, can_view_territory, require
from spiral.selfentry import selectors, services
from spiral.selfentry.models import CriterionMerge, SelfEntrySession
from spiral.selfentry.ratelimit import RateLimit, rate_limited, rate_limits_count
from spiral.syntheses.selectors import group_synthesis

MAX_ITEMS_PER_REQUEST = 50
MAX_BODY_BYTES = 200_000


# --- facilitator -----------------------------------------------------------------------------


def _meeting_for(request: SpiralRequest, pk: int) -> Meeting:
    meeting = get_object_or_404(
        Meeting.objects.select_related("group__territory", "group__profile", "question_set"), pk=pk
    )
    require(can_transcribe(request.user, meeting.group))
    return meeting


def _phone_url(request: SpiralRequest, session: SelfEntrySession) -> str:
    return request.build_absolute_uri(reverse("selfentry:phone", kwargs={"code": session.code}))


@login_required
def projection(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    """The page shown on the wall or the projector: the short link, its code and a QR code."""
    meeting = _meeting_for(request, pk)
    session = selectors.open_session_of(meeting=meeting)
    context: dict[str, Any] = {
        "meeting": meeting,
        "group": meeting.group,
        "session": session,
        "participants": selectors.participants_of(meeting=meeting),
        "restitution": services.restitution_ensure(group_id=meeting.group_id),
    }
    if session is not None:
        url = _phone_url(request, session)
        context["phone_url"] = url
        context["qr_svg"] = segno.make(url, error="m", micro=False).svg_inline(
            scale=8, svgclass="qr", title=_("QR code of the link"), omitsize=True
        )
    context["restitution_url"] = request.build_absolute_uri(
        reverse("selfentry:restitution", kwargs={"token": context["restitution"].token})
    )
    return render(request, "selfentry/projection.html", context)


@login_required
@require_POST
def open_view(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    meeting = _meeting_for(request, pk)
    try:
        session = services.selfentry_open(meeting=meeting, user=request.user)
    except services.SelfEntryError as error:
        messages.error(request, str(error))
    else:
        messages.success(
            request,
            _("Phones can now write into this meeting with the code %(code)s.")
            % {"code": session.code},
        )
    return redirect("selfentry:projection", pk=meeting.pk)


@login_required
@require_POST
def close_view(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    meeting = _meeting_for(request, pk)
    session = selectors.open_session_of(meeting=meeting)
    if session is not None:
        services.selfentry_close(session=session, user=request.user)
        messages.success(request, _("Writing is closed: phones can no longer send post-its."))
    target = "selfentry:wall" if request.POST.get("next") == "wall" else "selfentry:projection"
    return redirect(target, pk=meeting.pk)


@login_required
@require_POST
def restitution_toggle(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    meeting = _meeting_for(request, pk)
    enabled = request.POST.get("enabled") == "1"
    services.restitution_set_enabled(group_id=meeting.group_id, enabled=enabled)
    messages.success(
        request,
        _("The public link is active.") if enabled else _("The public link is switched off."),
    )
    return redirect("selfentry:projection", pk=meeting.pk)


def _wall_context(meeting: Meeting) -> dict[str, Any]:
    columns = selectors.wall_columns(meeting=meeting)
    return {
        "meeting": meeting,
        "group": meeting.group,
        "columns": columns,
        "session": selectors.open_session_of(meeting=meeting),
        "participants": selectors.participants_of(meeting=meeting),
        "merges": selectors.merges_of(meeting=meeting),
        "total_criteria": sum(len(c.criteria) for c in columns),
        "total_expressions": sum(c.expressions for c in columns),
        "version": selectors.wall_version(meeting=meeting),
    }


@login_required
def wall(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    """Post-its arrive live, one column per question; identical ones are merged here."""
    meeting = _meeting_for(request, pk)
    context = _wall_context(meeting)
    context["validations"] = meeting.group.validations.filter(synthesis_of=meeting)
    return render(request, "selfentry/wall.html", context)


@login_required
@require_GET
@never_cache
def wall_board(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    """Polled by the wall: 204 while nothing changed since the version the page holds."""
    meeting = _meeting_for(request, pk)
    version = selectors.wall_version(meeting=meeting)
    if request.GET.get("v") == version:
        return HttpResponse(status=204)
    html = render_to_string("selfentry/_board.html", _wall_context(meeting), request=request)
    return JsonResponse({"version": version, "html": html})


def _criterion_ids(values: list[str]) -> list[int]:
    ids = []
    for value in values:
        try:
            ids.append(int(value))
        except ValueError:
            continue
    return list(dict.fromkeys(ids))


@login_required
@require_POST
def merge_view(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    meeting = _meeting_for(request, pk)
    ids = _criterion_ids(request.POST.getlist("criterion"))
    found = {c.pk: c for c in Criterion.all_objects.filter(meeting=meeting, pk__in=ids)}
    if len(ids) < 2:
        messages.error(request, _("Choose at least two post-its to merge."))
    elif len(found) != len(ids):
        messages.error(request, _("These post-its do not belong to the meeting."))
    else:
        # The wording kept is the first chosen on the wall (the oldest post-it).
        target, *others = (found[i] for i in ids)
        try:
            services.criteria_merge(
                meeting=meeting, target=target, others=others, user=request.user
            )
        except services.SelfEntryError as error:
            messages.error(request, str(error))
        else:
            messages.success(
                request,
                _("%(count)s post-its merged into “%(text)s”.")
                % {"count": len(ids), "text": target.text[:80]},
            )
    return redirect("selfentry:wall", pk=meeting.pk)


@login_required
@require_POST
def merge_undo_view(request: AuthenticatedRequest, pk: int, merge_pk: int) -> HttpResponse:
    meeting = _meeting_for(request, pk)
    merge = get_object_or_404(CriterionMerge, pk=merge_pk, meeting=meeting)
    try:
        services.merge_undo(merge=merge, user=request.user)
    except services.SelfEntryError as error:
        messages.error(request, str(error))
    else:
        messages.success(request, _("The merge was undone: the post-its are back."))
    return redirect("selfentry:wall", pk=meeting.pk)


@login_required
@require_POST
def validate_view(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    meeting = _meeting_for(request, pk)
    note = request.POST.get("note", "").strip()[:2000]
    services.meeting_criteria_validate(meeting=meeting, note=note, user=request.user)
    messages.success(
        request, _("The group's validation was recorded and writing on phones is closed.")
    )
    return redirect("selfentry:wall", pk=meeting.pk)


# --- participants' phones (no account) -------------------------------------------------------


def _client_address(request: SpiralRequest) -> str:
    return str(request.META.get("REMOTE_ADDR", ""))


def _session_or_404(request: SpiralRequest, code: str) -> SelfEntrySession:
    """The session behind a code; guessing codes is slowed down per address."""
    session = selectors.session_by_code(code=services.code_normalise(code))
    if session is None:
        wait = rate_limited(
            key=f"badcode:{_client_address(request)}",
            limit=settings.SPIRAL_SELFENTRY_BAD_CODES_PER_10_MIN,
            window=600,
        )
        if wait:
            raise _TooMany(wait)
        raise Http404(_("No meeting has this code."))
    return session


class _TooMany(Exception):
    def __init__(self, wait: int) -> None:
        self.wait = wait


def _too_many(wait: int, *, as_json: bool, request: SpiralRequest) -> HttpResponse:
    message = _("Too many attempts: wait %(seconds)s seconds, then try again.") % {"seconds": wait}
    if as_json:
        response: HttpResponse = JsonResponse({"ok": False, "error": message}, status=429)
    else:
        response = render(request, "selfentry/phone_message.html", {"message": message}, status=429)
    response["Retry-After"] = str(wait)
    return response


@require_GET
def phone_start(request: SpiralRequest) -> HttpResponse:
    """The short link without a code: a box to type the code read on the screen."""
    code = services.code_normalise(request.GET.get("code", ""))
    if code:
        return redirect("selfentry:phone", code=code)
    return render(request, "selfentry/phone_start.html")


@require_GET
@ensure_csrf_cookie
def phone(request: SpiralRequest, code: str) -> HttpResponse:
    """The participant's page: one question at a time, post-its kept on the phone until sent."""
    try:
        session = _session_or_404(request, code)
    except _TooMany as error:
        return _too_many(error.wait, as_json=False, request=request)
    except Http404:
        return render(
            request,
            "selfentry/phone_message.html",
            {"message": _("No meeting has this code. Check the code shown on the screen.")},
            status=404,
        )
    meeting = session.meeting
    restitution = selectors.restitution_of(group_id=meeting.group_id)
    questions = list(meeting.question_set.questions.all())
    context = {
        "session": session,
        "meeting": meeting,
        "questions": questions,
        "max_length": settings.SPIRAL_SELFENTRY_MAX_LENGTH,
        "restitution_url": (
            reverse("selfentry:restitution", kwargs={"token": restitution.token})
            if restitution
            else ""
        ),
        "phone_strings": _phone_strings(),
    }
    return render(request, "selfentry/phone.html", context)


def _phone_strings() -> dict[str, str]:
    return {
        "online": _("Connected"),
        "offline": _("No connection: your post-its are kept on this phone."),
        "sending": _("Sending…"),
        "waitingOne": _("1 post-it waiting to be sent."),
        "waitingMany": _("%(count)s post-its waiting to be sent."),
        "allSent": _("Everything is on the wall."),
        "sent": _("on the wall"),
        "pending": _("waiting"),
        "refused": _("refused"),
        "empty": _("Write something first."),
        "tooLong": _("A post-it holds at most %(count)s characters."),
        "closed": _(
            "Writing is closed for this meeting. Thank you! Post-its still on this phone were "
            "not received: read them out to the facilitator."
        ),
        "remove": _("Remove"),
        "questionOf": _("Question %(n)s of %(total)s"),
    }


def _json_body(request: SpiralRequest) -> dict[str, Any] | None:
    if len(request.body) > MAX_BODY_BYTES:
        return None
    try:
        data = json.loads(request.body or b"{}")
    except (json.JSONDecodeError, UnicodeDecodeError):
        return None
    return data if isinstance(data, dict) else None


def _items_of(raw: Any) -> list[services.PostItInput] | None:
    if not isinstance(raw, list) or not 1 <= len(raw) <= MAX_ITEMS_PER_REQUEST:
        return None
    items = []
    for entry in raw:
        if not isinstance(entry, dict) or not isinstance(entry.get("text"), str):
            return None
        question = entry.get("question")
        try:
            question_id = int(question) if question is not None else None
        except (TypeError, ValueError):
            question_id = None
        items.append(
            services.PostItInput(
                client_id=str(entry.get("client_id", ""))[:80],
                question_id=question_id,
                text=entry["text"],
            )
        )
    return items


@require_POST
@never_cache
def phone_submit(request: SpiralRequest, code: str) -> HttpResponse:
    """Post-its from a phone, as JSON; an answer per post-it, so the phone knows what arrived."""
    try:
        session = _session_or_404(request, code)
    except _TooMany as error:
        return _too_many(error.wait, as_json=True, request=request)
    except Http404:
        return JsonResponse({"ok": False, "error": _("No meeting has this code.")}, status=404)
    if not session.is_open:
        return JsonResponse(
            {"ok": False, "closed": True, "error": _("Writing is closed for this meeting.")},
            status=410,
        )
    data = _json_body(request)
    items = _items_of(data.get("items")) if data else None
    participant = str(data.get("participant", ""))[:80] if data else ""
    if items is None:
        return JsonResponse(
            {
                "ok": False,
                "error": _("This request cannot be read: send 1 to %(max)s post-its.")
                % {"max": MAX_ITEMS_PER_REQUEST},
            },
            status=400,
        )
    wait = rate_limits_count(
        RateLimit(
            key=f"phone:{session.meeting_id}:{participant}",
            limit=settings.SPIRAL_SELFENTRY_REQUESTS_PER_MINUTE,
            window=60,
        ),
        RateLimit(
            key=f"meeting:{session.meeting_id}",
            limit=settings.SPIRAL_SELFENTRY_MEETING_REQUESTS_PER_MINUTE,
            window=60,
        ),
    )
    if wait:
        return _too_many(wait, as_json=True, request=request)
    try:
        outcomes = services.postits_submit(session=session, participant_id=participant, items=items)
    except services.SelfEntryClosed as error:
        return JsonResponse({"ok": False, "closed": True, "error": str(error)}, status=410)
    except services.SelfEntryError as error:
        return JsonResponse({"ok": False, "error": str(error)}, status=422)
    return JsonResponse(
        {
            "ok": all(o.ok for o in outcomes),
            "results": [
                {
                    "client_id": o.input.client_id,
                    "ok": o.ok,
                    "created": o.created,
                    "errors": o.errors,
                }
                for o in outcomes
            ],
        }
    )


@require_GET
@never_cache
def phone_status(request: SpiralRequest, code: str) -> HttpResponse:
    """Whether writing is open, and a fresh CSRF token for a phone whose cookie was lost."""
    try:
        session = _session_or_404(request, code)
    except _TooMany as error:
        return _too_many(error.wait, as_json=True, request=request)
    except Http404:
        return JsonResponse({"ok": False, "error": _("No meeting has this code.")}, status=404)
    return JsonResponse({"ok": True, "open": session.is_open, "csrf": get_token(request)})


# --- restitution (public) --------------------------------------------------------------------


@require_GET
def restitution(request: SpiralRequest, token: str) -> HttpResponse:
    """What became of the group's words: its criteria, their coding and its synthesis.

    Public through an unguessable link; below the small-numbers threshold only totals show."""
    found = selectors.restitution_by_token(token=token)
    if found is None:
        raise Http404
    group = found.group
    participants = selectors.group_participants(group=group)
    hidden = selectors.small_numbers_hidden(participants=participants)
    synthesis = group_synthesis(group=group)
    context = {
        "group": group,
        "territory_shown": can_view_territory(None, group.territory),
        "hidden": hidden,
        "threshold": settings.SPIRAL_SMALL_NUMBERS_THRESHOLD,
        "synthesis": synthesis,
        "shares_shown": synthesis.total.criteria >= settings.SPIRAL_MIN_BASE_FOR_SHARES,
        "questions": [] if hidden else selectors.restitution_criteria(group=group),
        "validated": group.validations.exists(),
    }
    response = render(request, "selfentry/restitution.html", context)
    response["X-Robots-Tag"] = "noindex"
    return response
