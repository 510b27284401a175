"""Writing codings. Recoding never deletes: the previous rows are marked superseded."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone

from spiral.accounts.models import User
from spiral.coding.models import Coding, CodingSource
from spiral.consultations.models import Criterion
from spiral.grid.codes import ResolvedCode
from spiral.grid.models import GridMapping
from spiral.grid.services import map_object_code
from spiral.syntheses.services import territory_stats_refresh
from spiral.territories.models import Territory


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
