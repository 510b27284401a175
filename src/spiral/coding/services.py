"""Writing codings. Recoding never deletes: the previous rows are marked superseded."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from django.db import transaction
from django.utils import timezone

from spiral.accounts.models import User
from spiral.coding.models import Coding, CodingSource
from spiral.coding.selectors import GridsByTerritory
from spiral.consultations.models import Criterion
from spiral.grid.codes import GridIndex, ParsedCode, ResolvedCode, parse_full_code
from spiral.grid.models import GridMapping
from spiral.grid.services import map_object_code
from spiral.syntheses.services import territory_stats_refresh
from spiral.territories.models import Territory


def codings_written(codings: Iterable[Coding]) -> None:
    """After codings are written: once the transaction commits, check cheaply whether the
    suggestion model of their grid version is due for retraining."""
    from spiral.coding.suggest.training import schedule_retrain_check

    schedule_retrain_check(version_ids={c.component.version_id for c in codings})


def coding_from_resolved(
    *, criterion_id: int, code: ResolvedCode, source: str, user: User | None
) -> Coding:
    """An unsaved Coding row for a resolved code (bulk-created by the callers)."""
    return Coding(
        criterion_id=criterion_id,
        component=code.component,
        object_detail=code.object_detail,
        sense_category=code.sense_category,
        sense_reason=code.sense_reason,
        beneficiary=code.beneficiary,
        full_code=code.full_code,
        source=source,
        coded_by=user,
    )


@transaction.atomic
def criterion_codings_replace(
    *,
    criterion: Criterion,
    codes: Sequence[ResolvedCode],
    source: str = CodingSource.CODING,
    user: User | None,
) -> list[Coding]:
    """Give a criterion exactly these codes; the codings it had before are kept as history."""
    current = list(Coding.objects.current().filter(criterion=criterion))
    wanted = {code.full_code for code in codes}
    if {c.full_code for c in current} == wanted and len(current) == len(wanted):
        return current
    Coding.objects.filter(pk__in=[c.pk for c in current]).update(
        superseded_at=timezone.now(), superseded_by=user
    )
    unique_codes = {code.full_code: code for code in codes}.values()
    created = Coding.objects.bulk_create(
        [
            coding_from_resolved(criterion_id=criterion.pk, code=c, source=source, user=user)
            for c in unique_codes
        ]
    )
    territory_stats_refresh(territory_ids=[criterion.territory_id])
    codings_written(created)
    return created


@transaction.atomic
def codings_carry_over(
    *, criteria: Iterable[Criterion], mapping: GridMapping, user: User | None
) -> tuple[int, list[str]]:
    """Recode criteria from the mapping's source version to its target; returns (number recoded,
    codes that had no mapping and were left as they were)."""
    from spiral.grid.codes import CodeError, GridIndex

    rows = dict(mapping.rows.values_list("source_code", "target_code"))
    target = GridIndex(mapping.target)
    unmapped: set[str] = set()
    recoded = 0
    codings = (
        Coding.objects.current()
        .filter(criterion__in=criteria, component__version=mapping.source)
        .select_related(
            "component", "object_detail", "sense_reason", "sense_category", "beneficiary"
        )
    )
    now = timezone.now()
    new_rows: list[Coding] = []
    superseded: list[int] = []
    for coding in codings:
        object_code = coding.object_detail.code if coding.object_detail else coding.component.code
        target_object = map_object_code(mapping_rows=rows, code=object_code)
        if target_object is None:
            unmapped.add(object_code)
            continue
        rest = coding.full_code.split("/")[1:]
        try:
            resolved = target.resolve("/".join([target_object, *rest]))
        except CodeError:
            # The sense or beneficiary letter does not exist in the target: keep the object only.
            resolved = target.resolve(target_object)
        new_rows.append(
            coding_from_resolved(
                criterion_id=coding.criterion_id,
                code=resolved,
                source=CodingSource.CARRIED_OVER,
                user=user,
            )
        )
        superseded.append(coding.pk)
        recoded += 1
    Coding.objects.filter(pk__in=superseded).update(superseded_at=now, superseded_by=user)
    Coding.objects.bulk_create(new_rows, batch_size=1000)
    codings_written(new_rows)
    touched = Criterion.all_objects.filter(pk__in={c.criterion_id for c in new_rows})
    territory_stats_refresh(territory_ids=touched.values_list("territory_id", flat=True).distinct())
    return recoded, sorted(unmapped)


@dataclass(frozen=True)
class GridSwitch:
    recoded: int
    unmapped: list[str]


@transaction.atomic
def territory_grid_switch(
    *, territory: Territory, mapping: GridMapping, user: User | None
) -> GridSwitch:
    """Make a territory code with the mapping's target version, carrying its subtree's codings."""
    criteria = Criterion.all_objects.filter(territory__ancestor_links__ancestor_id=territory.pk)
    recoded, unmapped = codings_carry_over(criteria=criteria, mapping=mapping, user=user)
    territory.grid_version = mapping.target
    territory.save(update_fields=["grid_version", "updated_at"])
    return GridSwitch(recoded=recoded, unmapped=unmapped)


# ---------------------------------------------------------------- the coding screen

_PRECISION_FIELDS = ("component", "object_detail", "sense_category", "sense_reason", "beneficiary")


def _parsed(full_code: str) -> ParsedCode:
    parsed = parse_full_code(full_code)
    if parsed.component is None:  # a bare dimension is its "00" component
        parsed = ParsedCode(
            parsed.dimension,
            f"{parsed.dimension}00",
            None,
            parsed.sense_category,
            parsed.sense_reason,
            parsed.beneficiary,
        )
    return parsed


def code_covers(precise: str, general: str) -> bool:
    """True when ``precise`` says everything ``general`` says (A01-11/P15/k covers A01/P15 and
    A01; A01 does not cover A00: a bare dimension is its own "in general" component)."""
    p, g = _parsed(precise), _parsed(general)
    return all(
        getattr(g, name) is None or getattr(g, name) == getattr(p, name)
        for name in _PRECISION_FIELDS
    )


@dataclass
class _Plan:
    supersede: list[Coding] = field(default_factory=list)
    create: list[ResolvedCode] = field(default_factory=list)


def _plan(current: Sequence[Coding], wanted: Sequence[ResolvedCode], *, replace: bool) -> _Plan:
    """What to write so that a criterion carries the wanted codes.

    Adding keeps the other codes; a code the criterion already has, or has more precisely, is
    not added again (so a double submit writes nothing); a more precise code replaces the
    general one it refines (A01 then A01/P15 leaves A01/P15). Replacing leaves only the wanted
    codes."""
    kept: list[tuple[str, Coding | None, ResolvedCode | None]] = [
        (c.full_code, c, None) for c in current
    ]
    chosen: list[tuple[str, Coding | None, ResolvedCode | None]] = [] if replace else list(kept)
    for code in wanted:
        if any(code_covers(other, code.full_code) for other, _c, _r in chosen):
            continue
        chosen = [entry for entry in chosen if not code_covers(code.full_code, entry[0])]
        existing = next((c for full, c, _r in kept if full == code.full_code), None)
        chosen.append((code.full_code, existing, None if existing else code))
    still = {id(c) for _full, c, _r in chosen if c is not None}
    return _Plan(
        supersede=[c for c in current if id(c) not in still],
        create=[r for _full, _c, r in chosen if r is not None],
    )


def _resolve_all(grid: GridIndex, codes: Sequence[str]) -> list[ResolvedCode]:
    if not codes:
        parse_full_code("")  # raises the parser's "type a code" message
    return [grid.resolve(code) for code in codes]


def _lock(criterion_ids: Iterable[int]) -> None:
    # Two identical submissions on PostgreSQL take turns here, so the second one sees the
    # first one's coding and adds nothing (SQLite's BEGIN IMMEDIATE already serialises writers).
    list(
        Criterion.all_objects.select_for_update()
        .filter(pk__in=list(criterion_ids))
        .order_by("pk")
        .values_list("pk", flat=True)
    )


@dataclass(frozen=True)
class CodingChange:
    """What one write on the coding screen did."""

    criteria: int  # criteria that now carry the code(s)
    created: list[Coding]
    superseded: list[Coding]

    @property
    def changed(self) -> bool:
        return bool(self.created or self.superseded)


def _apply(
    *,
    plans: dict[int, _Plan],
    territory_ids: set[int],
    source: str,
    user: User | None,
) -> CodingChange:
    superseded = [c for plan in plans.values() for c in plan.supersede]
    now = timezone.now()
    if superseded:
        Coding.objects.filter(pk__in=[c.pk for c in superseded]).update(
            superseded_at=now, superseded_by=user
        )
        for coding in superseded:
            coding.superseded_at, coding.superseded_by = now, user
    created = Coding.objects.bulk_create(
        [
            coding_from_resolved(criterion_id=criterion_id, code=code, source=source, user=user)
            for criterion_id, plan in plans.items()
            for code in plan.create
        ],
        batch_size=500,
    )
    if created or superseded:
        territory_stats_refresh(territory_ids=territory_ids)
    codings_written(created)
    return CodingChange(criteria=len(plans), created=created, superseded=superseded)


@transaction.atomic
def criterion_codes_add(
    *,
    criterion: Criterion,
    codes: Sequence[str],
    user: User | None,
    source: str = CodingSource.CODING,
    grids: GridsByTerritory | None = None,
) -> CodingChange:
    """Add codes to a criterion, checked against its territory's grid version; idempotent.

    Raises CodeError (with the parser's message) before writing anything if one code is wrong."""
    grid = (grids or GridsByTerritory()).for_territory(criterion.territory_id)
    resolved = _resolve_all(grid, codes)
    _lock([criterion.pk])
    current = list(Coding.objects.current().filter(criterion_id=criterion.pk).order_by("pk"))
    plan = _plan(current, resolved, replace=False)
    return _apply(
        plans={criterion.pk: plan},
        territory_ids={criterion.territory_id},
        source=source,
        user=user,
    )


def criterion_code_add(
    *,
    criterion: Criterion,
    code: str,
    user: User | None,
    grids: GridsByTerritory | None = None,
) -> CodingChange:
    """Add one code to a criterion (see criterion_codes_add)."""
    return criterion_codes_add(criterion=criterion, codes=[code], user=user, grids=grids)


@transaction.atomic
def criterion_code_remove(
    *, criterion: Criterion, coding_id: int, user: User | None
) -> Coding | None:
    """Take a code off a criterion: the coding is marked superseded, by whom and when, and stays
    in the history. Removing it again does nothing (returns None)."""
    _lock([criterion.pk])
    coding = Coding.objects.current().filter(pk=coding_id, criterion_id=criterion.pk).first()
    if coding is None:
        return None
    _apply(
        plans={criterion.pk: _Plan(supersede=[coding])},
        territory_ids={criterion.territory_id},
        source=CodingSource.CODING,
        user=user,
    )
    return coding


@transaction.atomic
def criteria_code_bulk(
    *,
    criteria: Sequence[Criterion],
    code: str,
    user: User | None,
    replace: bool = False,
    grids: GridsByTerritory | None = None,
) -> CodingChange:
    """Give one code to many criteria at once, each checked against its own territory's grid
    version: added to their codes, or replacing them. All or nothing: a code that one
    criterion's grid does not know raises CodeError and nothing is written."""
    grids = grids or GridsByTerritory()
    grids.preload(c.territory_id for c in criteria)
    by_criterion = {c.pk: c for c in criteria}
    resolved = {
        pk: _resolve_all(grids.for_territory(c.territory_id), [code])
        for pk, c in by_criterion.items()
    }
    _lock(by_criterion)
    current: dict[int, list[Coding]] = {pk: [] for pk in by_criterion}
    for coding in Coding.objects.current().filter(criterion_id__in=list(by_criterion)):
        current[coding.criterion_id].append(coding)
    plans = {
        pk: _plan(sorted(current[pk], key=lambda c: c.pk), resolved[pk], replace=replace)
        for pk in by_criterion
    }
    return _apply(
        plans=plans,
        territory_ids={
            by_criterion[pk].territory_id
            for pk, plan in plans.items()
            if plan.create or plan.supersede
        },
        source=CodingSource.CODING,
        user=user,
    )
