"""The open-data package of a scope: CSV files and a Frictionless ``datapackage.json`` that
describes every column, zipped, with the grid as CSV and as a REFI-QDA codebook. Public packages
follow the small-numbers rule; ``package_import`` reads a package back into a database."""

from __future__ import annotations

import csv
import datetime
import io
import json
import uuid
import zipfile
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any
from xml.etree import ElementTree as ET

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from spiral.coding.models import Coding, CodingSource
from spiral.consultations.models import (
    Criterion,
    GroupProfile,
    HomogeneousGroup,
    Meeting,
    Question,
    QuestionSet,
)
from spiral.consultations.services import CriteriaRejected, CriterionDraft, criteria_bulk_create
from spiral.core.errors import ImportRejected, LineError
from spiral.grid.codes import CodeError, GridIndex, ResolvedCode
from spiral.grid.models import (
    Beneficiary,
    Component,
    Dimension,
    GridVersion,
    ObjectDetail,
    SenseCategory,
    SenseReason,
)
from spiral.grid.services import (
    grid_version_create_from_rows,
    grid_version_export_csv,
    parse_grid_csv,
)
from spiral.syntheses.services import GroupFacts, figures_change, territory_counts_refresh
from spiral.territories.models import CoordinationGroup, Territory
from spiral.territories.services import unique_territory_slug

PACKAGE_FORMAT = 1
QDA_NAMESPACE = "urn:QDA-XML:codebook:1.0"
# Fixed namespace of Spiral's codebook GUIDs: uuid5(namespace, "<version>:<kind>:<code>").
GUID_NAMESPACE = uuid.UUID("6f1c63b2-93a5-5d0e-9b2e-3a7d0c5e8f41")
UNDISCLOSED_PROFILE = "undisclosed"


@dataclass(frozen=True)
class Column:
    name: str
    type: str  # Frictionless Table Schema type
    description: str
    required: bool = False


def _columns() -> dict[str, list[Column]]:
    """Every column of every file, with its Table Schema type and what it means."""
    return {
        "territories": [
            Column("id", "integer", "Identifier of the territory in this package.", True),
            Column("parent_id", "integer", "The territory above it; empty for the package's root."),
            Column("slug", "string", "Short name used in the platform's addresses.", True),
            Column("name", "string", "Name of the territory.", True),
            Column(
                "kind",
                "string",
                "network, country, region, locality, neighbourhood or collective_actor.",
                True,
            ),
            Column("actor_type", "string", "For a collective actor: school, hospital, firm…"),
            Column("country_code", "string", "ISO 3166-1 alpha-2 country code."),
            Column("language", "string", "Working language (ISO 639-1)."),
            Column("grid_version", "string", "Grid version chosen by this territory, if any."),
        ],
        "groups": [
            Column("id", "integer", "Identifier of the homogeneous group in this package.", True),
            Column("territory_id", "integer", "The group's territory (territories.csv).", True),
            Column("name", "string", "Name of the group (a neutral label in public packages)."),
            Column(
                "profile",
                "string",
                "Profile code of the group (young people, elderly people…); empty where the "
                "small-numbers rule suppressed it.",
            ),
            Column("size", "integer", "Number of participants, when known."),
            Column("language", "string", "Language the group works in (ISO 639-1)."),
            Column("archived", "boolean", "The group no longer meets."),
        ],
        "meetings": [
            Column("id", "integer", "Identifier of the meeting in this package.", True),
            Column("group_id", "integer", "The group that met (groups.csv).", True),
            Column("held_on", "date", "Date of the meeting.", True),
            Column("question_set", "string", "Code of the question set asked.", True),
            Column("language", "string", "Language of the meeting (ISO 639-1)."),
        ],
        "criteria": [
            Column("id", "integer", "Identifier of the criterion in this package.", True),
            Column("meeting_id", "integer", "Meeting where it was written (meetings.csv).", True),
            Column("group_id", "integer", "Group that wrote it (groups.csv).", True),
            Column("territory_id", "integer", "Territory of the group (territories.csv).", True),
            Column("question", "string", "Code of the question in the meeting's set.", True),
            Column("question_kind", "string", "well_being, ill_being, action or other.", True),
            Column("text", "string", "The criterion exactly as the group wrote it.", True),
            Column("language", "string", "Language it was written in (ISO 639-1).", True),
            Column(
                "expressions", "integer", "How many identical post-its expressed it (≥ 1).", True
            ),
        ],
        "codings": [
            Column("criterion_id", "integer", "The coded criterion (criteria.csv).", True),
            Column("grid_version", "string", "Code of the grid version.", True),
            Column(
                "full_code",
                "string",
                "Full SPIRAL code OBJECT/SENSE/BENEFICIARY, such as A01-11/P15/k.",
                True,
            ),
            Column("dimension", "string", "Dimension letter of the code.", True),
            Column("component", "string", "Component of the code, such as A01.", True),
        ],
    }


def _grid_columns() -> list[Column]:
    return [
        Column(
            "kind",
            "string",
            "dimension, component, object-detail, sense-category, sense-reason or beneficiary.",
            True,
        ),
        Column("code", "string", "Code of the entry.", True),
        Column("label_fr", "string", "Label in French."),
        Column("label_en", "string", "Label in English."),
        Column("description_fr", "string", "Description in French."),
        Column("description_en", "string", "Description in English."),
        Column("status", "string", "official, sourced, inferred or provisional."),
        Column("label_fr_origin", "string", "Where the French label comes from."),
        Column("label_en_origin", "string", "Where the English label comes from."),
        Column("source_url", "string", "Sources of the entry, separated by “ ; ”."),
        Column("note", "string", "Note."),
    ]


@dataclass
class PackageReport:
    """What a package holds and what the small-numbers rule left out."""

    counts: dict[str, int] = field(default_factory=dict)
    suppressed_profiles: int = 0
    private_territories_left_out: int = 0


def _csv(columns: list[Column], rows: Iterable[dict[str, Any]]) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=[c.name for c in columns], lineterminator="\n")
    writer.writeheader()
    for row in rows:
        writer.writerow(
            {k: ("true" if v is True else "false" if v is False else v) for k, v in row.items()}
        )
    return out.getvalue()


def _suppressed_groups(groups: list[HomogeneousGroup], threshold: int) -> set[int]:
    """Groups whose profile, within their territory, gathers fewer than ``threshold`` people:
    publishing it would single out a handful of people (e.g. the three farmers of a village)."""
    people: dict[tuple[int, int], int] = defaultdict(int)
    for group in groups:
        if not group.is_archived:
            people[(group.territory_id, group.profile_id)] += group.size or 0
    return {
        g.pk for g in groups if people[(g.territory_id, g.profile_id)] < threshold or not g.size
    }


def package_build(*, territory: Territory, public: bool = True) -> tuple[bytes, PackageReport]:
    """The zipped package of a territory and everything below it.

    Never in a package: facilitators, accounts, group descriptions, deleted criteria. Public
    packages also leave out private territories, give groups neutral names and drop the profile
    of groups that would isolate fewer than SPIRAL_SMALL_NUMBERS_THRESHOLD participants."""
    threshold = settings.SPIRAL_SMALL_NUMBERS_THRESHOLD
    report = PackageReport()
    subtree = list(Territory.objects.subtree_of(territory).order_by("pk"))
    if public:
        private = {t.pk for t in subtree if not t.is_public}
        # A public territory below a private one is left out too: its path would reveal it.
        hidden = set(
            Territory.objects.filter(ancestor_links__ancestor_id__in=private).values_list(
                "pk", flat=True
            )
        )
        report.private_territories_left_out = len(hidden & {t.pk for t in subtree})
        subtree = [t for t in subtree if t.pk not in hidden]
    ids = {t.pk for t in subtree}
    grid_codes = dict(GridVersion.objects.values_list("pk", "code"))
    territories = [
        {
            "id": t.pk,
            "parent_id": t.parent_id if t.pk != territory.pk else None,
            "slug": t.slug,
            "name": t.name,
            "kind": t.kind,
            "actor_type": t.actor_type,
            "country_code": t.country_code,
            "language": t.language,
            "grid_version": grid_codes.get(t.grid_version_id, "") if t.grid_version_id else "",
        }
        for t in subtree
    ]
    groups = list(
        HomogeneousGroup.objects.filter(territory_id__in=ids)
        .select_related("profile")
        .order_by("pk")
    )
    suppressed = _suppressed_groups(groups, threshold) if public else set()
    report.suppressed_profiles = len(suppressed)
    group_rows = [
        {
            "id": g.pk,
            "territory_id": g.territory_id,
            "name": (_("Group %(number)s") % {"number": g.pk}) if public else g.name,
            "profile": "" if g.pk in suppressed else g.profile.code,
            "size": g.size,
            "language": g.language,
            "archived": g.is_archived,
        }
        for g in groups
    ]
    meetings = list(
        Meeting.objects.filter(group__territory_id__in=ids)
        .select_related("question_set")
        .order_by("pk")
    )
    meeting_rows = [
        {
            "id": m.pk,
            "group_id": m.group_id,
            "held_on": m.held_on.isoformat(),
            "question_set": m.question_set.code,
            "language": m.language,
        }
        for m in meetings
    ]
    criteria = (
        Criterion.objects.filter(territory_id__in=ids)
        .select_related("question")
        .order_by("pk")
        .values_list(
            "pk",
            "meeting_id",
            "group_id",
            "territory_id",
            "question__code",
            "question__kind",
            "text",
            "language",
            "expressions",
        )
    )
    criterion_rows = [
        dict(
            zip(
                [
                    "id",
                    "meeting_id",
                    "group_id",
                    "territory_id",
                    "question",
                    "question_kind",
                    "text",
                    "language",
                    "expressions",
                ],
                row,
                strict=True,
            )
        )
        for row in criteria.iterator(chunk_size=5000)
    ]
    codings = (
        Coding.objects.current()
        .filter(criterion__territory_id__in=ids, criterion__deleted_at__isnull=True)
        .order_by("criterion_id", "pk")
        .values_list(
            "criterion_id",
            "component__version__code",
            "full_code",
            "component__dimension__code",
            "component__code",
        )
    )
    coding_rows = [
        dict(
            zip(
                ["criterion_id", "grid_version", "full_code", "dimension", "component"],
                row,
                strict=True,
            )
        )
        for row in codings.iterator(chunk_size=5000)
    ]
    versions = {r["grid_version"] for r in coding_rows}
    effective = territory.effective_grid_version_id()
    if effective:
        versions.add(grid_codes[effective])
    versions |= {t["grid_version"] for t in territories if t["grid_version"]}

    columns = _columns()
    files: dict[str, str] = {
        "territories.csv": _csv(columns["territories"], territories),
        "groups.csv": _csv(columns["groups"], group_rows),
        "meetings.csv": _csv(columns["meetings"], meeting_rows),
        "criteria.csv": _csv(columns["criteria"], criterion_rows),
        "codings.csv": _csv(columns["codings"], coding_rows),
    }
    report.counts = {
        "territories": len(territories),
        "groups": len(group_rows),
        "meetings": len(meeting_rows),
        "criteria": len(criterion_rows),
        "codings": len(coding_rows),
    }
    grid_versions = list(GridVersion.objects.filter(code__in=versions).order_by("code"))
    for version in grid_versions:
        files[f"grid/{version.code}.csv"] = grid_version_export_csv(version=version)
        files[f"grid/{version.code}.qdc"] = codebook_qdc(version=version)
    descriptor = _descriptor(
        territory=territory,
        public=public,
        report=report,
        grid_versions=grid_versions,
        effective=grid_codes.get(effective) if effective else None,
    )
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("datapackage.json", json.dumps(descriptor, ensure_ascii=False, indent=2))
        for name, text in files.items():
            archive.writestr(name, text)
    return buffer.getvalue(), report


def _schema(columns: list[Column]) -> dict[str, Any]:
    return {
        "fields": [
            {
                "name": c.name,
                "type": c.type,
                "description": c.description,
                **({"constraints": {"required": True}} if c.required else {}),
                **(
                    {"format": "default"}
                    if c.type != "boolean"
                    else {"trueValues": ["true"], "falseValues": ["false"]}
                ),
            }
            for c in columns
        ]
    }


def _descriptor(
    *,
    territory: Territory,
    public: bool,
    report: PackageReport,
    grid_versions: list[GridVersion],
    effective: str | None,
) -> dict[str, Any]:
    """The Frictionless Data Package descriptor (tabular-data-package profile)."""
    columns = _columns()
    descriptions = {
        "territories": "The territory and every territory below it.",
        "groups": "Homogeneous groups, without names of people or descriptions.",
        "meetings": "Meetings of the groups.",
        "criteria": "Criteria of well-being written by the groups, as written.",
        "codings": "Current codes of the criteria in the SPIRAL grid.",
    }
    keys: dict[str, dict[str, Any]] = {
        "territories": {
            "primaryKey": ["id"],
            "foreignKeys": [
                {"fields": ["parent_id"], "reference": {"resource": "", "fields": ["id"]}}
            ],
        },
        "groups": {
            "primaryKey": ["id"],
            "foreignKeys": [
                {
                    "fields": ["territory_id"],
                    "reference": {"resource": "territories", "fields": ["id"]},
                }
            ],
        },
        "meetings": {
            "primaryKey": ["id"],
            "foreignKeys": [
                {"fields": ["group_id"], "reference": {"resource": "groups", "fields": ["id"]}}
            ],
        },
        "criteria": {
            "primaryKey": ["id"],
            "foreignKeys": [
                {"fields": ["meeting_id"], "reference": {"resource": "meetings", "fields": ["id"]}},
                {"fields": ["group_id"], "reference": {"resource": "groups", "fields": ["id"]}},
                {
                    "fields": ["territory_id"],
                    "reference": {"resource": "territories", "fields": ["id"]},
                },
            ],
        },
        "codings": {
            "foreignKeys": [
                {
                    "fields": ["criterion_id"],
                    "reference": {"resource": "criteria", "fields": ["id"]},
                }
            ]
        },
    }
    resources: list[dict[str, Any]] = [
        {
            "name": name,
            "path": f"{name}.csv",
            "profile": "tabular-data-resource",
            "format": "csv",
            "mediatype": "text/csv",
            "encoding": "utf-8",
            "description": descriptions[name],
            "schema": {**_schema(cols), **keys[name]},
        }
        for name, cols in columns.items()
    ]
    for version in grid_versions:
        resources.append(
            {
                "name": f"grid-{version.code}",
                "path": f"grid/{version.code}.csv",
                "profile": "tabular-data-resource",
                "format": "csv",
                "mediatype": "text/csv",
                "encoding": "utf-8",
                "description": f"SPIRAL grid version {version.code}: {version.name_en}.",
                "schema": _schema(_grid_columns()),
            }
        )
        resources.append(
            {
                "name": f"codebook-{version.code}",
                "path": f"grid/{version.code}.qdc",
                "format": "qdc",
                "mediatype": "application/xml",
                "encoding": "utf-8",
                "description": "The same grid as a REFI-QDA codebook (NVivo, MAXQDA, QualCoder…).",
            }
        )
    threshold = settings.SPIRAL_SMALL_NUMBERS_THRESHOLD
    return {
        "profile": "tabular-data-package",
        "name": f"spiral-{territory.slug}",
        "title": f"SPIRAL – {territory.name}",
        "description": (
            "Criteria of well-being written by the homogeneous groups of a territory and the "
            "territories below it, with their codes in the SPIRAL grid (TOGETHER network)."
        ),
        "created": timezone.now().replace(microsecond=0).isoformat(),
        "version": str(PACKAGE_FORMAT),
        "licenses": [
            {
                "name": "ODbL-1.0",
                "title": "Open Data Commons Open Database License 1.0",
                "path": "https://opendatacommons.org/licenses/odbl/1-0/",
            }
        ],
        "resources": resources,
        "spiral": {
            "format": PACKAGE_FORMAT,
            "scope": territory.slug,
            "public": public,
            "grid_versions": [
                {"code": v.code, "name_fr": v.name_fr, "name_en": v.name_en} for v in grid_versions
            ],
            "scope_grid_version": effective,
            "small_numbers_threshold": threshold,
            "counts": report.counts,
            "suppressed": {
                "group_profiles": report.suppressed_profiles,
                "private_territories": report.private_territories_left_out,
            },
            "rules": [
                "Never exported: people's names and accounts, facilitators, group descriptions, "
                "deleted criteria and their history.",
                *(
                    [
                        "Private territories (and everything below them) are left out.",
                        "Groups carry a neutral name instead of the name they chose.",
                        f"The profile of a group is left empty when the groups of that profile in "
                        f"its territory gather fewer than {threshold} participants (or their "
                        f"number is unknown).",
                    ]
                    if public
                    else []
                ),
            ],
        },
    }


# --- REFI-QDA codebook ---------------------------------------------------------------------


def code_guid(*, version_code: str, kind: str, code: str) -> str:
    """The same entry of the same version always gets the same GUID, in every export."""
    return str(uuid.uuid5(GUID_NAMESPACE, f"{version_code}:{kind}:{code}"))


def codebook_qdc(*, version: GridVersion) -> str:
    """The grid as a REFI-QDA codebook: dimensions > components > object details, then the sense
    categories > reasons and the beneficiaries, each with its description."""
    ET.register_namespace("", QDA_NAMESPACE)
    ns = f"{{{QDA_NAMESPACE}}}"
    root = ET.Element(f"{ns}CodeBook", {"origin": f"Spiral {version.code}"})
    codes = ET.SubElement(root, f"{ns}Codes")

    def add(parent: ET.Element, kind: str, entry: Any, codable: bool = True) -> ET.Element:
        element = ET.SubElement(
            parent,
            f"{ns}Code",
            {
                "guid": code_guid(version_code=version.code, kind=kind, code=entry.code),
                "name": f"{entry.code} {entry.label_en or entry.label_fr}".strip(),
                "isCodable": "true" if codable else "false",
            },
        )
        text = "\n".join(
            part
            for part in (
                entry.label_fr and f"FR: {entry.label_fr}",
                entry.description_en,
                entry.description_fr,
            )
            if part
        )
        if text:
            ET.SubElement(element, f"{ns}Description").text = text
        return element

    components: dict[int, list[Component]] = defaultdict(list)
    for component in Component.objects.filter(version=version).order_by("position", "code"):
        components[component.dimension_id].append(component)
    details: dict[int, list[ObjectDetail]] = defaultdict(list)
    for detail in ObjectDetail.objects.filter(version=version).order_by("position", "code"):
        details[detail.component_id].append(detail)
    for dimension in Dimension.objects.filter(version=version).order_by("position", "code"):
        dimension_element = add(codes, "dimension", dimension)
        for component in components[dimension.pk]:
            component_element = add(dimension_element, "component", component)
            for detail in details[component.pk]:
                add(component_element, "object-detail", detail)
    reasons: dict[int, list[SenseReason]] = defaultdict(list)
    for reason in SenseReason.objects.filter(version=version).order_by("position", "code"):
        reasons[reason.category_id].append(reason)
    categories = list(SenseCategory.objects.filter(version=version).order_by("position", "code"))
    if categories:
        sense = ET.SubElement(
            codes,
            f"{ns}Code",
            {
                "guid": code_guid(version_code=version.code, kind="group", code="sense"),
                "name": "Sense",
                "isCodable": "false",
            },
        )
        for category in categories:
            category_element = add(sense, "sense-category", category)
            for reason in reasons[category.pk]:
                add(category_element, "sense-reason", reason)
    beneficiaries = list(Beneficiary.objects.filter(version=version).order_by("position", "code"))
    if beneficiaries:
        group = ET.SubElement(
            codes,
            f"{ns}Code",
            {
                "guid": code_guid(version_code=version.code, kind="group", code="beneficiary"),
                "name": "Beneficiary",
                "isCodable": "false",
            },
        )
        for beneficiary in beneficiaries:
            add(group, "beneficiary", beneficiary)
    ET.indent(root)
    return '<?xml version="1.0" encoding="utf-8"?>\n' + ET.tostring(root, encoding="unicode")


# --- Reading a package back ----------------------------------------------------------------


def _read(archive: zipfile.ZipFile, name: str) -> list[tuple[int, dict[str, str]]]:
    try:
        text = archive.read(name).decode("utf-8-sig")
    except KeyError as error:
        raise ImportRejected(
            [LineError(0, _("The package has no file %(name)s.") % {"name": name})]
        ) from error
    reader = csv.DictReader(io.StringIO(text, newline=""))
    return [(reader.line_num, row) for row in reader]


def _int(value: str | None) -> int | None:
    return int(value) if value else None


@transaction.atomic
def package_import(*, content: bytes, parent: Territory | None = None) -> dict[str, int]:
    """Create the package's territories (below ``parent``, or as a new root), groups, meetings,
    criteria and codings, all or nothing; grid versions missing here are created first."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(content))
        descriptor = json.loads(archive.read("datapackage.json"))
        meta = descriptor["spiral"]
    except (zipfile.BadZipFile, KeyError, ValueError) as error:
        raise ImportRejected(
            [LineError(0, _("This is not a Spiral open-data package (.zip)."))]
        ) from error
    errors: list[LineError] = []

    # Grid versions.
    versions: dict[str, GridVersion] = {}
    for info in meta.get("grid_versions", []):
        code = info["code"]
        existing = GridVersion.objects.filter(code=code).first()
        if existing is None:
            rows = parse_grid_csv(archive.read(f"grid/{code}.csv").decode("utf-8"))
            existing = grid_version_create_from_rows(
                code=code,
                name_fr=info.get("name_fr") or code,
                name_en=info.get("name_en") or code,
                rows=rows,
                is_default=not GridVersion.objects.filter(is_default=True).exists(),
            )
        versions[code] = existing
    indexes = {code: GridIndex(version) for code, version in versions.items()}

    # Territories, parents first.
    territory_rows = _read(archive, "territories.csv")
    by_id = {row["id"]: (line, row) for line, row in territory_rows}
    territories: dict[str, Territory] = {}
    pending = [row for _line, row in territory_rows]
    while pending:
        ready = [r for r in pending if not r["parent_id"] or r["parent_id"] in territories]
        if not ready:
            errors.extend(
                LineError(by_id[r["id"]][0], _("territories.csv: the parent is missing."))
                for r in pending
            )
            raise ImportRejected(errors)
        for row in ready:
            above = territories[row["parent_id"]] if row["parent_id"] else parent
            slug = row["slug"]
            if not slug or Territory.objects.filter(slug=slug).exists():
                slug = unique_territory_slug(row["name"])
            territory = Territory.objects.create(
                parent=above,
                name=row["name"],
                slug=slug,
                kind=row["kind"],
                actor_type=row.get("actor_type", ""),
                country_code=row.get("country_code", ""),
                language=row.get("language") or "fr",
                grid_version=versions.get(row.get("grid_version", "")),
            )
            CoordinationGroup.objects.create(territory=territory)
            territories[row["id"]] = territory
        pending = [r for r in pending if r not in ready]
    root_grid = meta.get("scope_grid_version")
    roots = [t for pk, t in territories.items() if not by_id[pk][1]["parent_id"]]
    for root in roots:
        # The scope coded with an inherited or default version: pin it on the new root, so
        # its synthesis reads the same grid whatever the default is here.
        if root_grid in versions and root.effective_grid_version_id() != versions[root_grid].pk:
            root.grid_version = versions[root_grid]
            root.save(update_fields=["grid_version"])

    # Groups.
    profiles = {p.code: p for p in GroupProfile.objects.all()}
    groups: dict[str, HomogeneousGroup] = {}
    for line, row in _read(archive, "groups.csv"):
        home = territories.get(row["territory_id"])
        code = row.get("profile", "")
        profile = profiles.get(code) if code else _undisclosed_profile(profiles)
        if home is None or profile is None:
            errors.append(
                LineError(
                    line,
                    _("groups.csv: unknown territory or profile “%(profile)s”.")
                    % {"profile": code},
                )
            )
            continue
        groups[row["id"]] = HomogeneousGroup(
            territory=home,
            name=row["name"],
            profile=profile,
            size=_int(row.get("size")),
            language=row.get("language") or home.language,
            is_archived=row.get("archived") == "true",
        )
    created_groups = HomogeneousGroup.objects.bulk_create(groups.values(), batch_size=2000)
    groups = dict(zip(groups.keys(), created_groups, strict=True))

    # Meetings.
    question_sets = {q.code: q for q in QuestionSet.objects.all()}
    meetings: dict[str, Meeting] = {}
    for line, row in _read(archive, "meetings.csv"):
        group = groups.get(row["group_id"])
        question_set = question_sets.get(row["question_set"])
        if group is None or question_set is None:
            errors.append(
                LineError(
                    line,
                    _("meetings.csv: unknown group or question set “%(code)s”.")
                    % {"code": row["question_set"]},
                )
            )
            continue
        meetings[row["id"]] = Meeting(
            group=group,
            held_on=datetime.date.fromisoformat(row["held_on"]),
            question_set=question_set,
            language=row.get("language") or group.language,
        )
    created_meetings = Meeting.objects.bulk_create(meetings.values(), batch_size=2000)
    meetings = dict(zip(meetings.keys(), created_meetings, strict=True))

    # Codings first, so each criterion is written with its codes.
    criterion_ids_in_package = {row["id"] for _line, row in _read(archive, "criteria.csv")}
    codes_of: dict[str, list[ResolvedCode]] = defaultdict(list)
    codings = 0
    for line, row in _read(archive, "codings.csv"):
        index = indexes.get(row["grid_version"])
        if row["criterion_id"] not in criterion_ids_in_package or index is None:
            errors.append(LineError(line, _("codings.csv: unknown criterion or grid version.")))
            continue
        try:
            codes_of[row["criterion_id"]].append(index.resolve(row["full_code"]))
            codings += 1
        except CodeError as error:
            errors.append(LineError(line, f"codings.csv: {error}"))

    # Criteria, their revisions and codings: the one bulk write path of criteria, which checks
    # them as typed ones and adds them to the figures without recounting a territory.
    questions = {(q.question_set_id, q.code): q for q in Question.objects.all()}
    drafts: list[CriterionDraft] = []
    draft_lines: list[int] = []
    for line, row in _read(archive, "criteria.csv"):
        meeting = meetings.get(row["meeting_id"])
        question = questions.get((meeting.question_set_id, row["question"])) if meeting else None
        expressions = _int(row.get("expressions")) or 0
        if meeting is None or question is None or expressions < 1 or not row["text"].strip():
            errors.append(
                LineError(line, _("criteria.csv: unknown meeting or question, or empty line."))
            )
            continue
        draft_lines.append(line)
        drafts.append(
            CriterionDraft(
                meeting=meeting,
                question=question,
                text=row["text"],
                expressions=expressions,
                language=row["language"],
                codes=tuple(codes_of.get(row["id"], ())),
            )
        )
    if errors:
        raise ImportRejected(errors)
    try:
        written = criteria_bulk_create(drafts=drafts, user=None, source=CodingSource.IMPORT)
    except CriteriaRejected as rejected:
        raise ImportRejected(
            [
                LineError(draft_lines[index], "criteria.csv: " + " ".join(problems.values()))
                for index, problems in sorted(rejected.errors.items())
            ]
        ) from rejected
    # The groups' people and the meetings, added to the figures as the criteria were.
    figures_change(
        groups_added=[
            GroupFacts(g.territory_id, g.profile.code, g.size, g.is_archived)
            for g in groups.values()
        ],
        meetings_added=[m.group.territory_id for m in meetings.values() if not m.group.is_archived],
    )
    # Territories without criteria get their (empty) counts too.
    territory_counts_refresh(territory_ids=[t.pk for t in territories.values()])
    return {
        "territories": len(territories),
        "groups": len(groups),
        "meetings": len(meetings),
        "criteria": len(written),
        "codings": codings,
    }


def _undisclosed_profile(profiles: dict[str, GroupProfile]) -> GroupProfile:
    """Groups whose profile a public package left out get this one, never a guessed profile."""
    if UNDISCLOSED_PROFILE not in profiles:
        profiles[UNDISCLOSED_PROFILE], _created = GroupProfile.objects.get_or_create(
            code=UNDISCLOSED_PROFILE,
            defaults={
                "label_fr": "Profil non publié",
                "label_en": "Profile not published",
                "position": 999,
                "is_active": False,
            },
        )
    return profiles[UNDISCLOSED_PROFILE]
