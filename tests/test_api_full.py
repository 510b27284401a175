"""API v1, the full surface: groups, meetings, criteria and coding written through the API,
tokens scoped to territories and to reading or writing, one page envelope, one error envelope,
and schemathesis run over the whole OpenAPI document (every router, present and future)."""

from __future__ import annotations

import datetime
from collections.abc import Callable
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
    group_create,
    meeting_create,
)
from spiral.territories.models import Territory
from tests.conftest import client_for
from tests.factories import RoleFactory, UserFactory
from tests.factories import add_items as add

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


@pytest.fixture(autouse=True)
def _connections_kept_open() -> Any:
    """Requests go through Django's real WSGI handler, which closes the database connection
    at the end of each request; inside a test transaction (PostgreSQL) that would close the
    test's own connection. Django's test client disconnects the same signals."""
    from django.core.signals import request_finished, request_started
    from django.db import close_old_connections

    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


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


# --- Groups ------------------------------------------------------------------------------------


@pytest.fixture
def writer(coordinator: User) -> str:
    """A read/write token of the town's coordinator."""
    return key_for(coordinator, access="write")


def test_group_list_shows_the_groups_of_the_callers_territories(
    data: Any, coordinator: User
) -> None:
    body = call("get", "/groups", key=key_for(coordinator)).json()
    assert [g["name"] for g in body["results"]] == ["Jeunes des tilleuls"]
    assert body["count"] == 1
    assert set(body) == {"count", "limit", "offset", "next", "previous", "results"}
    assert body["results"][0]["profile"] == "young_people"


def test_group_list_is_empty_for_anonymous_and_outsiders(data: Any, outsider: User) -> None:
    assert call("get", "/groups").json()["count"] == 0
    names = [g["name"] for g in call("get", "/groups", key=key_for(outsider)).json()["results"]]
    assert names == ["Aînés"]  # the outsider facilitates in the other town: only its groups


def test_group_list_pages_with_limit_and_offset(tree: Tree, coordinator: User) -> None:
    for n in range(5):
        make_group(tree["town"], f"Group {n}")
    key = key_for(coordinator)
    first = call("get", "/groups", key=key, limit=2).json()
    assert first["count"] == 5
    assert [g["name"] for g in first["results"]] == ["Group 0", "Group 1"]
    assert first["previous"] is None
    second = Client().get(first["next"], **auth(key)).json()
    assert [g["name"] for g in second["results"]] == ["Group 2", "Group 3"]
    assert second["previous"] is not None
    last = call("get", "/groups", key=key, limit=2, offset=4).json()
    assert last["next"] is None
    assert call("get", "/groups", key=key, limit=0).status_code == 422


def test_group_list_filters(data: Any, tree: Tree, user_with_role: Callable[..., User]) -> None:
    admin = user_with_role(Role.NETWORK_ADMIN, tree["network"])
    key = key_for(admin)
    town = call("get", "/groups", key=key, territory=tree["town"].pk).json()
    assert [g["name"] for g in town["results"]] == ["Jeunes des tilleuls"]
    none = call("get", "/groups", key=key, profile="elderly").json()
    assert none["count"] == 0
    data["elderly"].is_archived = True
    data["elderly"].save()
    archived = call("get", "/groups", key=key, archived="true").json()
    assert [g["name"] for g in archived["results"]] == ["Aînés"]


def test_create_a_group_with_a_write_token(data: Any, tree: Tree, writer: str) -> None:
    response = call(
        "post",
        "/groups",
        key=writer,
        json={"territory_id": tree["town"].pk, "name": "Commerçants", "profile": "young_people"},
    )
    assert response.status_code == 201, response.json()
    body = response.json()
    group = HomogeneousGroup.objects.get(pk=body["id"])
    assert group.name == "Commerçants"
    assert group.language == tree["town"].language
    assert body["territory_id"] == tree["town"].pk


def test_create_a_group_is_refused_without_the_right(
    data: Any, tree: Tree, coordinator: User, outsider: User
) -> None:
    payload = {"territory_id": tree["town"].pk, "name": "X", "profile": "young_people"}
    anonymous = call("post", "/groups", json=payload)
    assert anonymous.status_code == 401
    assert anonymous.json()["code"] == "not_authenticated"
    read_only = call("post", "/groups", key=key_for(coordinator), json=payload)
    assert read_only.status_code == 403
    assert read_only.json() == {"detail": "This API token is read-only.", "code": "read_only_token"}
    other = call("post", "/groups", key=key_for(outsider, access="write"), json=payload)
    assert other.status_code == 403
    assert other.json()["code"] == "forbidden"
    unknown = call(
        "post",
        "/groups",
        key=key_for(coordinator, access="write"),
        json={**payload, "profile": "martians"},
    )
    assert unknown.status_code == 422
    assert unknown.json()["code"] == "validation_error"
    assert unknown.json()["detail"][0]["loc"] == ["body", "profile"]
    assert HomogeneousGroup.objects.filter(name="X").count() == 0


def test_a_session_cookie_never_writes(data: Any, tree: Tree, coordinator: User) -> None:
    payload = {"territory_id": tree["town"].pk, "name": "X", "profile": "young_people"}
    response = client_for(coordinator).post(
        f"{API}/groups", data=payload, content_type="application/json"
    )
    assert response.status_code == 401
    assert client_for(coordinator).get(f"{API}/groups").json()["count"] == 1  # reading: yes


def test_read_and_update_a_group(data: Any, writer: str, outsider: User) -> None:
    group = data["young"]
    assert call("get", f"/groups/{group.pk}", key=writer).json()["name"] == "Jeunes des tilleuls"
    assert call("get", f"/groups/{group.pk}", key=key_for(outsider)).status_code == 404
    assert call("get", f"/groups/{group.pk}").status_code == 404

    response = call(
        "patch", f"/groups/{group.pk}", key=writer, json={"size": 11, "name": " Jeunes "}
    )
    assert response.status_code == 200
    group.refresh_from_db()
    assert (group.size, group.name) == (11, "Jeunes")
    denied = call(
        "patch", f"/groups/{group.pk}", key=key_for(outsider, access="write"), json={"size": 3}
    )
    assert denied.status_code == 404
    blank = call("patch", f"/groups/{group.pk}", key=writer, json={"name": "   "})
    assert blank.status_code == 422


def test_a_facilitator_may_read_but_not_change_a_group(data: Any, facilitator: User) -> None:
    # Facilitators manage groups too (same right as on the screens).
    group = data["young"]
    key = key_for(facilitator, access="write")
    assert call("patch", f"/groups/{group.pk}", key=key, json={"size": 8}).status_code == 200


def test_a_coder_may_not_change_a_group(
    data: Any, tree: Tree, user_with_role: Callable[..., User]
) -> None:
    coder = user_with_role(Role.CODER, tree["town"])
    key = key_for(coder, access="write")
    response = call("patch", f"/groups/{data['young'].pk}", key=key, json={"size": 8})
    assert response.status_code == 403


# --- Meetings ----------------------------------------------------------------------------------


def test_meetings_list_create_and_read(data: Any, writer: str, outsider: User) -> None:
    group = data["young"]
    listed = call("get", f"/groups/{group.pk}/meetings", key=writer).json()
    assert [m["id"] for m in listed["results"]] == [data["m1"].pk]
    assert {q["kind"] for q in listed["results"][0]["questions"]} >= {"well_being", "ill_being"}

    response = call(
        "post",
        f"/groups/{group.pk}/meetings",
        key=writer,
        json={"held_on": "2026-05-04", "place": "Salle"},
    )
    assert response.status_code == 201
    meeting = Meeting.objects.get(pk=response.json()["id"])
    assert (meeting.place, meeting.language) == ("Salle", group.language)
    assert call("get", f"/meetings/{meeting.pk}", key=writer).json()["held_on"] == "2026-05-04"

    assert call("get", f"/meetings/{meeting.pk}", key=key_for(outsider)).status_code == 404
    assert call("get", f"/groups/{group.pk}/meetings", key=key_for(outsider)).status_code == 404
    refused = call(
        "post",
        f"/groups/{group.pk}/meetings",
        key=key_for(outsider, access="write"),
        json={"held_on": "2026-05-04"},
    )
    assert refused.status_code == 404
    unknown_set = call(
        "post",
        f"/groups/{group.pk}/meetings",
        key=writer,
        json={"held_on": "2026-05-04", "question_set": "nope"},
    )
    assert unknown_set.status_code == 422


def test_no_meeting_for_an_archived_group(data: Any, writer: str) -> None:
    group = data["young"]
    group.is_archived = True
    group.save()
    response = call(
        "post", f"/groups/{group.pk}/meetings", key=writer, json={"held_on": "2026-05-04"}
    )
    assert response.status_code == 409
    assert response.json()["code"] == "group_archived"


# --- Criteria ----------------------------------------------------------------------------------


def test_post_criteria_is_idempotent_by_client_token(data: Any, writer: str) -> None:
    meeting = data["m1"]
    payload = {
        "question": "well_being",
        "criteria": [
            {"text": "Un parc", "code": "B01", "client_token": "phone-1-a"},
            {"text": "Des bancs", "expressions": 3, "client_token": "phone-1-b"},
            {"text": "  ", "client_token": "phone-1-c"},
            {"text": "Code faux", "code": "Z99"},
        ],
    }
    first = call("post", f"/meetings/{meeting.pk}/criteria", key=writer, json=payload)
    assert first.status_code == 201
    body = first.json()
    assert (body["created"], body["refused"]) == (2, 2)
    assert body["results"][2]["errors"].keys() == {"text"}
    assert body["results"][3]["errors"].keys() == {"code"}
    again = call("post", f"/meetings/{meeting.pk}/criteria", key=writer, json=payload)
    assert again.status_code == 200
    assert again.json()["created"] == 0
    assert [r["id"] for r in again.json()["results"][:2]] == [r["id"] for r in body["results"][:2]]
    assert Criterion.objects.filter(meeting=meeting, text="Un parc").count() == 1
    park = Criterion.objects.get(text="Un parc")
    assert [c.component.code for c in Coding.objects.current().filter(criterion=park)] == ["B01"]


def test_post_criteria_refused_without_the_right(
    data: Any, coordinator: User, outsider: User, tree: Tree, user_with_role: Callable[..., User]
) -> None:
    meeting = data["m1"]
    payload = {"question": "well_being", "criteria": [{"text": "Un parc"}]}
    url = f"/meetings/{meeting.pk}/criteria"
    assert call("post", url, json=payload).status_code == 401
    assert call("post", url, key=key_for(coordinator), json=payload).status_code == 403
    assert call("post", url, key=key_for(outsider, access="write"), json=payload).status_code == 404
    coder = user_with_role(Role.CODER, tree["town"])
    assert call("post", url, key=key_for(coder, access="write"), json=payload).status_code == 403
    wrong = call(
        "post", url, key=key_for(coordinator, access="write"), json={**payload, "question": "q9"}
    )
    assert wrong.status_code == 422
    assert not Criterion.objects.filter(text="Un parc").exists()


def test_read_criteria_of_a_meeting(data: Any, coordinator: User, outsider: User) -> None:
    meeting = data["m1"]
    key = key_for(coordinator)
    body = call("get", f"/meetings/{meeting.pk}/criteria", key=key).json()
    assert [c["text"] for c in body["results"]] == ["Avoir un travail", "Des amis", "La solitude"]
    assert body["results"][0]["codes"][0]["component"] == "A06"
    only = call("get", f"/meetings/{meeting.pk}/criteria", key=key, question="ill_being").json()
    assert [c["text"] for c in only["results"]] == ["La solitude"]
    assert call("get", f"/meetings/{meeting.pk}/criteria", key=key_for(outsider)).status_code == 404
    one = call("get", f"/criteria/{data['criterion'].pk}", key=key).json()
    assert one["text"] == "Avoir un travail"
    assert call("get", f"/criteria/{data['criterion'].pk}").status_code == 404


def test_correct_and_delete_a_criterion(data: Any, writer: str, outsider: User) -> None:
    criterion = data["criterion"]
    response = call(
        "patch",
        f"/criteria/{criterion.pk}",
        key=writer,
        json={"text": "Un travail", "expressions": 2},
    )
    assert response.status_code == 200
    criterion.refresh_from_db()
    assert (criterion.text, criterion.expressions) == ("Un travail", 2)
    assert criterion.revisions.count() == 2  # created, then corrected: nothing is lost
    outsider_key = key_for(outsider, access="write")
    assert call("delete", f"/criteria/{criterion.pk}", key=outsider_key).status_code == 404
    assert call("delete", f"/criteria/{criterion.pk}", key=writer).status_code == 204
    assert not Criterion.objects.filter(pk=criterion.pk).exists()
    assert Criterion.all_objects.filter(pk=criterion.pk).exists()


# --- Coding ------------------------------------------------------------------------------------


def test_code_recode_and_uncode_a_criterion(data: Any, writer: str) -> None:
    criterion = data["criterion"]
    added = call("post", f"/criteria/{criterion.pk}/codes", key=writer, json={"codes": ["D03"]})
    assert added.status_code == 200
    assert {c["component"] for c in added.json()["codes"]} == {"A06", "D03"}

    replaced = call("put", f"/criteria/{criterion.pk}/codes", key=writer, json={"codes": ["B01"]})
    assert [c["component"] for c in replaced.json()["codes"]] == ["B01"]
    assert Coding.objects.filter(criterion=criterion, superseded_at__isnull=False).count() == 2

    coding_id = replaced.json()["codes"][0]["id"]
    removed = call("delete", f"/criteria/{criterion.pk}/codes/{coding_id}", key=writer)
    assert removed.status_code == 204
    assert (
        call("delete", f"/criteria/{criterion.pk}/codes/{coding_id}", key=writer).status_code == 404
    )
    bad = call("post", f"/criteria/{criterion.pk}/codes", key=writer, json={"codes": ["Z99"]})
    assert bad.status_code == 422
    assert bad.json()["detail"][0]["loc"] == ["body", "codes"]


def test_coding_needs_the_coding_right(
    data: Any, tree: Tree, facilitator: User, user_with_role: Callable[..., User]
) -> None:
    url = f"/criteria/{data['criterion'].pk}/codes"
    # A facilitator transcribes but does not code.
    assert (
        call(
            "post", url, key=key_for(facilitator, access="write"), json={"codes": ["D03"]}
        ).status_code
        == 403
    )
    coder = user_with_role(Role.CODER, tree["town"])
    assert call("post", url, key=key_for(coder), json={"codes": ["D03"]}).status_code == 403
    assert (
        call("put", url, key=key_for(coder, access="write"), json={"codes": ["D03"]}).status_code
        == 200
    )


# --- Scoped tokens ------------------------------------------------------------------------------


def test_a_scoped_token_acts_only_in_its_territories(
    data: Any, tree: Tree, user_with_role: Callable[..., User]
) -> None:
    admin = user_with_role(Role.NETWORK_ADMIN, tree["network"])
    scoped = key_for(admin, access="write", territories=(tree["other_town"],))
    listed = call("get", "/groups", key=scoped).json()
    assert [g["name"] for g in listed["results"]] == ["Aînés"]
    assert call("get", f"/groups/{data['young'].pk}", key=scoped).status_code == 404
    assert call("get", f"/groups/{data['elderly'].pk}", key=scoped).status_code == 200
    payload = {"territory_id": tree["town"].pk, "name": "X", "profile": "young_people"}
    assert call("post", "/groups", key=scoped, json=payload).status_code == 403  # public town
    inside = {**payload, "territory_id": tree["other_town"].pk}
    assert call("post", "/groups", key=scoped, json=inside).status_code == 201


def test_a_scoped_token_sees_private_territories_of_its_scope_only(
    data: Any, tree: Tree, user_with_role: Callable[..., User]
) -> None:
    for name in ("town", "other_town"):
        tree[name].is_public = False
        tree[name].save()
    observer = user_with_role(Role.OBSERVER, tree["region"])
    scoped = key_for(observer, territories=(tree["other_town"],))
    assert call("get", f"/territories/{tree['other_town'].pk}", key=scoped).status_code == 200
    assert call("get", f"/territories/{tree['town'].pk}", key=scoped).status_code == 404
    names = {t["name"] for t in call("get", "/territories", key=scoped).json()["results"]}
    assert "Other town" in names
    assert "Town" not in names
    assert "Network" in names  # public data stays public
    assert call("get", f"/territories/{tree['town'].pk}", key=key_for(observer)).status_code == 200


# --- The token screen ---------------------------------------------------------------------------


def test_token_screen_creates_a_scoped_write_token_shown_once(
    tree: Tree, coordinator: User
) -> None:
    client = client_for(coordinator)
    page = client.get("/accounts/tokens/").content.decode()
    assert "Limit to these territories" in page
    assert "Town" in page
    response = client.post(
        "/accounts/tokens/", {"name": "tablet", "access": "write", "territories": [tree["town"].pk]}
    )
    assert response.status_code == 200
    token = ApiToken.objects.get(user=coordinator)
    assert token.access == "write"
    assert list(token.territories.all()) == [tree["town"]]
    key = response.context["new_key"]
    assert key in response.content.decode()
    assert key.split("_")[-1] not in token.key_hash  # only a hash is stored
    assert key not in client.get("/accounts/tokens/").content.decode()  # shown once


def test_token_screen_refuses_a_territory_outside_the_users_roles(
    tree: Tree, coordinator: User
) -> None:
    response = client_for(coordinator).post(
        "/accounts/tokens/", {"name": "x", "access": "read", "territories": [tree["other_town"].pk]}
    )
    assert response.status_code == 200
    assert not ApiToken.objects.filter(user=coordinator).exists()


def test_token_screen_needs_an_account(db: None) -> None:
    assert Client().get("/accounts/tokens/").status_code == 302


def test_error_envelope_for_every_status(data: Any, tree: Tree, coordinator: User) -> None:
    bad_token = call("get", "/groups", key="spiral_dead_beef")
    assert bad_token.status_code == 401
    assert bad_token.json()["code"] == "invalid_token"
    not_found = call("get", "/groups/999999", key=key_for(coordinator))
    assert not_found.json() == {"detail": "Not Found", "code": "not_found"}
    malformed = call("get", "/groups/abc", key=key_for(coordinator))
    assert malformed.status_code == 422
    assert malformed.json()["code"] == "validation_error"
    bad_json = Client().post(
        f"{API}/groups",
        data="{",
        content_type="application/json",
        **auth(key_for(coordinator, access="write")),
    )
    assert bad_json.status_code in (400, 422)
    assert set(bad_json.json()) == {"detail", "code"}


def test_the_openapi_document_is_complete() -> None:
    from spiral.config.api import api

    schema = api.get_openapi_schema()
    for path, operations in schema["paths"].items():
        for method, operation in operations.items():
            where = f"{method.upper()} {path}"
            assert operation.get("summary"), where
            responses = {str(code): value for code, value in operation["responses"].items()}
            assert any(code.startswith("2") for code in responses), where
            for code, response in responses.items():
                if code != "204":
                    assert "content" in response, f"{where} {code}"
            if method != "get" or "/groups" in path or "/meetings" in path or "/criteria/" in path:
                assert "404" in responses or path.endswith(("/groups", "/suggestions")), where


@pytest.mark.parametrize(
    "payload",
    [{"held_on": "2026-05-04", "notes": "a\x00b"}, {"held_on": "2026-05-04", "place": "a\x01"}],
)
def test_control_characters_are_refused_before_the_database(
    data: Any, writer: str, payload: dict[str, str]
) -> None:
    response = call("post", f"/groups/{data['young'].pk}/meetings", key=writer, json=payload)
    assert response.status_code == 422
