"""One page envelope for the lists of the API: ``limit`` and ``offset`` in, and
``{"count", "limit", "offset", "next", "previous", "results"}`` out."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from django.db.models import QuerySet
from django.http import HttpRequest
from ninja import Field, Schema

LIMIT_DEFAULT = 50
LIMIT_MAX = 200
OFFSET_MAX = 1_000_000_000  # keeps the offset within the databases' integers


class PageQuery(Schema):
    limit: int = Field(LIMIT_DEFAULT, ge=1, le=LIMIT_MAX, description="Items per page.")
    offset: int = Field(0, ge=0, le=OFFSET_MAX, description="Items to skip.")


class PageOut(Schema):
    """The envelope of every list (``results`` typed by each endpoint)."""

    count: int = Field(description="Items matching the filters, on every page.")
    limit: int
    offset: int
    next: str | None = Field(description="URL of the next page, null on the last one.")
    previous: str | None = Field(description="URL of the previous page, null on the first.")


def _url(request: HttpRequest, offset: int) -> str:
    params = request.GET.copy()
    params["offset"] = str(offset)
    return request.build_absolute_uri(f"{request.path}?{params.urlencode()}")


def page_of(
    request: HttpRequest,
    items: QuerySet[Any],
    query: PageQuery,
    out: Callable[[Any], Any],
) -> dict[str, Any]:
    """One page of a query set, each item converted by ``out``."""
    count = items.count()
    rows: Iterable[Any] = items[query.offset : query.offset + query.limit]
    following = query.offset + query.limit
    return {
        "count": count,
        "limit": query.limit,
        "offset": query.offset,
        "next": _url(request, following) if following < count else None,
        "previous": _url(request, max(query.offset - query.limit, 0)) if query.offset else None,
        "results": [out(item) for item in rows],
    }
