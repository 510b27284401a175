"""Benchmark of the self-survey (issue 5; not part of the test suite).

    python tests/bench/indicators.py --database sqlite
    BENCH_DATABASE_URL=postgres://postgres@127.0.0.1:5432/spiral_indicators_bench \
        python tests/bench/indicators.py --database postgres

Builds a throw-away database (SQLite file var/bench-indicators.sqlite3, or the PostgreSQL
database named in BENCH_DATABASE_URL, dropped and recreated) with one public territory, three
indicators and an open self-survey; starts the real server (gunicorn, gthread workers) on a free
loopback port; submits the answers concurrently over 20 keep-alive connections, each answer as a
citizen's phone does it (GET the survey page for its one-time token, then POST), and replays a
share of them; then checks that every answer is counted exactly once (responses, and ratings by
indicator and level, against what was sent) and times the public results page of the survey.
"""

from __future__ import annotations

import argparse
import http.client
import os
import platform
import random
import re
import socket
import statistics
import subprocess
import sys
import threading
import time
from collections import Counter
from pathlib import Path
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT))

TOKEN_RE = re.compile(rb'name="token" value="([^"]+)"')
COOKIE_RE = re.compile(r"(spiral_survey_\d+)=([^;]*)")
INDICATORS = ("Travail", "Logement", "Santé")


def configure(database: str) -> str:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "spiral.config.settings")
    os.environ["SPIRAL_ENV"] = "test"
    os.environ["AXES_ENABLED"] = "0"
    os.environ["DEBUG"] = "0"
    os.environ.setdefault("SECRET_KEY", "bench-only-secret-key-" + "x" * 40)
    if database == "sqlite":
        path = ROOT / "var" / "bench-indicators.sqlite3"
        path.parent.mkdir(exist_ok=True)
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
        os.environ["SQLITE_PATH"] = str(path)
        os.environ.pop("DATABASE_URL", None)
        return f"SQLite {__import__('sqlite3').sqlite_version} (file, WAL, BEGIN IMMEDIATE)"
    url = os.environ.get(
        "BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/spiral_indicators_bench"
    )
    import psycopg

    base, name = url.rsplit("/", 1)
    with psycopg.connect(f"{base}/postgres", autocommit=True) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        connection.execute(f'CREATE DATABASE "{name}"')
        version = connection.execute("SHOW server_version").fetchone()[0]  # type: ignore[index]
    os.environ["DATABASE_URL"] = url
    return f"PostgreSQL {version}"


def build() -> tuple[str, int, list[int]]:
    """One public territory, three indicators with their scales, an open self-survey."""
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    from spiral.indicators.services import LevelInput, evaluation_create, indicator_create
    from spiral.territories.services import territory_create

    territory = territory_create(name="Bench town", kind="locality", parent=None)
    indicators = [
        indicator_create(
            territory=territory,
            title=title,
            question=f"{title} ?",
            components=[],
            sorted_criteria={},
            levels={n: LevelInput(text=f"{title} {n}") for n in range(1, 6)},
            user=None,
        )
        for title in INDICATORS
    ]
    evaluation = evaluation_create(
        territory=territory,
        title="Bench survey",
        kind="ex_ante",
        held_on=__import__("datetime").date(2026, 11, 1),
        indicators=indicators,
        user=None,
        survey_open=True,
    )
    return evaluation.survey_key, evaluation.pk, [i.pk for i in indicators]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_server(port: int, workers: int, threads: int) -> subprocess.Popen[bytes]:
    command = [
        str(Path(sys.executable).parent / "gunicorn"),
        "spiral.config.wsgi",
        "--chdir",
        str(ROOT / "src"),
        "--bind",
        f"127.0.0.1:{port}",
        "--workers",
        str(workers),
        "--worker-class",
        "gthread",
        "--threads",
        str(threads),
        "--keep-alive",
        "30",
        "--log-level",
        "warning",
    ]
    server = subprocess.Popen(command, env=os.environ.copy())
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            connection.request("GET", "/healthz")
            if connection.getresponse().status == 200:
                return server
        except OSError:
            time.sleep(0.3)
    server.terminate()
    raise SystemExit("the server did not start")


def answer_of(number: int, indicator_ids: list[int]) -> dict[int, str]:
    """A deterministic answer per number: levels 1-5, and sometimes "I do not know" (0)."""
    rng = random.Random(number)
    return {pk: str(rng.choice([0, 1, 2, 2, 3, 3, 3, 4, 4, 5])) for pk in indicator_ids}


class Client:
    """One keep-alive connection, as one phone after another would use it."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)

    def request(
        self, method: str, path: str, body: str | None = None, headers: dict[str, str] | None = None
    ) -> tuple[int, dict[str, str], bytes]:
        for attempt in range(3):
            try:
                self.connection.request(method, path, body=body, headers=headers or {})
                response = self.connection.getresponse()
                return response.status, dict(response.getheaders()), response.read()
            except (http.client.HTTPException, OSError):
                # A connection closed by the server between requests: open another and retry
                # (safe: the survey submission is idempotent by its token).
                self.connection.close()
                self.connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
                if attempt == 2:
                    raise
        raise AssertionError("unreachable")


def submit_all(
    port: int, key: str, indicator_ids: list[int], answers: int, connections: int, replay_every: int
) -> tuple[float, list[float], Counter[str]]:
    """Send the answers over the connections; returns wall time, POST latencies, outcomes."""
    numbers = list(range(answers))
    lock = threading.Lock()
    latencies: list[float] = []
    outcomes: Counter[str] = Counter()
    path = f"/indicators/s/{key}/"

    def work(share: list[int]) -> None:
        client = Client(port)
        mine: list[float] = []
        seen: Counter[str] = Counter()
        for number in share:
            status, headers, body = client.request("GET", path)  # a fresh phone: no cookie
            match = TOKEN_RE.search(body)
            if status != 200 or not match:
                seen[f"GET {status}"] += 1
                continue
            form = {"token": match.group(1).decode()}
            form |= {f"indicator-{pk}": v for pk, v in answer_of(number, indicator_ids).items()}
            encoded = urlencode(form)
            sends = 2 if number % replay_every == 0 else 1
            for _ in range(sends):
                start = time.perf_counter()
                status, headers, _body = client.request(
                    "POST",
                    path,
                    body=encoded,
                    headers={"Content-Type": "application/x-www-form-urlencoded"},
                )
                mine.append((time.perf_counter() - start) * 1000)
                location = headers.get("Location", "")
                if status == 302 and location.endswith("again=1"):
                    seen["replay recognised"] += 1
                elif status == 302:
                    seen["saved"] += 1
                else:
                    seen[f"POST {status}"] += 1
        with lock:
            latencies.extend(mine)
            outcomes.update(seen)

    shares = [numbers[i::connections] for i in range(connections)]
    threads = [threading.Thread(target=work, args=(share,)) for share in shares]
    start = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return time.perf_counter() - start, latencies, outcomes


def verify(evaluation_id: int, indicator_ids: list[int], answers: int) -> tuple[bool, str]:
    """Every answer counted exactly once: responses, and ratings by indicator and level."""
    from django.db import connection
    from django.db.models import Count

    from spiral.indicators.models import Rating, SurveyResponse

    connection.close()  # the server wrote meanwhile: read afresh
    expected: Counter[tuple[int, int]] = Counter()
    for number in range(answers):
        for pk, value in answer_of(number, indicator_ids).items():
            if value != "0":
                expected[(pk, int(value))] += 1
    responses = SurveyResponse.objects.filter(evaluation_id=evaluation_id).count()
    stored = Counter(
        {
            (row["indicator_id"], row["level"]): row["n"]
            for row in Rating.objects.filter(evaluation_id=evaluation_id)
            .values("indicator_id", "level")
            .annotate(n=Count("pk"))
        }
    )
    ok = responses == answers and stored == expected
    return (
        ok,
        f"{responses} responses, {sum(stored.values())} ratings (expected {answers}, {sum(expected.values())})",
    )


def time_results(port: int, evaluation_id: int, runs: int) -> list[float]:
    client = Client(port)
    path = f"/indicators/evaluations/{evaluation_id}/"
    status, _headers, body = client.request("GET", path)  # warm-up
    assert status == 200, status
    assert b"distribution" in body
    durations = []
    for _ in range(runs):
        start = time.perf_counter()
        status, _headers, _body = client.request("GET", path)
        durations.append((time.perf_counter() - start) * 1000)
        assert status == 200
    return durations


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database", choices=["sqlite", "postgres"], required=True)
    parser.add_argument("--answers", type=int, default=10_000)
    parser.add_argument("--connections", type=int, default=20)
    parser.add_argument("--replay-every", type=int, default=20, help="replay one answer in N")
    parser.add_argument("--runs", type=int, default=50, help="requests timed on the results page")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--threads", type=int, default=10)
    args = parser.parse_args()

    database = configure(args.database)
    key, evaluation_id, indicator_ids = build()
    port = free_port()
    server = start_server(port, args.workers, args.threads)
    try:
        wall, latencies, outcomes = submit_all(
            port, key, indicator_ids, args.answers, args.connections, args.replay_every
        )
        ok, counted = verify(evaluation_id, indicator_ids, args.answers)
        results = time_results(port, evaluation_id, args.runs)
    finally:
        server.terminate()
        server.wait(timeout=30)

    latencies.sort()
    replays = len(range(0, args.answers, args.replay_every))
    print(
        f"\nSelf-survey benchmark — {database}; Python {platform.python_version()}; "
        f"{os.cpu_count()} CPU; gunicorn {args.workers} workers x {args.threads} threads"
    )
    print(
        f"{args.answers:,} answers x {len(indicator_ids)} indicators over {args.connections} "
        f"connections (GET form + POST each), {replays:,} replayed\n"
    )
    rows = [
        ("answers submitted", f"{args.answers:,} in {wall:.1f} s ({args.answers / wall:.0f}/s)"),
        (
            "POST latency p50 / p95",
            f"{statistics.median(latencies):.1f} / {latencies[int(0.95 * len(latencies))]:.1f} ms",
        ),
        ("outcomes", ", ".join(f"{k}: {v:,}" for k, v in sorted(outcomes.items()))),
        ("counted exactly once", f"{'yes' if ok else 'NO'} — {counted}"),
        (
            f"results page, median of {args.runs}",
            f"{statistics.median(results):.1f} ms (bar < 150 ms)",
        ),
        ("results page p95", f"{sorted(results)[int(0.95 * len(results))]:.1f} ms"),
    ]
    width = max(len(name) for name, _ in rows)
    for name, value in rows:
        print(f"{name:<{width}}  {value}")
    expected_outcomes = {"saved": args.answers, "replay recognised": replays}
    if not ok or dict(outcomes) != expected_outcomes or statistics.median(results) >= 150:
        raise SystemExit(1)


if __name__ == "__main__":
    main()
