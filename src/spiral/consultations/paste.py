"""Reading pasted lines: the wikispiral format ``count;criterion;component`` and tab-separated rows
copied from a spreadsheet (count, criterion, component, in that order, or criterion first)."""

from __future__ import annotations

import re
from dataclasses import dataclass

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

COUNT_RE = re.compile(r"^\d{1,6}$")
# A cell that is meant as a code, valid or not: short, no blank, with a digit, a slash or a single
# letter. Its validity is checked against the grid later, so a typo gets a clear message instead
# of silently becoming part of the criterion.
CODE_ATTEMPT_RE = re.compile(r"^(?=\S{1,20}$)(?:[A-Za-z]|.*[\d/].*)$")
MAX_COLUMNS_MESSAGE = gettext_lazy("count;criterion;component")


@dataclass(frozen=True)
class PastedLine:
    number: int
    raw: str
    text: str
    expressions: int
    code: str
    error: str = ""


def _is_count(cell: str) -> bool:
    return bool(COUNT_RE.match(cell.strip()))


def _is_code_attempt(cell: str) -> bool:
    return bool(CODE_ATTEMPT_RE.match(cell.strip()))


def parse_pasted_line(raw: str, number: int) -> PastedLine | None:
    """Split one pasted line into count, text and code; None for a blank line."""
    if not raw.strip():
        return None
    delimiter = "\t" if "\t" in raw else ";"
    cells = raw.split(delimiter)
    while len(cells) > 1 and not cells[-1].strip():
        cells.pop()  # trailing empty cells copied from spreadsheets
    stripped = [cell.strip() for cell in cells]

    count_text, code = "1", ""
    if len(cells) == 1:
        text = stripped[0]
    elif _is_count(stripped[0]):
        count_text = stripped[0]
        if len(cells) >= 3 and _is_code_attempt(stripped[-1]):
            code = stripped[-1]
            text = delimiter.join(cells[1:-1]).strip()
        else:
            text = delimiter.join(cells[1:]).strip()
    elif _is_count(stripped[1]):
        # criterion first, as people often lay out a spreadsheet: criterion, count[, component]
        text, count_text = stripped[0], stripped[1]
        if len(cells) > 3:
            return PastedLine(
                number,
                raw,
                text,
                1,
                "",
                _("Too many columns: expected %(format)s.") % {"format": MAX_COLUMNS_MESSAGE},
            )
        code = stripped[2] if len(cells) == 3 else ""
    elif len(cells) == 2 and _is_code_attempt(stripped[1]):
        text, code = stripped[0], stripped[1]
    else:
        return PastedLine(
            number,
            raw,
            delimiter.join(cells[1:]).strip(),
            1,
            "",
            _(
                "“%(count)s” is not a number of expressions: start the line with a whole number, "
                "for example 2;criterion;A01."
            )
            % {"count": stripped[0]},
        )

    expressions = int(count_text)
    if expressions < 1:
        return PastedLine(
            number, raw, text, 1, code, _("The number of expressions must be at least 1.")
        )
    return PastedLine(number, raw, text, expressions, code)


def parse_pasted_text(text: str) -> list[PastedLine]:
    """Every non-blank line, numbered from 1 as the person sees them in the box."""
    lines = []
    for number, raw in enumerate(text.splitlines(), start=1):
        parsed = parse_pasted_line(raw, number)
        if parsed is not None:
            lines.append(parsed)
    return lines
