"""Inserting hundreds of thousands of rows fast, on SQLite and PostgreSQL alike.

The ORM's bulk_create prepares every value of every row through the field machinery and, on
SQLite, sends at most 999 parameters per statement: about 1 ms per imported line once the
criterion, its revision and its coding are counted. A plain ``executemany`` of ready values on
SQLite, and COPY on PostgreSQL, are many times faster and still run inside the caller's
transaction."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from itertools import chain
from typing import Any

from django.db import connection
from django.db.models import Model

CHUNK = 5000


def rows_insert(*, model: type[Model], fields: Sequence[str], rows: Iterable[Sequence[Any]]) -> int:
    """INSERT the rows (values in the order of ``fields``, model field names) into the model's
    table; datetimes are adapted for the backend. Returns the number of rows."""
    meta = model._meta
    quote = connection.ops.quote_name
    columns = [str(meta.get_field(name).column) for name in fields]  # type: ignore[union-attr]
    sql = (
        f"INSERT INTO {quote(meta.db_table)} ({', '.join(quote(c) for c in columns)}) "
        f"VALUES ({', '.join(['%s'] * len(columns))})"
    )
    adapted: dict[datetime, Any] = {}

    def adapt(value: datetime) -> Any:
        # Rows of one import share a timestamp: adapt it once, not once per row.
        if value not in adapted:
            adapted[value] = connection.ops.adapt_datetimefield_value(value)
        return adapted[value]

    if connection.vendor == "postgresql":
        iterator = iter(rows)
        first = next(iterator, None)
        if first is None:  # nothing to copy: skip the COPY statement's round trip
            return 0
        return _copy(table=meta.db_table, columns=columns, rows=chain([first], iterator))
    count = 0
    chunk: list[Sequence[Any]] = []
    with connection.cursor() as cursor:
        for row in rows:
            chunk.append([adapt(v) if isinstance(v, datetime) else v for v in row])
            if len(chunk) == CHUNK:
                cursor.executemany(sql, chunk)
                count += len(chunk)
                chunk = []
        if chunk:
            cursor.executemany(sql, chunk)
            count += len(chunk)
    return count


def _copy(*, table: str, columns: list[str], rows: Iterable[Sequence[Any]]) -> int:
    """PostgreSQL: COPY FROM STDIN, several times faster than INSERTs (psycopg adapts values)."""
    quote = connection.ops.quote_name
    count = 0
    with connection.cursor() as cursor:
        statement = f"COPY {quote(table)} ({', '.join(quote(c) for c in columns)}) FROM STDIN"
        with cursor.cursor.copy(statement) as copy:
            for row in rows:
                copy.write_row(row)
                count += 1
    return count
