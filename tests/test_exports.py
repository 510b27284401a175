"""The CSV and XLSX files of syntheses, co-evaluation results and carbon campaigns, pinned.

The files under tests/data/exports were written by each app's own export code before those
copies were merged into spiral.core.tables; these tests show the shared helper writes the same
bytes (every part of the workbook but its creation date), so nobody's spreadsheet changes.
One change since, on purpose: text starting with "=" is written as text, not as a formula
(synthesis.xlsx was rewritten for that cell only, see test_text_is_never_a_formula)."""

from __future__ import annotations

import io
import zipfile
from datetime import date
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import openpyxl
import pytest
from hypothesis import given
from hypothesis import strategies as st

from spiral.carbon import exports as carbon_exports
from spiral.core.tables import table_csv, table_xlsx
from spiral.indicators import exports as indicator_exports
from spiral.syntheses import exports as synthesis_exports

GOLDEN = Path(__file__).parent / "data" / "exports"

SYNTHESIS_ROWS = [
    {
        "level": "dimension",
        "code": "A",
        "label": "Access to the means of living",
        "question": "q1",
        "criteria": 3,
        "expressions": 7,
        "share_of_question_criteria": 0.375,
        "provisional": False,
    },
    {
        "level": "component",
        "code": "A06",
        "label": "Work, “employment”, 50 % of the time",
        "question": "q1",
        "criteria": 0,
        "expressions": 0,
        "share_of_question_criteria": None,
        "provisional": True,
    },
    {
        "level": "component",
        "code": "B02",
        "label": "=SUM(A1) is text here",
        "question": "q2",
        "criteria": 12,
        "expressions": 30,
        "share_of_question_criteria": 1.0,
        "provisional": False,
    },
]

INDICATOR_ROWS = [
    {
        "indicator_id": 4,
        "indicator": "Work",
        "rated_by": "all",
        "profile": "",
        **{f"level_{n}": n for n in range(1, 6)},
        "total": 15,
        "median": 4,
    },
    {
        "indicator_id": 4,
        "indicator": "Work",
        "rated_by": "citizen",
        "profile": "youth",
        **{f"level_{n}": 0 for n in range(1, 6)},
        "total": 0,
        "median": None,
    },
]


def _carbon_rows() -> list[dict[str, Any]]:
    row: dict[str, Any] = dict.fromkeys(carbon_exports.COLUMNS, 1.5)
    row.update({"row": 1, "month": "2026-11", "country": "FR", "factor_set_version": "2025.1"})
    row.update({"total_kg": 8123.4, "pledged_kg": 0.0, "answered_questions": 12})
    other = dict(row, row=2, country="BE", pledged_kg=210.7)
    return [row, other]


def _synthesis() -> Any:
    filters = SimpleNamespace(
        question_kind="q1",
        profile="",
        language="fr",
        period_start=date(2025, 1, 1),
        period_end=None,
    )
    return SimpleNamespace(
        as_rows=lambda: SYNTHESIS_ROWS,
        filters=filters,
        scope_label="Town and below",
        version=SimpleNamespace(code="v2"),
        total=SimpleNamespace(criteria=15, expressions=37),
        uncoded_criteria=2,
    )


def _evaluation_results() -> Any:
    evaluation = SimpleNamespace(
        title="Co-evaluation 2026",
        territory=SimpleNamespace(name="Town"),
        get_kind_display=lambda: "Ex-ante",
        held_on=date(2026, 3, 14),
    )
    return SimpleNamespace(evaluation=evaluation, respondents=9)


@pytest.fixture
def pinned_rows(monkeypatch: pytest.MonkeyPatch) -> None:
    """The row builders read the database; the file format is what is pinned here."""
    monkeypatch.setattr(carbon_exports, "result_rows", lambda results: iter(_carbon_rows()))
    monkeypatch.setattr(indicator_exports, "results_rows", lambda results: INDICATOR_ROWS)


def _files() -> dict[str, str | bytes]:
    synthesis, results = _synthesis(), _evaluation_results()
    return {
        "synthesis.csv": synthesis_exports.synthesis_csv(synthesis),
        "synthesis.xlsx": synthesis_exports.synthesis_xlsx(synthesis),
        "indicators.csv": indicator_exports.results_csv(results),
        "indicators.xlsx": indicator_exports.results_xlsx(results),
        "carbon.csv": carbon_exports.results_csv(None),  # type: ignore[arg-type]
        "carbon.xlsx": carbon_exports.results_xlsx(None, title="Rue des Lilas"),  # type: ignore[arg-type]
    }


def _parts(workbook: bytes) -> dict[str, bytes]:
    """Every part of the workbook but docProps/core.xml, which holds its creation time."""
    with zipfile.ZipFile(io.BytesIO(workbook)) as archive:
        return {
            name: archive.read(name) for name in archive.namelist() if name != "docProps/core.xml"
        }


@pytest.mark.parametrize(
    "name",
    [
        "synthesis.csv",
        "synthesis.xlsx",
        "indicators.csv",
        "indicators.xlsx",
        "carbon.csv",
        "carbon.xlsx",
    ],
)
def test_exports_write_the_same_bytes_as_before(pinned_rows: None, name: str) -> None:
    written = _files()[name]
    golden = GOLDEN / name
    if isinstance(written, str):
        assert written == golden.read_text(encoding="utf-8")
    else:
        assert _parts(written) == _parts(golden.read_bytes())


@given(
    rows=st.lists(
        st.fixed_dictionaries(
            {
                "a": st.one_of(st.none(), st.booleans(), st.integers(-(10**9), 10**9)),
                "b": st.text(st.characters(blacklist_categories=("Cs", "Cc")), max_size=40),
                "c": st.floats(allow_nan=False, allow_infinity=False, width=32),
            }
        ),
        max_size=8,
    )
)
def test_any_table_reads_back_as_written(rows: list[dict[str, Any]]) -> None:
    columns = ["a", "b", "c"]
    sheet = openpyxl.load_workbook(io.BytesIO(table_xlsx(columns, rows, title="t"))).active
    assert sheet is not None
    read = list(sheet.iter_rows(values_only=True))
    assert read[0] == tuple(columns)
    assert len(read) == len(rows) + 1
    for written, back in zip(rows, read[1:], strict=True):
        assert back[0] == written["a"]
        assert (back[1] or "") == written["b"]  # an empty string is a blank cell
        assert back[2] == pytest.approx(written["c"])
    text = table_csv(columns, rows)
    assert text.count("\n") >= len(rows) + 1
    assert text.startswith("a,b,c\n")


@pytest.mark.parametrize(
    ("title", "expected"),
    [
        ("Rue des Lilas", "Rue des Lilas"),
        ("Rue A/B [été]: 1*2?", "Rue A-B -été-- 1-2-"),
        ("x" * 40, "x" * 31),
        ("", "Sheet"),
    ],
)
def test_sheet_titles_are_ones_excel_accepts(title: str, expected: str) -> None:
    """A campaign named "Rue A/B" used to make the XLSX export fail with a server error."""
    from spiral.core.tables import sheet_title

    assert sheet_title(title) == expected
    workbook = openpyxl.load_workbook(io.BytesIO(table_xlsx(["a"], [{"a": 1}], title=title)))
    assert workbook.sheetnames == [expected]


def test_text_is_never_a_formula() -> None:
    """A title typed as "=HYPERLINK(...)" must not become a live formula in someone's Excel."""
    typed = '=HYPERLINK("http://example.invalid","click")'
    workbook = openpyxl.load_workbook(
        io.BytesIO(table_xlsx(["title"], [{"title": typed}], title="t"))
    )
    cell = workbook.active["A2"]  # type: ignore[index]
    assert cell.value == typed
    assert cell.data_type == "s"
