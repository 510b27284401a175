"""API v1, the full surface: groups, meetings, criteria and coding written through the API,
tokens scoped to territories and to reading or writing, one page envelope, one error envelope,
and schemathesis run over the whole OpenAPI document (every router, present and future)."""

from __future__ import annotations

import datetime
from typing import Any

import pytest
import schemathesis
from django.core.handlers.wsgi import WSGIHandler
from django.test import Client
from hypothesis import HealthCheck, given, seed
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from spiral.accounts.models import ApiToken, Role, User
from spiral.coding.models import Coding
from spiral.consultations.models import (
    Criterion,
    GroupProfile,
    HomogeneousGroup,
    Meeting,
)
from spiral.consultations.services import (
    CriterionInput,
    criteria_add,
    group_create,
    meeting_create,
)
from spiral.territories.models import Territory
from tests.factories import RoleFactory, UserFactory

pytestmark = pytest.mark.django_db

Tree = dict[str, Territory]
API = "/api/v1"


# --- Helpers and data ------------------------------------------------------------------------


def key_for(user: User, *, access: str = "read", territories: tuple[Territory, ...] = ()) -> str:
    _token, key = ApiToken.objects.issue(
        user=user, name="script", access=access, territories=territories
    )
    return key


def auth(key: str | None) -> dict[str, str]:
    return {"HTTP_AUTHORIZATION": f"Bearer {key}"} if key else {}


def call(method: str, path: str, *, key: str | None = None, json: Any = None, **params: Any) -> Any:
    client = Client()
    url = API + path
    if method == "get":
        return client.get(url, params, **auth(key))
    return getattr(client, method)(
        url, data=json if json is not None else {}, content_type="application/json", **auth(key)
    )


def make_group(territory: Territory, name: str, size: int = 9) -> HomogeneousGroup:
    return group_create(
        territory=territory,
        name=name,
        profile=GroupProfile.objects.get(code="young_people"),
        size=size,
        user=None,
    )


def add(meeting: Meeting, kind: str, *items: tuple[str, str]) -> list[Criterion]:
    question = meeting.question_set.questions.get(kind=kind)
    outcomes = criteria_add(
        meeting=meeting,
        question=question,
        inputs=[CriterionInput(text=t, code=c) for t, c in items],
        user=None,
    )
    assert all(o.ok for o in outcomes)
    return [o.criterion for o in outcomes if o.criterion]


@pytest.fixture
def data(tree: Tree) -> dict[str, Any]:
    """Demo-like: groups in a neighbourhood and in another town, meetings, coded criteria."""
    young = make_group(tree["neighbourhood"], "Jeunes des tilleuls")
    elderly = make_group(tree["other_town"], "Aînés")
    m1 = meeting_create(group=young, held_on=datetime.date(2026, 3, 10), user=None)
    m2 = meeting_create(group=elderly, held_on=datetime.date(2026, 4, 2), user=None)
    young_criteria = add(m1, "well_being", ("Avoir un travail", "A06"), ("Des amis", "D03"))
    add(m1, "ill_being", ("La solitude", ""))
    elderly_criteria = add(m2, "well_being", ("La santé", "A02"))
    return {
        "young": young,
        "elderly": elderly,
        "m1": m1,
        "m2": m2,
        "criterion": young_criteria[0],
        "elderly_criterion": elderly_criteria[0],
    }


# --- schemathesis over the whole OpenAPI document --------------------------------------------

# Checks on every answer: never a server error, and status, content type and body as documented.
SCHEMA_CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]
EXAMPLES_PER_OPERATION = 20
# Operations whose every call costs seconds (the suggestion model embeds up to 1,000 texts):
# a few examples here, their behaviour is tested in tests/test_suggestions.py.
SLOW_OPERATIONS = {"POST /api/v1/suggestions": 2}


@pytest.fixture
def light_suggestions(settings: Any, tmp_path: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """The suggestion model learns from the grid's own labels only (seconds, not a minute),
    and its files go to a temporary folder."""
    from spiral.coding.suggest import training
    from spiral.coding.suggest.training import forget_loaded_suggesters

    settings.SPIRAL_SUGGESTION_MODELS_DIR = tmp_path / "models"
    monkeypatch.setattr(
        training, "base_examples", lambda *, version: training.grid_examples(version=version)
    )
    forget_loaded_suggesters()


def _known_ids(data: dict[str, Any], tree: Tree) -> dict[str, Any]:
    """Path parameters that name real rows, so generated requests also reach the code behind
    the 404s (random ids almost never exist)."""
    from spiral.grid.models import GridVersion

    coding = Coding.objects.current().filter(criterion=data["criterion"]).first()
    version = GridVersion.objects.default()
    return {
        "territory_id": tree["town"].pk,
        "group_id": data["young"].pk,
        "meeting_id": data["m1"].pk,
        "criterion_id": data["criterion"].pk,
        "coding_id": coding.pk if coding else 1,
        "code": version.code if version else "x",
    }


def _fuzz(key: str | None, *, examples: int, known: dict[str, Any]) -> list[str]:
    """Run every operation of the document with generated requests; the failures found."""
    schema = schemathesis.openapi.from_wsgi(f"{API}/openapi.json", WSGIHandler())
    failures: list[str] = []
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 17  # the document lists every router (and later ones too)
    headers = {"Authorization": f"Bearer {key}"} if key else {}
    for operation in operations:
        label = f"{operation.method.upper()} {operation.path}"

        @seed(6)
        @hypothesis_settings(
            max_examples=min(examples, SLOW_OPERATIONS.get(label, examples)),
            deadline=None,
            database=None,
            derandomize=True,
            suppress_health_check=list(HealthCheck),
        )
        @given(case=operation.as_strategy(), real=st.booleans())
        def run(case: Any, real: bool) -> None:
            if real and case.path_parameters:
                for name in case.path_parameters:
                    if name in known:
                        case.path_parameters[name] = known[name]
            response = case.call(headers=headers)
            case.validate_response(response, checks=SCHEMA_CHECKS, headers=headers)

        try:
            run()
        except (Exception, BaseExceptionGroup) as error:  # collect: report every operation
            failures.append(f"{label}: {error}"[:3000])
    return failures


@pytest.mark.usefixtures("light_suggestions")
def test_schemathesis_finds_no_server_error_with_a_write_token(
    data: Any, tree: Tree, settings: Any
) -> None:
    settings.ALLOWED_HOSTS = ["*"]
    admin = UserFactory()
    RoleFactory(user=admin, territory=tree["network"], role=Role.NETWORK_ADMIN)
    known = _known_ids(data, tree)
    failures = _fuzz(key_for(admin, access="write"), examples=EXAMPLES_PER_OPERATION, known=known)
    assert not failures, "\n\n".join(failures)


@pytest.mark.usefixtures("light_suggestions")
def test_schemathesis_finds_no_server_error_anonymously_and_with_a_scoped_token(
    data: Any, tree: Tree, settings: Any
) -> None:
    settings.ALLOWED_HOSTS = ["*"]
    coordinator = UserFactory()
    RoleFactory(user=coordinator, territory=tree["town"], role=Role.COORDINATOR)
    scoped = key_for(coordinator, access="read", territories=(tree["neighbourhood"],))
    known = _known_ids(data, tree)
    failures = _fuzz(None, examples=6, known=known) + _fuzz(scoped, examples=6, known=known)
    assert not failures, "\n\n".join(failures)
