"""The phases and cycles of the method, read from data/method/ (cached per process)."""

from __future__ import annotations

import csv
from functools import cache
from pathlib import Path

from django.conf import settings
from django.utils.translation import gettext_lazy as _

from spiral.core.i18n import current_language

METHOD_DIR = Path(settings.PACKAGE_DIR) / "data" / "method"

# Cycle names are interface labels (translated in locale/), from the method's reference notes.
CYCLE_LABELS = {
    0: _("Cycle 0 – awareness"),
    1: _("Cycle 1 – preparation"),
    2: _("Cycle 2 – mobilisation"),
    3: _("Cycle 3 – integration and strengthening"),
}


@cache
def _phase_rows() -> dict[int, dict[str, str]]:
    with (METHOD_DIR / "phases.tsv").open(encoding="utf-8", newline="") as handle:
        return {int(row["phase"]): row for row in csv.DictReader(handle, delimiter="\t")}


def phase_texts() -> dict[int, tuple[str, str]]:
    """Phase number -> (label, description) in the active language."""
    language = current_language()
    language = language if language in ("fr", "en") else "en"
    return {
        phase: (row[f"label_{language}"], row[f"description_{language}"])
        for phase, row in _phase_rows().items()
    }


def step_rows() -> list[dict[str, str]]:
    with (METHOD_DIR / "steps.tsv").open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle, delimiter="\t"))
