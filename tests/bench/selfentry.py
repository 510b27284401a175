"""Self-entry benchmark: many phones post post-its at once to a running server.

    python tests/bench/selfentry.py --database sqlite
    BENCH_DATABASE_URL=postgres://postgres@127.0.0.1:5432/spiral_bench_selfentry \
        python tests/bench/selfentry.py --database postgres

Builds a throw-away database, opens a meeting for self-entry, starts gunicorn (2 workers x 8 threads) on
a loopback port, then 50 simulated phones (threads, each with its own cookies and CSRF token)
send 2,000 post-its one per request, as a real phone does, and replay one request in 10 as a phone
whose answer was lost would. Prints the time taken, the latencies, and checks that every
post-it was counted exactly once.

Before the server starts, it times one post-it in process (Django's test client, one request
per post-it through the phone endpoint: rate limits, checks, the write and the figures) on the
same database: ``--in-process`` post-its (300) into another meeting of the same territory that
already holds as many.
"""

from __future__ import annotations

import argparse
import http.cookiejar
import json
import os
import platform
import random
import re
import socket
import statistics
import subprocess
import sys
import time
import urllib.request
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT))


def configure(database: str) -> str:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "spiral.config.settings")
    os.environ["AXES_ENABLED"] = "0"
    if database == "sqlite":
        path = ROOT / "var" / "bench-selfentry.sqlite3"
        path.parent.mkdir(exist_ok=True)
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
        os.environ["SQLITE_PATH"] = str(path)
        os.environ.pop("DATABASE_URL", None)
        return f"SQLite {__import__('sqlite3').sqlite_version} (file, WAL)"
    url = os.environ.get(
        "BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/spiral_bench_selfentry"
    )
    import psycopg

    base, name = url.rsplit("/", 1)
    with psycopg.connect(f"{base}/postgres", autocommit=True) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{name}"')
        connection.execute(f'CREATE DATABASE "{name}"')
        version = connection.execute("SHOW server_version").fetchone()[0]  # type: ignore[index]
    os.environ["DATABASE_URL"] = url
    return f"PostgreSQL {version}"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def phone(
    base: str, code: str, question_ids: list[int], count: int, replay_every: int, batch: int
) -> dict:
    """One phone: open the page (cookie and CSRF token), then send its post-its one by one."""
    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    page = opener.open(f"{base}/s/{code}/", timeout=60).read().decode()
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1)  # type: ignore[union-attr]
    participant = uuid.uuid4().hex
    latencies: list[float] = []
    statuses: dict[int, int] = {}
    created = 0
    retries = 0

    def send(items: list[dict]) -> None:
        """Send like the phone's script: on a server error, a 429 or no answer, wait (1, 2,
        4 ... 30 s) and send the same post-its again."""
        nonlocal created, retries
        body = json.dumps({"participant": participant, "items": items}).encode()
        for attempt in range(30):
            request = urllib.request.Request(
                f"{base}/s/{code}/postits/",
                data=body,
                headers={
                    "Content-Type": "application/json",
                    "X-CSRFToken": token,
                    "Referer": f"{base}/s/{code}/",
                },
            )
            start = time.perf_counter()
            try:
                with opener.open(request, timeout=60) as response:
                    status = response.status
                    payload = json.loads(response.read())
                    created += sum(1 for r in payload["results"] if r["created"])
            except urllib.error.HTTPError as error:
                status = error.code
            except OSError:
                status = 0
            latencies.append(time.perf_counter() - start)
            statuses[status] = statuses.get(status, 0) + 1
            if status == 200:
                return
            retries += 1
            time.sleep(min(30.0, 2.0**attempt) + random.random() / 2)
        raise RuntimeError("a post-it could not be sent after 30 attempts")

    pending: list[dict] = []
    batches = 0
    for n in range(count):
        item = {
            "client_id": uuid.uuid4().hex,
            "question": question_ids[n % len(question_ids)],
            "text": f"Post-it {n} de {participant[:6]}",
        }
        pending.append(item)
        if len(pending) >= batch or n == count - 1:
            send(pending)
            batches += 1
            if replay_every and batches % replay_every == 1:
                send(pending)  # the answer was lost: the phone sends the same post-its again
            pending = []
    return {"latencies": latencies, "statuses": statuses, "created": created, "retries": retries}


def in_process_postits(territory: object, count: int) -> tuple[float, float]:
    """Median and p95 (ms) of one post-it sent through the phone endpoint by Django's test
    client, in this process, into a meeting that already holds ``count`` post-its."""
    from django.test import Client
    from django.urls import reverse

    from spiral.selfentry.services import selfentry_open
    from tests.factories import GroupFactory, MeetingFactory

    meeting = MeetingFactory(group=GroupFactory(territory=territory))
    session = selfentry_open(meeting=meeting, user=None)
    questions = list(meeting.question_set.questions.values_list("pk", flat=True))
    url = reverse("selfentry:phone_submit", kwargs={"code": session.code})
    phones = []
    for _n in range(20):
        client = Client()
        client.get(reverse("selfentry:phone", kwargs={"code": session.code}))
        phones.append((client, uuid.uuid4().hex))
    timings: list[float] = []
    for n in range(2 * count):
        client, participant = phones[n % len(phones)]
        body = json.dumps(
            {
                "participant": participant,
                "items": [
                    {
                        "client_id": uuid.uuid4().hex,
                        "question": questions[n % len(questions)],
                        "text": f"Post-it {n}",
                    }
                ],
            }
        )
        start = time.perf_counter()
        response = client.post(url, data=body, content_type="application/json")
        elapsed = time.perf_counter() - start
        if response.status_code != 200:
            raise RuntimeError(f"post-it {n}: HTTP {response.status_code}")
        if n >= count:  # the first half fills the wall
            timings.append(elapsed)
    timings.sort()
    return statistics.median(timings) * 1000, timings[int(len(timings) * 0.95)] * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--database", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--phones", type=int, default=50)
    parser.add_argument("--postits", type=int, default=2000)
    parser.add_argument(
        "--in-process",
        type=int,
        default=300,
        help="post-its timed one by one in process before the server starts (0: skip)",
    )
    parser.add_argument(
        "--batch",
        type=int,
        default=1,
        help="post-its per request (a phone with a backlog sends up to 20)",
    )
    args = parser.parse_args()
    engine = configure(args.database)
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    from spiral.consultations.models import Criterion
    from spiral.selfentry.models import PostIt
    from spiral.selfentry.services import selfentry_open
    from tests.factories import GroupFactory, MeetingFactory, TerritoryFactory

    territory = TerritoryFactory(name="Bench town", kind="locality")
    meeting = MeetingFactory(group=GroupFactory(territory=territory))
    session = selfentry_open(meeting=meeting, user=None)
    question_ids = list(meeting.question_set.questions.values_list("pk", flat=True))
    in_process = in_process_postits(territory, args.in_process) if args.in_process else None
    django.db.connections.close_all()

    port = free_port()
    server_log = open(ROOT / "var" / "bench-selfentry-server.log", "w")  # noqa: SIM115
    env = dict(os.environ, SPIRAL_ENV="development", DEBUG="0")
    # gunicorn as in production (README): 2 processes x 8 threads, so PostgreSQL sees at most
    # 16 connections (runserver opens one per request thread and runs out of them).
    server = subprocess.Popen(
        [
            str(Path(sys.executable).parent / "gunicorn"),
            "spiral.config.wsgi",
            "--chdir",
            "src",
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            "2",
            "--threads",
            "8",
            "--timeout",
            "120",
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=server_log,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(100):
            try:
                urllib.request.urlopen(f"{base}/healthz", timeout=1)
                break
            except OSError:
                time.sleep(0.2)
        per_phone = args.postits // args.phones
        start = time.perf_counter()
        with ThreadPoolExecutor(max_workers=args.phones) as pool:
            results = list(
                pool.map(
                    lambda _i: phone(base, session.code, question_ids, per_phone, 10, args.batch),
                    range(args.phones),
                )
            )
        elapsed = time.perf_counter() - start
    finally:
        server.terminate()
        server.wait(timeout=30)
        server_log.close()

    latencies = sorted(x for r in results for x in r["latencies"])
    statuses: dict[int, int] = {}
    for r in results:
        for status, n in r["statuses"].items():
            statuses[status] = statuses.get(status, 0) + n
    criteria = Criterion.objects.filter(meeting=meeting).count()
    postits = PostIt.objects.filter(session=session).count()
    phones = PostIt.objects.filter(session=session).values("participant").distinct().count()
    expected = per_phone * args.phones
    rows = [
        (
            "machine",
            f"{os.cpu_count()} cores, {platform.python_implementation()} "
            f"{platform.python_version()}",
        ),
        ("database", engine),
        ("server", "gunicorn, 2 workers x 8 threads, same machine"),
        ("phones (concurrent)", str(args.phones)),
        ("post-its written", str(expected)),
        ("post-its per request", str(args.batch)),
        ("requests (incl. replays, retries)", str(len(latencies))),
        ("retries after 5xx / 429 / no answer", str(sum(r["retries"] for r in results))),
        ("HTTP statuses", ", ".join(f"{k}: {v}" for k, v in sorted(statuses.items()))),
        ("wall-clock time", f"{elapsed:.1f} s"),
        ("throughput", f"{len(latencies) / elapsed:.0f} requests/s"),
        (
            "latency p50 / p95 / max",
            f"{statistics.median(latencies) * 1000:.0f} / "
            f"{latencies[int(len(latencies) * 0.95)] * 1000:.0f} / {latencies[-1] * 1000:.0f} ms",
        ),
        *(
            [
                (
                    "in process: one post-it per request, median (p95)",
                    f"{in_process[0]:.1f} ms ({in_process[1]:.1f}), {args.in_process} post-its "
                    f"after {args.in_process} already on the wall",
                )
            ]
            if in_process
            else []
        ),
        ("criteria saved", str(criteria)),
        ("answered 'created'", str(sum(r["created"] for r in results))),
        ("post-it rows", str(postits)),
        ("phones counted", str(phones)),
        ("every post-it counted once", "yes" if criteria == postits == expected else "NO"),
    ]
    width = max(len(name) for name, _v in rows)
    print(f"{'measure'.ljust(width)} | value")
    print(f"{'-' * width}-|-{'-' * 40}")
    for name, value in rows:
        print(f"{name.ljust(width)} | {value}")
    if not criteria == postits == expected:
        sys.exit(1)


if __name__ == "__main__":
    main()
