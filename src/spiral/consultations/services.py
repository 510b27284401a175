"""Writing groups, meetings and criteria. Every write is transactional; criteria keep history."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.translation import gettext as _

from spiral.accounts.models import User
from spiral.coding.models import Coding, CodingSource
from spiral.coding.services import criterion_codings_replace
from spiral.coding.suggest.training import schedule_retrain_check
from spiral.consultations.models import (
    Criterion,
    CriterionRevision,
    GroupProfile,
    HomogeneousGroup,
    Meeting,
    Question,
    QuestionSet,
    RevisionAction,
)
from spiral.core.bulk import rows_insert
from spiral.core.languages import CRITERION_LANGUAGE_CODES
from spiral.core.text import clean_criterion_text
from spiral.grid.codes import CodeError, GridIndex, ResolvedCode
from spiral.grid.models import GridVersion
from spiral.syntheses.services import CriterionFacts, figures_change, territory_stats_refresh
from spiral.territories.models import Territory

MAX_EXPRESSIONS = 100_000


@transaction.atomic
def group_create(
    *,
    territory: Territory,
    name: str,
    profile: GroupProfile,
    size: int | None = None,
    language: str | None = None,
    description: str = "",
    facilitators: Sequence[User] = (),
    user: User | None,
) -> HomogeneousGroup:
    group = HomogeneousGroup.objects.create(
        territory=territory,
        name=name.strip(),
        profile=profile,
        size=size,
        language=language or territory.language,
        description=description,
        created_by=user,
    )
    group.facilitators.set(facilitators)
    territory_stats_refresh(territory_ids=[territory.pk])
    return group


@transaction.atomic
def group_update(
    *, group: HomogeneousGroup, facilitators: Sequence[User] | None = None, **fields: Any
) -> HomogeneousGroup:
    """Change a group's name, profile, size, language, description or archived state (its
    size and profile count in the small-numbers rule, so the figures are refreshed)."""
    for name, value in fields.items():
        setattr(group, name, value)
    group.save()
    if facilitators is not None:
        group.facilitators.set(facilitators)
    territory_stats_refresh(territory_ids=[group.territory_id])
    return group


@transaction.atomic
def group_move(*, group: HomogeneousGroup, territory: Territory) -> HomogeneousGroup:
    """Attach a group to another territory; its criteria follow (they carry the territory)."""
    previous_territory_id = group.territory_id
    group.territory = territory
    group.save(update_fields=["territory", "updated_at"])
    Criterion.all_objects.filter(group=group).update(territory=territory)
    territory_stats_refresh(territory_ids=[previous_territory_id, territory.pk])
    return group


@transaction.atomic
def meeting_create(
    *,
    group: HomogeneousGroup,
    held_on: date,
    question_set: QuestionSet | None = None,
    language: str | None = None,
    place: str = "",
    notes: str = "",
    user: User | None,
) -> Meeting:
    question_set = question_set or QuestionSet.objects.get(is_default=True)
    meeting = Meeting.objects.create(
        group=group,
        held_on=held_on,
        question_set=question_set,
        language=language or group.language,
        place=place,
        notes=notes,
        created_by=user,
    )
    territory_stats_refresh(territory_ids=[group.territory_id])
    return meeting


@dataclass(frozen=True)
class CriterionInput:
    """One criterion as typed or pasted; ``code`` is a component or a full code, or empty."""

    text: str
    expressions: int = 1
    language: str = ""
    code: str = ""
    client_token: str = ""


@dataclass
class CriterionOutcome:
    input: CriterionInput
    criterion: Criterion | None = None
    created: bool = False
    errors: dict[str, str] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not self.errors


def grid_index_for_meeting(meeting: Meeting) -> GridIndex | None:
    version_id = meeting.group.territory.effective_grid_version_id()
    if version_id is None:
        return None
    return GridIndex(GridVersion.objects.get(pk=version_id))


@dataclass(frozen=True)
class CriterionCheck:
    """A criterion input checked with the rules every write path shares: the errors by field,
    or the text, language and code as they will be stored."""

    errors: dict[str, str]
    text: str
    language: str
    code: ResolvedCode | None

    @property
    def ok(self) -> bool:
        return not self.errors


def criterion_input_check(
    item: CriterionInput, *, meeting: Meeting, grid: GridIndex | None
) -> CriterionCheck:
    """Check one criterion as typed, pasted, imported or sent from a phone (nothing is written);
    ``grid`` is needed only when the input carries a code."""
    errors: dict[str, str] = {}
    text = ""
    try:
        text = clean_criterion_text(item.text)
    except ValidationError as error:
        errors["text"] = " ".join(error.messages)
    if not 1 <= item.expressions <= MAX_EXPRESSIONS:
        errors["expressions"] = _(
            "The number of expressions must be a whole number from 1 upwards."
        )
    language = item.language or meeting.language
    if language not in CRITERION_LANGUAGE_CODES:
        errors["language"] = _("Unknown language code “%(code)s”.") % {"code": language}
    resolved = None
    if item.code.strip():
        if grid is None:
            errors["code"] = _("No grid version is available to check this code.")
        else:
            try:
                resolved = grid.resolve(item.code)
            except CodeError as error:
                errors["code"] = str(error)
    return CriterionCheck(errors=errors, text=text, language=language, code=resolved)


@dataclass(frozen=True)
class CriterionDraft:
    """One criterion to write in bulk, with its codes already resolved in a grid version.

    ``meeting`` may be unsaved: meetings not saved yet are created with the criteria (one per
    distinct object), so a file's new meetings exist only if its criteria are written."""

    meeting: Meeting
    question: Question
    text: str
    expressions: int = 1
    language: str = ""
    codes: tuple[ResolvedCode, ...] = ()
    client_token: str = ""


@dataclass(frozen=True)
class DraftOutcome:
    criterion_id: int
    created: bool  # False: its client token was already saved (nothing written)


class CriteriaRejected(Exception):
    """A bulk write refused: nothing was written. ``errors`` maps the index of each bad draft to
    its errors by field (the messages of ``criterion_input_check``)."""

    def __init__(self, errors: dict[int, dict[str, str]]) -> None:
        super().__init__(f"{len(errors)} criteria refused")
        self.errors = errors


def criteria_bulk_create(
    *,
    drafts: Sequence[CriterionDraft],
    user: User | None,
    source: str = CodingSource.IMPORT,
) -> list[DraftOutcome]:
    """Check and write many criteria, their revisions and codings in one transaction, all or
    nothing (CriteriaRejected lists every bad draft), then add them to the stored figures
    incrementally; an outcome per draft, in order.

    Idempotent: a draft whose client token is already saved in its meeting (or earlier in the
    same call) is not written again and points to that criterion."""
    errors: dict[int, dict[str, str]] = {}
    for index, draft in enumerate(drafts):
        if draft.question.question_set_id != draft.meeting.question_set_id:
            raise ValueError("question does not belong to the meeting's question set")
        check = criterion_input_check(
            CriterionInput(text=draft.text, expressions=draft.expressions, language=draft.language),
            meeting=draft.meeting,
            grid=None,
        )
        if check.errors:
            errors[index] = check.errors
    if errors:
        raise CriteriaRejected(errors)
    try:
        with transaction.atomic():
            return _criteria_write(drafts=drafts, user=user, source=source)
    except IntegrityError:
        # A concurrent request saved one of the same client tokens first: run again, the
        # tokens are now found and returned instead of inserted.
        with transaction.atomic():
            return _criteria_write(drafts=drafts, user=user, source=source)


CRITERION_COLUMNS = (
    "created_at",
    "updated_at",
    "meeting",
    "question",
    "text",
    "language",
    "expressions",
    "position",
    "client_token",
    "group",
    "territory",
    "created_by",
)
REVISION_COLUMNS = (
    "criterion",
    "action",
    "text",
    "language",
    "expressions",
    "question",
    "changed_by",
    "changed_at",
)
CODING_COLUMNS = (
    "criterion",
    "component",
    "object_detail",
    "sense_category",
    "sense_reason",
    "beneficiary",
    "full_code",
    "source",
    "coded_by",
    "created_at",
)
TOKEN_CHUNK = 2000  # below SQLite's 32,766 parameters per statement


@dataclass(frozen=True)
class _Row:
    """A draft to insert, as plain values."""

    index: int
    meeting_id: int
    question_id: int
    text: str
    language: str
    expressions: int
    position: int
    client_token: str | None
    group_id: int
    territory_id: int
    codes: tuple[ResolvedCode, ...]
    facts: CriterionFacts


def _existing_tokens(drafts: Sequence[CriterionDraft]) -> dict[tuple[int, str], int]:
    """(meeting id, client token) -> criterion id for the drafts' tokens already saved."""
    wanted: dict[int, set[str]] = defaultdict(set)
    for draft in drafts:
        if draft.client_token and draft.meeting.pk is not None:
            wanted[draft.meeting.pk].add(draft.client_token)
    found: dict[tuple[int, str], int] = {}
    for meeting_id, tokens in wanted.items():
        ordered = sorted(tokens)
        for start in range(0, len(ordered), TOKEN_CHUNK):
            for token, pk in Criterion.all_objects.filter(
                meeting_id=meeting_id, client_token__in=ordered[start : start + TOKEN_CHUNK]
            ).values_list("client_token", "pk"):
                found[(meeting_id, str(token))] = pk
    return found


def _criteria_write(
    *, drafts: Sequence[CriterionDraft], user: User | None, source: str
) -> list[DraftOutcome]:
    """Insert checked drafts with plain INSERTs (COPY on PostgreSQL; see core/bulk.py): the
    ORM's bulk_create costs about 1 ms a line, which a 100,000-line import cannot afford."""
    now = timezone.now()
    user_id = user.pk if user else None
    existing = _existing_tokens(drafts)
    groups = {
        pk: (territory_id, profile, archived)
        for pk, territory_id, profile, archived in HomogeneousGroup.objects.filter(
            pk__in={d.meeting.group_id for d in drafts}
        ).values_list("pk", "territory_id", "profile__code", "is_archived")
    }
    new_meetings: list[int] = []
    for draft in drafts:
        if draft.meeting.pk is None:
            if draft.meeting.created_by_id is None:
                draft.meeting.created_by = user
            draft.meeting.save()
            if not groups[draft.meeting.group_id][2]:
                new_meetings.append(groups[draft.meeting.group_id][0])
    # What each distinct meeting gives its criteria, looked up once (an import has 100,000
    # drafts and a few meetings): id, group, territory, profile, month, language.
    places: dict[int, tuple[int, int, int, str, str, str]] = {}
    for draft in drafts:
        meeting = draft.meeting
        if id(meeting) not in places:
            territory_id, profile, _archived = groups[meeting.group_id]
            places[id(meeting)] = (
                meeting.pk,
                meeting.group_id,
                territory_id,
                profile,
                f"{meeting.held_on:%Y-%m}",
                meeting.language,
            )
    meeting_ids = {place[0] for place in places.values()}
    next_position: dict[tuple[int, int], int] = defaultdict(int)
    for meeting_id, question_id, top in (
        Criterion.all_objects.filter(meeting_id__in=meeting_ids)
        .values_list("meeting_id", "question_id")
        .annotate(top=Max("position"))
    ):
        next_position[(meeting_id, question_id)] = top or 0
    # Which draft is written, and which points to a criterion saved before or earlier here.
    written: list[_Row] = []
    first_of_token: dict[tuple[int, str], int] = {}
    same_as: dict[int, int] = {}  # draft index -> index of the draft written for its token
    for index, draft in enumerate(drafts):
        meeting_id, group_id, territory_id, profile, month, meeting_language = places[
            id(draft.meeting)
        ]
        key = (meeting_id, draft.client_token)
        if draft.client_token:
            if key in first_of_token:
                same_as[index] = first_of_token[key]
                continue
            first_of_token[key] = index
            if key in existing:
                continue
        question_id = draft.question.pk
        next_position[(meeting_id, question_id)] += 1
        written.append(
            _Row(
                index=index,
                meeting_id=meeting_id,
                question_id=question_id,
                text=draft.text.strip(),
                language=draft.language or meeting_language,
                expressions=draft.expressions,
                position=next_position[(meeting_id, question_id)],
                client_token=draft.client_token or None,
                group_id=group_id,
                territory_id=territory_id,
                codes=tuple({c.full_code: c for c in draft.codes}.values()),
                facts=CriterionFacts(
                    territory_id=territory_id,
                    question_kind=draft.question.kind,
                    profile=profile,
                    language=draft.language or meeting_language,
                    month=month,
                    expressions=draft.expressions,
                    codes=tuple(
                        sorted(
                            {
                                (c.component.pk, c.component.dimension_id, c.component.version_id)
                                for c in draft.codes
                            }
                        )
                    ),
                ),
            )
        )
    ids: dict[int, int] = {}
    if written:
        before = Criterion.all_objects.aggregate(m=Max("pk"))["m"] or 0
        rows_insert(
            model=Criterion,
            fields=CRITERION_COLUMNS,
            rows=(
                (
                    now,
                    now,
                    row.meeting_id,
                    row.question_id,
                    row.text,
                    row.language,
                    row.expressions,
                    row.position,
                    row.client_token,
                    row.group_id,
                    row.territory_id,
                    user_id,
                )
                for row in written
            ),
        )
        # Our rows: newer than the largest id seen before, stamped with this write's instant,
        # and unique by (meeting, question, position) among themselves.
        by_place = {
            (meeting_id, question_id, position): pk
            for pk, meeting_id, question_id, position in Criterion.all_objects.filter(
                pk__gt=before, meeting_id__in=meeting_ids, created_at=now
            ).values_list("pk", "meeting_id", "question_id", "position")
        }
        for row in written:
            ids[row.index] = by_place[(row.meeting_id, row.question_id, row.position)]
        rows_insert(
            model=CriterionRevision,
            fields=REVISION_COLUMNS,
            rows=(
                (
                    ids[row.index],
                    RevisionAction.CREATED,
                    row.text,
                    row.language,
                    row.expressions,
                    row.question_id,
                    user_id,
                    now,
                )
                for row in written
            ),
        )
        rows_insert(
            model=Coding,
            fields=CODING_COLUMNS,
            rows=(
                (
                    ids[row.index],
                    code.component.pk,
                    code.object_detail.pk if code.object_detail else None,
                    code.sense_category.pk if code.sense_category else None,
                    code.sense_reason.pk if code.sense_reason else None,
                    code.beneficiary.pk if code.beneficiary else None,
                    code.full_code,
                    source,
                    user_id,
                    now,
                )
                for row in written
                for code in row.codes
            ),
        )
        schedule_retrain_check(
            version_ids={c.component.version_id for row in written for c in row.codes}
        )
    figures_change(added=[row.facts for row in written], meetings_added=new_meetings)
    outcomes: list[DraftOutcome] = []
    for index, draft in enumerate(drafts):
        if index in ids:
            outcomes.append(DraftOutcome(criterion_id=ids[index], created=True))
        elif index in same_as:
            outcomes.append(
                DraftOutcome(criterion_id=outcomes[same_as[index]].criterion_id, created=False)
            )
        else:
            outcomes.append(
                DraftOutcome(
                    criterion_id=existing[(places[id(draft.meeting)][0], draft.client_token)],
                    created=False,
                )
            )
    return outcomes


def criteria_add(
    *,
    meeting: Meeting,
    question: Question,
    inputs: Sequence[CriterionInput],
    user: User | None,
    grid: GridIndex | None = None,
) -> list[CriterionOutcome]:
    """Save the valid criteria, return an outcome per input (errors for the others).

    Idempotent: an input whose client token was already saved returns that criterion again,
    so a double submit or a retry after a dropped connection creates nothing twice."""
    if question.question_set_id != meeting.question_set_id:
        raise ValueError("question does not belong to the meeting's question set")
    if grid is None and any(item.code.strip() for item in inputs):
        grid = grid_index_for_meeting(meeting)
    outcomes = [CriterionOutcome(input=item) for item in inputs]
    valid: list[tuple[CriterionOutcome, CriterionDraft]] = []
    for outcome in outcomes:
        item = outcome.input
        check = criterion_input_check(item, meeting=meeting, grid=grid)
        if check.errors:
            outcome.errors = check.errors
            continue
        valid.append(
            (
                outcome,
                CriterionDraft(
                    meeting=meeting,
                    question=question,
                    text=check.text,
                    expressions=item.expressions,
                    language=check.language,
                    codes=(check.code,) if check.code else (),
                    client_token=item.client_token,
                ),
            )
        )
    if not valid:
        return outcomes
    results = criteria_bulk_create(
        drafts=[draft for _o, draft in valid], user=user, source=CodingSource.TRANSCRIPTION
    )
    saved = Criterion.all_objects.in_bulk([r.criterion_id for r in results])
    for (outcome, _draft), result in zip(valid, results, strict=True):
        outcome.criterion = saved[result.criterion_id]
        outcome.created = result.created
    return outcomes


def _revision(criterion: Criterion, action: str, user: User | None) -> CriterionRevision:
    return CriterionRevision(
        criterion_id=criterion.pk,
        action=action,
        text=criterion.text,
        language=criterion.language,
        expressions=criterion.expressions,
        question_id=criterion.question_id,
        changed_by=user,
    )


@transaction.atomic
def criterion_update(
    *,
    criterion: Criterion,
    text: str,
    expressions: int,
    language: str,
    question: Question | None = None,
    code: str | None = None,
    user: User | None,
) -> CriterionOutcome:
    """Correct a criterion; the previous wording stays in its history.

    ``code=None`` leaves the codings as they are; an empty string removes them."""
    item = CriterionInput(text=text, expressions=expressions, language=language, code=code or "")
    grid = grid_index_for_meeting(criterion.meeting) if code else None
    check = criterion_input_check(item, meeting=criterion.meeting, grid=grid)
    errors, clean_text, resolved = check.errors, check.text, check.code
    outcome = CriterionOutcome(input=item, criterion=criterion, errors=errors)
    if errors:
        return outcome
    if question is not None and question.question_set_id != criterion.meeting.question_set_id:
        raise ValueError("question does not belong to the meeting's question set")
    changed = (
        clean_text != criterion.text
        or expressions != criterion.expressions
        or language != criterion.language
        or (question is not None and question.pk != criterion.question_id)
    )
    if changed:
        criterion.text = clean_text
        criterion.expressions = expressions
        criterion.language = language
        if question is not None:
            criterion.question = question
        criterion.save()
        _revision(criterion, RevisionAction.EDITED, user).save()
        territory_stats_refresh(territory_ids=[criterion.territory_id])
    if code is not None:
        criterion_codings_replace(
            criterion=criterion,
            codes=[resolved] if resolved else [],
            source=CodingSource.TRANSCRIPTION,
            user=user,
        )
    return outcome


@transaction.atomic
def criterion_delete(*, criterion: Criterion, user: User | None) -> Criterion:
    """Hide a criterion from every count; it stays in the database with its history."""
    if criterion.deleted_at is None:
        criterion.deleted_at = timezone.now()
        criterion.deleted_by = user
        criterion.save(update_fields=["deleted_at", "deleted_by", "updated_at"])
        _revision(criterion, RevisionAction.DELETED, user).save()
        territory_stats_refresh(territory_ids=[criterion.territory_id])
    return criterion


@transaction.atomic
def criterion_restore(*, criterion: Criterion, user: User | None) -> Criterion:
    if criterion.deleted_at is not None:
        criterion.deleted_at = None
        criterion.deleted_by = None
        criterion.save(update_fields=["deleted_at", "deleted_by", "updated_at"])
        _revision(criterion, RevisionAction.RESTORED, user).save()
        territory_stats_refresh(territory_ids=[criterion.territory_id])
    return criterion
