"""The REST API under /api/v1/: the grid endpoints, the OpenAPI schema and its offline docs."""

from __future__ import annotations

import csv
import json
import re
from pathlib import Path

import pytest
from django.conf import settings
from django.test import Client
from hypothesis import HealthCheck, example, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from spiral.grid.codes import CodeError, GridIndex, parse_full_code
from spiral.grid.models import Component, GridVersion
from spiral.grid.services import grid_version_import_csv
from tests.conftest import client_for

DB_SETTINGS = hypothesis_settings(
    max_examples=20,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
SHIPPED_DIR = Path(settings.PACKAGE_DIR) / "data" / "grid" / "spiral-ag"


def shipped_codes(name: str, level: str | None = None) -> list[str]:
    with (SHIPPED_DIR / name).open(encoding="utf-8", newline="") as handle:
        return [
            row["code"]
            for row in csv.DictReader(handle, delimiter="\t")
            if level is None or row["level"] == level
        ]


OBJECT_CODES = shipped_codes("objects.tsv", "component") + shipped_codes(
    "objects.tsv", "object-detail"
)
SENSE_CODES = shipped_codes("senses.tsv", "reason") + [
    f"{c}--" for c in shipped_codes("senses.tsv", "category")
]
BENEFICIARY_CODES = shipped_codes("beneficiaries.tsv")


@pytest.fixture
def spiral_ag(db: None) -> GridIndex:
    return GridIndex(GridVersion.objects.get(code="spiral-ag"))


@pytest.fixture
def anonymous() -> Client:
    """One client for all the examples of a property (a new client reloads the middleware)."""
    return client_for(None)


def get_json(client: Client, url: str, **params: str) -> tuple[int, object]:
    response = client.get(url, params)
    assert response["Content-Type"].startswith("application/json")
    return response.status_code, response.json()


def test_versions_list_the_default_grid(db: None) -> None:
    status, page = get_json(client_for(None), "/api/v1/grid/versions")

    assert status == 200
    body = page["results"]
    assert page["count"] == len(body)
    assert {"code": "spiral-ag", "is_default": True}.items() <= body[0].items()
    assert [v["code"] for v in body] == list(GridVersion.objects.values_list("code", flat=True))


def test_versions_list_every_imported_version_once(db: None) -> None:
    grid_version_import_csv(
        text="kind,code,label_fr,label_en\ndimension,I,Famille,Family\ncomponent,I00,Tout,All\n",
        code="official",
        name_fr="Officielle",
        name_en="Official",
    )

    status, page = get_json(client_for(None), "/api/v1/grid/versions")

    assert status == 200
    body = page["results"]
    assert {v["code"]: v["is_default"] for v in body} == {"official": False, "spiral-ag": True}


def test_version_gives_dimensions_and_every_component_with_labels(db: None) -> None:
    status, body = get_json(client_for(None), "/api/v1/grid/versions/spiral-ag")

    assert status == 200
    assert isinstance(body, dict)
    assert body["version"]["code"] == "spiral-ag"
    assert [d["code"] for d in body["dimensions"]] == list("ABCDEFGH")
    components = {c["code"]: c for c in body["components"]}
    assert list(components) == shipped_codes("objects.tsv", "component")
    assert len(components) == Component.objects.filter(version__code="spiral-ag").count() == 64
    assert all(c["label_fr"] and c["label_en"] and c["status"] for c in components.values())
    assert components["A06"] == {
        "code": "A06",
        "dimension": "A",
        "label_fr": "Emploi / travail",
        "label_en": "Employment / work",
        "description_fr": components["A06"]["description_fr"],
        "description_en": components["A06"]["description_en"],
        "status": "sourced",
    }
    assert components["D03"]["status"] == "provisional"


@pytest.mark.parametrize(
    "url",
    [
        "/api/v1/grid/versions/no-such-grid",
        "/api/v1/grid/versions/no-such-grid/check?value=A01",
        "/api/v1/grid/versions/spiral%00ag",
        "/api/v1/grid/versions/spiral%00ag/check?value=A01",
    ],
)
def test_unknown_version_is_404(db: None, url: str) -> None:
    assert client_for(None).get(url).status_code == 404


def test_check_explains_a_valid_full_code(db: None) -> None:
    status, body = get_json(
        client_for(None), "/api/v1/grid/versions/spiral-ag/check", value="a01-11/p15/k"
    )

    assert status == 200
    assert body == {
        "valid": True,
        "full_code": "A01-11/P15/k",
        "component": "A01",
        "message": None,
    }


@pytest.mark.parametrize(
    ("value", "named"), [("Z99", "“Z"), ("A1", "“A1”"), ("A01/P99", "“P99”"), ("A01//zz", "“zz”")]
)
def test_check_refuses_a_wrong_code_with_a_message(db: None, value: str, named: str) -> None:
    status, body = get_json(client_for(None), "/api/v1/grid/versions/spiral-ag/check", value=value)

    assert status == 200
    assert isinstance(body, dict)
    assert body["valid"] is False
    assert body["full_code"] is None
    assert named in body["message"]


def test_check_without_value_is_a_validation_error(db: None) -> None:
    assert client_for(None).get("/api/v1/grid/versions/spiral-ag/check").status_code == 422


@DB_SETTINGS
@given(
    object_code=st.sampled_from(OBJECT_CODES),
    sense=st.none() | st.sampled_from(SENSE_CODES),
    beneficiary=st.none() | st.sampled_from(BENEFICIARY_CODES),
)
def test_check_accepts_every_combination_of_shipped_codes(
    db: None, anonymous: Client, object_code: str, sense: str | None, beneficiary: str | None
) -> None:
    value = object_code + (f"/{sense or ''}" if sense or beneficiary else "")
    value += f"/{beneficiary}" if beneficiary else ""

    body = anonymous.get("/api/v1/grid/versions/spiral-ag/check", {"value": value}).json()

    assert body["valid"] is True, body
    assert body["full_code"] == str(parse_full_code(value))
    assert body["component"] == object_code[:3]


@DB_SETTINGS
@given(value=st.text(min_size=1, max_size=30) | st.from_regex(r"\A[A-Za-z0-9/-]{1,12}\Z"))
@example(value="A01\x00")
def test_check_agrees_with_the_grid_index_for_any_text(
    spiral_ag: GridIndex, anonymous: Client, value: str
) -> None:
    try:
        expected = spiral_ag.resolve(value).full_code
    except CodeError:
        expected = None

    response = anonymous.get("/api/v1/grid/versions/spiral-ag/check", {"value": value})

    assert response.status_code == 200
    body = response.json()
    assert body["valid"] is (expected is not None)
    assert body["full_code"] == expected
    assert bool(body["message"]) is (expected is None)


def test_openapi_schema_lists_the_grid_paths(db: None) -> None:
    response = client_for(None).get("/api/v1/openapi.json")

    assert response.status_code == 200
    schema = json.loads(response.content)
    assert schema["openapi"].startswith("3.")
    assert schema["info"]["title"] == "Spiral API"
    assert {
        "/api/v1/grid/versions",
        "/api/v1/grid/versions/{code}",
        "/api/v1/grid/versions/{code}/check",
    } <= set(schema["paths"])
    check = schema["paths"]["/api/v1/grid/versions/{code}/check"]["get"]
    assert {p["name"] for p in check["parameters"]} == {"code", "value"}


def test_docs_page_loads_nothing_from_a_cdn(db: None) -> None:
    response = client_for(None).get("/api/v1/docs")

    assert response.status_code == 200
    html = response.content.decode().lower()
    assert "openapi.json" in html
    for host in ("cdn", "unpkg", "jsdelivr"):
        assert host not in html, f"the API docs page loads from {host}"
    # Nothing else from outside either (scripts, styles, icons): the docs must work offline.
    assert not re.search(r'(src|href)="(https?:)?//', html)
