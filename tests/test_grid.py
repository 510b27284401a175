"""The SPIRAL grid: code syntax, resolution against a version, shipped data, CSV import and export,
mappings and carry-over of codings, and the public browser with its admin imports."""

from __future__ import annotations

import csv
import io
import itertools
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from hypothesis import HealthCheck, example, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from spiral.accounts.models import Role, User
from spiral.coding.models import Coding
from spiral.coding.services import codings_carry_over
from spiral.consultations.models import Criterion, Meeting, Question
from spiral.consultations.services import CriterionInput, criteria_add
from spiral.core.errors import ImportRejected
from spiral.grid.codes import CodeError, GridIndex, ParsedCode, parse_full_code
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
from spiral.grid.services import (
    GRID_CSV_COLUMNS,
    grid_mapping_import_csv,
    grid_version_export_csv,
    grid_version_import_csv,
)
from spiral.territories.models import Territory
from tests.conftest import client_for
from tests.factories import UserFactory

DB_SETTINGS = hypothesis_settings(
    max_examples=20,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
SHIPPED_DIR = Path(settings.PACKAGE_DIR) / "data" / "grid" / "spiral-ag"
ENTRY_MODELS: list[Any] = [
    Dimension,
    Component,
    ObjectDetail,
    SenseCategory,
    SenseReason,
    Beneficiary,
]
COMPARED_FIELDS = [c for c in GRID_CSV_COLUMNS if c != "kind"]
# The entries the project's reference notes (workspace reference/spiral-grid.tsv) read in public
# sources for families A-H: the shipped grid must keep each one, marked sourced.
SOURCED_IN_REFERENCE = [
    "A",
    "A00",
    "A01",
    "A01-11",
    "A02",
    "A03",
    "A05",
    "A06",
    "A07",
    "A09",
    "A11",
    "B00",
    "B02",
]
# A small second version with other codes, to map the default one onto.
NEXT_GRID_CSV = """kind,code,label_fr,label_en,status
dimension,A,Ressources,Resources,official
component,A00,Ressources en général,Resources in general,official
component,A01,Logement,Housing,official
component,A02,Alimentation,Food,official
dimension,Z,Nouvelle famille,New family,official
component,Z00,Nouvelle famille en général,New family in general,official
component,Z01,Pain et céréales,Bread and cereals,official
object-detail,Z01-1,Pain,Bread,official
sense-category,P,Possibilité,Possibility,official
sense-reason,P15,Manque de moyens,Lack of means,official
beneficiary,k,Enfants,Children,official
"""
MAPPING_CSV = """source_code,target_code
A01-11,Z01
A01,A02
A03,Z01-1
B,Z00
"""


def read_tsv(name: str) -> list[dict[str, str]]:
    with (SHIPPED_DIR / name).open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle, delimiter="\t"))


SHIPPED_OBJECTS = read_tsv("objects.tsv")
SHIPPED_COMPONENT_CODES = [r["code"] for r in SHIPPED_OBJECTS if r["level"] == "component"]


def default_version() -> GridVersion:
    version = GridVersion.objects.default()
    assert version is not None
    return version


def entry_rows(version: GridVersion, model: Any) -> list[tuple[Any, ...]]:
    """Every compared field of one kind of entry, with its parent's code, in display order."""
    parent = {Component: "dimension", ObjectDetail: "component", SenseReason: "category"}.get(model)
    rows = []
    for entry in model.objects.filter(version=version).order_by("position"):
        values = tuple(getattr(entry, f) for f in COMPARED_FIELDS)
        rows.append((*values, getattr(entry, parent).code if parent else None))
    return rows


def entry_count() -> int:
    return sum(model.objects.count() for model in ENTRY_MODELS)


def grid_csv(*lines: str, delimiter: str = ",") -> str:
    header = delimiter.join(["kind", "code", "label_fr", "label_en"])
    return "\n".join([header, *lines]) + "\n"


def rejected_lines(error: pytest.ExceptionInfo[ImportRejected]) -> dict[int, str]:
    return {e.line: e.message for e in error.value.errors}


def component_dt(html: str, code: str) -> str | None:
    """The browser's heading line of one component, or None when the page does not show it."""
    match = re.search(rf'<dt id="{code}">(.*?)</dt>', html, re.S)
    return match[1] if match else None


@pytest.fixture
def anonymous() -> Client:
    """One client for all the examples of a property (a new client reloads the middleware)."""
    return client_for(None)


@pytest.fixture
def network_admin(tree: dict[str, Territory], user_with_role: Callable[..., User]) -> User:
    return user_with_role(Role.NETWORK_ADMIN, tree["network"])


@pytest.fixture
def next_version(db: None) -> GridVersion:
    return grid_version_import_csv(
        text=NEXT_GRID_CSV, code="spiral-next", name_fr="Suivante", name_en="Next"
    )


@pytest.fixture
def mapping(next_version: GridVersion) -> GridMapping:
    return grid_mapping_import_csv(source=default_version(), target=next_version, text=MAPPING_CSV)


# --- Code syntax -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected", "normalised"),
    [
        ("A", ParsedCode("A", None, None, None, None, None), "A"),
        ("A01", ParsedCode("A", "A01", None, None, None, None), "A01"),
        ("A01-11", ParsedCode("A", "A01", "A01-11", None, None, None), "A01-11"),
        ("A01/P", ParsedCode("A", "A01", None, "P", None, None), "A01/P--"),
        ("A01/P--", ParsedCode("A", "A01", None, "P", None, None), "A01/P--"),
        ("A01/P15", ParsedCode("A", "A01", None, "P", "P15", None), "A01/P15"),
        ("A01-11/P15/k", ParsedCode("A", "A01", "A01-11", "P", "P15", "k"), "A01-11/P15/k"),
        ("A01//k", ParsedCode("A", "A01", None, None, None, "k"), "A01//k"),
        ("a01", ParsedCode("A", "A01", None, None, None, None), "A01"),
        (" a01-11 / p15 / K ", ParsedCode("A", "A01", "A01-11", "P", "P15", "k"), "A01-11/P15/k"),
    ],
)
def test_parse_full_code_reads_every_valid_form(
    raw: str, expected: ParsedCode, normalised: str
) -> None:
    parsed = parse_full_code(raw)

    assert parsed == expected
    assert str(parsed) == normalised


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ("", "Type a code"),
        ("   ", "Type a code"),
        ("A1", "“A1” is not an object code"),
        ("A001", "“A001” is not an object code"),
        ("01", "“01” is not an object code"),
        ("A01-", "“A01-” is not an object code"),
        ("A01/X1", "“X1” is not a sense code"),
        ("A01/P1", "“P1” is not a sense code"),
        ("A01/P/k/z", "at most three parts"),
        ("A01/P15/k1", "“k1” is not a beneficiary code"),
    ],
)
def test_parse_full_code_rejects_malformed_codes_with_a_message(raw: str, message: str) -> None:
    with pytest.raises(CodeError, match=re.escape(message)):
        parse_full_code(raw)


def random_case(draw: st.DrawFn, text: str) -> str:
    return "".join(c.lower() if draw(st.booleans()) else c.upper() for c in text)


@st.composite
def written_codes(draw: st.DrawFn) -> tuple[str, str]:
    """A valid full code as someone may type it (any case, spaces), and its normal form."""
    upper = st.sampled_from("ABCDEFGHIJKLMNOPQRSTUVWXYZ")
    spaces = st.sampled_from(["", " ", "  "])
    dimension = draw(upper)
    number = draw(st.none() | st.integers(0, 99).map(lambda n: f"{n:02d}"))
    detail = draw(st.none() | st.from_regex(r"\A[0-9]{1,3}\Z")) if number else None
    category = draw(st.none() | upper)
    reason = draw(st.none() | st.integers(0, 99).map(lambda n: f"{n:02d}")) if category else None
    dashes = category is not None and reason is None and draw(st.booleans())
    beneficiary = draw(st.none() | st.from_regex(r"\A[a-z]{1,3}\Z"))

    object_code = dimension + (number or "") + (f"-{detail}" if detail else "")
    sense = f"{category}{reason or ''}" if category else ""
    normal_sense = f"{category}{reason}" if reason else (f"{category}--" if category else "")
    parts, normal_parts = [object_code], [object_code]
    if category or beneficiary:
        parts.append(sense + ("--" if dashes else ""))
        normal_parts.append(normal_sense)
    if beneficiary:
        parts.append(beneficiary)
        normal_parts.append(beneficiary)
    written = "/".join(draw(spaces) + random_case(draw, p) + draw(spaces) for p in parts)
    return written, "/".join(normal_parts)


@hypothesis_settings(max_examples=60)
@given(written_codes())
def test_parse_full_code_round_trips_to_the_normal_form(code: tuple[str, str]) -> None:
    written, normal = code

    assert str(parse_full_code(written)) == normal
    assert parse_full_code(normal) == parse_full_code(written)


@hypothesis_settings(max_examples=100)
@given(st.text(max_size=30) | st.from_regex(r"\A[A-Za-z0-9/ -]{0,15}\Z"))
def test_parse_full_code_parses_or_raises_code_error(raw: str) -> None:
    parsed, message = None, ""
    try:
        parsed = parse_full_code(raw)
    except CodeError as error:
        message = str(error)

    if parsed is None:
        assert message
    else:
        # Whatever parses has a normal form that reads back as the same code.
        assert parse_full_code(str(parsed)) == parsed


# --- Resolution against a grid version ---------------------------------------------------------


def test_resolve_finds_every_part_of_a_full_code(db: None) -> None:
    resolved = GridIndex(default_version()).resolve("A01-11/P15/k")

    assert resolved.dimension.code == "A"
    assert resolved.component.code == "A01"
    assert resolved.object_detail is not None
    assert resolved.object_detail.code == "A01-11"
    assert resolved.sense_category is not None
    assert resolved.sense_category.code == "P"
    assert resolved.sense_reason is not None
    assert resolved.sense_reason.code == "P15"
    assert resolved.beneficiary is not None
    assert resolved.beneficiary.code == "k"
    assert resolved.full_code == "A01-11/P15/k"
    assert {resolved.component.version_id, resolved.beneficiary.version_id} == {
        default_version().pk
    }


@pytest.mark.parametrize(
    ("raw", "component", "full_code"),
    [("A", "A00", "A00"), ("d/P15", "D00", "D00/P15"), ("H//k", "H00", "H00//k")],
)
def test_resolve_reads_a_bare_dimension_as_its_general_component(
    db: None, raw: str, component: str, full_code: str
) -> None:
    resolved = GridIndex(default_version()).resolve(raw)

    assert resolved.component.code == component
    assert resolved.full_code == full_code


@pytest.mark.parametrize(
    ("raw", "named"),
    [
        ("Z", "Dimension “Z”"),
        ("Z01", "“Z”"),
        ("A99", "Component “A99”"),
        ("A01-99", "Object detail “A01-99”"),
        ("A01/X", "Sense category “X”"),
        ("A01/P99", "Sense code “P99”"),
        ("A01/P15/zz", "Beneficiary “zz”"),
    ],
)
def test_resolve_names_the_unknown_part(db: None, raw: str, named: str) -> None:
    with pytest.raises(CodeError, match=re.escape(named)) as error:
        GridIndex(default_version()).resolve(raw)

    if "/" not in raw:
        assert "“spiral-ag”" in str(error.value)


def test_every_shipped_component_resolves_to_itself(db: None) -> None:
    index = GridIndex(default_version())
    components = Component.objects.filter(version=default_version())

    assert components.count() == 64
    for component in components:
        resolved = index.resolve(component.code)
        assert resolved.component == component
        assert resolved.full_code == component.code


# --- The shipped grid --------------------------------------------------------------------------


def test_spiral_ag_is_the_single_default_version(db: None) -> None:
    assert default_version().code == "spiral-ag"
    assert GridVersion.objects.filter(is_default=True).count() == 1


def test_shipped_grid_has_dimensions_a_to_h_each_with_a_general_component(db: None) -> None:
    version = default_version()
    dimensions = list(
        Dimension.objects.filter(version=version)
        .order_by("position")
        .values_list("code", flat=True)
    )

    assert dimensions == list("ABCDEFGH")
    for code in dimensions:
        assert Component.objects.filter(version=version, dimension__code=code, code=f"{code}00")


def test_shipped_grid_keeps_every_entry_the_reference_read_in_sources(db: None) -> None:
    version = default_version()
    found = {
        e.code: e.status
        for model in (Dimension, Component, ObjectDetail)
        for e in model.objects.filter(version=version, code__in=SOURCED_IN_REFERENCE)
    }

    assert found == dict.fromkeys(SOURCED_IN_REFERENCE, EntryStatus.SOURCED)
    assert SenseReason.objects.get(version=version, code="P15").status == EntryStatus.SOURCED
    assert Beneficiary.objects.get(version=version, code="k").status == EntryStatus.SOURCED


@pytest.mark.parametrize("filename", ["objects.tsv", "senses.tsv", "beneficiaries.tsv"])
def test_shipped_files_are_loaded_as_written_with_a_known_status(db: None, filename: str) -> None:
    version = default_version()
    rows = read_tsv(filename)
    entries = {
        (type(e).__name__, e.code): e
        for model in ENTRY_MODELS
        for e in model.objects.filter(version=version)
    }
    kinds = {
        "dimension": "Dimension",
        "component": "Component",
        "object-detail": "ObjectDetail",
        "category": "SenseCategory",
        "reason": "SenseReason",
    }

    assert rows
    for row in rows:
        assert row["status"] in {"sourced", "inferred", "provisional"}, row["code"]
        # A provisional entry was written by the project: no source may be claimed for it.
        assert (row["status"] == "provisional") == (not row["source_url"]), row["code"]
        entry = entries[(kinds.get(row.get("level", ""), "Beneficiary"), row["code"])]
        assert (entry.label_fr, entry.label_en) == (row["label_fr"], row["label_en"])
        assert (entry.status, entry.source_url) == (row["status"], row["source_url"])


def test_inferred_and_provisional_entries_are_flagged(db: None) -> None:
    version = default_version()
    seen = set()
    for model in ENTRY_MODELS:
        for entry in model.objects.filter(version=version):
            seen.add(entry.status)
            assert entry.is_flagged == (entry.status in {"inferred", "provisional"}), entry.code

    assert seen == {"sourced", "inferred", "provisional"}


# --- Import and export -------------------------------------------------------------------------


def test_export_then_import_gives_the_same_grid(db: None) -> None:
    version = default_version()
    text = grid_version_export_csv(version=version)

    copy = grid_version_import_csv(
        text=text, code="spiral-ag-copy", name_fr="Copie", name_en="Copy"
    )

    assert text.splitlines()[0] == ",".join(GRID_CSV_COLUMNS)
    assert len(text.splitlines()) == 1 + sum(
        model.objects.filter(version=version).count() for model in ENTRY_MODELS
    )
    for model in ENTRY_MODELS:
        original = entry_rows(version, model)
        assert original
        assert entry_rows(copy, model) == original, model.__name__
    assert not copy.is_default


# Printable text plus the characters a CSV must quote (control characters are not grid text).
cell_text = st.text(
    st.characters(blacklist_categories=["Cs", "Cc"]) | st.sampled_from(',;"\t\n'), max_size=30
).map(str.strip)
label_text = cell_text.filter(bool)
version_numbers = itertools.count()


@DB_SETTINGS
@given(
    labels=st.lists(st.tuples(label_text, label_text, cell_text), min_size=2, max_size=5),
    status=st.sampled_from(EntryStatus.values),
)
def test_any_imported_grid_exports_and_reimports_identically(
    db: None, labels: list[tuple[str, str, str]], status: str
) -> None:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["kind", "code", "label_fr", "label_en", "description_en", "status"])
    for number, (label_fr, label_en, description) in enumerate(labels):
        kind, code = ("dimension", "A") if number == 0 else ("component", f"A{number:02d}")
        writer.writerow([kind, code, label_fr, label_en, description, status])
    text = out.getvalue()
    suffix = next(version_numbers)
    first = grid_version_import_csv(text=text, code=f"first-{suffix}", name_fr="a", name_en="a")
    second = grid_version_import_csv(
        text=grid_version_export_csv(version=first),
        code=f"second-{suffix}",
        name_fr="b",
        name_en="b",
    )

    for model in (Dimension, Component):
        assert entry_rows(second, model) == entry_rows(first, model)
    assert [(c.code, c.label_fr, c.label_en) for c in Component.objects.filter(version=first)] == [
        (f"A{n:02d}", fr, en) for n, (fr, en, _d) in enumerate(labels) if n
    ]


def test_import_lists_every_bad_line_and_saves_nothing(db: None) -> None:
    text = grid_csv(
        "dimension,A,Moyens de vie,Means of life",
        "component,A00,Moyens en général,Means in general",
        "planet,A01,Planète,Planet",
        "component,A1,Code court,Short code",
        "component,Q01,Sans famille,No family",
        "component,A00,Encore,Again",
        "component,A02,,",
    )
    versions, entries = GridVersion.objects.count(), entry_count()

    with pytest.raises(ImportRejected) as rejected:
        grid_version_import_csv(text=text, code="broken", name_fr="x", name_en="x")

    lines = rejected_lines(rejected)
    assert sorted(lines) == [4, 5, 6, 7, 8]
    assert "Unknown kind “planet”" in lines[4]
    assert "“A1” is not a valid component code" in lines[5]
    assert "needs the dimension Q" in lines[6]
    assert "already appears on line 3" in lines[7]
    assert "has no label" in lines[8]
    assert (GridVersion.objects.count(), entry_count()) == (versions, entries)


def test_import_counts_lines_as_written_despite_blank_and_multiline_rows(db: None) -> None:
    text = (
        "kind,code,label_fr,label_en,description_en\n"
        "dimension,A,Moyens,Means,\n"
        "\n"
        'component,A00,En général,In general,"two\nlines"\n'
        "component,A1,Court,Short,\n"
    )

    with pytest.raises(ImportRejected) as rejected:
        grid_version_import_csv(text=text, code="broken", name_fr="x", name_en="x")

    assert list(rejected_lines(rejected)) == [6]


def test_import_refuses_an_existing_version_code(db: None) -> None:
    text = grid_csv("dimension,A,Moyens,Means", "component,A00,En général,In general")

    with pytest.raises(ImportRejected, match="already exists"):
        grid_version_import_csv(text=text, code="spiral-ag", name_fr="x", name_en="x")


def test_official_file_without_status_gets_official_and_network_origin(db: None) -> None:
    text = (
        "kind,code,label_fr,label_en,status,label_fr_origin,label_en_origin\n"
        "dimension,I,Famille I,Family I,,,\n"
        "component,I00,I en général,,,,\n"
    )

    version = grid_version_import_csv(text=text, code="official", name_fr="O", name_en="O")

    component = Component.objects.get(version=version, code="I00")
    assert component.status == EntryStatus.OFFICIAL
    assert (component.label_fr_origin, component.label_en_origin) == (
        LabelOrigin.NETWORK,
        LabelOrigin.NETWORK,
    )
    # A missing English label shows the French one rather than nothing.
    assert component.label_en == "I en général"
    assert not component.is_flagged


@pytest.mark.parametrize("delimiter", [",", ";", "\t"])
@pytest.mark.parametrize("bom", ["", "\ufeff"])
def test_import_accepts_comma_semicolon_and_tab_files_with_or_without_bom(
    db: None, delimiter: str, bom: str
) -> None:
    text = bom + grid_csv(
        delimiter.join(["dimension", "A", "Moyens de vie", "Means of life"]),
        delimiter.join(["component", "A00", "En général", "In general"]),
        delimiter.join(["component", "A01", "Pain, lait", "Bread, milk"])
        if delimiter != ","
        else 'component,A01,"Pain, lait","Bread, milk"',
        delimiter=delimiter,
    )

    version = grid_version_import_csv(text=text, code="delimited", name_fr="D", name_en="D")

    assert list(
        Component.objects.filter(version=version)
        .order_by("position")
        .values_list("code", "label_en")
    ) == [("A00", "In general"), ("A01", "Bread, milk")]
    assert Dimension.objects.get(version=version).code == "A"


# --- Mappings and carry-over -------------------------------------------------------------------


def test_mapping_import_stores_each_row_at_its_level(mapping: GridMapping) -> None:
    assert mapping.source.code == "spiral-ag"
    assert mapping.target.code == "spiral-next"
    assert dict(mapping.rows.values_list("source_code", "target_code")) == {
        "A01-11": "Z01",
        "A01": "A02",
        "A03": "Z01-1",
        "B": "Z00",
    }


def test_mapping_import_normalises_codes_as_written(next_version: GridVersion) -> None:
    mapping = grid_mapping_import_csv(
        source=default_version(),
        target=next_version,
        text="source_code;target_code\n a01-11 ;z01\n",
    )

    assert dict(mapping.rows.values_list("source_code", "target_code")) == {"A01-11": "Z01"}


def test_mapping_import_rejects_bad_lines_one_by_one(next_version: GridVersion) -> None:
    text = "source_code,target_code\nA01,A01\nZ99,A01\nA02,Q05\nA01,A02\nA1,A01\n"

    with pytest.raises(ImportRejected) as rejected:
        grid_mapping_import_csv(source=default_version(), target=next_version, text=text)

    lines = rejected_lines(rejected)
    assert sorted(lines) == [3, 4, 5, 6]
    assert "“Z”" in lines[3]
    assert "“spiral-ag”" in lines[3]
    assert "“Q”" in lines[4]
    assert "“spiral-next”" in lines[4]
    assert "mapped twice" in lines[5]
    assert "“A1” is not an object code" in lines[6]
    assert not GridMapping.objects.exists()
    assert not GridMappingRow.objects.exists()


def add_coded_criteria(meeting: Meeting, question: Question, codes: list[str]) -> list[Criterion]:
    outcomes = criteria_add(
        meeting=meeting,
        question=question,
        inputs=[CriterionInput(text=f"Critère {code}", code=code) for code in codes],
        user=None,
    )
    assert all(o.ok for o in outcomes), [o.errors for o in outcomes]
    return [o.criterion for o in outcomes if o.criterion is not None]


def current_code(criterion: Criterion) -> tuple[str, str]:
    coding = Coding.objects.current().select_related("component__version").get(criterion=criterion)
    return coding.full_code, coding.component.version.code


def test_carry_over_recodes_through_the_most_precise_mapped_code(
    mapping: GridMapping, meeting: Meeting, questions: list[Question]
) -> None:
    codes = ["A01-11/P15/k", "A01/P15", "A03", "B03/P--", "A06/P15", "A01/P15/m"]
    criteria = add_coded_criteria(meeting, questions[0], codes)
    before = Coding.objects.count()

    recoded, unmapped = codings_carry_over(criteria=criteria, mapping=mapping, user=None)

    assert (recoded, unmapped) == (5, ["A06"])
    assert [current_code(c) for c in criteria] == [
        ("Z01/P15/k", "spiral-next"),  # A01-11 is mapped itself, before A01
        ("A02/P15", "spiral-next"),
        ("Z01-1", "spiral-next"),  # mapped to a detail of the target
        ("Z00/P--", "spiral-next"),  # only its dimension B is mapped
        ("A06/P15", "spiral-ag"),  # nothing maps A06 nor A: left as it was
        ("A02", "spiral-next"),  # beneficiary m is not in the target: the object is kept
    ]
    detail = Coding.objects.current().get(criterion=criteria[2]).object_detail
    assert detail is not None
    assert (detail.code, detail.version_id) == ("Z01-1", mapping.target_id)
    # Nothing is deleted: the old codings stay, superseded.
    assert Coding.objects.count() == before + 5
    old = Coding.objects.filter(criterion=criteria[0], superseded_at__isnull=False).get()
    assert (old.full_code, old.component.version.code) == ("A01-11/P15/k", "spiral-ag")


def test_carry_over_twice_changes_nothing_more(
    mapping: GridMapping, meeting: Meeting, questions: list[Question]
) -> None:
    criteria = add_coded_criteria(meeting, questions[0], ["A01", "A06"])
    codings_carry_over(criteria=criteria, mapping=mapping, user=None)
    count = Coding.objects.count()

    assert codings_carry_over(criteria=criteria, mapping=mapping, user=None) == (0, ["A06"])
    assert Coding.objects.count() == count


# --- Views: the public browser -----------------------------------------------------------------


@pytest.mark.parametrize("url", ["/grid/", "/grid/spiral-ag/"])
def test_grid_browser_is_public(db: None, url: str) -> None:
    response = client_for(None).get(url)

    assert response.status_code == 200
    html = response.content.decode()
    assert all(component_dt(html, code) for code in SHIPPED_COMPONENT_CODES)


def test_grid_browser_unknown_version_is_404(db: None) -> None:
    assert client_for(None).get("/grid/no-such-grid/").status_code == 404


def test_grid_browser_flags_provisional_and_inferred_entries_only(db: None) -> None:
    html = client_for(None).get("/grid/spiral-ag/").content.decode()

    sourced, inferred, provisional = (component_dt(html, c) for c in ("A06", "A04", "D03"))
    assert sourced is not None
    assert "provisional" not in sourced
    assert "inferred" not in sourced
    assert inferred is not None
    assert "flag-inferred" in inferred
    assert provisional is not None
    assert "flag-provisional" in provisional
    assert ">provisional<" in provisional


@pytest.mark.parametrize(
    ("query", "language", "shown", "hidden"),
    [
        ("A06", "en", "A06", "D03"),
        ("a06", "en", "A06", "A01"),
        ("friendship", "en", "D03", "A06"),
        ("amitié", "fr", "D03", "A06"),
        ("travail", "fr", "A06", "D03"),
    ],
)
def test_grid_browser_search_filters_components(
    db: None, query: str, language: str, shown: str, hidden: str
) -> None:
    response = client_for(None).get("/grid/spiral-ag/", {"q": query}, HTTP_ACCEPT_LANGUAGE=language)

    html = response.content.decode()
    assert response.status_code == 200
    assert component_dt(html, shown) is not None
    assert component_dt(html, hidden) is None


def test_grid_browser_search_without_match_says_so(db: None) -> None:
    html = client_for(None).get("/grid/spiral-ag/", {"q": "zzzqqq"}).content.decode()

    assert "No component matches" in html
    assert component_dt(html, "A01") is None


def test_grid_browser_htmx_request_gets_the_results_only(db: None) -> None:
    response = client_for(None).get("/grid/spiral-ag/", {"q": "A06"}, HTTP_HX_REQUEST="true")

    html = response.content.decode()
    assert response.status_code == 200
    assert "<html" not in html
    assert component_dt(html, "A06") is not None
    assert component_dt(html, "A01") is None


@DB_SETTINGS
@given(query=st.text(max_size=40))
@example(query="pain\x00")  # PostgreSQL refuses NUL in a query parameter
def test_grid_browser_answers_any_search_text(db: None, anonymous: Client, query: str) -> None:
    response = anonymous.get("/grid/spiral-ag/", {"q": query}, HTTP_HX_REQUEST="true")

    assert response.status_code == 200


def test_grid_browser_in_french_shows_french_labels(db: None) -> None:
    response = client_for(None).get("/grid/spiral-ag/", HTTP_ACCEPT_LANGUAGE="fr")

    html = response.content.decode()
    sourced, provisional = component_dt(html, "A06"), component_dt(html, "D03")
    assert sourced is not None
    assert "Emploi / travail" in sourced
    assert "Employment" not in sourced
    assert provisional is not None
    assert "Amis / amitié" in provisional


def test_code_check_explains_each_part(db: None) -> None:
    response = client_for(None).get("/grid/spiral-ag/check/", {"code": "A01-11/P15/k"})

    html = response.content.decode()
    assert response.status_code == 200
    for text in (
        "A01-11/P15/k",
        "Access to essential resources",
        "Food / drink",
        "Bread (example)",
        "Possibility",
        "Lack of financial means",
        "Children",
    ):
        assert text in html
    assert "errorlist" not in html


@pytest.mark.parametrize(
    ("code", "message"),
    [("A1/P15", "“A1” is not an object code"), ("A99", "Component “A99” does not exist")],
)
def test_code_check_shows_what_is_wrong(db: None, code: str, message: str) -> None:
    response = client_for(None).get("/grid/spiral-ag/check/", {"code": code})

    html = response.content.decode()
    assert response.status_code == 200
    assert 'role="alert"' in html
    assert message in html


@DB_SETTINGS
@given(code=st.text(max_size=40))
def test_code_check_answers_any_text(db: None, anonymous: Client, code: str) -> None:
    assert anonymous.get("/grid/spiral-ag/check/", {"code": code}).status_code == 200


def test_export_csv_downloads_the_version(db: None) -> None:
    response = client_for(None).get("/grid/spiral-ag/export.csv")

    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    assert 'filename="grid-spiral-ag.csv"' in response["Content-Disposition"]
    lines = response.content.decode().splitlines()
    assert lines[0] == ",".join(GRID_CSV_COLUMNS)
    assert any(line.startswith("component,A06,") for line in lines)


# --- Views: imports, for network administrators only -------------------------------------------

IMPORT_URLS = ["/grid/import/", "/grid/mappings/import/"]
GOOD_UPLOAD = grid_csv("dimension,I,Famille I,Family I", "component,I00,I en général,I in general")
BAD_UPLOAD = grid_csv(
    "dimension,I,Famille I,Family I", "component,I00,I en général,I in general", "component,I1,,"
)


def grid_upload(text: str, code: str = "official-2027") -> dict[str, Any]:
    return {
        "code": code,
        "name_fr": "Grille officielle",
        "name_en": "Official grid",
        "file": SimpleUploadedFile("grid.csv", text.encode(), content_type="text/csv"),
    }


def mapping_upload(target: GridVersion, text: str) -> dict[str, Any]:
    return {
        "source": default_version().pk,
        "target": target.pk,
        "file": SimpleUploadedFile("mapping.csv", text.encode(), content_type="text/csv"),
    }


@pytest.mark.parametrize("url", IMPORT_URLS)
def test_imports_send_anonymous_visitors_to_login(db: None, url: str) -> None:
    response = client_for(None).get(url)

    assert response.status_code == 302
    assert response["Location"].startswith(f"/accounts/login/?next={url}")


@pytest.mark.parametrize("url", IMPORT_URLS)
@pytest.mark.parametrize("role", [Role.COORDINATOR, Role.CODER])
def test_imports_are_refused_to_roles_other_than_network_admin(
    tree: dict[str, Territory], user_with_role: Callable[..., User], url: str, role: str
) -> None:
    # Even a coordinator of the whole network is not a network administrator.
    user = user_with_role(role, tree["network"])

    assert client_for(user).get(url).status_code == 403


def test_grid_import_post_is_refused_to_a_coordinator(coordinator: User) -> None:
    versions = GridVersion.objects.count()

    response = client_for(coordinator).post("/grid/import/", grid_upload(GOOD_UPLOAD))

    assert response.status_code == 403
    assert GridVersion.objects.count() == versions


def test_mapping_import_post_is_refused_to_a_coordinator(
    coordinator: User, next_version: GridVersion
) -> None:
    response = client_for(coordinator).post(
        "/grid/mappings/import/", mapping_upload(next_version, MAPPING_CSV)
    )

    assert response.status_code == 403
    assert not GridMapping.objects.exists()


@pytest.mark.parametrize("url", IMPORT_URLS)
@pytest.mark.parametrize("who", ["network_admin", "superuser"])
def test_imports_open_to_network_admins_and_superusers(
    network_admin: User, url: str, who: str
) -> None:
    user = network_admin if who == "network_admin" else UserFactory(is_superuser=True)

    response = client_for(user).get(url)

    assert response.status_code == 200
    assert 'type="file"' in response.content.decode()


def test_grid_import_upload_creates_the_version(network_admin: User) -> None:
    response = client_for(network_admin).post("/grid/import/", grid_upload(GOOD_UPLOAD))

    assert response.status_code == 302
    assert response["Location"] == "/grid/official-2027/"
    version = GridVersion.objects.get(code="official-2027")
    assert version.name_en == "Official grid"
    assert list(Component.objects.filter(version=version).values_list("code", flat=True)) == ["I00"]
    assert client_for(None).get("/grid/official-2027/").status_code == 200


def test_grid_import_upload_with_a_bad_line_saves_nothing(network_admin: User) -> None:
    versions, entries = GridVersion.objects.count(), entry_count()

    response = client_for(network_admin).post("/grid/import/", grid_upload(BAD_UPLOAD))

    assert response.status_code == 422
    html = response.content.decode()
    assert "Line 4" in html
    assert "“I1” is not a valid component code" in html
    assert (GridVersion.objects.count(), entry_count()) == (versions, entries)


def test_mapping_import_upload_creates_the_mapping(
    network_admin: User, next_version: GridVersion
) -> None:
    response = client_for(network_admin).post(
        "/grid/mappings/import/", mapping_upload(next_version, MAPPING_CSV)
    )

    assert response.status_code == 302
    assert response["Location"] == "/grid/spiral-ag/"
    mapping = GridMapping.objects.get(source=default_version(), target=next_version)
    assert mapping.rows.count() == 4
    # The browser of the source version now links to the target.
    html = client_for(None).get("/grid/spiral-ag/").content.decode()
    assert 'href="/grid/spiral-next/"' in html


def test_mapping_import_upload_with_a_bad_line_saves_nothing(
    network_admin: User, next_version: GridVersion
) -> None:
    response = client_for(network_admin).post(
        "/grid/mappings/import/",
        mapping_upload(next_version, "source_code,target_code\nA01,A02\nA06,Q01\n"),
    )

    assert response.status_code == 422
    html = response.content.decode()
    assert "Line 3" in html
    assert "“Q”" in html
    assert "“spiral-next”" in html
    assert not GridMapping.objects.exists()


def test_code_check_without_javascript_is_a_full_page(db: None) -> None:
    from django.test import Client

    response = Client().get("/grid/spiral-ag/check/?code=A01-11/P15/k")
    body = response.content.decode()
    assert response.status_code == 200
    assert "<html" in body
    assert "A01-11" in body
    fragment = Client().get("/grid/spiral-ag/check/?code=A01", HTTP_HX_REQUEST="true")
    assert "<html" not in fragment.content.decode()


def test_carry_over_page_recodes_a_territory(
    tree: dict[str, Territory],
    meeting: Any,
    questions: list[Any],
    network_admin: User,
    coordinator: User,
    mapping: GridMapping,
) -> None:
    from spiral.coding.models import Coding
    from spiral.consultations.services import CriterionInput, criteria_add

    criteria_add(
        meeting=meeting,
        question=questions[0],
        inputs=[
            CriterionInput(text="Pain", code="A01-11"),
            CriterionInput(text="Santé", code="F01"),
        ],
        user=None,
    )
    url = f"/grid/mappings/{mapping.pk}/apply/"
    assert client_for(None).get(url).status_code == 302
    assert client_for(coordinator).get(url).status_code == 403
    assert client_for(coordinator).post(url, {"territory": tree["town"].pk}).status_code == 403
    assert client_for(network_admin).get(url).status_code == 200
    response = client_for(network_admin).post(url, {"territory": tree["town"].pk}, follow=True)
    assert response.status_code == 200
    town = Territory.objects.get(pk=tree["town"].pk)
    assert town.grid_version == mapping.target
    current = sorted(Coding.objects.current().values_list("full_code", "component__version__code"))
    assert ("F01", "spiral-ag") in current  # no mapping for F: left as it was, and reported
    assert any(version == "spiral-next" for _code, version in current)
    assert "F01" in response.content.decode()
    assert Coding.objects.exclude(superseded_at=None).count() == 1


def test_grid_structure_cache_sees_an_edited_label(db: None) -> None:
    from spiral.grid.selectors import grid_structure

    version = default_version()
    first = grid_structure(version=version)
    component = Component.objects.get(version=version, code="A06")
    component.label_en = "Work and employment (edited)"
    component.save()
    version.refresh_from_db()
    labels = [c.label_en for _d, comps in grid_structure(version=version).dimensions for c in comps]
    assert "Work and employment (edited)" in labels
    assert first is not grid_structure(version=version)
