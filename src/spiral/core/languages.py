"""Languages a criterion can be written in (not only the interface languages)."""

from __future__ import annotations

from django.conf.locale import LANG_INFO
from django.utils.translation import gettext_lazy as _

# Citizens write in their own language; these are the ones the network works in today, plus the
# large languages of people who join groups (migrants' groups write in Arabic, Wolof...).
CRITERION_LANGUAGE_CODES = (
    "fr",
    "en",
    "pt",
    "it",
    "es",
    "de",
    "nl",
    "ro",
    "lv",
    "el",
    "pl",
    "ca",
    "eu",
    "br",
    "ar",
    "tr",
    "ru",
    "uk",
    "bg",
    "hr",
    "sr",
    "sq",
    "fa",
    "he",
    "hi",
    "zh-hans",
    "wo",
    "sw",
)


# Languages Django does not describe, named in their own language.
EXTRA_LANGUAGE_NAMES = {"wo": "Wolof", "eu": "Euskara", "zh-hans": "简体中文"}


def language_name(code: str) -> str:
    if code in EXTRA_LANGUAGE_NAMES:
        return EXTRA_LANGUAGE_NAMES[code]
    info = LANG_INFO.get(code)
    if not info:
        return code
    return str(info.get("name_local") or info.get("name") or code)


def criterion_language_choices() -> list[tuple[str, str]]:
    return [(code, f"{language_name(code)} ({code})") for code in CRITERION_LANGUAGE_CODES]


UNKNOWN_LANGUAGE_MESSAGE = _("Unknown language code “%(code)s”.")
