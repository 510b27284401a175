"""Writing self-entry data: opening and closing entry, post-its from phones, merges, validation.

Every write is transactional. Post-its go through ``criteria_bulk_create`` with a client token,
so a phone that sends the same post-it twice (a retry after a dropped connection, a reload that
re-sends its outbox) finds the criterion already saved: nothing is counted twice."""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from collections.abc import Sequence
from dataclasses import dataclass, field

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from spiral.accounts.models import User
from spiral.coding.models import CodingSource
from spiral.consultations.models import Criterion, Meeting, Question
from spiral.consultations.services import (
    CriterionDraft,
    CriterionInput,
    criteria_bulk_create,
    criterion_delete,
    criterion_input_check,
    criterion_restore,
    criterion_update,
)
from spiral.selfentry.models import CriterionMerge, GroupRestitution, PostIt, SelfEntrySession
from spiral.syntheses.models import GroupSynthesisValidation
from spiral.syntheses.services import group_synthesis_validate

# No I, L, O, 0 or 1: a code read aloud or copied from a projected screen has one reading.
CODE_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
CODE_LENGTH = 6
CLIENT_ID_RE = re.compile(r"^[A-Za-z0-9_-]{8,64}$")
TOKEN_PREFIX = "se:"


class SelfEntryError(Exception):
    """A request the service refuses; the message is translated and shown as is."""


class SelfEntryClosed(SelfEntryError):
    pass


def code_normalise(raw: str) -> str:
    """What a participant typed, as stored: capitals, no blanks or dashes."""
    return re.sub(r"[\s-]", "", raw or "").upper()[: CODE_LENGTH * 2]


def _new_code() -> str:
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))


def restitution_ensure(*, group_id: int) -> GroupRestitution:
    """The group's public restitution link, created on first need."""
    restitution, _created = GroupRestitution.objects.get_or_create(
        group_id=group_id, defaults={"token": secrets.token_urlsafe(18)}
    )
    return restitution


@transaction.atomic
def restitution_set_enabled(*, group_id: int, enabled: bool) -> GroupRestitution:
    restitution = restitution_ensure(group_id=group_id)
    if restitution.is_enabled != enabled:
        restitution.is_enabled = enabled
        restitution.save(update_fields=["is_enabled", "updated_at"])
    return restitution


def selfentry_open(*, meeting: Meeting, user: User | None) -> SelfEntrySession:
    """Open the meeting to phones; opening an open meeting returns its current session."""
    for _attempt in range(10):
        try:
            with transaction.atomic():
                current = SelfEntrySession.objects.filter(
                    meeting=meeting, closed_at__isnull=True
                ).first()
                if current is not None:
                    return current
                session = SelfEntrySession.objects.create(
                    meeting=meeting, code=_new_code(), opened_by=user
                )
                restitution_ensure(group_id=meeting.group_id)
                return session
        except IntegrityError:
            # The code was taken (1 chance in millions), or another tab opened the meeting at
            # the same instant: try again, the second case then returns that session.
            continue
    raise SelfEntryError(_("No free code could be found; try again."))


@transaction.atomic
def selfentry_close(*, session: SelfEntrySession, user: User | None) -> SelfEntrySession:
    """Stop entry: phones get a clear message, what they still hold stays on them."""
    if session.closed_at is None:
        session.closed_at = timezone.now()
        session.closed_by = user
        session.save(update_fields=["closed_at", "closed_by"])
    return session


def participant_key(*, meeting_id: int, participant_id: str) -> str:
    """A keyed hash of the phone's random id: counts people, identifies no one."""
    message = f"{meeting_id}:{participant_id}".encode()
    return hmac.new(settings.SECRET_KEY.encode(), message, hashlib.sha256).hexdigest()[:32]


@dataclass(frozen=True)
class PostItInput:
    client_id: str
    question_id: int | None
    text: str


@dataclass
class PostItOutcome:
    input: PostItInput
    criterion_id: int | None = None
    created: bool = False
    errors: dict[str, str] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not self.errors


def _check_item(item: PostItInput, questions: dict[int, Question]) -> dict[str, str]:
    errors: dict[str, str] = {}
    if not CLIENT_ID_RE.match(item.client_id):
        errors["client_id"] = _("This post-it has no valid identifier.")
    if item.question_id not in questions:
        errors["question"] = _("This question does not belong to the meeting.")
    limit = settings.SPIRAL_SELFENTRY_MAX_LENGTH
    try:
        item.text.encode("utf-8")
    except UnicodeEncodeError:
        # A lone surrogate (\ud800) can come through JSON; no database would store it.
        errors["text"] = _("This post-it contains a character that cannot be stored.")
    if len(item.text.strip()) > limit:
        errors["text"] = _(
            "A post-it holds at most %(limit)s characters; this one has %(length)s."
        ) % {"limit": limit, "length": len(item.text.strip())}
    return errors


def postits_submit(
    *, session: SelfEntrySession, participant_id: str, items: Sequence[PostItInput]
) -> list[PostItOutcome]:
    """Save post-its sent by one phone; an outcome per post-it, in the order sent.

    Raises SelfEntryClosed when entry is closed and SelfEntryError for a malformed participant
    or a phone over its quota; a bad post-it only gets its own errors."""
    if not session.is_open:
        raise SelfEntryClosed(_("Writing is closed for this meeting."))
    if not CLIENT_ID_RE.match(participant_id or ""):
        raise SelfEntryError(_("This phone has no valid identifier; reload the page."))
    meeting = session.meeting
    participant = participant_key(meeting_id=meeting.pk, participant_id=participant_id)
    questions = {q.pk: q for q in meeting.question_set.questions.all()}
    outcomes = [PostItOutcome(input=item) for item in items]
    valid: list[PostItOutcome] = []
    for outcome in outcomes:
        outcome.errors = _check_item(outcome.input, questions)
        if not outcome.errors:
            valid.append(outcome)
    tokens = [TOKEN_PREFIX + o.input.client_id for o in valid]
    already = set(
        Criterion.all_objects.filter(meeting=meeting, client_token__in=tokens).values_list(
            "client_token", flat=True
        )
    )
    new_count = len({t for t in tokens if t not in already})
    written = PostIt.objects.filter(session__meeting=meeting, participant=participant).count()
    if written + new_count > settings.SPIRAL_SELFENTRY_MAX_POSTITS_PER_PHONE:
        raise SelfEntryError(
            _("This phone has written %(count)s post-its, the most one phone may write.")
            % {"count": written}
        )
    with transaction.atomic():
        # Checked again inside the transaction: a close that lands while the phone was
        # sending wins, and nothing arrives after it.
        if SelfEntrySession.objects.filter(pk=session.pk, closed_at__isnull=False).exists():
            raise SelfEntryClosed(_("Writing is closed for this meeting."))
        # The rules every criterion obeys (empty text, control characters...), post-it by
        # post-it; the good ones are then written together, all or nothing, by the one bulk
        # path of criteria, which adds them to the stored figures without recounting the
        # territory (a refresh cost ~150 ms per post-it; see docs/decisions/0016).
        drafts: list[tuple[PostItOutcome, CriterionDraft]] = []
        for outcome in valid:
            question = questions[outcome.input.question_id or 0]
            check = criterion_input_check(
                CriterionInput(text=outcome.input.text, language=meeting.language),
                meeting=meeting,
                grid=None,
            )
            if check.errors:
                outcome.errors = check.errors
                continue
            drafts.append(
                (
                    outcome,
                    CriterionDraft(
                        meeting=meeting,
                        question=question,
                        text=check.text,
                        language=check.language,
                        client_token=TOKEN_PREFIX + outcome.input.client_id,
                    ),
                )
            )
        if drafts:
            results = criteria_bulk_create(
                drafts=[draft for _o, draft in drafts],
                user=None,
                source=CodingSource.TRANSCRIPTION,
            )
            for (outcome, _draft), result in zip(drafts, results, strict=True):
                outcome.criterion_id = result.criterion_id
                outcome.created = result.created
        # A replayed post-it already has its row (one per criterion): the unique criterion
        # makes the database skip it, no need to read which ones exist first.
        saved = [o.criterion_id for o in valid if o.criterion_id is not None]
        PostIt.objects.bulk_create(
            [
                PostIt(session=session, criterion_id=cid, participant=participant)
                for cid in dict.fromkeys(saved)
            ],
            ignore_conflicts=True,
        )
    return outcomes


@transaction.atomic
def criteria_merge(
    *, meeting: Meeting, target: Criterion, others: Sequence[Criterion], user: User | None
) -> CriterionMerge:
    """Gather identical post-its into ``target``: it counts their expressions, they are hidden
    (soft-deleted, with history) and can come back with ``merge_undo``."""
    others = [c for c in others if c.pk != target.pk]
    if not others:
        raise SelfEntryError(_("Choose at least two post-its to merge."))
    everything = [target, *others]
    if any(c.meeting_id != meeting.pk for c in everything):
        raise SelfEntryError(_("These post-its do not belong to the meeting."))
    if any(c.question_id != target.question_id for c in others):
        raise SelfEntryError(_("Only post-its answering the same question can be merged."))
    if any(c.deleted_at is not None for c in everything):
        raise SelfEntryError(_("One of these post-its was already merged or deleted."))
    added = sum(c.expressions for c in others)
    criterion_update(
        criterion=target,
        text=target.text,
        expressions=target.expressions + added,
        language=target.language,
        user=user,
    )
    for criterion in others:
        criterion_delete(criterion=criterion, user=user)
    merge = CriterionMerge.objects.create(
        meeting=meeting, target=target, added_expressions=added, merged_by=user
    )
    merge.merged.set(others)
    return merge


@transaction.atomic
def merge_undo(*, merge: CriterionMerge, user: User | None) -> CriterionMerge:
    """Give the merged post-its back their own place; later merges must be undone first."""
    merge = CriterionMerge.objects.select_for_update().get(pk=merge.pk)
    if merge.undone_at is not None:
        return merge
    # Through the link table: the merged criteria are soft-deleted, the default manager hides them.
    ids = {
        merge.target_id,
        *CriterionMerge.merged.through.objects.filter(criterionmerge_id=merge.pk).values_list(
            "criterion_id", flat=True
        ),
    }
    later = CriterionMerge.objects.filter(
        meeting_id=merge.meeting_id, undone_at__isnull=True, pk__gt=merge.pk
    ).filter(Q(target_id__in=ids) | Q(merged__in=ids))
    target = Criterion.all_objects.get(pk=merge.target_id)
    if later.exists() or target.deleted_at is not None:
        raise SelfEntryError(_("A later merge involves these post-its: undo it first."))
    if target.expressions - merge.added_expressions < 1:
        raise SelfEntryError(_("The number of expressions was corrected since; undo by hand."))
    criterion_update(
        criterion=target,
        text=target.text,
        expressions=target.expressions - merge.added_expressions,
        language=target.language,
        user=user,
    )
    for criterion in Criterion.all_objects.filter(pk__in=ids - {target.pk}):
        criterion_restore(criterion=criterion, user=user)
    merge.undone_at = timezone.now()
    merge.undone_by = user
    merge.save(update_fields=["undone_at", "undone_by"])
    return merge


@transaction.atomic
def meeting_criteria_validate(
    *, meeting: Meeting, note: str, user: User | None
) -> GroupSynthesisValidation:
    """The group approves the criteria on the wall: entry closes and the list is kept as seen."""
    for session in SelfEntrySession.objects.filter(meeting=meeting, closed_at__isnull=True):
        selfentry_close(session=session, user=user)
    validation = group_synthesis_validate(
        group=meeting.group,
        synthesis_of=meeting,
        validated_at=meeting,
        validated_on=timezone.localdate(),
        note=note,
        user=user,
    )
    # The synthesis snapshot has the figures; the wall's list is what the group read aloud.
    validation.snapshot["criteria"] = [
        {"question": c.question.code, "text": c.text, "expressions": c.expressions}
        for c in Criterion.objects.filter(meeting=meeting)
        .select_related("question")
        .order_by("question__position", "position", "pk")
    ]
    validation.save(update_fields=["snapshot"])
    return validation
