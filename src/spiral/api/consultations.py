"""Groups, meetings and criteria through the API, and the coding of criteria.

Everything here is a group's private data: a caller sees the groups of the territories where
its user holds a role (and the groups it facilitates), narrowed by its token's scope; anything
else answers 404, as if it did not exist. Writes need a read/write token and the same right as
the matching screen (manage groups, transcribe, code); they go through the services of the
screens, so stored figures, history and idempotency are the same."""

from __future__ import annotations

from datetime import date
from typing import Any

from django.db.models import Q, QuerySet
from django.http import Http404, HttpRequest
from ninja import Field, Path, Query, Router, Schema
from pydantic import field_validator

from spiral.accounts.models import RoleAssignment
from spiral.api.auth import ApiCaller, caller_of
from spiral.api.errors import ApiError, forbidden, require_write, territory_to_manage_groups
from spiral.api.pagination import PageOut, PageQuery, page_of
from spiral.api.schemas import (
    ERRORS,
    ERRORS_WITH_404,
    WRITE_ERRORS,
    invalid,
    printable,
    printable_text,
)
from spiral.coding.models import Coding
from spiral.coding.selectors import GridsByTerritory
from spiral.coding.services import (
    criterion_code_remove,
    criterion_codes_add,
    criterion_codings_replace,
)
from spiral.consultations.models import (
    Criterion,
    GroupProfile,
    HomogeneousGroup,
    Meeting,
    Question,
    QuestionSet,
)
from spiral.consultations.selectors import current_codings_prefetch
from spiral.consultations.services import (
    CriterionInput,
    criteria_add,
    criterion_delete,
    criterion_update,
    group_create,
    group_update,
    meeting_create,
)
from spiral.core.languages import CRITERION_LANGUAGE_CODES
from spiral.core.permissions import is_network_admin
from spiral.grid.codes import CodeError

router = Router(tags=["groups and criteria"])

MAX_ID = 2**63 - 1  # larger numbers overflow the databases' integers
ID = Path(..., ge=1, le=MAX_ID)


# --- Schemas -------------------------------------------------------------------------------


def _language(value: str | None) -> str | None:
    if value and value not in CRITERION_LANGUAGE_CODES:
        raise ValueError(
            "unknown language code; expected one of " + ", ".join(CRITERION_LANGUAGE_CODES)
        )
    return value or None


class GroupOut(Schema):
    id: int
    territory_id: int
    name: str
    profile: str = Field(description="Code of the group's profile.")
    size: int | None = Field(description="Number of participants (7 to 12 usually).")
    language: str
    description: str
    is_archived: bool


class GroupIn(Schema):
    territory_id: int = Field(ge=1, le=MAX_ID, description="Territory the group belongs to.")
    name: str = Field(min_length=1, max_length=200)
    profile: str = Field(max_length=40, description="Code of a profile (see the group list).")
    size: int | None = Field(None, ge=1, le=1000, description="Number of participants.")
    language: str | None = Field(None, description="Default: the territory's language.")
    description: str = Field("", max_length=5000)

    @field_validator("name", "profile", "description")
    @classmethod
    def _printable(cls, value: str) -> str:
        return printable_text(value) or value

    @field_validator("name")
    @classmethod
    def _not_blank(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("must not be blank")
        return value

    @field_validator("language")
    @classmethod
    def _language(cls, value: str | None) -> str | None:
        return _language(value)


class GroupPatch(Schema):
    """Only the fields sent are changed."""

    name: str | None = Field(None, min_length=1, max_length=200)
    profile: str | None = Field(None, max_length=40)
    size: int | None = Field(None, ge=1, le=1000)
    language: str | None = None
    description: str | None = Field(None, max_length=5000)
    is_archived: bool | None = None

    _printable = field_validator("name", "profile", "description")(GroupIn._printable.__func__)  # type: ignore[attr-defined]
    _language = field_validator("language")(GroupIn._language.__func__)  # type: ignore[attr-defined]


class GroupListQuery(PageQuery):
    territory: int | None = Field(
        None, ge=1, le=MAX_ID, description="Only the groups of this territory and below."
    )
    profile: str | None = Field(None, max_length=40, description="Only this profile (code).")
    archived: bool = Field(False, description="Archived groups instead of active ones.")

    @field_validator("profile")
    @classmethod
    def _printable(cls, value: str | None) -> str | None:
        return printable(value)


class GroupPageOut(PageOut):
    results: list[GroupOut]


class QuestionOut(Schema):
    id: int
    code: str
    kind: str = Field(description="well_being, ill_being, action or other.")
    position: int
    short_label: str
    text: str


class MeetingOut(Schema):
    id: int
    group_id: int
    held_on: date
    question_set: str = Field(description="Code of the question set asked.")
    language: str
    place: str
    questions: list[QuestionOut]


class MeetingIn(Schema):
    held_on: date
    question_set: str | None = Field(None, max_length=40, description="Default: the default set.")
    language: str | None = Field(None, description="Default: the group's language.")
    place: str = Field("", max_length=200)
    notes: str = Field("", max_length=5000)

    @field_validator("question_set", "place")
    @classmethod
    def _printable(cls, value: str | None) -> str | None:
        return printable(value) or ("" if value is not None else None)

    @field_validator("language")
    @classmethod
    def _language(cls, value: str | None) -> str | None:
        return _language(value)

    @field_validator("notes")
    @classmethod
    def _notes(cls, value: str) -> str:
        return GroupIn._printable(value)


class MeetingPageOut(PageOut):
    results: list[MeetingOut]


class CodingOut(Schema):
    id: int
    full_code: str = Field(description="E.g. A01-11/P15/k, or just the component A01.")
    component: str
    component_label: str


class MeetingCriterionOut(Schema):
    id: int
    meeting_id: int
    group_id: int
    territory_id: int
    question: str = Field(description="Code of the question.")
    question_kind: str
    text: str = Field(description="Exactly as written.")
    language: str
    expressions: int = Field(description="How many identical post-its.")
    position: int
    client_token: str | None
    codes: list[CodingOut] = Field(description="Current codings.")


class MeetingCriterionPageOut(PageOut):
    results: list[MeetingCriterionOut]


class CriterionListQuery(PageQuery):
    question: str | None = Field(
        None, max_length=20, description="Only this question (its code or its kind)."
    )

    @field_validator("question")
    @classmethod
    def _printable(cls, value: str | None) -> str | None:
        return printable(value)


class CriterionItemIn(Schema):
    text: str = Field(max_length=2000, description="Stored exactly as written.")
    expressions: int = Field(1, ge=1, le=100_000, description="How many identical post-its.")
    language: str = Field("", max_length=8, description="Default: the meeting's language.")
    code: str = Field("", max_length=30, description="Optional component or full code.")
    client_token: str = Field(
        "",
        max_length=80,
        description="A client-made id: sending the same token again never saves twice.",
    )

    @field_validator("language", "code", "client_token")
    @classmethod
    def _printable(cls, value: str) -> str:
        return printable(value) or ""


class CriteriaIn(Schema):
    question: str = Field(max_length=20, description="Code or kind of the meeting's question.")
    criteria: list[CriterionItemIn] = Field(min_length=1, max_length=500)

    @field_validator("question")
    @classmethod
    def _printable(cls, value: str) -> str:
        return printable(value) or ""


class CriterionResultOut(Schema):
    index: int = Field(description="Position of the item in the request.")
    ok: bool
    created: bool = Field(description="False when the client token was already saved.")
    id: int | None
    client_token: str
    errors: dict[str, str] = Field(description="Field -> message, for the refused items.")


class CriteriaAddOut(Schema):
    created: int
    refused: int
    results: list[CriterionResultOut]


class CriterionPatch(Schema):
    text: str | None = Field(None, max_length=2000)
    expressions: int | None = Field(None, ge=1, le=100_000)
    language: str | None = None
    question: str | None = Field(None, max_length=20, description="Move to another question.")

    @field_validator("language")
    @classmethod
    def _language(cls, value: str | None) -> str | None:
        return _language(value)

    @field_validator("question")
    @classmethod
    def _printable(cls, value: str | None) -> str | None:
        return printable(value)


class CodesIn(Schema):
    codes: list[str] = Field(
        max_length=20, description="Components (A01) or full codes (A01-11/P15/k)."
    )

    @field_validator("codes")
    @classmethod
    def _codes(cls, value: list[str]) -> list[str]:
        for code in value:
            if len(code) > 30:
                raise ValueError("a code is at most 30 characters long")
            printable(code)
        return value


# --- Helpers -------------------------------------------------------------------------------


def visible_groups(caller: ApiCaller) -> QuerySet[HomogeneousGroup]:
    """The groups whose private data the caller may read."""
    if not caller.is_authenticated:
        return HomogeneousGroup.objects.none()
    user = caller.user
    groups = HomogeneousGroup.objects.all()
    if not is_network_admin(user):
        roles = RoleAssignment.objects.filter(user=user).values("territory_id")
        groups = groups.filter(
            pk__in=HomogeneousGroup.objects.filter(
                Q(territory__ancestor_links__ancestor_id__in=roles) | Q(facilitators=user)
            ).values("pk")
        )
    if caller.scope_ids:
        groups = groups.filter(
            pk__in=HomogeneousGroup.objects.filter(
                territory__ancestor_links__ancestor_id__in=caller.scope_ids
            ).values("pk")
        )
    return groups


def _group(caller: ApiCaller, group_id: int) -> HomogeneousGroup:
    group = HomogeneousGroup.objects.select_related("territory", "profile").filter(pk=group_id)
    found = group.first()
    if found is None or not caller.can_view_group(found):
        raise Http404("no such group")
    return found


def _meeting(caller: ApiCaller, meeting_id: int) -> Meeting:
    meeting = (
        Meeting.objects.select_related("group__territory", "question_set")
        .filter(pk=meeting_id)
        .first()
    )
    if meeting is None or not caller.can_view_group(meeting.group):
        raise Http404("no such meeting")
    return meeting


def _criterion(caller: ApiCaller, criterion_id: int) -> Criterion:
    criterion = (
        Criterion.objects.select_related("meeting__group", "question", "territory")
        .prefetch_related(current_codings_prefetch())
        .filter(pk=criterion_id)
        .first()
    )
    if criterion is None or not caller.can_view_group(criterion.meeting.group):
        raise Http404("no such criterion")
    return criterion


def _profile(code: str) -> GroupProfile:
    profile = GroupProfile.objects.filter(code=code).first()
    if profile is None:
        raise invalid("profile", f"unknown group profile {code!r}", location="body")
    return profile


def _question(meeting: Meeting, value: str, *, location: str = "body") -> Question:
    questions = meeting.question_set.questions.order_by("position")
    question = questions.filter(code=value).first() or questions.filter(kind=value).first()
    if question is None:
        raise invalid(
            "question",
            f"no question {value!r} in the meeting's question set {meeting.question_set.code}",
            location=location,
        )
    return question


def _not_archived(group: HomogeneousGroup) -> None:
    if group.is_archived:
        raise ApiError(409, "The group is archived: unarchive it first.", code="group_archived")


def group_out(group: HomogeneousGroup) -> dict[str, Any]:
    return {
        "id": group.pk,
        "territory_id": group.territory_id,
        "name": group.name,
        "profile": group.profile.code,
        "size": group.size,
        "language": group.language,
        "description": group.description,
        "is_archived": group.is_archived,
    }


def meeting_out(meeting: Meeting) -> dict[str, Any]:
    return {
        "id": meeting.pk,
        "group_id": meeting.group_id,
        "held_on": meeting.held_on,
        "question_set": meeting.question_set.code,
        "language": meeting.language,
        "place": meeting.place,
        "questions": [
            {
                "id": q.pk,
                "code": q.code,
                "kind": q.kind,
                "position": q.position,
                "short_label": q.short_label,
                "text": q.text,
            }
            for q in meeting.question_set.questions.all()
        ],
    }


def _coding_out(coding: Coding) -> dict[str, Any]:
    return {
        "id": coding.pk,
        "full_code": coding.full_code,
        "component": coding.component.code,
        "component_label": coding.component.label,
    }


def criterion_out(criterion: Criterion) -> dict[str, Any]:
    codings = getattr(criterion, "current_codings", None)
    if codings is None:
        codings = list(Coding.objects.current().filter(criterion=criterion).order_by("pk"))
    return {
        "id": criterion.pk,
        "meeting_id": criterion.meeting_id,
        "group_id": criterion.group_id,
        "territory_id": criterion.territory_id,
        "question": criterion.question.code,
        "question_kind": criterion.question.kind,
        "text": criterion.text,
        "language": criterion.language,
        "expressions": criterion.expressions,
        "position": criterion.position,
        "client_token": criterion.client_token,
        "codes": [_coding_out(c) for c in codings],
    }


def _fresh(criterion_id: int) -> Criterion:
    return (
        Criterion.objects.select_related("question")
        .prefetch_related(current_codings_prefetch())
        .get(pk=criterion_id)
    )


# --- Groups --------------------------------------------------------------------------------


@router.get("/groups", response={200: GroupPageOut, **ERRORS}, summary="Groups the caller may see")
def group_list(request: HttpRequest, query: Query[GroupListQuery]) -> Any:
    """Homogeneous groups of the territories where the caller's user holds a role (and those
    it facilitates), within the token's scope. Anonymous callers get an empty list: groups
    are private data."""
    groups = visible_groups(caller_of(request)).filter(is_archived=query.archived)
    if query.territory is not None:
        groups = groups.filter(
            pk__in=HomogeneousGroup.objects.in_subtree(query.territory).values("pk")
        )
    if query.profile:
        groups = groups.filter(profile__code=query.profile)
    groups = groups.select_related("profile").order_by("territory_id", "name", "pk")
    return page_of(request, groups, query, group_out)


@router.post(
    "/groups",
    response={201: GroupOut, **WRITE_ERRORS},
    summary="Create a homogeneous group",
)
def group_create_endpoint(request: HttpRequest, payload: GroupIn) -> Any:
    """Needs a read/write token and the right to manage groups on the territory."""
    caller = caller_of(request)
    territory = territory_to_manage_groups(
        caller,
        payload.territory_id,
        refusal="You may not create groups in this territory.",
    )
    group = group_create(
        territory=territory,
        name=payload.name,
        profile=_profile(payload.profile),
        size=payload.size,
        language=payload.language,
        description=payload.description,
        user=caller.user,
    )
    return 201, group_out(group)


@router.get("/groups/{group_id}", response={200: GroupOut, **ERRORS_WITH_404}, summary="One group")
def group_detail(request: HttpRequest, group_id: int = ID) -> Any:
    return group_out(_group(caller_of(request), group_id))


@router.patch(
    "/groups/{group_id}",
    response={200: GroupOut, **WRITE_ERRORS},
    summary="Change a group (name, profile, size, language, description, archived)",
)
def group_update_endpoint(request: HttpRequest, payload: GroupPatch, group_id: int = ID) -> Any:
    """Needs a read/write token and the right to manage groups on the group's territory."""
    caller = caller_of(request)
    require_write(caller)
    group = _group(caller, group_id)
    if not caller.can_manage_groups(group.territory):
        raise forbidden("You may not change this group.")
    fields: dict[str, Any] = payload.dict(exclude_unset=True)
    if "name" in fields:
        if fields["name"] is None or not fields["name"].strip():
            raise invalid("name", "must not be blank", location="body")
        fields["name"] = fields["name"].strip()
    if "profile" in fields:
        if fields["profile"] is None:
            raise invalid("profile", "must not be null", location="body")
        fields["profile"] = _profile(fields["profile"])
    for name in ("language", "description", "is_archived"):
        if name in fields and fields[name] is None:
            raise invalid(name, "must not be null", location="body")
    group = group_update(group=group, **fields)
    return group_out(group)


# --- Meetings ------------------------------------------------------------------------------


@router.get(
    "/groups/{group_id}/meetings",
    response={200: MeetingPageOut, **ERRORS_WITH_404},
    summary="Meetings of a group",
)
def meeting_list(request: HttpRequest, query: Query[PageQuery], group_id: int = ID) -> Any:
    """Latest first."""
    group = _group(caller_of(request), group_id)
    meetings = (
        Meeting.objects.filter(group=group)
        .select_related("question_set")
        .prefetch_related("question_set__questions")
        .order_by("-held_on", "-pk")
    )
    return page_of(request, meetings, query, meeting_out)


@router.post(
    "/groups/{group_id}/meetings",
    response={201: MeetingOut, **WRITE_ERRORS},
    summary="Create a meeting of a group",
)
def meeting_create_endpoint(request: HttpRequest, payload: MeetingIn, group_id: int = ID) -> Any:
    """Needs a read/write token and the right to transcribe for the group; 409 if the group
    is archived."""
    caller = caller_of(request)
    require_write(caller)
    group = _group(caller, group_id)
    if not caller.can_transcribe(group):
        raise forbidden("You may not create meetings for this group.")
    _not_archived(group)
    question_set = None
    if payload.question_set:
        question_set = QuestionSet.objects.filter(code=payload.question_set).first()
        if question_set is None:
            raise invalid(
                "question_set", f"unknown question set {payload.question_set!r}", location="body"
            )
    if not date(1900, 1, 1) <= payload.held_on <= date(2200, 12, 31):
        raise invalid("held_on", "must be a date between 1900 and 2200", location="body")
    meeting = meeting_create(
        group=group,
        held_on=payload.held_on,
        question_set=question_set,
        language=payload.language,
        place=payload.place,
        notes=payload.notes,
        user=caller.user,
    )
    return 201, meeting_out(meeting)


@router.get(
    "/meetings/{meeting_id}",
    response={200: MeetingOut, **ERRORS_WITH_404},
    summary="One meeting, with its questions",
)
def meeting_detail(request: HttpRequest, meeting_id: int = ID) -> Any:
    return meeting_out(_meeting(caller_of(request), meeting_id))


# --- Criteria ------------------------------------------------------------------------------


@router.get(
    "/meetings/{meeting_id}/criteria",
    response={200: MeetingCriterionPageOut, **ERRORS_WITH_404},
    summary="Criteria of a meeting, with their codes",
)
def meeting_criteria(
    request: HttpRequest, query: Query[CriterionListQuery], meeting_id: int = ID
) -> Any:
    """In the order of the questions, then as written."""
    meeting = _meeting(caller_of(request), meeting_id)
    criteria = Criterion.objects.filter(meeting=meeting)
    if query.question:
        criteria = criteria.filter(question=_question(meeting, query.question, location="query"))
    criteria = (
        criteria.select_related("question")
        .prefetch_related(current_codings_prefetch())
        .order_by("question__position", "position", "pk")
    )
    return page_of(request, criteria, query, criterion_out)


@router.post(
    "/meetings/{meeting_id}/criteria",
    response={200: CriteriaAddOut, 201: CriteriaAddOut, **WRITE_ERRORS},
    summary="Post criteria to a meeting (idempotent with client tokens)",
)
def meeting_criteria_add(request: HttpRequest, payload: CriteriaIn, meeting_id: int = ID) -> Any:
    """Saves the valid items and reports each refused one with its reason (the others are
    saved all the same: nothing typed is lost). An item whose ``client_token`` was already
    saved is not saved again: its criterion is returned with ``created: false``, so a client
    may resend after a dropped connection. 201 when something was created, else 200."""
    caller = caller_of(request)
    require_write(caller)
    meeting = _meeting(caller, meeting_id)
    if not caller.can_transcribe(meeting.group):
        raise forbidden("You may not write criteria for this group.")
    _not_archived(meeting.group)
    question = _question(meeting, payload.question)
    outcomes = criteria_add(
        meeting=meeting,
        question=question,
        inputs=[
            CriterionInput(
                text=item.text,
                expressions=item.expressions,
                language=item.language,
                code=item.code,
                client_token=item.client_token,
            )
            for item in payload.criteria
        ],
        user=caller.user,
    )
    results = []
    for index, outcome in enumerate(outcomes):
        criterion = outcome.criterion
        errors = dict(outcome.errors)
        if criterion is not None and criterion.question_id != question.pk and not outcome.created:
            errors["client_token"] = "This client token was used for another question."
        results.append(
            {
                "index": index,
                "ok": not errors,
                "created": outcome.created,
                "id": criterion.pk if criterion else None,
                "client_token": outcome.input.client_token,
                "errors": errors,
            }
        )
    created = sum(1 for r in results if r["created"])
    body = {
        "created": created,
        "refused": sum(1 for r in results if not r["ok"]),
        "results": results,
    }
    return (201 if created else 200), body


@router.get(
    "/criteria/{criterion_id}",
    response={200: MeetingCriterionOut, **ERRORS_WITH_404},
    summary="One criterion, with its codes",
)
def criterion_detail(request: HttpRequest, criterion_id: int = ID) -> Any:
    return criterion_out(_criterion(caller_of(request), criterion_id))


@router.patch(
    "/criteria/{criterion_id}",
    response={200: MeetingCriterionOut, **WRITE_ERRORS},
    summary="Correct a criterion (its previous wording stays in its history)",
)
def criterion_update_endpoint(
    request: HttpRequest, payload: CriterionPatch, criterion_id: int = ID
) -> Any:
    caller = caller_of(request)
    require_write(caller)
    criterion = _criterion(caller, criterion_id)
    if not caller.can_transcribe(criterion.meeting.group):
        raise forbidden("You may not correct criteria of this group.")
    question = None
    if payload.question:
        question = _question(criterion.meeting, payload.question)
    outcome = criterion_update(
        criterion=criterion,
        text=payload.text if payload.text is not None else criterion.text,
        expressions=payload.expressions or criterion.expressions,
        language=payload.language or criterion.language,
        question=question,
        user=caller.user,
    )
    if outcome.errors:
        field, message = next(iter(outcome.errors.items()))
        raise invalid(field, message, location="body")
    return criterion_out(_fresh(criterion.pk))


@router.delete(
    "/criteria/{criterion_id}",
    response={204: None, **WRITE_ERRORS},
    summary="Delete a criterion (kept with its history, out of every count)",
)
def criterion_delete_endpoint(request: HttpRequest, criterion_id: int = ID) -> Any:
    caller = caller_of(request)
    require_write(caller)
    criterion = _criterion(caller, criterion_id)
    if not caller.can_transcribe(criterion.meeting.group):
        raise forbidden("You may not delete criteria of this group.")
    criterion_delete(criterion=criterion, user=caller.user)
    return 204, None


# --- Coding --------------------------------------------------------------------------------


def _coder(request: HttpRequest, criterion_id: int) -> tuple[ApiCaller, Criterion]:
    caller = caller_of(request)
    require_write(caller)
    criterion = _criterion(caller, criterion_id)
    if not caller.can_code(criterion.territory):
        raise forbidden("You may not code criteria of this territory.")
    return caller, criterion


@router.post(
    "/criteria/{criterion_id}/codes",
    response={200: MeetingCriterionOut, **WRITE_ERRORS},
    summary="Add codes to a criterion",
)
def criterion_codes_add_endpoint(
    request: HttpRequest, payload: CodesIn, criterion_id: int = ID
) -> Any:
    """Each code is checked against the territory's grid version; all or nothing (422 names
    the wrong code). Adding a code the criterion already has changes nothing."""
    caller, criterion = _coder(request, criterion_id)
    try:
        criterion_codes_add(criterion=criterion, codes=payload.codes, user=caller.user)
    except CodeError as error:
        raise invalid("codes", str(error), location="body") from error
    return criterion_out(_fresh(criterion.pk))


@router.put(
    "/criteria/{criterion_id}/codes",
    response={200: MeetingCriterionOut, **WRITE_ERRORS},
    summary="Recode a criterion: replace its codes",
)
def criterion_codes_replace_endpoint(
    request: HttpRequest, payload: CodesIn, criterion_id: int = ID
) -> Any:
    """The criterion gets exactly these codes (an empty list removes them all); the previous
    codings stay in its history."""
    caller, criterion = _coder(request, criterion_id)
    try:
        grid = GridsByTerritory().for_territory(criterion.territory_id)
        resolved = [grid.resolve(code) for code in payload.codes]
    except CodeError as error:
        raise invalid("codes", str(error), location="body") from error
    criterion_codings_replace(criterion=criterion, codes=resolved, user=caller.user)
    return criterion_out(_fresh(criterion.pk))


@router.delete(
    "/criteria/{criterion_id}/codes/{coding_id}",
    response={204: None, **WRITE_ERRORS},
    summary="Take one code off a criterion",
)
def criterion_code_remove_endpoint(
    request: HttpRequest, criterion_id: int = ID, coding_id: int = ID
) -> Any:
    """404 if the coding is not one of the criterion's current codes."""
    caller, criterion = _coder(request, criterion_id)
    if criterion_code_remove(criterion=criterion, coding_id=coding_id, user=caller.user) is None:
        raise Http404("no such coding")
    return 204, None
