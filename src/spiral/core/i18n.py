"""Pick the right language variant of model fields such as ``label_fr`` / ``label_en``."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.utils import translation

FALLBACK_LANGUAGES = ("en", "fr")


def current_language() -> str:
    """The active interface language, reduced to its base code (``pt-br`` -> ``pt``)."""
    return (translation.get_language() or settings.LANGUAGE_CODE).split("-")[0]


def translated(obj: Any, field: str, language: str | None = None) -> str:
    """Return ``obj.<field>_<language>``, falling back to English then French when empty."""
    wanted = (language or current_language()).split("-")[0]
    for code in (wanted, *FALLBACK_LANGUAGES):
        value = getattr(obj, f"{field}_{code}", None)
        if value:
            return str(value)
    return ""


def interface_languages() -> list[str]:
    return [code for code, _name in settings.LANGUAGES]
