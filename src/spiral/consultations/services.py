"""Writing groups, meetings and criteria. Every write is transactional; criteria keep history."""

from __future__ import annotations

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
from spiral.coding.services import (
    coding_from_resolved,
    codings_written,
    criterion_codings_replace,
)
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
from spiral.core.languages import CRITERION_LANGUAGE_CODES
from spiral.core.text import clean_criterion_text
from spiral.grid.codes import CodeError, GridIndex, ResolvedCode
from spiral.grid.models import GridVersion
from spiral.syntheses.services import territory_stats_refresh
from spiral.territories.models import Territory


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


def _validate(
    item: CriterionInput, *, meeting: Meeting, grid: GridIndex | None
) -> tuple[dict[str, str], str, ResolvedCode | None]:
    errors: dict[str, str] = {}
    text = ""
    try:
        text = clean_criterion_text(item.text)
    except ValidationError as error:
        errors["text"] = " ".join(error.messages)
    if not 1 <= item.expressions <= 100_000:
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
    return errors, text, resolved


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
    grid = grid if grid is not None else grid_index_for_meeting(meeting)
    try:
        return _criteria_add(
            meeting=meeting, question=question, inputs=inputs, user=user, grid=grid
        )
    except IntegrityError:
        # A concurrent request saved one of the same client tokens first: run again, the
        # tokens are now found and returned instead of inserted.
        return _criteria_add(
            meeting=meeting, question=question, inputs=inputs, user=user, grid=grid
        )


@transaction.atomic
def _criteria_add(
    *,
    meeting: Meeting,
    question: Question,
    inputs: Sequence[CriterionInput],
    user: User | None,
    grid: GridIndex | None,
) -> list[CriterionOutcome]:
    outcomes = [CriterionOutcome(input=item) for item in inputs]
    tokens = [item.client_token for item in inputs if item.client_token]
    existing = (
        {
            c.client_token: c
            for c in Criterion.all_objects.filter(meeting=meeting, client_token__in=tokens)
        }
        if tokens
        else {}
    )
    next_position = (
        Criterion.all_objects.filter(meeting=meeting, question=question).aggregate(
            m=Max("position")
        )["m"]
        or 0
    ) + 1
    group = meeting.group
    to_create: list[tuple[CriterionOutcome, Criterion, ResolvedCode | None]] = []
    seen_tokens: set[str] = set()
    for outcome in outcomes:
        item = outcome.input
        if item.client_token and (
            item.client_token in existing or item.client_token in seen_tokens
        ):
            outcome.criterion = existing.get(item.client_token)
            continue
        errors, text, resolved = _validate(item, meeting=meeting, grid=grid)
        if errors:
            outcome.errors = errors
            continue
        criterion = Criterion(
            meeting=meeting,
            question=question,
            text=text,
            language=item.language or meeting.language,
            expressions=item.expressions,
            position=next_position,
            client_token=item.client_token or None,
            group_id=group.pk,
            territory_id=group.territory_id,
            created_by=user,
        )
        next_position += 1
        if item.client_token:
            seen_tokens.add(item.client_token)
        to_create.append((outcome, criterion, resolved))

    created = Criterion.objects.bulk_create(
        [criterion for _o, criterion, _r in to_create], batch_size=500
    )
    CriterionRevision.objects.bulk_create(
        [_revision(c, RevisionAction.CREATED, user) for c in created], batch_size=500
    )
    codings = Coding.objects.bulk_create(
        [
            coding_from_resolved(
                criterion_id=c.pk, code=resolved, source=CodingSource.TRANSCRIPTION, user=user
            )
            for (_o, c, resolved) in to_create
            if resolved is not None
        ],
        batch_size=500,
    )
    codings_written(codings)
    for (outcome, _c, _r), criterion in zip(to_create, created, strict=True):
        outcome.criterion = criterion
        outcome.created = True
    if created:
        territory_stats_refresh(territory_ids=[group.territory_id])
    # Duplicates of a token within the same request point to the criterion saved for the first.
    by_token = {
        o.criterion.client_token: o.criterion
        for o in outcomes
        if o.criterion and o.criterion.client_token
    }
    for outcome in outcomes:
        if outcome.criterion is None and not outcome.errors and outcome.input.client_token:
            outcome.criterion = by_token.get(outcome.input.client_token)
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
    errors, clean_text, resolved = _validate(item, meeting=criterion.meeting, grid=grid)
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
