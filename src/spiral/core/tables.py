"""Tables as CSV and XLSX files, and the HTTP response that downloads them.

One writer for every export (syntheses, co-evaluation results, carbon campaigns, lists): the
same rows give the same file whichever screen or API asks, and a fix to the format (a sheet
name Excel refuses, a cell type) reaches every export at once."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, Literal

import xlsxwriter
from django.http import HttpResponse
from django.utils.translation import gettext as _

CSV_CONTENT_TYPE = "text/csv; charset=utf-8"
XLSX_CONTENT_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
EXPORT_FORMATS = ("csv", "xlsx")

Row = Mapping[str, Any]
# Characters Excel refuses in a sheet name; a campaign called "Rue A/B" must still export.
_SHEET_NAME_FORBIDDEN = re.compile(r"[\[\]:*?/\\]")


def table_csv(
    columns: Sequence[str],
    rows: Iterable[Row],
    *,
    extra: Literal["raise", "ignore"] = "raise",
) -> str:
    """A header line, then one line per row, "\\n" between lines (as every export always had)."""
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(columns), lineterminator="\n", extrasaction=extra)
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue()


def sheet_title(title: str, *, fallback: str = "Sheet") -> str:
    """A name Excel accepts: at most 31 characters, none of []:*?/\\."""
    return _SHEET_NAME_FORBIDDEN.sub("-", title)[:31] or fallback


def table_xlsx(
    columns: Sequence[str],
    rows: Iterable[Row],
    *,
    title: str,
    number_formats: Mapping[str, str] | None = None,
    widths: Mapping[int, float] | None = None,
    about: Sequence[tuple[str, str]] | None = None,
) -> bytes:
    """A workbook: a bold, frozen header row, then the rows; cells keep their Python type.

    number_formats gives a column (by name) an Excel number format, e.g. "0.0%"; a missing
    value stays a plain blank cell. Text is never read as a formula. widths sets column widths
    by index. about, when given, adds a second sheet of (label, value) lines saying what the
    figures are."""
    buffer = io.BytesIO()
    # Text that starts with "=" stays text: an indicator title or a label typed by a person must
    # never run as a formula in the spreadsheet of whoever opens the export. A web address in a
    # post-it stays text too: xlsxwriter would turn it into a link, and refuses more than 65,530
    # links in a sheet, which a large criteria export can reach.
    workbook = xlsxwriter.Workbook(
        buffer, {"in_memory": True, "strings_to_formulas": False, "strings_to_urls": False}
    )
    bold = workbook.add_format({"bold": True})
    formats = {
        name: workbook.add_format({"num_format": num_format})
        for name, num_format in (number_formats or {}).items()
    }
    sheet = workbook.add_worksheet(sheet_title(title))
    sheet.write_row(0, 0, list(columns), bold)
    for index, row in enumerate(rows, start=1):
        for column, name in enumerate(columns):
            value = row.get(name)
            cell_format = formats.get(name) if value is not None else None
            if cell_format is None:
                sheet.write(index, column, value)
            else:
                sheet.write(index, column, value, cell_format)
    sheet.freeze_panes(1, 0)
    for column, width in (widths or {}).items():
        sheet.set_column(column, column, width)
    if about is not None:
        notes = workbook.add_worksheet(sheet_title(_("About")))
        for index, (label, text) in enumerate(about):
            notes.write(index, 0, label, bold)
            notes.write(index, 1, text)
        notes.set_column(0, 0, 24)
        notes.set_column(1, 1, 80)
    workbook.close()
    return buffer.getvalue()


def download_response(content: str | bytes, *, fmt: str, filename: str) -> HttpResponse:
    """The file as an attachment named filename.fmt (fmt is "csv" or "xlsx")."""
    content_type = CSV_CONTENT_TYPE if fmt == "csv" else XLSX_CONTENT_TYPE
    response = HttpResponse(content, content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="{filename}.{fmt}"'
    return response
