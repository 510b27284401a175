"""Keeping the aggregates exact: recompute a territory's own counts from the raw rows."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from typing import Any

from django.db import connection, transaction
from django.db.models import Count, Exists, F, OuterRef, Sum

from spiral.accounts.models import User
from spiral.coding.models import Coding
from spiral.consultations.models import Criterion, HomogeneousGroup, Meeting
from spiral.syntheses.models import (
    Facet,
    GroupSynthesisValidation,
    SynthesisCell,
    TerritoryStats,
)
from spiral.syntheses.rollups import (
    UPSERT_SQL,
    synthesis_cells_rebuild_all,
    synthesis_cells_refresh,
)
from spiral.territories.models import Territory, TerritoryLink


@transaction.atomic
def territory_stats_refresh(*, territory_ids: Iterable[int]) -> None:
    """Recompute the own counts and the synthesis figures of these territories (call it inside
    the write's transaction); see territory_counts_refresh for the locking."""
    for territory_id in territory_counts_refresh(territory_ids=territory_ids):
        synthesis_cells_refresh(territory_id=territory_id)


@transaction.atomic
def territory_counts_refresh(*, territory_ids: Iterable[int]) -> list[int]:
    """Recompute the own counts (TerritoryStats) of these territories, not the synthesis cells.

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


@dataclass(frozen=True)
class CriterionFacts:
    """What a criterion contributes to the stored figures: where it counts, under which filter
    values, how many expressions, and the (component, dimension, grid version) of each of its
    current codings."""

    territory_id: int
    question_kind: str
    profile: str
    language: str
    month: str  # YYYY-MM of the meeting
    expressions: int
    codes: tuple[tuple[int, int, int], ...] = ()


@dataclass(frozen=True)
class GroupFacts:
    """What a homogeneous group contributes: one group and its people, when it is active."""

    territory_id: int
    profile: str
    size: int | None
    archived: bool = False


CellKey = tuple[str, str, str, str, int]  # facet, facet value, question kind, level, item id


def _criterion_cells(facts: CriterionFacts) -> Iterable[CellKey]:
    """The cells a criterion counts in, with exactly the facts of ``rollups._facts_sql``: the
    total, each distinct dimension, component and grid version among its codes, under no
    filter and under its profile, language and month."""
    items = {("total", 0)}
    for component_id, dimension_id, version_id in facts.codes:
        items |= {("component", component_id), ("dimension", dimension_id), ("coded", version_id)}
    facets = (
        (Facet.NONE.value, ""),
        (Facet.PROFILE.value, facts.profile or ""),
        (Facet.LANGUAGE.value, facts.language or ""),
        (Facet.MONTH.value, facts.month or ""),
    )
    for facet, value in facets:
        for level, item in items:
            yield (facet, value, facts.question_kind, level, item)


@transaction.atomic
def figures_change(
    *,
    added: Iterable[CriterionFacts] = (),
    removed: Iterable[CriterionFacts] = (),
    groups_added: Iterable[GroupFacts] = (),
    meetings_added: Iterable[int] = (),
) -> None:
    """Change the stored figures (own counts and synthesis cells of each territory and its
    ancestors) by these criteria, groups and meetings (territory ids of meetings of active
    groups) alone, without recounting any territory; call it inside the write's transaction,
    after the rows are written (removed: the facts the rows had before the change).

    Each touched territory's stats row is updated first, which locks it: writers of one
    territory take turns with ``territory_stats_refresh`` (see docs/decisions/0016)."""
    stats: dict[int, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    own: dict[int, dict[CellKey, list[int]]] = defaultdict(lambda: defaultdict(lambda: [0, 0]))
    for sign, facts_list in ((1, added), (-1, removed)):
        for facts in facts_list:
            counts = stats[facts.territory_id]
            counts["criteria"] += sign
            counts["expressions"] += sign * facts.expressions
            counts["coded_criteria"] += sign if facts.codes else 0
            cells = own[facts.territory_id]
            for key in _criterion_cells(facts):
                cell = cells[key]
                cell[0] += sign
                cell[1] += sign * facts.expressions
    for group in groups_added:
        if group.archived:
            continue
        stats[group.territory_id]["groups"] += 1
        if group.size:
            # As rollups._participants_sql: active groups of known size, in all and per profile.
            for facet, value in ((Facet.NONE.value, ""), (Facet.PROFILE.value, group.profile)):
                own[group.territory_id][(facet, value, "", "participants", 0)][0] += group.size
    for territory_id in meetings_added:
        stats[territory_id]["meetings"] += 1
    if not stats and not own:
        return
    for territory_id in sorted(stats.keys() | own.keys()):
        changes: dict[str, Any] = {
            name: F(name) + delta for name, delta in stats[territory_id].items() if delta
        }
        # The UPDATE takes the row lock even when nothing changes (a no-op assignment).
        changes = changes or {"criteria": F("criteria")}
        if not TerritoryStats.objects.filter(territory_id=territory_id).update(**changes):
            # No stats row yet: create it from the rows (they include this change), then lock.
            territory_counts_refresh(territory_ids=[territory_id])
    chains: dict[int, list[int]] = defaultdict(list)
    for territory_id, ancestor_id in TerritoryLink.objects.filter(
        territory_id__in=own.keys()
    ).values_list("territory_id", "ancestor_id"):
        chains[territory_id].append(ancestor_id)
    totals: dict[tuple[int, str, str, str, str, int], list[int]] = defaultdict(lambda: [0, 0])
    for territory_id, cells in own.items():
        for ancestor_id in chains[territory_id]:
            for key, (count, expressions) in cells.items():
                total = totals[(ancestor_id, *key)]
                total[0] += count
                total[1] += expressions
    # One UPSERT per cell, keys in the same order as every writer (no deadlock).
    rows = [(*key, c, e) for key, (c, e) in sorted(totals.items()) if (c, e) != (0, 0)]
    if not rows:
        return
    with connection.cursor() as cursor:
        for start in range(0, len(rows), 5000):
            cursor.executemany(UPSERT_SQL, rows[start : start + 5000])
    if removed:
        SynthesisCell.objects.filter(
            territory_id__in={row[0] for row in rows}, criteria=0, expressions=0
        ).delete()


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
