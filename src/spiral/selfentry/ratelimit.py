"""A small fixed-window rate limit in the database, for the public self-entry endpoints.

Log-in attempts have axes; phones have no account, so their requests are counted per meeting
and anonymous participant (and unknown codes per address, so codes cannot be guessed).

The counters live in a table, not in Django's cache: the cache is per process here (no CACHES
setting, so each gunicorn worker has its own memory), and a limit counted per process lets
through as many times more requests as there are workers. One ``INSERT … ON CONFLICT DO UPDATE
… RETURNING`` counts a request atomically on SQLite (3.35+) and PostgreSQL alike, so concurrent
requests in different processes never lose a count (docs/decisions/0016)."""

from __future__ import annotations

import hashlib
import random
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from django.db import connection, transaction

from spiral.selfentry.models import RateLimitCounter

TABLE = RateLimitCounter._meta.db_table
# Expired windows are deleted by one request in this many, so the table stays small.
PURGE_ONE_IN = 200

COUNT_SQL = f"""
    INSERT INTO {TABLE} ("key", "count", "expires_at") VALUES (%s, 1, %s)
    ON CONFLICT ("key") DO UPDATE SET "count" = {TABLE}."count" + 1
    RETURNING "count"
"""


def _stored_key(key: str, bucket: int) -> str:
    full = f"{key}:{bucket}"
    if len(full) <= 200:
        return full
    return f"sha256:{hashlib.sha256(full.encode()).hexdigest()}:{bucket}"


@dataclass(frozen=True)
class RateLimit:
    key: str
    limit: int
    window: int  # seconds


def rate_limits_count(*limits: RateLimit) -> int:
    """Count one request against each of these limits, in one short transaction (one write on
    SQLite instead of one per limit); return 0 if every limit allows it, else the longest wait
    in seconds before trying again."""
    now = time.time()
    wait = 0
    # Its own short transaction: the count holds even if the request then fails.
    with transaction.atomic(), connection.cursor() as cursor:
        for rule in limits:
            bucket = int(now // rule.window)
            expires_at = datetime.fromtimestamp((bucket + 1) * rule.window, tz=UTC)
            cursor.execute(
                COUNT_SQL,
                [
                    _stored_key(rule.key, bucket),
                    connection.ops.adapt_datetimefield_value(expires_at),
                ],
            )
            if int(cursor.fetchone()[0]) > rule.limit:
                wait = max(wait, max(1, rule.window - int(now) % rule.window))
    if random.randrange(PURGE_ONE_IN) == 0:
        rate_limits_purge()
    return wait


def rate_limited(*, key: str, limit: int, window: int) -> int:
    """Count one request; return 0 if allowed, else the seconds to wait before trying again."""
    return rate_limits_count(RateLimit(key=key, limit=limit, window=window))


def rate_limits_purge(*, now: datetime | None = None) -> int:
    """Delete the counters of windows that are over; returns how many."""
    deleted, _by_model = RateLimitCounter.objects.filter(
        expires_at__lt=now or datetime.now(tz=UTC) - timedelta(seconds=1)
    ).delete()
    return deleted
