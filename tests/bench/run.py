"""Benchmarks named by the issues (`make bench`, not part of the test suite).

    python tests/bench/run.py --database sqlite
    BENCH_DATABASE_URL=postgres://.../spiral_bench python tests/bench/run.py --database postgres

Builds a throw-away database (SQLite file var/bench.sqlite3, or the PostgreSQL database named
in BENCH_DATABASE_URL, dropped and recreated), fills it, times each hot path through Django's
test client (the whole request: URL routing, middleware, permissions, queries, templates) and
prints a table. Numbers are medians of repeated runs on warm caches.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT))

CRITERIA_TOTAL = 100_000


def configure(database: str, keep: bool = False) -> str:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "spiral.config.settings")
    os.environ["SPIRAL_ENV"] = "test"
    os.environ["AXES_ENABLED"] = "0"
    if database == "sqlite":
        path = ROOT / "var" / "bench.sqlite3"
        path.parent.mkdir(exist_ok=True)
        for suffix in ("", "-wal", "-shm"):
            if not keep:
                Path(f"{path}{suffix}").unlink(missing_ok=True)
        os.environ["SQLITE_PATH"] = str(path)
        os.environ.pop("DATABASE_URL", None)
        return f"SQLite {__import__('sqlite3').sqlite_version} (file, WAL)"
    url = os.environ.get("BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/spiral_bench")
    import psycopg

    base, name = url.rsplit("/", 1)
    with psycopg.connect(f"{base}/postgres", autocommit=True) as connection:
        if not keep:
            connection.execute(f'DROP DATABASE IF EXISTS "{name}"')
            connection.execute(f'CREATE DATABASE "{name}"')
        version = connection.execute("SHOW server_version").fetchone()[0]  # type: ignore[index]
    os.environ["DATABASE_URL"] = url
    return f"PostgreSQL {version}"


def timed(action: Callable[[], object], runs: int) -> list[float]:
    action()  # warm-up: templates compiled, caches filled
    durations = []
    for _ in range(runs):
        start = time.perf_counter()
        action()
        durations.append((time.perf_counter() - start) * 1000)
    return durations


def build_network(rng: random.Random) -> dict[str, object]:
    """3 countries, 12 regions, 60 localities, 600 groups, 100,000 criteria (85 % coded)."""
    from spiral.coding.models import Coding, CodingSource
    from spiral.consultations.models import (
        Criterion,
        GroupProfile,
        HomogeneousGroup,
        Meeting,
        QuestionSet,
    )
    from spiral.grid.models import Component, GridVersion
    from spiral.syntheses.services import territory_stats_rebuild
    from spiral.territories.services import territory_create

    network = territory_create(parent=None, name="Bench network", kind="network")
    localities = []
    for c in range(3):
        country = territory_create(parent=network, name=f"Country {c}", kind="country")
        for r in range(4):
            region = territory_create(parent=country, name=f"Region {c}.{r}", kind="region")
            localities.extend(
                territory_create(parent=region, name=f"Town {c}.{r}.{t}", kind="locality")
                for t in range(5)
            )
    profiles = list(GroupProfile.objects.all())
    groups = HomogeneousGroup.objects.bulk_create(
        [
            HomogeneousGroup(
                territory=town,
                name=f"Group {i}",
                profile=profiles[i % len(profiles)],
                size=10,
                language="fr",
            )
            for i, town in enumerate(localities * 10)
        ]
    )
    question_set = QuestionSet.objects.get(is_default=True)
    questions = list(question_set.questions.all())
    meetings = Meeting.objects.bulk_create(
        [
            Meeting(group=g, held_on="2026-06-01", question_set=question_set, language="fr")
            for g in groups
        ]
    )
    components = list(Component.objects.filter(version=GridVersion.objects.get(is_default=True)))
    batch: list[Criterion] = []
    for index, meeting in enumerate(meetings):
        share = CRITERIA_TOTAL // len(meetings) + (
            1 if index < CRITERIA_TOTAL % len(meetings) else 0
        )
        for i in range(share):
            batch.append(
                Criterion(
                    meeting=meeting,
                    question=questions[i % 3],
                    text=f"Critère {meeting.pk}-{i} avoir un travail",
                    language="fr",
                    expressions=rng.choice([1, 1, 1, 2, 3]),
                    position=i,
                    group_id=meeting.group_id,
                    territory_id=meeting.group.territory_id,
                )
            )
    created = Criterion.objects.bulk_create(batch, batch_size=5000)
    codings = [
        Coding(
            criterion=c,
            component=(comp := rng.choice(components)),
            full_code=comp.code,
            source=CodingSource.DEMO,
        )
        for c in created
        if rng.random() < 0.85
    ]
    Coding.objects.bulk_create(codings, batch_size=5000)
    territory_stats_rebuild()  # rows were bulk-inserted around the services
    return {
        "network": network,
        "country": network.children.first(),
        "town": localities[0],
        "meeting": meetings[0],
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--database", choices=["sqlite", "postgres"], required=True)
    parser.add_argument("--runs", type=int, default=25)
    args = parser.parse_args()
    engine = configure(args.database)

    import django

    django.setup()
    from django.core.management import call_command
    from django.test import Client
    from django.test.utils import setup_test_environment

    setup_test_environment()
    call_command("migrate", verbosity=0)
    from spiral.accounts.models import Role
    from spiral.accounts.services import role_grant, user_create
    from spiral.consultations.models import Criterion, Meeting

    rng = random.Random(42)
    start = time.perf_counter()
    world = build_network(rng)
    build_seconds = time.perf_counter() - start
    total = Criterion.objects.count()

    user = user_create(username="bench", email="bench@example.org", password=None)
    role_grant(user=user, territory=world["network"], role=Role.FACILITATOR, granted_by=None)  # type: ignore[arg-type]
    client = Client(HTTP_HOST="127.0.0.1")
    client.force_login(user)
    anonymous = Client(HTTP_HOST="127.0.0.1")

    meeting: Meeting = world["meeting"]  # type: ignore[assignment]
    question = meeting.question_set.questions.first()
    lines = "\n".join(
        f"{rng.randint(1, 4)};Critère collé numéro {i} avec des accents é à;A0{i % 10}"
        for i in range(500)
    )
    counter = iter(range(10**6))

    def paste() -> None:
        response = client.post(
            f"/meetings/{meeting.pk}/criteria/paste/",
            json.dumps(
                {"question": question.pk, "text": lines, "batch_token": f"bench-{next(counter)}"}
            ),  # type: ignore[union-attr]
            content_type="application/json",
            HTTP_ACCEPT="application/json",
        )
        assert response.status_code == 200, response.content[:300]
        assert response.json()["saved"] == 500

    results = []

    def record(name: str, durations: list[float], bar_ms: float, note: str) -> None:
        median = statistics.median(durations)
        p90 = sorted(durations)[int(0.9 * (len(durations) - 1))]
        results.append((name, len(durations), median, p90, bar_ms, median < bar_ms, note))

    record(
        "paste of 500 lines (POST, saved)",
        timed(paste, max(10, args.runs // 2)),
        1000,
        "JSON paste endpoint, 500 criteria with codes",
    )
    for label, key in (("network", "network"), ("country", "country"), ("locality", "town")):
        territory = world[key]
        url = f"/territories/{territory.slug}/"  # type: ignore[attr-defined]

        def page(url: str = url) -> None:
            response = anonymous.get(url)
            assert response.status_code == 200

        below = Criterion.objects.in_subtree(territory.pk).count()  # type: ignore[attr-defined]
        record(
            f"territory page, {label} ({below:,} criteria below)",
            timed(page, args.runs),
            150,
            "public page, anonymous",
        )

    print()
    print(
        f"Spiral benchmarks — {engine} — {platform.machine()}, {os.cpu_count()} cores, "
        f"Python {platform.python_version()}"
    )
    print(
        f"Data: {total:,} criteria in {Meeting.objects.count()} meetings "
        f"(built in {build_seconds:.1f} s)"
    )
    print()
    print(f"| {'benchmark':<48} | runs | median ms | p90 ms | bar ms | ok |")
    print(f"|{'-' * 50}|------|-----------|--------|--------|----|")
    for name, runs, median, p90, bar, ok, _note in results:
        print(
            f"| {name:<48} | {runs:>4} | {median:>9.1f} | {p90:>6.1f} | {bar:>6.0f} "
            f"| {'yes' if ok else 'NO'} |"
        )
    sys.exit(0 if all(r[5] for r in results) else 1)


if __name__ == "__main__":
    main()
