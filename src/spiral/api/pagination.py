"""One page envelope for the lists of the API: ``limit`` and ``offset`` in, and
``{"count", "limit", "offset", "next", "previous", "results"}`` out."""

from __future__ import annotations

from collections.abc import Callable
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
    out: Callable[[Any], Any] | None = None,
    *,
    out_all: Callable[[list[Any]], list[Any]] | None = None,
    count: int | None = None,
) -> dict[str, Any]:
    """One page of a query set, each item converted by ``out``, or the whole page at once by
    ``out_all`` (when converting needs one query for the page, not one per item). ``count``,
    when the caller knows it without counting rows (a stored figure), saves the COUNT."""
    if count is None:
        count = items.count()
    rows: list[Any] = list(items[query.offset : query.offset + query.limit])
    if out_all is not None:
        results = out_all(rows)
    else:
        assert out is not None, "page_of needs out or out_all"
        results = [out(item) for item in rows]
    return {**page_envelope(request, query, count=count), "results": results}


def page_envelope(request: HttpRequest, query: PageQuery, *, count: int) -> dict[str, Any]:
    """The envelope without its results, for a list that builds them itself."""
    following = query.offset + query.limit
    return {
        "count": count,
        "limit": query.limit,
        "offset": query.offset,
        "next": _url(request, following) if following < count else None,
        "previous": _url(request, max(query.offset - query.limit, 0)) if query.offset else None,
    }
