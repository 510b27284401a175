"""Self-entry rate limits hold across web processes: the counters are rows of one table,
counted with one atomic statement, not entries of a per-process cache."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from django.core.cache import cache
from django.db import connection

from spiral.selfentry.models import RateLimitCounter
from spiral.selfentry.ratelimit import rate_limited, rate_limits_purge


@pytest.mark.django_db
def test_a_worker_with_its_own_empty_cache_still_sees_the_count() -> None:
    assert rate_limited(key="phone:1:abc", limit=2, window=600) == 0
    assert rate_limited(key="phone:1:abc", limit=2, window=600) == 0
    # Another gunicorn worker has its own (empty) memory: the count must not live there.
    cache.clear()
    wait = rate_limited(key="phone:1:abc", limit=2, window=600)
    assert 1 <= wait <= 600
    # Other keys are counted apart.
    assert rate_limited(key="phone:1:other", limit=2, window=600) == 0


@pytest.mark.django_db
def test_a_very_long_key_is_stored_hashed_and_still_counted() -> None:
    key = "badcode:" + "x" * 400
    assert rate_limited(key=key, limit=1, window=60) == 0
    assert rate_limited(key=key, limit=1, window=60) > 0
    assert all(len(k) <= 200 for k in RateLimitCounter.objects.values_list("key", flat=True))


@pytest.mark.django_db
def test_expired_windows_are_purged_and_current_ones_kept() -> None:
    rate_limited(key="meeting:7", limit=10, window=60)
    RateLimitCounter.objects.create(
        key="meeting:7:1", count=3, expires_at=datetime.now(tz=UTC) - timedelta(minutes=5)
    )
    assert rate_limits_purge() == 1
    assert RateLimitCounter.objects.filter(key__startswith="meeting:7:").count() == 1


CHILD = """
import os, sys
sys.path.insert(0, "src")
import django
django.setup()
from spiral.selfentry.ratelimit import rate_limited
print(sum(1 for _ in range(CALLS) if rate_limited(key="phone:3:p", limit=LIMIT, window=600) == 0))
"""


def _child_environment(tmp_path: Path) -> dict[str, str]:
    """The environment of a web process that uses the test database."""
    env = dict(os.environ, DJANGO_SETTINGS_MODULE="spiral.config.settings", SPIRAL_ENV="test")
    if connection.vendor == "sqlite":
        # The test database lives in this process's memory: copy it to a file the children open.
        path = tmp_path / "shared.sqlite3"
        target = sqlite3.connect(path)
        connection.ensure_connection()
        connection.connection.backup(target)
        target.close()
        env.pop("DATABASE_URL", None)
        env["SQLITE_PATH"] = str(path)
        return env
    db = connection.settings_dict
    env["DATABASE_URL"] = (
        f"postgres://{db['USER']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"
    )
    return env


@pytest.mark.django_db(transaction=True)
def test_several_processes_share_one_limit(tmp_path: Path) -> None:
    """Three separate Python processes (as three gunicorn workers), each with its own memory and
    database connection, count against one limit: together they let exactly the limit through."""
    env = _child_environment(tmp_path)
    script = CHILD.replace("CALLS", "6").replace("LIMIT", "10")
    children = [
        subprocess.Popen(
            [sys.executable, "-c", script],
            cwd=Path(__file__).resolve().parents[1],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(3)
    ]
    outputs = [child.communicate(timeout=120) for child in children]
    assert all(child.returncode == 0 for child in children), [err for _out, err in outputs]
    assert sum(int(out.strip().splitlines()[-1]) for out, _err in outputs) == 10
