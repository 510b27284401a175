"""Writing the grid: load the shipped versions, import and export versions and mappings as CSV,
carry codings over from one version to another."""

from __future__ import annotations

import csv
import io
import json
import re
import unicodedata
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy

from spiral.core.errors import ImportRejected, LineError
from spiral.grid.codes import CodeError, GridIndex, parse_full_code
from spiral.grid.models import (
    Beneficiary,
    Component,
    Dimension,
    EntryStatus,
    GridMapping,
    GridMappingRow,
    GridVersion,
    LabelOrigin,
    ObjectDetail,
    SenseCategory,
    SenseReason,
)

GRID_DATA_DIR = Path(settings.PACKAGE_DIR) / "data" / "grid"
DEFAULT_GRID_CODE = "spiral-ag"

GRID_CSV_COLUMNS = [
    "kind",
    "code",
    "label_fr",
    "label_en",
    "description_fr",
    "description_en",
    "status",
    "label_fr_origin",
    "label_en_origin",
    "source_url",
    "note",
]
KIND_PATTERNS = {
    "dimension": re.compile(r"^[A-Z]$"),
    "component": re.compile(r"^[A-Z]\d{2}$"),
    "object-detail": re.compile(r"^[A-Z]\d{2}-\d{1,3}$"),
    "sense-category": re.compile(r"^[A-Z]$"),
    "sense-reason": re.compile(r"^[A-Z]\d{2}$"),
    "beneficiary": re.compile(r"^[a-z]{1,3}$"),
}
MAPPING_CSV_COLUMNS = ["source_code", "target_code"]


@dataclass(frozen=True)
class GridRow:
    line: int
    kind: str
    code: str
    values: dict[str, str]


def _read_csv(text: str) -> tuple[list[str], list[tuple[int, dict[str, str]]]]:
    """Read CSV or TSV (the delimiter is sniffed from the header line)."""
    text = text.lstrip("\ufeff")
    first_line = text.split("\n", 1)[0]
    delimiter = (
        "\t"
        if "\t" in first_line
        else (";" if first_line.count(";") > first_line.count(",") else ",")
    )
    reader = csv.DictReader(io.StringIO(text), delimiter=delimiter)
    header = [name.strip() for name in (reader.fieldnames or [])]
    reader.fieldnames = header
    rows: list[tuple[int, dict[str, str]]] = []
    for row in reader:
        # Count physical lines, as an editor shows them: the reader skips blank lines, and a
        # quoted cell may span several lines; report the line where the row starts.
        cells = [c for v in row.values() for c in (v if isinstance(v, list) else [v]) if c]
        start = reader.line_num - sum(cell.count("\n") for cell in cells)
        rows.append((start, {k: (v or "").strip() for k, v in row.items() if k is not None}))
    return header, rows


def _has_control_character(values: dict[str, str]) -> bool:
    """NUL and other control characters (tabs and line breaks inside cells aside)."""
    return any(
        unicodedata.category(char) == "Cc" and char not in "\t\n\r"
        for value in values.values()
        for char in value
    )


CONTROL_CHARACTER_MESSAGE = _lazy("The line contains an invisible control character.")


def parse_grid_csv(text: str) -> list[GridRow]:
    """Check every line of a grid CSV; raise ImportRejected listing all bad lines."""
    header, raw_rows = _read_csv(text)
    missing = [c for c in ("kind", "code") if c not in header]
    if missing or not ({"label_fr", "label_en"} & set(header)):
        raise ImportRejected(
            [
                LineError(
                    1,
                    _("The first line must name the columns: %(columns)s.")
                    % {"columns": ", ".join(GRID_CSV_COLUMNS)},
                )
            ]
        )
    errors: list[LineError] = []
    rows: list[GridRow] = []
    seen: dict[tuple[str, str], int] = {}
    for line, raw in raw_rows:
        kind = raw.get("kind", "").lower()
        code = raw.get("code", "")
        content = f"{kind};{code}"
        if not kind and not code:
            continue
        if _has_control_character(raw):
            errors.append(LineError(line, str(CONTROL_CHARACTER_MESSAGE), content))
            continue
        pattern = KIND_PATTERNS.get(kind)
        if pattern is None:
            errors.append(
                LineError(
                    line,
                    _("Unknown kind “%(kind)s”; expected one of: %(kinds)s.")
                    % {"kind": kind, "kinds": ", ".join(KIND_PATTERNS)},
                    content,
                )
            )
            continue
        if not pattern.match(code):
            errors.append(
                LineError(
                    line,
                    _("“%(code)s” is not a valid %(kind)s code.") % {"code": code, "kind": kind},
                    content,
                )
            )
            continue
        if not raw.get("label_fr") and not raw.get("label_en"):
            errors.append(
                LineError(line, _("The entry %(code)s has no label.") % {"code": code}, content)
            )
            continue
        status = raw.get("status") or EntryStatus.OFFICIAL
        if status not in EntryStatus.values:
            errors.append(
                LineError(line, _("Unknown status “%(status)s”.") % {"status": status}, content)
            )
            continue
        origins = {}
        for language in ("fr", "en"):
            origin = raw.get(f"label_{language}_origin") or LabelOrigin.NETWORK
            if origin not in LabelOrigin.values:
                errors.append(
                    LineError(
                        line, _("Unknown label origin “%(origin)s”.") % {"origin": origin}, content
                    )
                )
            origins[language] = origin
        key = ("sense" if kind.startswith("sense") else kind, code)
        if key in seen:
            errors.append(
                LineError(
                    line,
                    _("The code %(code)s already appears on line %(line)s.")
                    % {"code": code, "line": seen[key]},
                    content,
                )
            )
            continue
        seen[key] = line
        values = {column: raw.get(column, "") for column in GRID_CSV_COLUMNS}
        values["status"] = status
        values["label_fr_origin"] = origins["fr"]
        values["label_en_origin"] = origins["en"]
        # One label may be missing in an official file: show the other rather than nothing.
        values["label_fr"] = values["label_fr"] or values["label_en"]
        values["label_en"] = values["label_en"] or values["label_fr"]
        rows.append(GridRow(line, kind, code, values))

    codes = {kind: {r.code for r in rows if r.kind == kind} for kind in KIND_PATTERNS}
    for row in rows:
        parent = None
        if row.kind == "component":
            parent, parent_kind = row.code[0], "dimension"
        elif row.kind == "object-detail":
            parent, parent_kind = row.code.split("-")[0], "component"
        elif row.kind == "sense-reason":
            parent, parent_kind = row.code[0], "sense-category"
        if parent is not None and parent not in codes[parent_kind]:
            errors.append(
                LineError(
                    row.line,
                    _("%(code)s needs the %(kind)s %(parent)s, which is not in the file.")
                    % {"code": row.code, "kind": parent_kind, "parent": parent},
                    row.code,
                )
            )
    if not codes["dimension"] or not codes["component"]:
        errors.append(LineError(1, _("A grid needs at least one dimension and one component.")))
    if errors:
        raise ImportRejected(sorted(errors, key=lambda e: e.line))
    return rows


def _entry_fields(row: GridRow, position: int) -> dict[str, Any]:
    values = row.values
    return {
        "code": row.code,
        "position": position,
        "label_fr": values["label_fr"],
        "label_en": values["label_en"],
        "description_fr": values.get("description_fr", ""),
        "description_en": values.get("description_en", ""),
        "status": values["status"],
        "label_fr_origin": values["label_fr_origin"],
        "label_en_origin": values["label_en_origin"],
        "source_url": values.get("source_url", ""),
        "note": values.get("note", ""),
    }


@transaction.atomic
def grid_version_create_from_rows(
    *,
    code: str,
    name_fr: str,
    name_en: str,
    rows: list[GridRow],
    description_fr: str = "",
    description_en: str = "",
    provisional_note_fr: str = "",
    provisional_note_en: str = "",
    sources: str = "",
    is_default: bool = False,
) -> GridVersion:
    """Create a grid version and all its entries from checked rows, in one transaction."""
    if GridVersion.objects.filter(code=code).exists():
        raise ImportRejected(
            [
                LineError(
                    0, _("A grid version with the code “%(code)s” already exists.") % {"code": code}
                )
            ]
        )
    if is_default:
        GridVersion.objects.filter(is_default=True).update(is_default=False)
    version = GridVersion.objects.create(
        code=code,
        name_fr=name_fr,
        name_en=name_en,
        description_fr=description_fr,
        description_en=description_en,
        provisional_note_fr=provisional_note_fr,
        provisional_note_en=provisional_note_en,
        sources=sources,
        is_default=is_default,
    )
    by_kind: dict[str, list[tuple[int, GridRow]]] = {kind: [] for kind in KIND_PATTERNS}
    for position, row in enumerate(rows):
        by_kind[row.kind].append((position, row))
    dimensions = {
        d.code: d
        for d in Dimension.objects.bulk_create(
            [Dimension(version=version, **_entry_fields(r, p)) for p, r in by_kind["dimension"]]
        )
    }
    components = {
        c.code: c
        for c in Component.objects.bulk_create(
            [
                Component(version=version, dimension=dimensions[r.code[0]], **_entry_fields(r, p))
                for p, r in by_kind["component"]
            ]
        )
    }
    ObjectDetail.objects.bulk_create(
        [
            ObjectDetail(
                version=version, component=components[r.code.split("-")[0]], **_entry_fields(r, p)
            )
            for p, r in by_kind["object-detail"]
        ]
    )
    categories = {
        s.code: s
        for s in SenseCategory.objects.bulk_create(
            [
                SenseCategory(version=version, **_entry_fields(r, p))
                for p, r in by_kind["sense-category"]
            ]
        )
    }
    SenseReason.objects.bulk_create(
        [
            SenseReason(version=version, category=categories[r.code[0]], **_entry_fields(r, p))
            for p, r in by_kind["sense-reason"]
        ]
    )
    Beneficiary.objects.bulk_create(
        [Beneficiary(version=version, **_entry_fields(r, p)) for p, r in by_kind["beneficiary"]]
    )
    return version


@transaction.atomic
def grid_version_make_default(*, version: GridVersion) -> GridVersion:
    """The version territories use when neither they nor their ancestors chose one."""
    GridVersion.objects.exclude(pk=version.pk).filter(is_default=True).update(is_default=False)
    version.is_default = True
    version.save(update_fields=["is_default", "updated_at"])
    return version


def grid_version_import_csv(
    *,
    text: str,
    code: str,
    name_fr: str,
    name_en: str,
    description_fr: str = "",
    description_en: str = "",
) -> GridVersion:
    """Import a whole grid version from CSV: all or nothing, every bad line reported."""
    rows = parse_grid_csv(text)
    return grid_version_create_from_rows(
        code=code,
        name_fr=name_fr,
        name_en=name_en,
        rows=rows,
        description_fr=description_fr,
        description_en=description_en,
    )


def grid_version_export_csv(*, version: GridVersion) -> str:
    """The version as CSV, in the format grid_version_import_csv reads back."""
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=GRID_CSV_COLUMNS, lineterminator="\n")
    writer.writeheader()
    kinds: list[tuple[str, Any]] = [
        ("dimension", Dimension),
        ("component", Component),
        ("object-detail", ObjectDetail),
        ("sense-category", SenseCategory),
        ("sense-reason", SenseReason),
        ("beneficiary", Beneficiary),
    ]
    entries: list[tuple[int, str, Any]] = []
    for kind, model in kinds:
        entries.extend((e.position, kind, e) for e in model.objects.filter(version=version))
    for _position, kind, entry in sorted(entries, key=lambda item: item[0]):
        writer.writerow(
            {
                "kind": kind,
                **{
                    column: getattr(entry, column)
                    for column in GRID_CSV_COLUMNS
                    if column != "kind"
                },
            }
        )
    return out.getvalue()


def _shipped_rows(folder: Path) -> list[GridRow]:
    """Turn the shipped TSV files of a version folder into one grid CSV, then parse it."""
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=GRID_CSV_COLUMNS, lineterminator="\n")
    writer.writeheader()
    files = [("objects.tsv", None), ("senses.tsv", "sense"), ("beneficiaries.tsv", "beneficiary")]
    for filename, kind_prefix in files:
        path = folder / filename
        if not path.exists():
            continue
        with path.open(encoding="utf-8", newline="") as handle:
            for row in csv.DictReader(handle, delimiter="\t"):
                if kind_prefix == "sense":
                    kind = f"sense-{row['level']}"
                elif kind_prefix == "beneficiary":
                    kind = "beneficiary"
                else:
                    kind = row["level"]
                writer.writerow(
                    {
                        "kind": kind,
                        **{c: row.get(c, "") or "" for c in GRID_CSV_COLUMNS if c != "kind"},
                    }
                )
    return parse_grid_csv(out.getvalue())


def grid_version_load_shipped(
    *, code: str = DEFAULT_GRID_CODE, make_default: bool = True
) -> GridVersion | None:
    """Load a version shipped under data/grid/<code>/ unless it is already in the database."""
    existing = GridVersion.objects.filter(code=code).first()
    if existing is not None:
        return existing
    folder = GRID_DATA_DIR / code
    if not (folder / "version.json").exists():
        return None
    meta = json.loads((folder / "version.json").read_text(encoding="utf-8"))
    return grid_version_create_from_rows(
        code=meta["code"],
        name_fr=meta["name_fr"],
        name_en=meta["name_en"],
        description_fr=meta.get("description_fr", ""),
        description_en=meta.get("description_en", ""),
        provisional_note_fr=meta.get("provisional_note_fr", ""),
        provisional_note_en=meta.get("provisional_note_en", ""),
        sources="\n".join(meta.get("sources", [])),
        rows=_shipped_rows(folder),
        is_default=make_default and not GridVersion.objects.filter(is_default=True).exists(),
    )


@transaction.atomic
def grid_mapping_import_csv(
    *, source: GridVersion, target: GridVersion, text: str, note: str = ""
) -> GridMapping:
    """Import (or replace) the mapping from one version's codes to another's; all or nothing."""
    header, raw_rows = _read_csv(text)
    if not set(MAPPING_CSV_COLUMNS) <= set(header):
        raise ImportRejected(
            [
                LineError(
                    1,
                    _("The first line must name the columns: %(columns)s.")
                    % {"columns": ", ".join(MAPPING_CSV_COLUMNS)},
                )
            ]
        )
    source_index, target_index = GridIndex(source), GridIndex(target)
    errors: list[LineError] = []
    pairs: dict[str, str] = {}
    for line, raw in raw_rows:
        content = f"{raw['source_code']};{raw['target_code']}"
        if _has_control_character(raw):
            errors.append(LineError(line, str(CONTROL_CHARACTER_MESSAGE), content))
            continue
        # Store the normal form (A01-11, not " a01-11 "): carry-over looks codes up exactly.
        codes = []
        for index, written in (
            (source_index, raw["source_code"]),
            (target_index, raw["target_code"]),
        ):
            code_text = written
            try:
                code_text = str(parse_full_code(written)).split("/")[0]
                index.resolve(code_text)
            except CodeError as error:
                errors.append(LineError(line, str(error), content))
            codes.append(code_text)
        source_code, target_code = codes
        if source_code in pairs:
            errors.append(
                LineError(
                    line, _("The code %(code)s is mapped twice.") % {"code": source_code}, content
                )
            )
        pairs[source_code] = target_code
    if errors:
        raise ImportRejected(errors)
    mapping, _created = GridMapping.objects.update_or_create(
        source=source, target=target, defaults={"note": note}
    )
    mapping.rows.all().delete()
    GridMappingRow.objects.bulk_create(
        [GridMappingRow(mapping=mapping, source_code=s, target_code=t) for s, t in pairs.items()]
    )
    return mapping


def map_object_code(*, mapping_rows: dict[str, str], code: str) -> str | None:
    """The target code of an object code: the most precise mapped prefix wins (A01-11, A01, A)."""
    candidates = [code]
    if "-" in code:
        candidates.append(code.split("-")[0])
    candidates.append(code[0])
    for candidate in candidates:
        if candidate in mapping_rows:
            return mapping_rows[candidate]
    return None
