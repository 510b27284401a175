"""Validation of text written by citizens: stored exactly as written, absurd input refused."""

from __future__ import annotations

import re

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

CRITERION_MAX_LENGTH = 2000
# Exactly the characters of Unicode category Cc (C0 controls, DEL, C1 controls; the category
# is closed, tests/test_core.py checks every code point).
CONTROL_CHARACTER = re.compile("[\x00-\x1f\x7f-\x9f]")


def clean_criterion_text(raw: str) -> str:
    """Strip surrounding blanks only; refuse empty, overlong or control-character text."""
    text = raw.strip()
    if not text:
        raise ValidationError(_("The criterion is empty."), code="empty")
    if len(text) > CRITERION_MAX_LENGTH:
        raise ValidationError(
            _("The criterion is %(length)s characters long; the limit is %(limit)s.")
            % {"length": len(text), "limit": CRITERION_MAX_LENGTH},
            code="too_long",
        )
    # Cc covers NUL, escape, bell and the like; bidi marks (Cf) and emoji stay allowed so
    # right-to-left scripts and emoji are stored exactly as written. One regular expression
    # instead of a category lookup per character: imports check 100,000 lines.
    control = CONTROL_CHARACTER.search(text)
    if control is not None:
        raise ValidationError(
            _("The criterion contains an invisible control character (U+%(code)04X).")
            % {"code": ord(control.group())},
            code="control_character",
        )
    return text


def is_plain_number(text: str) -> bool:
    """ASCII digits only: str.isdigit() also accepts "²" or "①", which int() refuses (a page
    asked for ?meeting=² would otherwise fail with a server error)."""
    return text.isascii() and text.isdigit()
