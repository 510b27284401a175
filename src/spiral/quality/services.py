"""Writing double coding: drawing a sample, the second coder's codes, settling disagreements."""

from __future__ import annotations

import random
import secrets
from collections.abc import Sequence

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from spiral.accounts.models import User
from spiral.coding.models import Coding
from spiral.coding.selectors import CodingScope, GridsByTerritory, current_codings_of
from spiral.coding.services import code_covers, criterion_codings_replace
from spiral.consultations.models import Criterion
from spiral.core.permissions import can_code
from spiral.grid.codes import ResolvedCode, parse_full_code
from spiral.quality.models import (
    Adjudication,
    Decision,
    DoubleCodingRequest,
    RequestStatus,
    SampleItem,
)
from spiral.quality.selectors import sample_population

# A sample is coded by one person on one screen: beyond this, ask for a smaller share.
MAX_SAMPLE_SIZE = 2000
SEED_LIMIT = 2**31


class QualityError(ValueError):
    """A double-coding write that cannot be done; the message is for people."""


def sample_size(*, population: int, share: int) -> int:
    """``share`` % of the population rounded up, at least one criterion when there is one."""
    if population <= 0:
        return 0
    return min(population, max(1, -(-population * share // 100)))


def sample_draw(*, population: Sequence[int], share: int, seed: int) -> list[int]:
    """The criteria drawn, in id order: the same population, share and seed draw the same ones."""
    ids = sorted(set(population))
    size = sample_size(population=len(ids), share=share)
    return sorted(random.Random(seed).sample(ids, size))


def merged_codes(current: Sequence[str], added: Sequence[str]) -> list[str]:
    """The coding screen's rule on a list of full codes: a code already said (or said more
    precisely) is not added again, and a more precise code replaces the general one it refines."""
    result = list(current)
    for code in added:
        if any(code_covers(other, code) for other in result):
            continue
        result = [other for other in result if not code_covers(code, other)]
        result.append(code)
    return result


def _resolve(
    *, criterion: Criterion, codes: Sequence[str], grids: GridsByTerritory | None
) -> list[ResolvedCode]:
    if not codes:
        parse_full_code("")  # raises the parser's "type a code" message
    grid = (grids or GridsByTerritory()).for_territory(criterion.territory_id)
    return [grid.resolve(code) for code in codes]


@transaction.atomic
def double_coding_request_create(
    *,
    scope: CodingScope,
    share: int,
    second_coder: User,
    user: User | None,
    seed: int | None = None,
) -> DoubleCodingRequest:
    """Draw ``share`` % of the scope's coded criteria (those the second coder did not code) and
    snapshot their current codes and coders; the seed is stored so the draw can be repeated."""
    if not 1 <= share <= 100:
        raise QualityError(_("The share must be between 1 and 100 %."))
    if not can_code(second_coder, scope.territory):
        raise QualityError(_("The second coder must be allowed to code in this territory."))
    population = list(
        sample_population(scope=scope, second_coder=second_coder).values_list("pk", flat=True)
    )
    if not population:
        raise QualityError(
            _(
                "There is no coded criterion here that the second coder did not code "
                "themselves: nothing to sample."
            )
        )
    size = sample_size(population=len(population), share=share)
    if size > MAX_SAMPLE_SIZE:
        raise QualityError(
            _(
                "This share would give %(size)s criteria to one person; ask for a smaller "
                "share (at most %(max)s criteria)."
            )
            % {"size": size, "max": MAX_SAMPLE_SIZE}
        )
    seed = secrets.randbelow(SEED_LIMIT) if seed is None else seed
    chosen = sample_draw(population=population, share=share, seed=seed)
    request = DoubleCodingRequest.objects.create(
        territory=scope.territory,
        group=scope.group,
        meeting=scope.meeting,
        share=share,
        seed=seed,
        population=len(population),
        second_coder=second_coder,
        requested_by=user,
    )
    codings = current_codings_of(criterion_ids=chosen)
    # The blind screen shows the sample group by group, in the order the criteria were written.
    ordered = (
        Criterion.all_objects.filter(pk__in=chosen)
        .order_by("group_id", "meeting_id", "question__position", "position", "pk")
        .values_list("pk", flat=True)
    )
    items = []
    for position, criterion_id in enumerate(ordered):
        rows = codings.get(criterion_id, [])
        coders = {c.coded_by_id for c in rows}
        items.append(
            SampleItem(
                request=request,
                criterion_id=criterion_id,
                position=position,
                first_codes=[{"code": c.full_code, "coded_by": c.coded_by_id} for c in rows],
                first_coder_id=next(iter(coders)) if len(coders) == 1 else None,
            )
        )
    SampleItem.objects.bulk_create(items, batch_size=500)
    return request


@transaction.atomic
def double_coding_request_close(*, request: DoubleCodingRequest, user: User | None) -> None:
    """End the second coding: the sample is frozen, and the second coder may read the figures."""
    if request.status == RequestStatus.CLOSED:
        return
    request.status = RequestStatus.CLOSED
    request.closed_at = timezone.now()
    request.closed_by = user
    request.save(update_fields=["status", "closed_at", "closed_by"])


@transaction.atomic
def double_coding_request_reopen(*, request: DoubleCodingRequest) -> None:
    """Let the second coder go on coding the sample."""
    if request.status == RequestStatus.OPEN:
        return
    request.status = RequestStatus.OPEN
    request.closed_at = None
    request.closed_by = None
    request.save(update_fields=["status", "closed_at", "closed_by"])


def _locked_item(item: SampleItem) -> SampleItem:
    return (
        SampleItem.objects.select_for_update()
        .select_related("request", "criterion")
        .get(pk=item.pk)
    )


def _save_second(item: SampleItem, codes: list[str]) -> None:
    item.second_codes = codes
    item.second_coded_at = timezone.now() if codes else None
    item.save(update_fields=["second_codes", "second_coded_at"])


@transaction.atomic
def sample_item_codes_add(
    *,
    item: SampleItem,
    codes: Sequence[str],
    grids: GridsByTerritory | None = None,
) -> list[str]:
    """Add codes to the second coding of an item (never to the criterion's codings); returns
    the codes that were added. Idempotent; raises CodeError for a wrong code and QualityError
    once the request is closed."""
    item = _locked_item(item)
    if not item.request.is_open:
        raise QualityError(_("This double coding is closed: the codes can no longer change."))
    resolved = [r.full_code for r in _resolve(criterion=item.criterion, codes=codes, grids=grids)]
    before = list(item.second_codes)
    merged = merged_codes(before, resolved)
    if merged != before:
        _save_second(item, merged)
    return [code for code in merged if code not in before]


@transaction.atomic
def sample_item_code_remove(*, item: SampleItem, code: str) -> bool:
    """Take one code off the second coding of an item; False if it did not have it."""
    item = _locked_item(item)
    if not item.request.is_open:
        raise QualityError(_("This double coding is closed: the codes can no longer change."))
    if code not in item.second_codes:
        return False
    _save_second(item, [c for c in item.second_codes if c != code])
    return True


@transaction.atomic
def disagreement_settle(
    *,
    item: SampleItem,
    decision: str,
    codes: Sequence[str] = (),
    note: str = "",
    user: User | None,
    grids: GridsByTerritory | None = None,
) -> Adjudication:
    """Record how a disagreement is settled and give the criterion the decided codes through the
    coding services (the codes it had are kept in its history; the figures are refreshed).

    Raises CodeError for a code the criterion's grid does not know, QualityError when there is
    nothing to settle."""
    item = _locked_item(item)
    if Adjudication.objects.filter(item=item).exists():
        raise QualityError(_("This disagreement has already been settled."))
    if not item.differs:
        raise QualityError(_("The two codings agree: there is nothing to settle."))
    criterion = item.criterion
    if criterion.deleted_at is not None:
        raise QualityError(_("This criterion was deleted: there is nothing to settle."))
    if decision == Decision.FIRST:
        wanted = item.first_code_list
    elif decision == Decision.SECOND:
        wanted = list(item.second_codes)
    elif decision == Decision.OTHER:
        wanted = list(codes)
    else:
        raise QualityError(_("Choose the first coding, the second one, or type other codes."))
    resolved = _resolve(criterion=criterion, codes=wanted, grids=grids)
    kept = merged_codes([], [r.full_code for r in resolved])
    by_code = {r.full_code: r for r in resolved}
    current = set(
        Coding.objects.current().filter(criterion=criterion).values_list("full_code", flat=True)
    )
    applied = current != set(kept)
    if applied:
        criterion_codings_replace(
            criterion=criterion, codes=[by_code[code] for code in kept], user=user
        )
    return Adjudication.objects.create(
        item=item, decision=decision, codes=kept, applied=applied, note=note, decided_by=user
    )
