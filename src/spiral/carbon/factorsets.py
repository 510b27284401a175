"""Factor sets: the shipped files, their loading, and new versions made by a network admin."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import transaction

from spiral.carbon.compute import FactorData
from spiral.carbon.models import FactorSet

FACTORS_DIR = Path(settings.PACKAGE_DIR) / "data" / "carbon" / "factors"


def factor_documents() -> dict[str, dict[str, Any]]:
    return {
        path.stem: json.loads(path.read_text(encoding="utf-8"))
        for path in sorted(FACTORS_DIR.glob("*.json"))
    }


@transaction.atomic
def factor_sets_sync() -> int:
    """Load each shipped file whose version is not in the database yet; it becomes current."""
    created = 0
    for country, document in factor_documents().items():
        version = document["version"]
        if FactorSet.objects.filter(country=country, version=version).exists():
            continue
        FactorSet.objects.filter(country=country, is_current=True).update(is_current=False)
        FactorSet.objects.create(
            country=country,
            version=version,
            name_fr=document["name_fr"],
            name_en=document["name_en"],
            document=document,
            is_current=True,
            note="data/carbon/factors/" + country + ".json",
        )
        created += 1
    return created


def factor_data(factor_set: FactorSet) -> FactorData:
    return FactorData.from_document(factor_set.document)


def current_factor_set(country: str) -> FactorSet:
    factor_set = FactorSet.objects.current().filter(country=country).first()
    if factor_set is None:
        raise FactorSet.DoesNotExist(country)
    return factor_set


class FactorChangeError(ValueError):
    pass


@transaction.atomic
def factor_set_new_version(
    *, factor_set: FactorSet, version: str, changes: dict[str, dict[str, Any]], note: str, user: Any
) -> FactorSet:
    """A new current version with some factors or defaults changed, each with its source.

    Results keep pointing at the version that computed them; nothing is recomputed."""
    if FactorSet.objects.filter(country=factor_set.country, version=version).exists():
        raise FactorChangeError(f"version {version} already exists")
    document = copy.deepcopy(factor_set.document)
    for key, change in changes.items():
        section = "factors" if key in document["factors"] else "defaults"
        if key not in document[section]:
            raise FactorChangeError(f"unknown factor {key}")
        if not change.get("source"):
            raise FactorChangeError(f"{key}: a source is required")
        entry = document[section][key]
        old = entry["value"]
        if section == "factors" or isinstance(old, int | float):
            try:
                value: Any = float(change["value"])
            except (TypeError, ValueError) as error:
                raise FactorChangeError(f"{key}: not a number") from error
            if value < 0:
                raise FactorChangeError(f"{key}: negative")
        else:
            value = change["value"]
        entry.update(
            value=value, status="sourced", sources=[change["source"]], note=change.get("note", "")
        )
    document["version"] = version
    FactorData.from_document(document)  # refuses a document the computation cannot read
    FactorSet.objects.filter(country=factor_set.country, is_current=True).update(is_current=False)
    return FactorSet.objects.create(
        country=factor_set.country,
        version=version,
        name_fr=factor_set.name_fr,
        name_en=factor_set.name_en,
        document=document,
        is_current=True,
        note=note,
        created_by=user,
    )
