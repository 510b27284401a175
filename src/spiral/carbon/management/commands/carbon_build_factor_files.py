"""Rebuild data/carbon/factors/<COUNTRY>.json from the reference table and country-sets.tsv.

    python manage.py carbon_build_factor_files [--check]

``country-sets.tsv`` says which figure each country uses; a ``sourced`` row must carry the value
of its reference row exactly (checked here), ``derived`` rows say how they were worked out, and
``estimate`` rows are the project's own, flagged as such. A country inherits the rows of ``*``
and, for what it does not state itself, the French rows, flagged as estimates. ``--check`` only
verifies that the files on disk are up to date (used by the tests)."""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

CARBON_DIR = Path(settings.PACKAGE_DIR) / "data" / "carbon"
REFERENCE = CARBON_DIR / "reference" / "carbon-factors.tsv"
COUNTRY_SETS = CARBON_DIR / "country-sets.tsv"
FACTORS_DIR = CARBON_DIR / "factors"
BASE_COUNTRY = "FR"


def _rows(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle, delimiter="\t"))


def _value(text: str) -> float | str | None:
    if text == "":
        return None
    try:
        return float(text) if "." in text or "e" in text.lower() else int(text)
    except ValueError:
        return text


def build_documents() -> dict[str, dict[str, Any]]:
    reference = {row["key"]: row for row in _rows(REFERENCE)}
    rows = _rows(COUNTRY_SETS)
    errors = []

    def entry(row: dict[str, str], inherited: bool = False) -> dict[str, Any]:
        refs = [ref for ref in row["ref"].split("+") if ref]
        for ref in refs:
            if ref not in reference and ref not in {r["key"] for r in rows}:
                errors.append(f"{row['country']} {row['key']}: unknown reference {ref}")
        value = _value(row["value"])
        if row["status"] == "sourced" and refs and refs[0] in reference:
            ref_row = reference[refs[0]]
            ref_value = float(ref_row["value"])
            scale = 1000 if ref_row["unit"].startswith("tCO2") else 1
            differs = (
                not isinstance(value, int | float) or abs(float(value) - ref_value * scale) > 1e-9
            )
            # Defaults may be read from a note of the reference (e.g. 91.5 m2): only plain
            # figures of the same unit are compared.
            comparable = row["unit"] == ref_row["unit"] or ref_row["unit"].startswith("tCO2")
            if differs and comparable:
                errors.append(f"{row['country']} {row['key']}: {value} != reference {ref_value}")
        sources = sorted({reference[ref]["source_url"] for ref in refs if ref in reference})
        note = row["note"]
        status = row["status"]
        if inherited:
            status = "estimate"
            note = f"French figure used for lack of a national one. {note}".strip()
        return {
            "value": value,
            "unit": row["unit"],
            "status": status,
            "ref": row["ref"],
            "sources": sources,
            "note": note,
        }

    countries = sorted({row["country"] for row in rows if row["country"] != "*"})
    documents = {}
    for country in countries:
        document: dict[str, Any] = {
            "country": country,
            "built_from": "data/carbon/reference/carbon-factors.tsv, data/carbon/country-sets.tsv",
            "national_footprint": None,
            "reference_figures": [],
            "factors": {},
            "defaults": {},
        }
        layers = [("*", False)]
        if country != BASE_COUNTRY:
            layers.append((BASE_COUNTRY, True))
        layers.append((country, False))
        for layer, inherited in layers:
            for row in rows:
                if row["country"] != layer:
                    continue
                section = row["section"]
                if section == "meta":
                    if not inherited:
                        document[row["key"]] = row["value"]
                elif section == "national":
                    if not inherited:
                        document["national_footprint"] = entry(row)
                elif section == "reference":
                    if not inherited:
                        document["reference_figures"].append({"key": row["key"], **entry(row)})
                else:
                    document[f"{section}s"][row["key"]] = entry(row, inherited)
        documents[country] = document
    if errors:
        raise CommandError("\n".join(errors))
    return documents


def document_text(document: dict[str, Any]) -> str:
    return json.dumps(document, ensure_ascii=False, indent=1, sort_keys=False) + "\n"


class Command(BaseCommand):
    help = "Rebuild the carbon factor files from the reference table and country-sets.tsv."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--check", action="store_true", help="Only check they are current.")

    def handle(self, *args: Any, check: bool = False, **options: Any) -> None:
        documents = build_documents()
        stale = []
        for country, document in documents.items():
            path = FACTORS_DIR / f"{country}.json"
            text = document_text(document)
            if path.exists() and path.read_text(encoding="utf-8") == text:
                continue
            stale.append(country)
            if not check:
                path.write_text(text, encoding="utf-8")
        if check and stale:
            raise CommandError(f"Factor files out of date: {', '.join(stale)}")
        self.stdout.write(f"{len(documents)} factor files, {len(stale)} rewritten or stale.")
