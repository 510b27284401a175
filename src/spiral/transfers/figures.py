"""Adding imported criteria to the stored synthesis figures without recounting the territory.

``territory_stats_refresh`` recounts a territory's own figures from all its rows: right after a
typed criterion, but for an import into a territory that already holds 100,000 criteria that is
one large query (tens of seconds on PostgreSQL) to learn what the import itself tells us. An
import only adds criteria, so the change of every figure is the figures of the new criteria
alone: they are counted here in memory, with exactly the facts of ``syntheses.rollups`` (one for
the total, one per distinct dimension, component and grid version coded), and added to the
territory and each of its ancestors with the same UPSERT. The own counts (TerritoryStats) are
recounted as usual, which also takes the territory's lock first, so concurrent writers of the
territory take turns exactly as with ``territory_stats_refresh``; the tests compare the result
with a full rebuild from the rows."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

from django.db import connection

from spiral.syntheses.models import Facet
from spiral.syntheses.rollups import UPSERT_SQL
from spiral.syntheses.services import _stats_only_refresh
from spiral.territories.models import TerritoryLink


@dataclass(frozen=True)
class NewCriterion:
    territory_id: int
    question_kind: str
    profile: str
    language: str
    month: str  # YYYY-MM of the meeting
    expressions: int
    # (component id, dimension id, grid version id) of each current coding
    codes: tuple[tuple[int, int, int], ...] = ()


@dataclass(frozen=True)
class NewGroup:
    territory_id: int
    profile: str
    size: int | None
    archived: bool = False


def figures_add_new_criteria(
    *, criteria: Iterable[NewCriterion], groups: Iterable[NewGroup] = ()
) -> None:
    """Add these new (already inserted) criteria, and the people of these new groups, to the
    stored figures; call it inside the import's transaction."""
    own: dict[int, dict[tuple[str, str, str, str, int], list[int]]] = defaultdict(
        lambda: defaultdict(lambda: [0, 0])
    )
    for g in groups:
        # As rollups._participants_sql: active groups with a known size, in all and per profile.
        if g.archived or not g.size:
            continue
        for facet, value in ((Facet.NONE.value, ""), (Facet.PROFILE.value, g.profile)):
            own[g.territory_id][(facet, value, "", "participants", 0)][0] += g.size
    for c in criteria:
        items = {("total", 0)}
        for component_id, dimension_id, version_id in c.codes:
            items |= {
                ("component", component_id),
                ("dimension", dimension_id),
                ("coded", version_id),
            }
        cells = own[c.territory_id]
        facets = (
            (Facet.NONE.value, ""),
            (Facet.PROFILE.value, c.profile or ""),
            (Facet.LANGUAGE.value, c.language or ""),
            (Facet.MONTH.value, c.month or ""),
        )
        for facet, value in facets:
            for level, item in items:
                cell = cells[(facet, value, c.question_kind, level, item)]
                cell[0] += 1
                cell[1] += c.expressions
    if not own:
        return
    _stats_only_refresh(territory_ids=own.keys())
    chains: dict[int, list[int]] = defaultdict(list)
    for territory_id, ancestor_id in TerritoryLink.objects.filter(
        territory_id__in=own.keys()
    ).values_list("territory_id", "ancestor_id"):
        chains[territory_id].append(ancestor_id)
    # Sum per ancestor first: one UPSERT per cell, keys in the same order as every writer.
    totals: dict[tuple[int, str, str, str, str, int], list[int]] = defaultdict(lambda: [0, 0])
    for territory_id, cells in own.items():
        for ancestor_id in chains[territory_id]:
            for key, (count, expressions) in cells.items():
                total = totals[(ancestor_id, *key)]
                total[0] += count
                total[1] += expressions
    rows = [(*key, c, e) for key, (c, e) in sorted(totals.items())]
    with connection.cursor() as cursor:
        for start in range(0, len(rows), 5000):
            cursor.executemany(UPSERT_SQL, rows[start : start + 5000])
