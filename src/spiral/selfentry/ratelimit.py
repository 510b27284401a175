"""A small fixed-window rate limit in the cache, for the public self-entry endpoints.

Log-in attempts have axes; phones have no account, so their requests are counted per meeting
and anonymous participant (and unknown codes per address, so codes cannot be guessed)."""

from __future__ import annotations

import time

from django.core.cache import cache


def rate_limited(*, key: str, limit: int, window: int) -> int:
    """Count one request; return 0 if allowed, else the seconds to wait before trying again."""
    bucket = int(time.time() // window)
    cache_key = f"spiral:rl:{key}:{bucket}"
    if cache.add(cache_key, 1, timeout=window + 5):
        count = 1
    else:
        try:
            count = cache.incr(cache_key)
        except ValueError:  # expired between add and incr
            cache.set(cache_key, 1, timeout=window + 5)
            count = 1
    if count <= limit:
        return 0
    return max(1, window - int(time.time()) % window)
