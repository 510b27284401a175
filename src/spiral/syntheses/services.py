"""Keeping the aggregates exact: recompute a territory's own counts from the raw rows."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date

from django.db import transaction
from django.db.models import Count, Exists, OuterRef, Sum

from spiral.accounts.models import User
from spiral.coding.models import Coding
from spiral.consultations.models import Criterion, HomogeneousGroup, Meeting
from spiral.syntheses.models import GroupSynthesisValidation, TerritoryStats
from spiral.syntheses.rollups import synthesis_cells_rebuild_all, synthesis_cells_refresh
from spiral.territories.models import Territory


@transaction.atomic
def territory_stats_refresh(*, territory_ids: Iterable[int]) -> None:
    """Recompute the own counts and the synthesis figures of these territories (call it inside
    the write's transaction); see _stats_only_refresh for the locking."""
    for territory_id in _stats_only_refresh(territory_ids=territory_ids):
        synthesis_cells_refresh(territory_id=territory_id)


@transaction.atomic
def _stats_only_refresh(*, territory_ids: Iterable[int]) -> list[int]:
    """Recompute the own counts of these territories (call it inside the write's transaction).

    The stats row is locked first, so two concurrent writers on one territory take turns and
    the second one counts the first one's committed rows (PostgreSQL, READ COMMITTED)."""
    refreshed: list[int] = []
    for territory_id in sorted(set(territory_ids)):
        TerritoryStats.objects.get_or_create(territory_id=territory_id)
        stats = TerritoryStats.objects.select_for_update().get(territory_id=territory_id)
        criteria = Criterion.objects.filter(territory_id=territory_id)
        totals = criteria.aggregate(n=Count("pk"), expressions=Sum("expressions"))
        groups = HomogeneousGroup.objects.filter(territory_id=territory_id, is_archived=False)
        stats.groups = groups.count()
        stats.meetings = Meeting.objects.filter(group__in=groups).count()
        stats.criteria = totals["n"] or 0
        stats.expressions = totals["expressions"] or 0
        stats.coded_criteria = criteria.filter(
            Exists(Coding.objects.filter(criterion_id=OuterRef("pk"), superseded_at__isnull=True))
        ).count()
        stats.save()
        refreshed.append(territory_id)
    return refreshed


@transaction.atomic
def territory_stats_rebuild() -> int:
    """Recompute every territory's figures in bulk (after an import done around the services,
    or as a check): one grouped query per figure instead of one recount per territory."""
    criteria = Criterion.objects.values("territory_id")
    totals = {r["territory_id"]: r for r in criteria.annotate(n=Count("pk"), e=Sum("expressions"))}
    coded = {
        r["territory_id"]: r["n"]
        for r in criteria.filter(
            Exists(Coding.objects.filter(criterion_id=OuterRef("pk"), superseded_at__isnull=True))
        ).annotate(n=Count("pk"))
    }
    active = HomogeneousGroup.objects.filter(is_archived=False)
    groups = {
        r["territory_id"]: r["n"] for r in active.values("territory_id").annotate(n=Count("pk"))
    }
    meetings = {
        r["group__territory_id"]: r["n"]
        for r in Meeting.objects.filter(group__is_archived=False)
        .values("group__territory_id")
        .annotate(n=Count("pk"))
    }
    ids = list(Territory.objects.values_list("pk", flat=True))
    TerritoryStats.objects.all().delete()
    TerritoryStats.objects.bulk_create(
        [
            TerritoryStats(
                territory_id=pk,
                groups=groups.get(pk, 0),
                meetings=meetings.get(pk, 0),
                criteria=totals[pk]["n"] if pk in totals else 0,
                expressions=(totals[pk]["e"] or 0) if pk in totals else 0,
                coded_criteria=coded.get(pk, 0),
            )
            for pk in ids
        ],
        batch_size=1000,
    )
    synthesis_cells_rebuild_all()
    return len(ids)


@transaction.atomic
def group_synthesis_validate(
    *,
    group: HomogeneousGroup,
    synthesis_of: Meeting | None,
    validated_at: Meeting | None,
    validated_on: date,
    note: str,
    user: User | None,
) -> GroupSynthesisValidation:
    """Record that the group approved its synthesis, keeping the figures it was shown."""
    from spiral.syntheses.selectors import group_synthesis, meeting_synthesis

    synthesis = (
        meeting_synthesis(meeting=synthesis_of) if synthesis_of else group_synthesis(group=group)
    )
    return GroupSynthesisValidation.objects.create(
        group=group,
        synthesis_of=synthesis_of,
        validated_at=validated_at,
        validated_on=validated_on,
        note=note,
        recorded_by=user,
        snapshot={
            "grid_version": synthesis.version.code,
            "criteria": synthesis.total.criteria,
            "expressions": synthesis.total.expressions,
            "rows": [row for row in synthesis.as_rows() if row["criteria"]],
        },
    )
