"""Import and export benchmarks of issue 6 (`make bench`, not part of the test suite).

    python tests/bench/transfers.py --database sqlite
    BENCH_DATABASE_URL=postgres://postgres@127.0.0.1:5432/spiral_transfers_bench \\
        python tests/bench/transfers.py --database postgres

Builds a throw-away database (SQLite file var/bench.sqlite3, or the PostgreSQL database named in
BENCH_DATABASE_URL, dropped and recreated), then times, end to end through the same service the
task worker runs (read the file, check every line, save all in one transaction, refresh the
stored figures):
- a 100,000-line CSV of criteria (85 % with a component or full code) into one meeting;
- the same lines as an XLSX workbook into one group, 50 meeting dates (50 meetings created);
- the same CSV with 3 bad lines (everything checked, nothing saved, 3 lines reported);
- the open-data package of the scope (export), and its import into an empty territory.
"""

from __future__ import annotations

import argparse
import csv
import datetime
import io
import os
import platform
import random
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT))

os.environ.setdefault(
    "BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/spiral_transfers_bench"
)

from tests.bench.run import configure  # noqa: E402

WORDS = [
    "avoir un travail stable",
    "être écouté",
    "un logement chaud",
    "la santé",
    "voir mes petits-enfants",
    "le bruit la nuit",
    "être seul le dimanche",
    "je fais du bénévolat",
    "des transports qui passent",
    "manger à ma faim",
    "se sentir utile",
    "du temps pour moi",
    "la confiance",
    "l'école pour tous",
]


def criteria_rows(lines: int, codes: list[str], rng: random.Random) -> list[list[str]]:
    rows = []
    for number in range(lines):
        code = rng.choice(codes) if rng.random() < 0.85 else ""
        if code and rng.random() < 0.2:
            code += "/P--"
        rows.append(
            [
                f"{rng.choice(WORDS)} ({number})",
                str(rng.choice([1, 1, 1, 2, 3])),
                code,
                f"q{1 + number % 3}",
                f"2026-{1 + number % 10:02d}-{1 + (number // 10) % 5:02d}",
            ]
        )
    return rows


def as_csv(rows: list[list[str]]) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";", lineterminator="\r\n")
    writer.writerow(["Critère", "Nombre", "Code", "Question", "Date"])
    writer.writerows(rows)
    return out.getvalue().encode("utf-8")


def as_xlsx(rows: list[list[str]]) -> bytes:
    import xlsxwriter

    buffer = io.BytesIO()
    workbook = xlsxwriter.Workbook(buffer, {"in_memory": True, "constant_memory": False})
    sheet = workbook.add_worksheet()
    sheet.write_row(0, 0, ["Critère", "Nombre", "Code", "Question", "Date"])
    for index, row in enumerate(rows, start=1):
        sheet.write_row(index, 0, [row[0], int(row[1]), row[2], row[3], row[4]])
    workbook.close()
    return buffer.getvalue()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--database", choices=["sqlite", "postgres"], required=True)
    parser.add_argument("--lines", type=int, default=100_000)
    args = parser.parse_args()
    engine = configure(args.database)
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection
    from django.test.utils import setup_test_environment

    setup_test_environment()
    call_command("migrate", verbosity=0)
    from spiral.accounts.models import User
    from spiral.consultations.models import Criterion, GroupProfile, HomogeneousGroup, Meeting
    from spiral.consultations.services import group_create, meeting_create
    from spiral.grid.models import Component, GridVersion
    from spiral.syntheses.selectors import territory_synthesis
    from spiral.territories.services import territory_create
    from spiral.transfers.models import ImportKind, ImportStatus
    from spiral.transfers.package import package_build, package_import
    from spiral.transfers.services import import_job_create, import_job_run

    rng = random.Random(2026)
    user = User.objects.create(username="bench")
    network = territory_create(parent=None, name="Network", kind="network")
    country = territory_create(parent=network, name="Country", kind="country")
    region = territory_create(parent=country, name="Region", kind="region")
    town = territory_create(parent=region, name="Town", kind="locality")
    profile = GroupProfile.objects.first()
    assert profile is not None
    group = group_create(territory=town, name="G1", profile=profile, size=10, user=user)
    other = group_create(territory=town, name="G2", profile=profile, size=10, user=user)
    meeting = meeting_create(group=group, held_on=datetime.date(2026, 6, 1), user=user)
    version = GridVersion.objects.get(is_default=True)
    codes = list(Component.objects.filter(version=version).values_list("code", flat=True))
    rows = criteria_rows(args.lines, codes, rng)
    csv_content, xlsx_content = as_csv(rows), as_xlsx(rows)
    bad_rows = [list(r) for r in rows]
    for index, cell, value in (
        (10, 0, ""),
        (50_000 % args.lines, 1, "beaucoup"),
        (args.lines - 1, 2, "Z99"),
    ):
        bad_rows[index][cell] = value
    bad_content = as_csv(bad_rows)
    results: list[tuple[str, float, str]] = []

    def timed_import(label: str, content: bytes, filename: str, **target: object) -> None:
        start, cpu = time.perf_counter(), time.process_time()
        job = import_job_create(
            kind=ImportKind.CRITERIA,
            user=user,
            filename=filename,
            content=content,
            territory=town,
            **target,
        )  # type: ignore[arg-type]
        if "meeting" in target:
            job.mapping["meeting_date"] = None
        job.save()
        job = import_job_run(job=job)
        seconds = time.perf_counter() - start
        cpu_seconds = time.process_time() - cpu
        outcome = (
            f"{job.created_count:,} saved"
            if job.status == ImportStatus.DONE
            else f"{job.status}, {job.error_count} line(s) reported"
        )
        results.append((label, seconds, f"{outcome} (CPU of this process: {cpu_seconds:.1f} s)"))

    timed_import(
        f"CSV {args.lines:,} lines, 3 bad -> refused", bad_content, "bad.csv", meeting=meeting
    )
    assert Criterion.objects.count() == 0
    timed_import(f"CSV {args.lines:,} lines -> one meeting", csv_content, "c.csv", meeting=meeting)
    timed_import(
        f"XLSX {args.lines:,} lines -> one group, 50 dates", xlsx_content, "c.xlsx", group=other
    )
    meetings = Meeting.objects.filter(group=other).count()
    start = time.perf_counter()
    synthesis = territory_synthesis(territory=network)
    results.append(
        (
            "network synthesis after the imports",
            time.perf_counter() - start,
            f"{synthesis.total.criteria:,} criteria",
        )
    )
    start = time.perf_counter()
    package, report = package_build(territory=town)
    results.append(
        (
            "open-data package export",
            time.perf_counter() - start,
            f"{report.counts['criteria']:,} criteria, {len(package) / 1e6:.1f} MB zip",
        )
    )
    start = time.perf_counter()
    target = territory_create(parent=network, name="Copy", kind="country")
    counts = package_import(content=package, parent=target)
    results.append(
        (
            "open-data package import",
            time.perf_counter() - start,
            f"{counts['criteria']:,} criteria, {counts['codings']:,} codes",
        )
    )
    copy = HomogeneousGroup.objects.filter(territory__parent=target).first()
    assert copy is not None

    print(
        f"\nImports and exports, {engine}, Python {platform.python_version()}, "
        f"{os.cpu_count()} CPU, {connection.vendor}; {meetings} meetings created by date; "
        f"load average (1 min) at the end: {os.getloadavg()[0]:.1f}\n"
    )
    print(f"| {'what':<46} | {'seconds':>8} | outcome")
    print(f"|{'-' * 48}|{'-' * 10}|{'-' * 40}")
    for label, seconds, outcome in results:
        print(f"| {label:<46} | {seconds:8.1f} | {outcome}")


if __name__ == "__main__":
    main()
