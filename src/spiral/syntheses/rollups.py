"""The stored synthesis figures (SynthesisCell): computing them from the raw rows, keeping them
exact on every write, rebuilding them in bulk. See docs/decisions/0006.

One SQL statement describes every figure: a "facts" relation with one row per criterion for the
total, one per (criterion, dimension) and one per (criterion, component) among its current
codings, each carrying the question kind, group profile, language and month; figures are
``COUNT(*)`` and ``SUM(expressions)`` of those rows grouped by territory, filter value, question
kind and grid item. Because the dimension rows are distinct per criterion, a criterion coded twice
in one dimension counts once there, as a plain ``COUNT(DISTINCT)`` would.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable

from django.db import connection, transaction

from spiral.syntheses.models import Facet, SynthesisCell
from spiral.territories.models import TerritoryLink

Key = tuple[str, str, str, str, int]  # facet, facet_value, question kind, level, item id
Figures = dict[Key, tuple[int, int]]  # criteria, expressions

FACET_COLUMNS = {
    Facet.NONE: "''",
    Facet.PROFILE: "profile",
    Facet.LANGUAGE: "language",
    Facet.MONTH: "month",
}
CELL_TABLE = SynthesisCell._meta.db_table


def _month_sql() -> str:
    if connection.vendor == "postgresql":
        return "to_char(m.held_on, 'YYYY-MM')"
    return "strftime('%%Y-%%m', m.held_on)"


def _facts_sql(territory_filter: str) -> str:
    """One row per criterion (total), per distinct (criterion, dimension), per (criterion,
    component), and per (criterion, grid version) it is coded in ("coded")."""
    base = """
        FROM consultations_criterion c
        JOIN consultations_question q ON q.id = c.question_id
        JOIN consultations_meeting m ON m.id = c.meeting_id
        JOIN consultations_homogeneousgroup g ON g.id = c.group_id
        JOIN consultations_groupprofile p ON p.id = g.profile_id
    """
    columns = (
        f"c.id AS criterion_id, c.territory_id AS territory_id, q.kind AS question_kind, "
        f"p.code AS profile, c.language AS language, {_month_sql()} AS month, "
        f"c.expressions AS expressions"
    )
    coded = """
        JOIN coding_coding cod ON cod.criterion_id = c.id AND cod.superseded_at IS NULL
        JOIN grid_component comp ON comp.id = cod.component_id
    """
    where = f"WHERE c.deleted_at IS NULL {territory_filter}"
    return f"""
        SELECT {columns}, 'total' AS level, 0 AS item_id {base} {where}
        UNION ALL
        SELECT DISTINCT {columns}, 'dimension' AS level, comp.dimension_id AS item_id
            {base} {coded} {where}
        UNION ALL
        SELECT DISTINCT {columns}, 'component' AS level, comp.id AS item_id
            {base} {coded} {where}
        UNION ALL
        SELECT DISTINCT {columns}, 'coded' AS level, comp.version_id AS item_id
            {base} {coded} {where}
    """


def _figures_sql(territory_filter: str) -> str:
    """Own figures per territory, for every facet, as (territory, facet, value, kind, level,
    item, criteria, expressions) rows."""
    facts = _facts_sql(territory_filter)
    parts = [
        f"""SELECT territory_id, '{facet.value}' AS facet, {column} AS facet_value, question_kind,
                   level, item_id, COUNT(*) AS criteria, SUM(expressions) AS expressions
            FROM ({facts}) facts
            GROUP BY territory_id, {"" if facet == Facet.NONE else column + ", "}question_kind,
                     level, item_id"""
        for facet, column in FACET_COLUMNS.items()
    ]
    return " UNION ALL ".join(parts)


def own_figures_from_rows(*, territory_id: int) -> Figures:
    """The territory's own figures, straight from the raw rows."""
    with connection.cursor() as cursor:
        cursor.execute(_figures_sql("AND c.territory_id = %s"), [territory_id] * 16)
        return {
            (facet, value or "", kind, level, int(item)): (int(criteria), int(expressions or 0))
            for _t, facet, value, kind, level, item, criteria, expressions in cursor.fetchall()
        }


def _stored_own_figures(territory_id: int) -> Figures:
    rows = SynthesisCell.objects.filter(territory_id=territory_id, subtree=False).values_list(
        "facet", "facet_value", "question_kind", "level", "item_id", "criteria", "expressions"
    )
    return {(f, v, k, lv, i): (c, e) for f, v, k, lv, i, c, e in rows}


UPSERT_SQL = f"""
    INSERT INTO {CELL_TABLE}
        (territory_id, subtree, facet, facet_value, question_kind, level, item_id,
         criteria, expressions)
    VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s)
    ON CONFLICT (territory_id, subtree, facet, facet_value, question_kind, level, item_id)
    DO UPDATE SET criteria = {CELL_TABLE}.criteria + excluded.criteria,
                  expressions = {CELL_TABLE}.expressions + excluded.expressions
"""


def synthesis_cells_refresh(*, territory_id: int) -> None:
    """Recompute a territory's own figures and add the differences to every ancestor's subtree
    figures. Call it inside the write's transaction, with the territory's stats row locked."""
    new = own_figures_from_rows(territory_id=territory_id)
    old = _stored_own_figures(territory_id)
    changes = sorted(
        (
            key,
            (
                new.get(key, (0, 0))[0] - old.get(key, (0, 0))[0],
                new.get(key, (0, 0))[1] - old.get(key, (0, 0))[1],
            ),
        )
        for key in new.keys() | old.keys()
    )
    changes = [(key, delta) for key, delta in changes if delta != (0, 0)]
    if not changes:
        return
    ancestors = sorted(
        TerritoryLink.objects.filter(territory_id=territory_id).values_list(
            "ancestor_id", flat=True
        )
    )
    rows = [
        (territory, subtree, *key, criteria, expressions)
        for territory, subtree in [(territory_id, False), *((a, True) for a in ancestors)]
        for key, (criteria, expressions) in changes
    ]
    with connection.cursor() as cursor:
        # Same key order everywhere, so concurrent writers lock rows in the same order.
        cursor.executemany(UPSERT_SQL, rows)
    SynthesisCell.objects.filter(
        territory_id__in=[territory_id, *ancestors], criteria=0, expressions=0
    ).delete()


@transaction.atomic
def subtree_cells_rebuild(*, territory_ids: Iterable[int]) -> None:
    """Recompute the subtree figures of these territories as sums of their descendants' own
    figures (after a territory moved in the tree)."""
    ids = sorted(set(territory_ids))
    if not ids:
        return
    SynthesisCell.objects.filter(territory_id__in=ids, subtree=True).delete()
    placeholders = ", ".join(["%s"] * len(ids))
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            INSERT INTO {CELL_TABLE}
                (territory_id, subtree, facet, facet_value, question_kind, level, item_id,
                 criteria, expressions)
            SELECT l.ancestor_id, %s, own.facet, own.facet_value, own.question_kind, own.level,
                   own.item_id, SUM(own.criteria), SUM(own.expressions)
            FROM {CELL_TABLE} own
            JOIN {TerritoryLink._meta.db_table} l ON l.territory_id = own.territory_id
            WHERE own.subtree = %s AND l.ancestor_id IN ({placeholders})
            GROUP BY l.ancestor_id, own.facet, own.facet_value, own.question_kind, own.level,
                     own.item_id
            """,
            [True, False, *ids],
        )


@transaction.atomic
def synthesis_cells_rebuild_all() -> int:
    """Recompute every stored figure from the raw rows, in bulk (after a bulk load).

    The facts are materialised once in a temporary table, then grouped once per facet."""
    SynthesisCell.objects.all().delete()
    with connection.cursor() as cursor:
        cursor.execute("DROP TABLE IF EXISTS spiral_facts")
        # An empty parameter list, so "%%" in the SQL becomes "%" as in every other statement.
        cursor.execute(f"CREATE TEMPORARY TABLE spiral_facts AS {_facts_sql('')}", [])
        for facet, column in FACET_COLUMNS.items():
            group_by = "" if facet == Facet.NONE else f"{column}, "
            cursor.execute(
                f"""
                INSERT INTO {CELL_TABLE}
                    (territory_id, subtree, facet, facet_value, question_kind, level, item_id,
                     criteria, expressions)
                SELECT territory_id, %s, %s, COALESCE({column}, ''), question_kind, level,
                       item_id, COUNT(*), SUM(expressions)
                FROM spiral_facts
                GROUP BY territory_id, {group_by}question_kind, level, item_id
                """,
                [False, facet.value],
            )
        cursor.execute("DROP TABLE spiral_facts")
    from spiral.territories.models import Territory

    subtree_cells_rebuild(territory_ids=Territory.objects.values_list("pk", flat=True))
    return SynthesisCell.objects.count()


def figures_sum(cells: Iterable[tuple[Key, tuple[int, int]]]) -> Figures:
    totals: dict[Key, list[int]] = defaultdict(lambda: [0, 0])
    for key, (criteria, expressions) in cells:
        totals[key][0] += criteria
        totals[key][1] += expressions
    return {key: (c, e) for key, (c, e) in totals.items()}
