"""Benchmarks of the code suggestions (not a test; part of `make bench`).

    python tests/bench/suggestions.py [--database sqlite|postgres] [--codings 50000]

1. Batch: suggestions for 10,000 criteria texts (embed with USE + predict with the current
   model), bar 10 s.
2. One suggestion through the stack: one text POSTed to /api/v1/suggestions (routing,
   middleware, validation, model, JSON), median of 200 calls after warm-up, bar 30 ms; once
   with Django's test client in this process, once over HTTP to a real gunicorn server on
   loopback (the bar's "running server").
3. Retraining on 50,000 codings: a network model trained from the seed corpus, the demo
   criteria, the grid labels and 50,000 current codings, with its held-out measurement, bar
   2 minutes.

The 10,000 texts and the 50,000 coded criteria are made from the seed corpus and the demo
criteria (about 7,600 texts) by sampling with replacement and augmenting each copy so that
nearly every text is different, as post-its of many groups would be: a short lead-in in the
text's language ("Pour moi, ", "For me, "...), a dropped word, two swapped letters, accents
removed or the text in lower case, each with some probability. Each coding keeps the component
of the text it was made from. The database is a throw-away one (var/bench-suggestions.sqlite3,
or the PostgreSQL database named in BENCH_DATABASE_URL, dropped and recreated).
"""

from __future__ import annotations

import argparse
import os
import platform
import random
import statistics
import sys
import tempfile
import time
import unicodedata
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT))

LEAD_INS = {
    "fr": ["Pour moi, ", "Moi je dirais ", "Le bien-être c'est ", "Ce qui compte : "],
    "en": ["For me, ", "I'd say ", "What matters: ", "Well-being is "],
    "pt": ["Para mim, ", "Eu diria ", "O que conta: ", "Bem-estar é "],
    "it": ["Per me, ", "Direi ", "Quello che conta: ", "Il benessere è "],
    "es": ["Para mí, ", "Yo diría ", "Lo que cuenta: ", "El bienestar es "],
}


def configure(database: str) -> str:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "spiral.config.settings")
    os.environ["SPIRAL_ENV"] = "test"
    os.environ["AXES_ENABLED"] = "0"
    os.environ["SPIRAL_SUGGESTION_MODELS_DIR"] = tempfile.mkdtemp(prefix="spiral-bench-models-")
    if database == "sqlite":
        path = ROOT / "var" / "bench-suggestions.sqlite3"
        path.parent.mkdir(exist_ok=True)
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
        os.environ["SQLITE_PATH"] = str(path)
        os.environ.pop("DATABASE_URL", None)
        return f"SQLite {__import__('sqlite3').sqlite_version} (file, WAL)"
    url = os.environ.get("BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/spiral_bench")
    import psycopg

    base, name = url.rsplit("/", 1)
    with psycopg.connect(f"{base}/postgres", autocommit=True) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{name}"')
        connection.execute(f'CREATE DATABASE "{name}"')
        version = connection.execute("SHOW server_version").fetchone()[0]  # type: ignore[index]
    os.environ["DATABASE_URL"] = url
    return f"PostgreSQL {version}"


def augment(text: str, language: str, rng: random.Random) -> str:
    """A plausible variant of a post-it (see the module's docstring)."""
    words = text.split()
    if len(words) > 3 and rng.random() < 0.3:
        del words[rng.randrange(len(words))]
    text = " ".join(words)
    if rng.random() < 0.3 and len(text) > 4:
        i = rng.randrange(len(text) - 1)
        text = text[:i] + text[i + 1] + text[i] + text[i + 2 :]
    if rng.random() < 0.4:
        lead = rng.choice(LEAD_INS.get(language, LEAD_INS["en"]))
        text = lead + text[:1].lower() + text[1:]
    roll = rng.random()
    if roll < 0.15:
        text = text.lower()
    elif roll < 0.25:
        text = "".join(
            c for c in unicodedata.normalize("NFD", text) if not unicodedata.combining(c)
        )
    return text


def sample_texts(pool: list, count: int, rng: random.Random) -> list:
    """``count`` (example, text) pairs: the pool once as it is, then augmented copies."""
    chosen = [(e, e.text) for e in pool[:count]]
    while len(chosen) < count:
        example = rng.choice(pool)
        chosen.append((example, augment(example.text, example.language, rng)))
    rng.shuffle(chosen)
    return chosen


def add_coded_criteria(pairs: list, grid_version: object) -> None:
    """Criteria in 500 groups of one locality, each with one current coding (bulk, around the
    services: this is the training input, not a coding benchmark)."""
    from spiral.coding.models import Coding, CodingSource
    from spiral.consultations.models import (
        Criterion,
        GroupProfile,
        HomogeneousGroup,
        Meeting,
        QuestionSet,
    )
    from spiral.grid.models import Component
    from spiral.territories.services import territory_create

    network = territory_create(parent=None, name="Bench network", kind="network")
    town = territory_create(parent=network, name="Bench town", kind="locality")
    profile = GroupProfile.objects.first()
    question_set = QuestionSet.objects.get(is_default=True)
    questions = {q.kind: q for q in question_set.questions.all()}
    components = {c.code: c for c in Component.objects.filter(version=grid_version)}
    groups = HomogeneousGroup.objects.bulk_create(
        [
            HomogeneousGroup(territory=town, name=f"Group {i}", profile=profile, size=10)
            for i in range(500)
        ]
    )
    meetings = Meeting.objects.bulk_create(
        [
            Meeting(group=g, held_on="2026-10-01", question_set=question_set, language="fr")
            for g in groups
        ]
    )
    criteria = []
    for i, (example, text) in enumerate(pairs):
        meeting = meetings[i % len(meetings)]
        criteria.append(
            Criterion(
                meeting=meeting,
                question=questions.get(example.question) or questions["well_being"],
                text=text,
                language=example.language,
                position=i,
                group_id=meeting.group_id,
                territory=town,
            )
        )
    criteria = Criterion.objects.bulk_create(criteria, batch_size=2000)
    Coding.objects.bulk_create(
        [
            Coding(
                criterion=criterion,
                component=components[example.component],
                full_code=example.component,
                source=CodingSource.IMPORT,
            )
            for criterion, (example, _text) in zip(criteria, pairs, strict=True)
            if example.component in components
        ],
        batch_size=2000,
    )


def server_timings(texts: list[str], *, runs: int) -> tuple[float, float]:
    """Median and p90 (ms) of one-text POSTs to /api/v1/suggestions served by a real gunicorn
    process over loopback, on the database and models this run built (the server loads the
    current network model itself)."""
    import http.client
    import json
    import socket
    import subprocess

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = subprocess.Popen(
        [
            str(Path(sys.executable).parent / "gunicorn"),
            "spiral.config.wsgi",
            "--chdir",
            str(ROOT / "src"),
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            "1",
            "--log-level",
            "warning",
        ],
        env={**os.environ, "SPIRAL_ENV": "test", "DEBUG": "0"},
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
                connection.request("GET", "/api/v1/openapi.json")
                connection.getresponse().read()
                break
            except OSError:
                if time.monotonic() > deadline or server.poll() is not None:
                    raise RuntimeError("gunicorn did not start") from None
                time.sleep(0.3)
        durations = []
        for number in range(runs + 20):
            body = json.dumps({"texts": [{"text": texts[number % len(texts)], "lang": "fr"}]})
            started = time.perf_counter()
            connection.request(
                "POST", "/api/v1/suggestions", body, {"Content-Type": "application/json"}
            )
            response = connection.getresponse()
            payload = response.read()
            elapsed = (time.perf_counter() - started) * 1000
            assert response.status == 200, payload[:300]
            if number >= 20:  # the first calls load USE and the model
                durations.append(elapsed)
        connection.close()
    finally:
        server.terminate()
        server.wait(timeout=30)
    return statistics.median(durations), sorted(durations)[int(0.9 * (len(durations) - 1))]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--database", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--batch", type=int, default=10_000)
    parser.add_argument("--codings", type=int, default=50_000)
    parser.add_argument("--runs", type=int, default=200)
    args = parser.parse_args()
    engine = configure(args.database)

    import django

    django.setup()
    import json

    from django.core.management import call_command
    from django.test import Client
    from django.test.utils import setup_test_environment

    setup_test_environment()
    call_command("migrate", verbosity=0)
    from spiral.coding.models import Coding
    from spiral.coding.suggest.corpus import load_demo_examples, load_seed_corpus
    from spiral.coding.suggest.engine import Query, default_encoder
    from spiral.coding.suggest.training import (
        loaded_suggester,
        network_model,
        suggestion_model_create,
        suggestion_model_train,
    )
    from spiral.grid.models import GridVersion

    rng = random.Random(42)
    version = GridVersion.objects.default()
    assert version is not None
    pool = [*load_seed_corpus(), *load_demo_examples()]
    results: list[tuple[str, float, float, str]] = []

    # The model the batch and the API use: trained from the seed corpus (no codings yet).
    started = time.perf_counter()
    default_encoder().encode(["warm-up"])  # USE's weights: loaded once per process
    load_seconds = time.perf_counter() - started
    started = time.perf_counter()
    model = network_model(version=version)
    results.append(
        (
            f"train the first model ({model.examples:,} examples, no coding)",
            time.perf_counter() - started,
            120,
            "seed corpus + demo criteria + grid labels",
        )
    )
    suggester = loaded_suggester(model)

    pairs = sample_texts(pool, args.batch, rng)
    queries = [Query(text, e.language, e.question) for e, text in pairs]
    distinct = len({q.text for q in queries})
    started = time.perf_counter()
    ranked = suggester.predict(queries, k=3)
    batch_seconds = time.perf_counter() - started
    top3 = sum(
        e.component in [s.component for s in r] for (e, _t), r in zip(pairs, ranked, strict=True)
    )
    results.append(
        (
            f"suggestions for {args.batch:,} criteria (batch)",
            batch_seconds,
            10,
            f"{distinct:,} distinct texts; embed + predict",
        )
    )

    client = Client(HTTP_HOST="127.0.0.1")
    texts = [text for _e, text in sample_texts(pool, 500, rng)]
    counter = iter(range(10**9))

    def one() -> None:
        text = texts[next(counter) % len(texts)]
        response = client.post(
            "/api/v1/suggestions",
            json.dumps({"texts": [{"text": text, "lang": "fr"}]}),
            content_type="application/json",
        )
        assert response.status_code == 200, response.content[:300]

    for _ in range(20):
        one()  # warm-up
    durations = []
    for _ in range(args.runs):
        started = time.perf_counter()
        one()
        durations.append((time.perf_counter() - started) * 1000)
    median_ms = statistics.median(durations)
    p90_ms = sorted(durations)[int(0.9 * (len(durations) - 1))]
    results.append(
        (
            "one suggestion, POST /api/v1/suggestions (median)",
            median_ms / 1000,
            0.030,
            f"{args.runs} calls after warm-up; p90 {p90_ms:.1f} ms",
        )
    )

    median_ms, p90_ms = server_timings(texts, runs=args.runs)
    results.append(
        (
            "one suggestion, running server over HTTP (median)",
            median_ms / 1000,
            0.030,
            f"gunicorn, 1 worker, loopback keep-alive; {args.runs} calls; p90 {p90_ms:.1f} ms",
        )
    )

    started = time.perf_counter()
    add_coded_criteria(sample_texts(pool, args.codings, random.Random(7)), version)
    build_seconds = time.perf_counter() - started
    codings = Coding.objects.count()
    started = time.perf_counter()
    retrained = suggestion_model_train(model=suggestion_model_create(version=version))
    retrain_seconds = time.perf_counter() - started
    held_out = retrained.metrics.get("overall", {})
    results.append(
        (
            f"retrain on {codings:,} codings ({retrained.examples:,} examples)",
            retrain_seconds,
            120,
            "with the held-out measurement (20 % of groups) and the final fit; "
            f"held-out top-1 {held_out.get('top1_component', 0):.3f}, "
            f"top-3 {held_out.get('top3_component', 0):.3f}",
        )
    )

    print()
    print(
        f"Spiral suggestion benchmarks — {engine} — {platform.machine()}, {os.cpu_count()} "
        f"cores, Python {platform.python_version()}"
    )
    print(
        f"USE weights loaded in {load_seconds:.1f} s; {codings:,} coded criteria built in "
        f"{build_seconds:.1f} s; batch top-3 agreement with the source texts' codes "
        f"{top3 / len(pairs):.3f} (texts partly seen in training: not an evaluation)."
    )
    print()
    print(f"| {'benchmark':<58} | measured | bar | ok | note |")
    print(f"|{'-' * 60}|---------:|----:|----|------|")
    for name, seconds, bar, note in results:
        measured = f"{seconds * 1000:.1f} ms" if bar < 1 else f"{seconds:.1f} s"
        bar_text = f"{bar * 1000:.0f} ms" if bar < 1 else f"{bar:.0f} s"
        print(
            f"| {name:<58} | {measured:>8} | {bar_text} | {'yes' if seconds < bar else 'NO'} "
            f"| {note} |"
        )
    sys.exit(0 if all(seconds < bar for _n, seconds, bar, _note in results) else 1)


if __name__ == "__main__":
    main()
