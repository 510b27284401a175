"""Synthesis benchmarks of issue 3 (`make bench`): 1,000,000 and 10,000,000 criteria over 2,000
territories, on SQLite or PostgreSQL, with DuckDB as the reference column store.

    python tests/bench/synthesis.py --database sqlite --criteria 1000000
    BENCH_DATABASE_URL=postgres://.../spiral_bench python tests/bench/synthesis.py --database postgres

For each size it times, in one run:
- the API: GET /api/v1/territories/{id}/synthesis for the whole network and for one country,
  without filter and with each single filter (question, profile, language, period, grid version);
- in process: ``territory_synthesis`` (the stored figures) against a plain GROUP BY over the
  criteria table of the same database, and against the same GROUP BY in DuckDB over the same rows.

The rows are generated with a fixed seed and bulk-inserted (COPY on PostgreSQL), then the stored
figures are rebuilt once (``rebuild_stats``); build times are printed too.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import platform
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from datetime import date, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT))

from tests.bench.run import configure  # noqa: E402

TERRITORIES = 2000  # 1 network, 5 countries, 40 regions, 1,954 localities
GROUPS_PER_LOCALITY = 5
LANGUAGES_BY_COUNTRY = ["fr", "fr", "pt", "it", "en"]

RAW_SQL = """
    SELECT cod.component_id, q.kind, COUNT(*), SUM(c.expressions)
    FROM consultations_criterion c
    JOIN coding_coding cod ON cod.criterion_id = c.id AND cod.superseded_at IS NULL
    JOIN consultations_question q ON q.id = c.question_id
    WHERE c.deleted_at IS NULL
      AND c.territory_id IN (SELECT territory_id FROM territories_territorylink WHERE ancestor_id = {scope})
    GROUP BY cod.component_id, q.kind
"""


def median_ms(action: Callable[[], object], runs: int) -> tuple[float, float]:
    action()
    durations = []
    for _ in range(runs):
        start = time.perf_counter()
        action()
        durations.append((time.perf_counter() - start) * 1000)
    durations.sort()
    return statistics.median(durations), durations[int(0.9 * (len(durations) - 1))]


def build(total: int, rng: random.Random) -> dict[str, int]:
    """Territories, groups and meetings through the ORM; criteria and codings in bulk."""
    from django.db import connection, transaction

    from spiral.consultations.models import GroupProfile, HomogeneousGroup, Meeting, QuestionSet
    from spiral.grid.models import Component, GridVersion
    from spiral.territories.models import Territory, TerritoryLink

    with transaction.atomic():
        network = Territory.objects.create(name="Network", slug="network", kind="network")
        countries = [
            Territory.objects.create(
                name=f"Country {c}",
                slug=f"country-{c}",
                kind="country",
                parent=network,
                language=LANGUAGES_BY_COUNTRY[c],
            )
            for c in range(5)
        ]
        regions = [
            Territory.objects.create(
                name=f"Region {c}.{r}",
                slug=f"region-{c}-{r}",
                kind="region",
                parent=country,
                language=country.language,
            )
            for c, country in enumerate(countries)
            for r in range(8)
        ]
        # Localities in bulk (the closure rows are written below, in bulk too).
        localities = Territory.objects.bulk_create(
            [
                Territory(
                    name=f"Town {i}",
                    slug=f"town-{i}",
                    kind="locality",
                    parent=regions[i % len(regions)],
                    language=regions[i % len(regions)].language,
                )
                for i in range(TERRITORIES - 1 - len(countries) - len(regions))
            ],
            batch_size=1000,
        )
        TerritoryLink.objects.bulk_create(
            [
                TerritoryLink(territory=town, ancestor_id=ancestor, depth=depth)
                for town in localities
                for depth, ancestor in enumerate(
                    [town.pk, town.parent_id, town.parent.parent_id, network.pk]
                )
            ],
            batch_size=5000,
        )
        profiles = list(GroupProfile.objects.all())
        groups = HomogeneousGroup.objects.bulk_create(
            [
                HomogeneousGroup(
                    territory=town,
                    name=f"G{town.pk}-{g}",
                    profile=rng.choice(profiles),
                    size=rng.randint(6, 14),
                    language=town.language,
                )
                for town in localities
                for g in range(GROUPS_PER_LOCALITY)
            ],
            batch_size=5000,
        )
        question_set = QuestionSet.objects.get(is_default=True)
        start = date(2024, 12, 1)
        meetings = Meeting.objects.bulk_create(
            [
                Meeting(
                    group=g,
                    held_on=start + timedelta(days=rng.randint(0, 720)),
                    question_set=question_set,
                    language=g.language,
                )
                for g in groups
            ],
            batch_size=5000,
        )
    questions = list(question_set.questions.values_list("pk", flat=True))
    components = list(
        Component.objects.filter(version=GridVersion.objects.get(is_default=True)).values_list(
            "pk", "code"
        )
    )
    group_of = {g.pk: g for g in groups}

    def criteria_rows() -> Iterator[tuple[object, ...]]:
        now = "2026-11-25 00:00:00+00:00"
        for index in range(total):
            meeting = meetings[index % len(meetings)]
            group = group_of[meeting.group_id]
            yield (
                index + 1,
                now,
                now,
                meeting.pk,
                questions[index % 3],
                f"c{index}",
                group.language,
                rng.choice((1, 1, 1, 2, 3)),
                index // len(meetings),
                group.pk,
                group.territory_id,
            )

    def coding_rows() -> Iterator[tuple[object, ...]]:
        now = "2026-11-25 00:00:00+00:00"
        next_id = 1
        for criterion_id in range(1, total + 1):
            draw = rng.random()
            if draw < 0.15:
                continue  # uncoded
            picks = rng.sample(components, 2 if draw > 0.9 else 1)
            for component_id, code in picks:
                yield (next_id, criterion_id, component_id, code, "demo", now)
                next_id += 1

    criteria_columns = "(id, created_at, updated_at, meeting_id, question_id, text, language, expressions, position, group_id, territory_id)"
    coding_columns = "(id, criterion_id, component_id, full_code, source, created_at)"
    started = time.perf_counter()
    with transaction.atomic(), connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            raw = cursor.cursor
            with raw.copy(f"COPY consultations_criterion {criteria_columns} FROM STDIN") as copy:
                for row in criteria_rows():
                    copy.write_row(row)
            with raw.copy(f"COPY coding_coding {coding_columns} FROM STDIN") as copy:
                for row in coding_rows():
                    copy.write_row(row)
            for table in ("consultations_criterion", "coding_coding"):
                cursor.execute(
                    f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT MAX(id) FROM {table}))"
                )
                cursor.execute(f"ANALYZE {table}")
        else:
            raw = cursor.cursor
            for sql, rows in (
                (
                    f"INSERT INTO consultations_criterion {criteria_columns} VALUES (?,?,?,?,?,?,?,?,?,?,?)",
                    criteria_rows(),
                ),
                (f"INSERT INTO coding_coding {coding_columns} VALUES (?,?,?,?,?,?)", coding_rows()),
            ):
                batch: list[tuple[object, ...]] = []
                for row in rows:
                    batch.append(row)
                    if len(batch) == 100_000:
                        raw.executemany(sql, batch)
                        batch.clear()
                raw.executemany(sql, batch)
            cursor.execute("ANALYZE")
    load_seconds = time.perf_counter() - started
    started = time.perf_counter()
    from spiral.syntheses.services import territory_stats_rebuild

    territory_stats_rebuild()
    return {
        "network": network.pk,
        "country": countries[0].pk,
        "load_s": round(load_seconds, 1),
        "rebuild_s": round(time.perf_counter() - started, 1),
    }


def duckdb_table_load(scope_ids: list[int]) -> Callable[[int], object]:
    """Copy the same rows into DuckDB (in memory) and return its GROUP BY, timed like ours."""
    import duckdb
    from django.db import connection

    duck = duckdb.connect()
    folder = Path(tempfile.mkdtemp(prefix="spiral-duck-"))
    tables = {
        "consultations_criterion": "id, territory_id, question_id, expressions, deleted_at",
        "coding_coding": "criterion_id, component_id, superseded_at",
        "consultations_question": "id, kind",
        "territories_territorylink": "territory_id, ancestor_id",
    }
    with connection.cursor() as cursor:
        for table, columns in tables.items():
            path = folder / f"{table}.csv"
            cursor.execute(f"SELECT {columns} FROM {table}")
            with path.open("w", newline="") as handle:
                writer = csv.writer(handle)
                writer.writerow([c.strip() for c in columns.split(",")])
                while rows := cursor.fetchmany(100_000):
                    writer.writerows(rows)
            duck.execute(
                f"CREATE TABLE {table} AS SELECT * FROM read_csv_auto('{path}', header=true)"
            )
            path.unlink()
    folder.rmdir()

    def query(scope: int) -> object:
        return duck.execute(RAW_SQL.format(scope=scope)).fetchall()

    return query


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--database", choices=["sqlite", "postgres"], required=True)
    parser.add_argument("--criteria", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument("--raw-runs", type=int, default=3)
    parser.add_argument("--no-api", action="store_true", help="time the selectors only")
    parser.add_argument(
        "--reuse",
        action="store_true",
        help="time the database built by the previous run (no rebuild)",
    )
    args = parser.parse_args()
    engine = configure(args.database, keep=args.reuse)
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection
    from django.test import Client
    from django.test.utils import setup_test_environment

    setup_test_environment()
    call_command("migrate", verbosity=0)
    from spiral.syntheses.selectors import SynthesisFilters, territory_synthesis
    from spiral.territories.models import Territory

    rng = random.Random(2026)
    if args.reuse:
        network = Territory.objects.get(parent=None)
        info = {
            "network": network.pk,
            "country": network.children.order_by("pk").first().pk,
            "load_s": "(reused)",
            "rebuild_s": "(reused)",
        }
        args.criteria = __import__(
            "spiral.consultations.models", fromlist=["Criterion"]
        ).Criterion.objects.count()
    else:
        info = build(args.criteria, rng)
    client = Client(HTTP_HOST="127.0.0.1")
    filters = {
        "no filter": "",
        "question": "question=ill_being",
        "profile": "profile=young_people",
        "language": "language=fr",
        "period": "period_start=2025-06&period_end=2025-12",
        "grid version": "grid_version=spiral-ag",
    }
    rows: list[tuple[str, float, float, str]] = []
    for scope_name in () if args.no_api else ("network", "country"):
        scope = info[scope_name]
        for label, query in filters.items():
            url = f"/api/v1/territories/{scope}/synthesis?{query}"

            def call(url: str = url) -> None:
                response = client.get(url)
                assert response.status_code == 200, response.content[:300]

            median, p90 = median_ms(call, args.runs)
            rows.append((f"API {scope_name}, {label}", median, p90, "< 50 ms"))

    comparison: list[tuple[str, float, float]] = []
    duck_query = duckdb_table_load([info["network"], info["country"]])
    for scope_name in ("network", "country"):
        scope = info[scope_name]
        territory = Territory.objects.get(pk=scope)
        ours = median_ms(
            lambda t=territory: territory_synthesis(territory=t, filters=SynthesisFilters()),
            args.runs,
        )[0]

        def raw(scope: int = scope) -> None:
            with connection.cursor() as cursor:
                cursor.execute(RAW_SQL.format(scope=scope))
                cursor.fetchall()

        raw_ms = median_ms(raw, args.raw_runs)[0]
        duck_ms = median_ms(lambda s=scope: duck_query(s), args.raw_runs)[0]
        comparison.append((scope_name, ours, raw_ms, duck_ms))

    print()
    print(
        f"Synthesis benchmarks — {engine} — {args.criteria:,} criteria, {TERRITORIES:,} territories — {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}"
    )
    print(f"Bulk load {info['load_s']} s, figures rebuilt in {info['rebuild_s']} s")
    print()
    print(f"| {'API request':<34} | median ms | p90 ms | bar | ok |")
    print(f"|{'-' * 36}|-----------|--------|-----|----|")
    ok = True
    for name, median, p90, bar in rows:
        passed = median < 50
        ok &= passed
        print(
            f"| {name:<34} | {median:>9.1f} | {p90:>6.1f} | {bar} | {'yes' if passed else 'NO'} |"
        )
    print()
    print(
        f"| {'in process, no filter':<22} | ours ms | raw GROUP BY ({args.database}) ms | DuckDB GROUP BY ms | ours faster than raw | vs DuckDB |"
    )
    print(
        "|------------------------|---------|------------------------|--------------------|----------------------|-----------|"
    )
    for scope_name, ours, raw_ms, duck_ms in comparison:
        faster = ours < raw_ms
        ok &= faster
        print(
            f"| {scope_name:<22} | {ours:>7.2f} | {raw_ms:>22.1f} | {duck_ms:>18.1f} | {'yes' if faster else 'NO':>20} | {duck_ms / ours:>8.0f}x |"
        )
    print(json.dumps({"database": engine, "criteria": args.criteria, **info}))
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
