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
from django.db.models import Max, Q

from spiral.syntheses.models import Facet, SynthesisCell
from spiral.territories.models import Territory, TerritoryLink

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


def _participants_sql(territory_filter: str) -> str:
    """People in the active groups of each territory, in all and per profile ("participants")."""
    return f"""
        SELECT g.territory_id, '' AS facet, '' AS facet_value, '' AS question_kind,
               'participants' AS level, 0 AS item_id, SUM(g.size) AS criteria, 0 AS expressions
        FROM consultations_homogeneousgroup g
        WHERE g.is_archived = %s AND g.size > 0 {territory_filter}
        GROUP BY g.territory_id
        UNION ALL
        SELECT g.territory_id, 'profile', p.code, '', 'participants', 0, SUM(g.size), 0
        FROM consultations_homogeneousgroup g
        JOIN consultations_groupprofile p ON p.id = g.profile_id
        WHERE g.is_archived = %s AND g.size > 0 {territory_filter}
        GROUP BY g.territory_id, p.code
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
    """The territory's own figures (not its descendants'), straight from the raw rows, with the
    people of its groups (level "participants")."""
    with connection.cursor() as cursor:
        cursor.execute(
            f"{_figures_sql('AND c.territory_id = %s')} UNION ALL "
            f"{_participants_sql('AND g.territory_id = %s')}",
            [territory_id] * 16 + [False, territory_id, False, territory_id],
        )
        return {
            (facet, value or "", kind, level, int(item)): (int(criteria), int(expressions or 0))
            for _t, facet, value, kind, level, item, criteria, expressions in cursor.fetchall()
        }


def _stored_own_figures(territory_id: int) -> Figures:
    """What the stored figures say the territory's own are: its figures minus its children's.

    One statement, so a concurrent writer's changes are seen in both or in neither."""
    children = Territory.objects.filter(parent_id=territory_id).values("pk")
    rows = SynthesisCell.objects.filter(
        Q(territory_id=territory_id) | Q(territory_id__in=children)
    ).values_list(
        "territory_id",
        "facet",
        "facet_value",
        "question_kind",
        "level",
        "item_id",
        "criteria",
        "expressions",
    )
    own: dict[Key, list[int]] = defaultdict(lambda: [0, 0])
    for territory, facet, value, kind, level, item, criteria, expressions in rows:
        sign = 1 if territory == territory_id else -1
        cell = own[(facet, value, kind, level, item)]
        cell[0] += sign * criteria
        cell[1] += sign * expressions
    return {key: (c, e) for key, (c, e) in own.items() if (c, e) != (0, 0)}


UPSERT_SQL = f"""
    INSERT INTO {CELL_TABLE}
        (territory_id, facet, facet_value, question_kind, level, item_id, criteria, expressions)
    VALUES (%s, %s, %s, %s, %s, %s, %s, %s)
    ON CONFLICT (territory_id, facet, facet_value, question_kind, level, item_id)
    DO UPDATE SET criteria = {CELL_TABLE}.criteria + excluded.criteria,
                  expressions = {CELL_TABLE}.expressions + excluded.expressions
"""


def synthesis_cells_refresh(*, territory_id: int) -> None:
    """Recount a territory's own figures and add the differences to it and every ancestor.

    Call it inside the write's transaction, with the territory's stats row locked (writers of
    one territory take turns; writers of different territories add commuting differences)."""
    new = own_figures_from_rows(territory_id=territory_id)
    old = _stored_own_figures(territory_id)
    changes = []
    for key in sorted(new.keys() | old.keys()):
        (new_c, new_e), (old_c, old_e) = new.get(key, (0, 0)), old.get(key, (0, 0))
        if (new_c - old_c, new_e - old_e) != (0, 0):
            changes.append((key, new_c - old_c, new_e - old_e))
    if not changes:
        return
    chain = sorted(
        TerritoryLink.objects.filter(territory_id=territory_id).values_list(
            "ancestor_id", flat=True
        )
    )
    rows = [
        (territory, *key, criteria, expressions)
        for territory in chain
        for key, criteria, expressions in changes
    ]
    with connection.cursor() as cursor:
        # Same key order everywhere, so concurrent writers lock rows in the same order.
        cursor.executemany(UPSERT_SQL, rows)
    SynthesisCell.objects.filter(territory_id__in=chain, criteria=0, expressions=0).delete()


@transaction.atomic
def subtree_cells_rebuild(*, territory_ids: Iterable[int]) -> None:
    """Recompute the figures of these territories (after a territory moved in the tree): each is
    its own figures plus its children's, deepest first so children are right before parents."""
    depths = (
        TerritoryLink.objects.filter(territory_id__in=set(territory_ids))
        .values("territory_id")
        .annotate(d=Max("depth"))
        .values_list("territory_id", "d")
    )
    depth = dict(depths)
    for territory_id in sorted(depth, key=lambda pk: -depth[pk]):
        children = Territory.objects.filter(parent_id=territory_id).values("pk")
        parts = list(own_figures_from_rows(territory_id=territory_id).items())
        parts.extend(
            ((f, v, k, lv, i), (c, e))
            for f, v, k, lv, i, c, e in SynthesisCell.objects.filter(
                territory_id__in=children
            ).values_list(
                "facet",
                "facet_value",
                "question_kind",
                "level",
                "item_id",
                "criteria",
                "expressions",
            )
        )
        SynthesisCell.objects.filter(territory_id=territory_id).delete()
        SynthesisCell.objects.bulk_create(
            [
                SynthesisCell(
                    territory_id=territory_id,
                    facet=f,
                    facet_value=v,
                    question_kind=k,
                    level=lv,
                    item_id=i,
                    criteria=c,
                    expressions=e,
                )
                for (f, v, k, lv, i), (c, e) in figures_sum(parts).items()
                if (c, e) != (0, 0)
            ],
            batch_size=2000,
        )


@transaction.atomic
def synthesis_cells_rebuild_all() -> int:
    """Recompute every stored figure from the raw rows, in bulk (after a bulk load).

    The facts are materialised once, grouped per territory and facet into the territories' own
    figures, then summed up the tree one depth at a time, the deepest first: each territory's
    figures are its own plus its children's (already complete)."""
    SynthesisCell.objects.all().delete()
    columns = (
        "territory_id, facet, facet_value, question_kind, level, item_id, criteria, expressions"
    )
    link = TerritoryLink._meta.db_table
    territory_table = Territory._meta.db_table
    with connection.cursor() as cursor:
        for table in ("spiral_facts", "spiral_own", "spiral_depth"):
            cursor.execute(f"DROP TABLE IF EXISTS {table}")
        # An empty parameter list, so "%%" in the SQL becomes "%" as in every other statement.
        cursor.execute(f"CREATE TEMPORARY TABLE spiral_facts AS {_facts_sql('')}", [])
        cursor.execute(
            """CREATE TEMPORARY TABLE spiral_own AS
                SELECT territory_id, '' AS facet, '' AS facet_value, question_kind, level, item_id,
                       COUNT(*) AS criteria, SUM(expressions) AS expressions
                FROM spiral_facts GROUP BY territory_id, question_kind, level, item_id""",
            [],
        )
        for facet, column in FACET_COLUMNS.items():
            if facet == Facet.NONE:
                continue
            cursor.execute(
                f"""INSERT INTO spiral_own ({columns})
                    SELECT territory_id, %s, COALESCE({column}, ''), question_kind, level, item_id,
                           COUNT(*), SUM(expressions)
                    FROM spiral_facts
                    GROUP BY territory_id, {column}, question_kind, level, item_id""",
                [facet.value],
            )
        cursor.execute("DROP TABLE spiral_facts")
        cursor.execute(
            f"INSERT INTO spiral_own ({columns}) {_participants_sql('')}", [False, False]
        )
        cursor.execute(
            f"""CREATE TEMPORARY TABLE spiral_depth AS
                SELECT l.territory_id AS territory_id, MAX(l.depth) AS depth
                FROM {link} l GROUP BY l.territory_id""",
            [],
        )
        cursor.execute("SELECT MAX(depth) FROM spiral_depth")
        deepest = cursor.fetchone()[0] or 0
        for depth in range(deepest, -1, -1):
            cursor.execute(
                f"""INSERT INTO {CELL_TABLE} ({columns})
                    SELECT territory_id, facet, facet_value, question_kind, level, item_id,
                           SUM(criteria), SUM(expressions)
                    FROM (
                        SELECT o.territory_id, o.facet, o.facet_value, o.question_kind, o.level,
                               o.item_id, o.criteria, o.expressions
                        FROM spiral_own o JOIN spiral_depth d ON d.territory_id = o.territory_id
                        WHERE d.depth = %s
                        UNION ALL
                        SELECT t.parent_id, c.facet, c.facet_value, c.question_kind, c.level,
                               c.item_id, c.criteria, c.expressions
                        FROM spiral_depth child
                        JOIN {territory_table} t ON t.id = child.territory_id
                        JOIN {CELL_TABLE} c ON c.territory_id = child.territory_id
                        WHERE child.depth = %s
                    ) parts
                    GROUP BY territory_id, facet, facet_value, question_kind, level, item_id
                    ORDER BY territory_id, facet, facet_value, question_kind, level, item_id""",
                [depth, depth + 1],
            )
        cursor.execute("DROP TABLE spiral_own")
        cursor.execute("DROP TABLE spiral_depth")
    return SynthesisCell.objects.count()


def figures_sum(cells: Iterable[tuple[Key, tuple[int, int]]]) -> Figures:
    totals: dict[Key, list[int]] = defaultdict(lambda: [0, 0])
    for key, (criteria, expressions) in cells:
        totals[key][0] += criteria
        totals[key][1] += expressions
    return {key: (c, e) for key, (c, e) in totals.items()}
