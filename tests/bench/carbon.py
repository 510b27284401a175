"""Carbon benchmark of issue 7 (`make bench`, not part of the test suite): a territory campaign
with 20,000 results must aggregate in under 200 ms (median).

    python tests/bench/carbon.py --database sqlite [--results 20000]
    BENCH_DATABASE_URL=postgres://postgres@127.0.0.1:5432/spiral_bench_carbon \\
        python tests/bench/carbon.py --database postgres

Builds a throw-away database (var/bench-carbon.sqlite3, or the PostgreSQL database named in
BENCH_DATABASE_URL, dropped and recreated): one network, one country, 4 regions, 40 towns, one
campaign of the whole country and one per town; the results are spread over them, each
computed from random answers with the French factor set, and about a third carry 1 to 3
pledges. Then it times, median of repeated runs after a warm-up:
- in process: ``aggregate`` (distribution, median and quartiles per category, pledged savings)
  over the country's 20,000 results (roll-up through the territory tree), over the country
  campaign alone, and over one town's campaign;
- through the stack (Django's test client): the territory page, the campaign page, the API's
  territory aggregate, and one ``POST /api/v1/carbon/footprint``.
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

BAR_MS = 200.0


def configure(database: str) -> str:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "spiral.config.settings")
    os.environ["SPIRAL_ENV"] = "test"
    os.environ["AXES_ENABLED"] = "0"
    if database == "sqlite":
        path = ROOT / "var" / "bench-carbon.sqlite3"
        path.parent.mkdir(exist_ok=True)
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
        os.environ["SQLITE_PATH"] = str(path)
        os.environ.pop("DATABASE_URL", None)
        return f"SQLite {__import__('sqlite3').sqlite_version} (file, WAL)"
    url = os.environ.get(
        "BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/spiral_bench_carbon"
    )
    import psycopg

    base, name = url.rsplit("/", 1)
    with psycopg.connect(f"{base}/postgres", autocommit=True) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{name}"')
        connection.execute(f'CREATE DATABASE "{name}"')
        version = connection.execute("SHOW server_version").fetchone()[0]  # type: ignore[index]
    os.environ["DATABASE_URL"] = url
    return f"PostgreSQL {version}"


def median_ms(action: Callable[[], object], runs: int) -> float:
    action()
    durations = []
    for _ in range(runs):
        start = time.perf_counter()
        action()
        durations.append((time.perf_counter() - start) * 1000)
    return statistics.median(durations)


def random_answers(rng: random.Random) -> dict[str, object]:
    """A person who answered some questions; the rest is left to the national average."""
    answers: dict[str, object] = {}
    if rng.random() < 0.8:
        answers["car_km"] = rng.choice([0, 0, 2000, 6000, 10000, 15000, 25000])
        answers["car_engine"] = rng.choice(["petrol", "diesel", "electric"])
    if rng.random() < 0.6:
        answers["flight_long_hours"] = rng.choice([0, 0, 0, 8, 16, 30])
    if rng.random() < 0.7:
        answers["surface_m2"] = rng.randint(25, 180)
        answers["occupants"] = rng.randint(1, 5)
        answers["heating_energy"] = rng.choice(["gas", "electric", "heat_pump", "wood", "fuel_oil"])
    if rng.random() < 0.7:
        red = rng.randint(0, 7)
        answers["meals_red_meat"] = red
        answers["meals_vegetarian"] = rng.randint(0, 14 - red)
    if rng.random() < 0.5:
        answers["clothes_items"] = rng.randint(0, 40)
    return answers


def build(results: int, rng: random.Random) -> dict[str, object]:
    from spiral.carbon.actions import proposals
    from spiral.carbon.compute import footprint_compute
    from spiral.carbon.factorsets import current_factor_set, factor_data
    from spiral.carbon.models import Campaign, FootprintResult, Pledge
    from spiral.carbon.questions import answers_clean
    from spiral.territories.services import territory_create

    network = territory_create(parent=None, name="Carbon bench network", kind="network")
    country = territory_create(parent=network, name="Carbon bench country", kind="country")
    country.country_code = "FR"
    country.save()
    towns = []
    for r in range(4):
        region = territory_create(parent=country, name=f"Bench region {r}", kind="region")
        towns.extend(
            territory_create(parent=region, name=f"Bench town {r}.{t}", kind="locality")
            for t in range(10)
        )
    country_campaign = Campaign.objects.create(name="Country", territory=country, country="FR")
    campaigns = [country_campaign] + [
        Campaign.objects.create(name=f"Campaign {t.name}", territory=t, country="FR") for t in towns
    ]
    factor_set = current_factor_set("FR")
    data = factor_data(factor_set)
    rows = []
    pledge_plans = []
    for index in range(results):
        campaign = campaigns[index % len(campaigns)] if index % 2 else country_campaign
        answers = answers_clean(random_answers(rng))
        footprint = footprint_compute(answers, data)
        rows.append(
            FootprintResult(
                campaign=campaign,
                territory_id=campaign.territory_id,
                factor_set=factor_set,
                answers=answers,
                detail=footprint.as_dict(),
                transport_kg=footprint.category_total("transport"),
                housing_kg=footprint.category_total("housing"),
                food_kg=footprint.category_total("food"),
                goods_kg=footprint.category_total("goods"),
                services_kg=footprint.category_total("services"),
                total_kg=footprint.total,
            )
        )
        if rng.random() < 0.33:
            offered = proposals(answers, data)[:3]
            pledge_plans.append((index, offered[: rng.randint(1, 3)]))
    created = FootprintResult.objects.bulk_create(rows, batch_size=2000)
    Pledge.objects.bulk_create(
        [
            Pledge(
                result=created[index],
                action=p.action.key,
                category=p.action.category,
                saving_kg=p.saving_kg,
            )
            for index, plan in pledge_plans
            for p in plan
        ],
        batch_size=5000,
    )
    # The pledge services keep these sums on each result; bulk inserts bypass them.
    touched = []
    for index, plan in pledge_plans:
        result = created[index]
        for p in plan:
            field = f"pledged_{p.action.category}_kg"
            setattr(result, field, getattr(result, field) + p.saving_kg)
        result.pledge_count = len(plan)
        touched.append(result)
    FootprintResult.objects.bulk_update(
        touched,
        [
            "pledged_transport_kg",
            "pledged_housing_kg",
            "pledged_food_kg",
            "pledged_goods_kg",
            "pledge_count",
        ],
        batch_size=2000,
    )
    from django.db import connection

    if connection.vendor == "postgresql":
        # What autovacuum does soon after a bulk load in production: statistics for the planner
        # and a visibility map, without which an index-only scan still visits the table.
        with connection.cursor() as cursor:
            cursor.execute("VACUUM ANALYZE carbon_footprintresult")
            cursor.execute("VACUUM ANALYZE territories_territorylink")
    return {
        "country": country,
        "country_campaign": country_campaign,
        "town_campaign": campaigns[1],
        "pledges": Pledge.objects.count(),
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--database", choices=["sqlite", "postgres"], required=True)
    parser.add_argument("--results", type=int, default=20_000)
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
    from spiral.carbon.selectors import aggregate, campaign_results, territory_results

    rng = random.Random(7)
    start = time.perf_counter()
    world = build(args.results, rng)
    build_s = time.perf_counter() - start
    country = world["country"]
    country_campaign = world["country_campaign"]
    town_campaign = world["town_campaign"]
    client = Client()

    def api_footprint() -> None:
        response = client.post(
            "/api/v1/carbon/footprint",
            json.dumps({"country": "FR", "answers": {"car_km": 8000, "meals_red_meat": 4}}),
            content_type="application/json",
        )
        assert response.status_code == 200

    def get(url: str) -> Callable[[], None]:
        def action() -> None:
            response = client.get(url)
            assert response.status_code == 200, (url, response.status_code)

        return action

    counted = territory_results(country.pk).count()  # type: ignore[attr-defined]
    timings = [
        (
            f"aggregate, territory roll-up ({counted:,} results)",
            median_ms(
                lambda: aggregate(territory_results(country.pk), full_view=False),  # type: ignore[attr-defined]
                args.runs,
            ),
            True,
        ),
        (
            f"aggregate, country campaign ({campaign_results(country_campaign).count():,})",  # type: ignore[arg-type]
            median_ms(
                lambda: aggregate(campaign_results(country_campaign), full_view=False),  # type: ignore[arg-type]
                args.runs,
            ),
            True,
        ),
        (
            f"aggregate, one town campaign ({campaign_results(town_campaign).count():,})",  # type: ignore[arg-type]
            median_ms(
                lambda: aggregate(campaign_results(town_campaign), full_view=False),  # type: ignore[arg-type]
                args.runs,
            ),
            False,
        ),
        (
            "GET /carbon/territories/<country>/ (page)",
            median_ms(get(f"/carbon/territories/{country.slug}/"), args.runs),  # type: ignore[attr-defined]
            False,
        ),
        (
            "GET /carbon/campaigns/<country campaign>/ (page)",
            median_ms(get(f"/carbon/campaigns/{country_campaign.pk}/"), args.runs),  # type: ignore[attr-defined]
            False,
        ),
        (
            "GET /api/v1/carbon/territories/<country>",
            median_ms(get(f"/api/v1/carbon/territories/{country.pk}"), args.runs),  # type: ignore[attr-defined]
            False,
        ),
        ("POST /api/v1/carbon/footprint (one person)", median_ms(api_footprint, args.runs), False),
    ]
    print(
        f"Carbon benchmark — {engine}, Python {platform.python_version()}, "
        f"{os.cpu_count()} CPU, {platform.machine()}"
    )
    print(
        f"{args.results:,} results, {world['pledges']:,} pledges; built in {build_s:.1f} s; "
        f"median of {args.runs} runs after a warm-up"
    )
    print(f"{'what':<58} {'median ms':>10}  bar")
    failed = False
    for label, ms, barred in timings:
        verdict = ""
        if barred:
            verdict = "ok (< 200 ms)" if ms < BAR_MS else "OVER 200 ms"
            failed = failed or ms >= BAR_MS
        print(f"{label:<58} {ms:>10.1f}  {verdict}")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
