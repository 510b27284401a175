"""Load the reference data shipped under data/ (profiles, question sets, method steps, default
grid). Only missing entries are created, so edits made in the admin are never overwritten."""

from __future__ import annotations

import csv
import json
from pathlib import Path

from django.conf import settings
from django.db import transaction

DATA_DIR = Path(settings.PACKAGE_DIR) / "data"


def _tsv(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle, delimiter="\t"))


@transaction.atomic
def sync_profiles() -> int:
    from spiral.consultations.models import GroupProfile

    created = 0
    for position, row in enumerate(_tsv(DATA_DIR / "profiles" / "profiles.tsv")):
        _obj, was_created = GroupProfile.objects.get_or_create(
            code=row["code"],
            defaults={
                "label_fr": row["label_fr"],
                "label_en": row["label_en"],
                "description_fr": row["description_fr"],
                "description_en": row["description_en"],
                "position": position,
            },
        )
        created += was_created
    return created


@transaction.atomic
def sync_question_sets() -> int:
    from spiral.consultations.models import Question, QuestionSet

    created = 0
    for path in sorted((DATA_DIR / "questions").glob("*.json")):
        data = json.loads(path.read_text(encoding="utf-8"))
        if QuestionSet.objects.filter(code=data["code"]).exists():
            continue
        is_default = (
            bool(data.get("is_default"))
            and not QuestionSet.objects.filter(is_default=True).exists()
        )
        question_set = QuestionSet.objects.create(
            code=data["code"],
            name_fr=data["name_fr"],
            name_en=data["name_en"],
            description_fr=data.get("description_fr", ""),
            description_en=data.get("description_en", ""),
            source_url=data.get("source_url", ""),
            is_default=is_default,
        )
        for position, question in enumerate(data["questions"], start=1):
            Question.objects.create(question_set=question_set, position=position, **question)
        created += 1
    return created


@transaction.atomic
def sync_phase_steps() -> int:
    from spiral.territories.method import step_rows
    from spiral.territories.models import PhaseStep

    created = 0
    for position, row in enumerate(step_rows()):
        _obj, was_created = PhaseStep.objects.get_or_create(
            key=row["key"],
            defaults={
                "phase": int(row["phase"]),
                "position": position,
                "metric": row["metric"],
                "label_fr": row["label_fr"],
                "label_en": row["label_en"],
                "help_fr": row["help_fr"],
                "help_en": row["help_en"],
                "source_url": row["source_url"],
            },
        )
        created += was_created
    return created


def sync_reference_data() -> dict[str, int]:
    """Create whatever shipped reference data the database lacks; returns what was created."""
    from spiral.grid.models import GridVersion
    from spiral.grid.services import grid_version_load_shipped

    had_grid = GridVersion.objects.exists()
    grid_version_load_shipped()
    return {
        "profiles": sync_profiles(),
        "question_sets": sync_question_sets(),
        "phase_steps": sync_phase_steps(),
        "grid_versions": int(not had_grid and GridVersion.objects.exists()),
    }
