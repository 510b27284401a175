"""Reading uploaded tables: CSV with any delimiter and encoding people's spreadsheets produce,
XLSX (read-only, streamed) and the wikispiral paste format ``count;criterion;component``."""

from __future__ import annotations

import csv
import datetime
import io
from dataclasses import dataclass, field

from django.utils.translation import gettext as _

from spiral.consultations.paste import parse_pasted_text
from spiral.core.errors import ImportRejected, LineError

PASTE_COLUMNS = ["count", "criterion", "component"]
SNIFF_SAMPLE = 64 * 1024
DELIMITERS = ",;\t|"


@dataclass
class Table:
    """Rows of cells, each with the line number people see in their editor or spreadsheet."""

    columns: list[str]
    rows: list[tuple[int, list[str]]]
    # Lines the reader itself could not read (paste format), reported with the others.
    errors: list[LineError] = field(default_factory=list)

    def preview(self, limit: int = 10) -> list[tuple[int, list[str]]]:
        return self.rows[:limit]


def decode(content: bytes) -> str:
    """UTF-8 with or without a byte-order mark; otherwise Latin-1 (old spreadsheet exports)."""
    try:
        return content.decode("utf-8-sig")
    except UnicodeDecodeError:
        return content.decode("latin-1")


def _consistent_width(sample: str, delimiter: str) -> int:
    """The number of fields every line of the sample has with this delimiter, or 0."""
    try:
        rows = list(csv.reader(io.StringIO(sample, newline=""), delimiter=delimiter))
    except csv.Error:
        return 0
    widths = {len(r) for r in rows if any(c.strip() for c in r)}
    return widths.pop() if len(widths) == 1 else 0


def sniff_delimiter(text: str) -> str:
    """The delimiter that splits every line of the sample into the same number of fields
    (header included), csv.Sniffer's choice first; else the one most frequent in line one."""
    sample = text[:SNIFF_SAMPLE]
    # Cut the sample at a line end so a half line does not mislead the sniffer.
    if len(text) > SNIFF_SAMPLE and "\n" in sample:
        sample = sample.rsplit("\n", 1)[0]
    try:
        sniffed = csv.Sniffer().sniff(sample, delimiters=DELIMITERS).delimiter
    except csv.Error:
        sniffed = ""
    widths = {d: _consistent_width(sample, d) for d in DELIMITERS}
    if sniffed and widths.get(sniffed, 0) > 1:
        return sniffed
    consistent = [d for d in DELIMITERS if widths[d] > 1]
    if consistent:
        return max(consistent, key=lambda d: widths[d])
    first = sample.split("\n", 1)[0]
    counts = {d: first.count(d) for d in DELIMITERS}
    best = max(counts, key=lambda d: counts[d])
    return best if counts[best] else (sniffed or ",")


def _columns(first: list[str] | None, width: int, has_header: bool) -> list[str]:
    if has_header and first is not None:
        names = [
            name.strip() or _("column %(number)s") % {"number": i + 1}
            for i, name in enumerate(first)
        ]
    else:
        names = []
    names += [_("column %(number)s") % {"number": i + 1} for i in range(len(names), width)]
    return names


def read_csv(content: bytes, *, has_header: bool = True, limit: int | None = None) -> Table:
    text = decode(content)
    delimiter = sniff_delimiter(text)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    header: list[str] | None = None
    rows: list[tuple[int, list[str]]] = []
    line_start = 1
    try:
        for cells in reader:
            number = line_start
            line_start = reader.line_num + 1
            if not any(cell.strip() for cell in cells):
                continue
            if has_header and header is None:
                header = cells
                continue
            rows.append((number, cells))
            if limit is not None and len(rows) >= limit:
                break
    except csv.Error as error:
        raise ImportRejected(
            [LineError(line_start, _("The file could not be read: %(error)s") % {"error": error})]
        ) from error
    width = max([len(header or [])] + [len(cells) for _n, cells in rows])
    return Table(_columns(header, width, has_header), rows)


def _cell(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, datetime.datetime):
        return value.date().isoformat() if value.time() == datetime.time() else value.isoformat()
    if isinstance(value, datetime.date):
        return value.isoformat()
    return str(value)


def read_xlsx(content: bytes, *, has_header: bool = True, limit: int | None = None) -> Table:
    """The first sheet, streamed (read-only mode keeps memory flat on large workbooks)."""
    from openpyxl import load_workbook

    try:
        workbook = load_workbook(io.BytesIO(content), read_only=True, data_only=True)
    except Exception as error:  # openpyxl raises many kinds for a file that is not a workbook
        raise ImportRejected(
            [LineError(0, _("The file is not an Excel workbook (.xlsx) that can be read."))]
        ) from error
    try:
        sheet = workbook.worksheets[0]
        header: list[str] | None = None
        rows: list[tuple[int, list[str]]] = []
        for number, values in enumerate(sheet.iter_rows(values_only=True), start=1):
            cells = [_cell(v) for v in values]
            while cells and not cells[-1].strip():
                cells.pop()
            if not cells:
                continue
            if has_header and header is None:
                header = cells
                continue
            rows.append((number, cells))
            if limit is not None and len(rows) >= limit:
                break
    finally:
        workbook.close()
    width = max([len(header or [])] + [len(cells) for _n, cells in rows])
    return Table(_columns(header, width, has_header), rows)


def xlsx_row_count(content: bytes) -> int | None:
    """Rows of the first sheet as the workbook declares them (header included), without reading
    them: None when the workbook does not say."""
    from openpyxl import load_workbook

    try:
        workbook = load_workbook(io.BytesIO(content), read_only=True, data_only=True)
    except Exception:
        return None
    try:
        return workbook.worksheets[0].max_row
    finally:
        workbook.close()


def read_paste(content: bytes) -> Table:
    """Lines ``count;criterion;component`` read by the transcription screen's own parser."""
    rows: list[tuple[int, list[str]]] = []
    errors: list[LineError] = []
    for line in parse_pasted_text(decode(content)):
        if line.error:
            errors.append(LineError(line.number, line.error, line.raw))
        rows.append((line.number, [str(line.expressions), line.text, line.code]))
    return Table(list(PASTE_COLUMNS), rows, errors)


def detect_format(filename: str, content: bytes) -> str:
    """xlsx (a zip), paste (.txt) or csv."""
    name = filename.lower()
    if content[:2] == b"PK" or name.endswith((".xlsx", ".xlsm")):
        return "xlsx"
    if name.endswith(".txt"):
        return "paste"
    return "csv"


def read_table(
    content: bytes, *, file_format: str, has_header: bool = True, limit: int | None = None
) -> Table:
    if file_format == "xlsx":
        return read_xlsx(content, has_header=has_header, limit=limit)
    if file_format == "paste":
        return read_paste(content)
    return read_csv(content, has_header=has_header, limit=limit)
