"""Validation of text written by citizens: stored exactly as written, absurd input refused."""

from __future__ import annotations

import unicodedata

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

CRITERION_MAX_LENGTH = 2000


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
    for char in text:
        # Cc covers NUL, escape, bell and the like; bidi marks (Cf) and emoji stay allowed so
        # right-to-left scripts and emoji are stored exactly as written.
        if unicodedata.category(char) == "Cc":
            raise ValidationError(
                _("The criterion contains an invisible control character (U+%(code)04X).")
                % {"code": ord(char)},
                code="control_character",
            )
    return text
