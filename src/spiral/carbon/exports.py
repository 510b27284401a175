"""A campaign's anonymous results as CSV and XLSX: one row per result, no account, no link."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.db.models import QuerySet, Sum

from spiral.carbon.models import FootprintResult
from spiral.carbon.questions import CATEGORIES, SUBCATEGORIES
from spiral.core.tables import sheet_title, table_csv, table_xlsx

COLUMNS = [
    "row",
    "month",
    "country",
    "factor_set_version",
    "total_kg",
    *(f"{code}_kg" for code, _label in CATEGORIES),
    *(f"{code}.{sub}_kg" for code, subs in SUBCATEGORIES.items() for sub, _label in subs),
    "pledged_kg",
    "answered_questions",
]


def result_rows(results: QuerySet[FootprintResult]) -> Iterable[dict[str, Any]]:
    """Rows numbered in order, not by id, and dated to the month: nothing to link a row to a
    person who told the group the day they filled it."""
    queryset = results.annotate(pledged=Sum("pledges__saving_kg")).select_related("factor_set")
    for index, result in enumerate(queryset, start=1):
        row: dict[str, Any] = {
            "row": index,
            "month": result.created_at.strftime("%Y-%m"),
            "country": result.factor_set.country,
            "factor_set_version": result.factor_set.version,
            "total_kg": round(result.total_kg, 1),
            "pledged_kg": round(float(getattr(result, "pledged", 0) or 0), 1),
            "answered_questions": len(result.answers),
        }
        for code, _label in CATEGORIES:
            row[f"{code}_kg"] = round(result.category_kg(code), 1)
            for sub, value in result.detail["categories"][code]["subcategories"].items():
                row[f"{code}.{sub}_kg"] = value
        yield row


def results_csv(results: QuerySet[FootprintResult]) -> str:
    return table_csv(COLUMNS, result_rows(results))


def results_xlsx(results: QuerySet[FootprintResult], *, title: str) -> bytes:
    return table_xlsx(COLUMNS, result_rows(results), title=sheet_title(title, fallback="carbon"))
