"""API v1: the territory tree, syntheses and criteria, token authentication, the small-numbers
rule, and the token pages. Data is written through the services so stored figures are right."""

from __future__ import annotations

import datetime
import hashlib
import json
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from hypothesis import HealthCheck, example, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from spiral.accounts.models import ApiToken, Role, User
from spiral.consultations.models import GroupProfile, HomogeneousGroup, Meeting, Question
from spiral.consultations.services import (
    group_create,
    meeting_create,
)
from spiral.grid.services import grid_version_import_csv
from spiral.syntheses.models import Level
from spiral.syntheses.selectors import (
    SynthesisFilters,
    figures_from_rows,
    group_synthesis,
    scope_criteria,
    territory_synthesis,
)
from spiral.territories.models import Territory
from spiral.territories.selectors import territory_counts
from tests.conftest import client_for
from tests.factories import TerritoryFactory, UserFactory
from tests.factories import add_items as add

pytestmark = pytest.mark.django_db

Tree = dict[str, Territory]


# --- Helpers and data ------------------------------------------------------------------------


def token_for(user: User, name: str = "script") -> str:
    _token, key = ApiToken.objects.issue(user=user, name=name)
    return key


def bearer(key: str) -> dict[str, str]:
    return {"HTTP_AUTHORIZATION": f"Bearer {key}"}


def get(url: str, *, key: str | None = None, client: Client | None = None, **params: Any) -> Any:
    client = client or Client()
    headers = bearer(key) if key else {}
    return client.get(url, params, **headers)


def profile(code: str) -> GroupProfile:
    return GroupProfile.objects.get(code=code)


def make_group(
    territory: Territory, name: str, *, code: str = "young_people", size: int | None = 10
) -> HomogeneousGroup:
    return group_create(territory=territory, name=name, profile=profile(code), size=size, user=None)


def make_meeting(group: HomogeneousGroup, held_on: datetime.date) -> Meeting:
    return meeting_create(group=group, held_on=held_on, user=None)


def questions_of(meeting: Meeting) -> dict[str, Question]:
    return {q.kind: q for q in meeting.question_set.questions.order_by("position")}


@pytest.fixture
def data(tree: Tree) -> dict[str, Any]:
    """Two towns with groups of different profiles, months and languages; 12 criteria."""
    young = make_group(tree["neighbourhood"], "Young people of the lime trees", size=8)
    elderly = make_group(tree["other_town"], "Elderly people", code="elderly", size=9)
    march = make_meeting(young, datetime.date(2026, 3, 10))
    may = make_meeting(elderly, datetime.date(2026, 5, 2))
    add(
        march,
        "well_being",
        ("Avoir un travail", "A06", 3, ""),
        ("Manger à sa faim", "A01", 2, ""),
        ("Pain et travail", "A01", 1, ""),
        ("Friends", "D03", 1, "en"),
    )
    add(march, "ill_being", ("La solitude", "D03"), ("Le chômage", "A06"))
    add(march, "action", ("Aider les voisins", ""))
    add(may, "well_being", ("La santé", "A02", 4, ""), ("Les petits-enfants", "D01"))
    add(may, "ill_being", ("Être seul", "D03", 2, ""), ("Bruit", ""))
    add(may, "action", ("Visiter les malades", "H00"))
    return {"young": young, "elderly": elderly, "march": march, "may": may}


def flatten(body: dict[str, Any]) -> dict[tuple[str, str, str], tuple[int, int, Any]]:
    """(level, code, question kind) -> (criteria, expressions, share) from an API synthesis."""
    rows = {}
    for dimension in body["dimensions"]:
        for line, level in [(dimension, "dimension")] + [
            (c, "component") for c in dimension["components"]
        ]:
            for kind, figure in line["by_question"].items():
                rows[(level, line["code"], kind)] = (
                    figure["criteria"],
                    figure["expressions"],
                    figure["share"],
                )
    return rows


# --- Territories ----------------------------------------------------------------------------


def test_anonymous_reads_the_public_tree_with_figures(tree: Tree, data: Any) -> None:
    response = get("/api/v1/territories")

    assert response.status_code == 200
    envelope = response.json()
    body = envelope["results"]
    assert envelope["count"] == len(tree)
    assert envelope["next"] is envelope["previous"] is None
    assert {t["name"] for t in body} == {t.name for t in tree.values()}
    by_name = {t["name"]: t for t in body}
    assert body[0]["name"] == "Network"  # tree order: parents first
    assert by_name["Network"]["depth"] == 0
    assert by_name["Network"]["parent_id"] is None
    assert by_name["Lime trees"]["depth"] == 4
    assert by_name["Lime trees"]["parent_id"] == tree["town"].pk
    assert by_name["School"]["actor_type"] == "school"
    assert by_name["France"]["country_code"] == "FR"
    for territory in tree.values():
        counts = territory_counts(territory=territory)
        assert by_name[territory.name]["figures"] == {
            "groups": counts.groups,
            "meetings": counts.meetings,
            "criteria": counts.criteria,
            "expressions": counts.expressions,
            "coded_criteria": counts.coded_criteria,
        }
    assert by_name["Network"]["figures"]["criteria"] == 12
    assert by_name["Network"]["figures"]["coded_criteria"] == 10
    assert set(by_name["Town"]) == {
        "id",
        "parent_id",
        "name",
        "slug",
        "kind",
        "actor_type",
        "country_code",
        "language",
        "is_public",
        "cycle",
        "phase",
        "depth",
        "figures",
    }


def test_territory_list_filters_by_parent_and_kind(tree: Tree) -> None:
    children = get("/api/v1/territories", parent=tree["town"].pk).json()["results"]
    assert {t["name"] for t in children} == {"Lime trees", "School"}

    localities = get("/api/v1/territories", kind="locality").json()["results"]
    assert {t["name"] for t in localities} == {"Town", "Other town"}

    both = get("/api/v1/territories", parent=tree["town"].pk, kind="collective_actor").json()
    assert [t["name"] for t in both["results"]] == ["School"]
    assert both["count"] == 1


@pytest.mark.parametrize("params", [{"kind": "planet"}, {"parent": "abc"}, {"parent": str(10**25)}])
def test_territory_list_refuses_bad_filters(tree: Tree, params: dict[str, str]) -> None:
    response = get("/api/v1/territories", **params)

    assert response.status_code == 422
    [error] = response.json()["detail"]
    assert error["loc"][-1] in params


def test_one_territory(tree: Tree, data: Any) -> None:
    response = get(f"/api/v1/territories/{tree['town'].pk}")

    assert response.status_code == 200
    body = response.json()
    assert body["slug"] == tree["town"].slug
    assert body["depth"] == 3
    assert body["figures"]["criteria"] == 7
    missing = get("/api/v1/territories/999999")
    assert missing.status_code == 404
    assert missing.json() == {"detail": "Not Found", "code": "not_found"}
    malformed = get("/api/v1/territories/abc/synthesis")
    assert malformed.status_code == 422
    assert malformed.json()["detail"][0]["loc"] == ["path", "territory_id"]


@pytest.fixture
def private_school(tree: Tree) -> Territory:
    school = tree["school"]
    school.is_public = False
    school.save()
    group = make_group(school, "Pupils of the school", code="students", size=12)
    add(make_meeting(group, datetime.date(2026, 4, 1)), "well_being", ("La cantine", "A01"))
    return school


PRIVATE_URLS = [
    "/api/v1/territories/{pk}",
    "/api/v1/territories/{pk}/synthesis",
    "/api/v1/territories/{pk}/criteria",
]


@pytest.mark.parametrize("url", PRIVATE_URLS)
def test_private_territory_is_404_for_anonymous_and_for_users_without_role(
    private_school: Territory, outsider: User, url: str
) -> None:
    url = url.format(pk=private_school.pk)

    anonymous = get(url)
    with_token = get(url, key=token_for(outsider))
    with_session = get(url, client=client_for(outsider))

    for response in (anonymous, with_token, with_session):
        assert response.status_code == 404
        assert response.json() == {"detail": "Not Found", "code": "not_found"}


@pytest.mark.parametrize("url", PRIVATE_URLS)
@pytest.mark.parametrize("where", ["school", "town", "network"])
def test_private_territory_is_readable_with_a_role_on_it_or_above(
    tree: Tree, private_school: Territory, user_with_role: Callable[..., User], url: str, where: str
) -> None:
    observer = user_with_role(Role.OBSERVER, tree[where])
    url = url.format(pk=private_school.pk)

    assert get(url, key=token_for(observer)).status_code == 200
    assert get(url, client=client_for(observer)).status_code == 200


def test_private_territory_is_listed_only_for_users_with_a_role(
    tree: Tree, private_school: Territory, user_with_role: Callable[..., User], outsider: User
) -> None:
    def names(key: str | None) -> set[str]:
        return {t["name"] for t in get("/api/v1/territories", key=key).json()["results"]}

    observer = user_with_role(Role.OBSERVER, tree["town"])

    assert "School" not in names(None)
    assert "School" not in names(token_for(outsider))
    assert "School" in names(token_for(observer))
    listed = get("/api/v1/territories", key=token_for(observer)).json()["results"]
    school = next(t for t in listed if t["name"] == "School")
    assert school["is_public"] is False
    assert school["figures"]["criteria"] == 1


# --- Tokens ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "header",
    [
        "Bearer spiral_deadbeef_not-a-real-secret",
        "Bearer nonsense",
        "Bearer spiral_dead\x00beef_secret",
        "Bearer spiral_deadbeef_sec\x00ret",
        "Bearer ",
        "Basic dXNlcjpwYXNz",
        "spiral_deadbeef_secret",
    ],
)
@pytest.mark.parametrize("url", ["/api/v1/territories", "/api/v1/grid/versions"])
def test_an_invalid_token_is_401_with_a_json_error(tree: Tree, header: str, url: str) -> None:
    response = Client().get(url, HTTP_AUTHORIZATION=header)

    assert response.status_code == 401
    assert response.json() == {"detail": "Invalid or revoked API token.", "code": "invalid_token"}
    assert response["WWW-Authenticate"].startswith("Bearer")


def test_a_revoked_token_is_401(tree: Tree, user_with_role: Callable[..., User]) -> None:
    observer = user_with_role(Role.OBSERVER, tree["town"])
    key = token_for(observer)
    assert get("/api/v1/territories", key=key).status_code == 200

    ApiToken.objects.get(user=observer).revoke()

    assert get("/api/v1/territories", key=key).status_code == 401


def test_a_token_of_a_deactivated_user_is_401(
    tree: Tree, user_with_role: Callable[..., User]
) -> None:
    observer = user_with_role(Role.OBSERVER, tree["town"])
    key = token_for(observer)
    observer.is_active = False
    observer.save()

    assert get("/api/v1/territories", key=key).status_code == 401


def test_a_token_with_a_wrong_secret_is_401(tree: Tree, outsider: User) -> None:
    key = token_for(outsider)
    assert get("/api/v1/territories", key=key).status_code == 200

    assert get("/api/v1/territories", key=key[:-2] + "xx").status_code == 401


def test_the_key_is_stored_hashed(outsider: User) -> None:
    key = token_for(outsider)
    token = ApiToken.objects.get(user=outsider)

    spiral, prefix, secret = key.split("_", 2)
    assert (spiral, prefix) == ("spiral", token.prefix)
    assert token.key_hash == hashlib.sha256(secret.encode()).hexdigest()
    assert secret not in token.key_hash
    assert ApiToken.objects.for_key(key) == token


def test_last_use_is_recorded_at_most_once_a_minute(tree: Tree, outsider: User) -> None:
    key = token_for(outsider)
    token = ApiToken.objects.get(user=outsider)
    assert token.last_used_at is None

    get("/api/v1/territories", key=key)
    token.refresh_from_db()
    first_use = token.last_used_at
    assert first_use is not None

    with CaptureQueriesContext(connection) as queries:
        get("/api/v1/territories", key=key)
    assert not [q for q in queries.captured_queries if q["sql"].startswith("UPDATE")]
    token.refresh_from_db()
    assert token.last_used_at == first_use

    ApiToken.objects.filter(pk=token.pk).update(last_used_at=first_use - timedelta(minutes=2))
    get("/api/v1/territories", key=key)
    token.refresh_from_db()
    assert token.last_used_at is not None
    assert token.last_used_at > first_use - timedelta(seconds=1)


def test_a_token_wins_over_the_session(
    tree: Tree, private_school: Territory, user_with_role: Callable[..., User], outsider: User
) -> None:
    observer = user_with_role(Role.OBSERVER, tree["town"])
    client = client_for(observer)

    url = f"/api/v1/territories/{private_school.pk}"
    assert get(url, client=client).status_code == 200
    assert get(url, client=client, key=token_for(outsider)).status_code == 404


# --- Synthesis ------------------------------------------------------------------------------


FILTER_SETS = [
    {},
    {"question": "well_being"},
    {"profile": "elderly"},
    {"language": "en"},
    {"period_start": "2026-03", "period_end": "2026-03"},
    {"period_start": "2026-04"},
    {"question": "ill_being", "profile": "young_people", "period_end": "2026-12"},
    {"language": "fr", "period_start": "2026-01", "period_end": "2026-06"},
]


def selector_filters(params: dict[str, str]) -> SynthesisFilters:
    return SynthesisFilters(
        question_kind=params.get("question", ""),
        profile=params.get("profile", ""),
        language=params.get("language", ""),
        period_start=params.get("period_start", ""),
        period_end=params.get("period_end", ""),
        grid_version=params.get("grid_version", ""),
    )


@pytest.mark.parametrize("params", FILTER_SETS)
@pytest.mark.parametrize("where", ["network", "town", "other_town"])
def test_synthesis_equals_the_selector_and_the_raw_rows(
    tree: Tree,
    data: Any,
    user_with_role: Callable[..., User],
    params: dict[str, str],
    where: str,
) -> None:
    territory = tree[where]
    observer = user_with_role(Role.OBSERVER, tree["network"])
    filters = selector_filters(params)

    response = get(
        f"/api/v1/territories/{territory.pk}/synthesis", key=token_for(observer), **params
    )

    assert response.status_code == 200, response.content
    body = response.json()
    synthesis = territory_synthesis(territory=territory, filters=filters)
    assert body["scope"] == {
        "type": "territory",
        "id": territory.pk,
        "name": territory.name,
        "territory_id": territory.pk,
    }
    assert body["participants"] == synthesis.participants
    assert body["source"] == synthesis.source
    assert body["grid_version"]["code"] == synthesis.version.code
    assert body["small_numbers"]["hidden"] is False
    assert body["total"] == {
        "criteria": synthesis.total.criteria,
        "expressions": synthesis.total.expressions,
    }
    assert body["uncoded_criteria"] == synthesis.uncoded_criteria
    expected_rows = {
        (r["level"], r["code"], r["question"]): (
            r["criteria"],
            r["expressions"],
            r["share_of_question_criteria"],
        )
        for r in synthesis.as_rows()
    }
    assert flatten(body) == expected_rows

    # The plain count of the raw rows, the reference of every figure.
    reference = figures_from_rows(scope_criteria(territory=territory, filters=filters))
    dimensions = {d["id"]: d for d in body["dimensions"]}
    components = {c["id"]: c for d in body["dimensions"] for c in d["components"]}
    questions = {q["kind"]: q for q in body["questions"]}
    for (_facet, _value, kind, level, item), (criteria, expressions) in reference.items():
        if level == Level.TOTAL:
            assert (questions[kind]["criteria"], questions[kind]["expressions"]) == (
                criteria,
                expressions,
            )
        elif level == Level.CODED and item == synthesis.version.pk:
            assert questions[kind]["coded_criteria"] == criteria
            assert questions[kind]["coded_expressions"] == expressions
        elif level in (Level.DIMENSION, Level.COMPONENT):
            lines = dimensions if level == Level.DIMENSION else components
            figure = lines[item]["by_question"][kind]
            assert (figure["criteria"], figure["expressions"]) == (criteria, expressions)
    assert sum(q["criteria"] for q in questions.values()) == sum(
        c for (_f, _v, _k, level, _i), (c, _e) in reference.items() if level == Level.TOTAL
    )


def test_synthesis_echoes_the_filters_and_reads_stored_figures(tree: Tree, data: Any) -> None:
    body = get(
        f"/api/v1/territories/{tree['network'].pk}/synthesis",
        question="well_being",
        period_start="2026-03",
    ).json()

    assert body["filters"] == {
        "question": "well_being",
        "profile": None,
        "language": None,
        "period_start": "2026-03",
        "period_end": None,
        "grid_version": None,
    }
    assert body["source"] == "stored"
    assert [q["kind"] for q in body["questions"]] == ["well_being"]
    a = next(d for d in body["dimensions"] if d["code"] == "A")
    assert a["by_question"]["well_being"]["criteria"] == 4  # A06, A01, A01 (march), A02 (may)
    assert a["total"]["criteria"] == 4
    a01 = next(c for c in a["components"] if c["code"] == "A01")
    assert a01["by_question"]["well_being"] == {"criteria": 2, "expressions": 3, "share": 2 / 6}


def test_synthesis_in_another_grid_version(tree: Tree, data: Any) -> None:
    grid_version_import_csv(
        text="kind,code,label_fr,label_en\ndimension,I,Famille,Family\ncomponent,I00,Tout,All\n",
        code="official",
        name_fr="Officielle",
        name_en="Official",
    )

    body = get(
        f"/api/v1/territories/{tree['network'].pk}/synthesis", grid_version="official"
    ).json()

    assert body["grid_version"]["code"] == "official"
    assert [d["code"] for d in body["dimensions"]] == ["I"]
    assert body["coded"]["criteria"] == 0
    assert body["total"]["criteria"] == 12


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"question": "happiness"}, "question"),
        ({"period_start": "2026-13"}, "period_start"),
        ({"period_start": "2026-3"}, "period_start"),
        ({"period_end": "March"}, "period_end"),
        ({"period_start": "2026-05", "period_end": "2026-04"}, "period_end"),
        ({"language": "xx"}, "language"),
        ({"profile": "astronauts"}, "profile"),
        ({"grid_version": "no-such-grid"}, "grid_version"),
    ],
)
@pytest.mark.parametrize("endpoint", ["synthesis", "criteria"])
def test_bad_filters_are_422_with_a_clear_message(
    tree: Tree, data: Any, params: dict[str, str], field: str, endpoint: str
) -> None:
    response = get(f"/api/v1/territories/{tree['town'].pk}/{endpoint}", **params)

    assert response.status_code == 422, response.content
    [error] = response.json()["detail"]
    assert error["loc"] == ["query", field]
    assert error["msg"]
    if field in ("profile", "grid_version"):
        assert params[field] in error["msg"]


PARAMETERS = [
    *("question", "profile", "language", "period_start", "period_end", "grid_version"),
    *("limit", "offset", "component", "dimension", "q"),
]


@hypothesis_settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    params=st.dictionaries(
        st.sampled_from(PARAMETERS),
        st.text(max_size=12)
        | st.sampled_from(["well_being", "elderly", "en", "2026-03", "spiral-ag", "A01", "D"]),
    )
)
@example(params={"profile": "young\x00"})
@example(params={"q": "a\x00b", "component": "\x00"})
@example(params={"grid_version": "spiral\x00ag", "dimension": "\x00"})
def test_any_parameters_give_an_answer_or_a_422(tree: Tree, params: dict[str, str]) -> None:
    for endpoint in ("synthesis", "criteria"):
        response = Client().get(f"/api/v1/territories/{tree['town'].pk}/{endpoint}", params)
        assert response.status_code in (200, 422), (params, response.content)
        assert isinstance(response.json(), dict)


def test_group_synthesis_bad_grid_version_is_422(tree: Tree, data: Any, facilitator: User) -> None:
    url = f"/api/v1/groups/{data['young'].pk}/synthesis"

    response = get(url, key=token_for(facilitator), grid_version="nope")

    assert response.status_code == 422


# --- Small numbers --------------------------------------------------------------------------


@pytest.fixture
def small_town(tree: Tree, settings: Any) -> Territory:
    """A town whose only group has 3 participants (threshold 5)."""
    settings.SPIRAL_SMALL_NUMBERS_THRESHOLD = 5
    town = TerritoryFactory(name="Hamlet", kind="locality", parent=tree["region"])
    group = make_group(town, "Three neighbours", size=3)
    add(make_meeting(group, datetime.date(2026, 2, 1)), "well_being", ("Le calme", "D03"))
    return town


def test_small_scope_gives_totals_only_to_the_public(tree: Tree, small_town: Territory) -> None:
    body = get(f"/api/v1/territories/{small_town.pk}/synthesis").json()

    assert body["participants"] == 3
    assert body["small_numbers"]["hidden"] is True
    assert body["small_numbers"]["threshold"] == 5
    assert "5" in body["small_numbers"]["reason"]
    assert body["dimensions"] == []
    assert body["total"] == {"criteria": 1, "expressions": 1}
    assert body["questions"][0]["criteria"] == 1

    criteria = get(f"/api/v1/territories/{small_town.pk}/criteria").json()
    assert criteria["results"] == []
    assert criteria["count"] == 0
    assert criteria["small_numbers"]["hidden"] is True
    assert "Le calme" not in json.dumps(criteria)


def test_small_scope_is_shown_whole_to_an_observer(
    tree: Tree, small_town: Territory, user_with_role: Callable[..., User]
) -> None:
    observer = user_with_role(Role.OBSERVER, small_town)
    key = token_for(observer)

    body = get(f"/api/v1/territories/{small_town.pk}/synthesis", key=key).json()
    assert body["small_numbers"] == {
        "threshold": 5,
        "hidden": False,
        "shares_omitted": False,
        "reason": None,
    }
    d = next(d for d in body["dimensions"] if d["code"] == "D")
    assert d["by_question"]["well_being"] == {"criteria": 1, "expressions": 1, "share": 1.0}

    criteria = get(f"/api/v1/territories/{small_town.pk}/criteria", key=key).json()
    assert [c["text"] for c in criteria["results"]] == ["Le calme"]


def test_profile_filter_can_make_a_scope_small(tree: Tree, data: Any, settings: Any) -> None:
    settings.SPIRAL_SMALL_NUMBERS_THRESHOLD = 9
    url = f"/api/v1/territories/{tree['network'].pk}/synthesis"

    assert get(url).json()["small_numbers"]["hidden"] is False  # 8 + 9 participants
    assert get(url, profile="young_people").json()["small_numbers"]["hidden"] is True  # 8
    assert get(url, profile="elderly").json()["small_numbers"]["hidden"] is False  # 9


def test_tiny_bases_give_counts_without_shares_to_the_public(
    tree: Tree, data: Any, user_with_role: Callable[..., User], settings: Any
) -> None:
    settings.SPIRAL_SMALL_NUMBERS_THRESHOLD = 4
    url = f"/api/v1/territories/{tree['town'].pk}/synthesis"

    public = get(url).json()  # 8 participants; ill-being and action have 2 and 1 criteria

    assert public["small_numbers"]["hidden"] is False
    assert public["small_numbers"]["shares_omitted"] is True
    assert public["small_numbers"]["reason"]
    d = next(d for d in public["dimensions"] if d["code"] == "D")
    assert d["by_question"]["ill_being"] == {"criteria": 1, "expressions": 1, "share": None}
    assert d["by_question"]["well_being"]["share"] == 1 / 4  # base of 4 criteria: shown
    observer = user_with_role(Role.OBSERVER, tree["town"])
    private = get(url, key=token_for(observer)).json()
    d = next(d for d in private["dimensions"] if d["code"] == "D")
    assert d["by_question"]["ill_being"]["share"] == 1 / 2
    assert private["small_numbers"]["shares_omitted"] is False


def test_scope_participants_count_active_groups(tree: Tree, data: Any) -> None:
    from django.db.models import Sum

    from spiral.syntheses.selectors import scope_participants
    from spiral.syntheses.services import territory_stats_refresh

    archived = make_group(tree["town"], "Archived", size=40)
    HomogeneousGroup.objects.filter(pk=archived.pk).update(is_archived=True)
    territory_stats_refresh(territory_ids=[tree["town"].pk])  # as the admin's save does
    for params in FILTER_SETS:
        filters = selector_filters(params)
        for territory in tree.values():
            groups = HomogeneousGroup.objects.in_subtree(territory.pk).active()
            if filters.profile:
                groups = groups.filter(profile__code=filters.profile)
            expected = groups.aggregate(n=Sum("size"))["n"] or 0
            assert scope_participants(territory=territory, profile=filters.profile) == expected
            assert (
                territory_synthesis(territory=territory, filters=filters).participants == expected
            )


# --- Group synthesis ------------------------------------------------------------------------


def test_group_synthesis_is_private(
    tree: Tree, data: Any, outsider: User, user_with_role: Callable[..., User]
) -> None:
    group = data["young"]
    url = f"/api/v1/groups/{group.pk}/synthesis"
    lone_facilitator = UserFactory()
    group.facilitators.add(lone_facilitator)
    observer = user_with_role(Role.OBSERVER, tree["town"])

    assert get(url).status_code == 404
    assert get(url, key=token_for(outsider)).status_code == 404
    assert get("/api/v1/groups/999999/synthesis", key=token_for(observer)).status_code == 404
    for user in (lone_facilitator, observer):
        response = get(url, key=token_for(user), question="well_being")
        assert response.status_code == 200
        body = response.json()
        synthesis = group_synthesis(
            group=group, filters=SynthesisFilters(question_kind="well_being")
        )
        assert body["scope"] == {
            "type": "group",
            "id": group.pk,
            "name": group.name,
            "territory_id": group.territory_id,
        }
        assert body["participants"] == 8
        assert body["source"] == "rows"
        assert body["total"]["criteria"] == 4
        assert flatten(body) == {
            (r["level"], r["code"], r["question"]): (
                r["criteria"],
                r["expressions"],
                r["share_of_question_criteria"],
            )
            for r in synthesis.as_rows()
        }


# --- Criteria -------------------------------------------------------------------------------


def texts(body: dict[str, Any]) -> list[str]:
    return [c["text"] for c in body["results"]]


def test_criteria_are_paginated(tree: Tree, data: Any) -> None:
    url = f"/api/v1/territories/{tree['network'].pk}/criteria"

    first = get(url, limit=5).json()
    second = get(url, limit=5, offset=5).json()
    third = get(url, limit=5, offset=10).json()
    beyond = get(url, limit=5, offset=15).json()

    assert first["count"] == second["count"] == third["count"] == 12
    assert (len(first["results"]), len(second["results"]), len(third["results"])) == (5, 5, 2)
    assert beyond["results"] == []
    ids = [c["id"] for page in (first, second, third) for c in page["results"]]
    assert ids == sorted(ids)
    assert len(set(ids)) == 12
    assert first["previous"] is None
    assert first["next"].endswith("offset=5")
    assert "limit=5" in first["next"]
    assert second["previous"].endswith("offset=0")
    assert third["next"] is None
    assert Client().get(first["next"]).json() == second


def test_criteria_take_the_limits_of_every_list(tree: Tree, data: Any) -> None:
    url = f"/api/v1/territories/{tree['network'].pk}/criteria"

    body = get(url, limit=200).json()

    assert body["limit"] == 200
    assert len(body["results"]) == 12
    assert get(url).json()["limit"] == 50
    assert get(url).json()["offset"] == 0
    assert get(url, limit=201).status_code == 422
    assert get(url, limit=0).status_code == 422
    assert get(url, offset=-1).status_code == 422
    assert get(url, offset=10**25).status_code == 422


def test_criteria_fields(tree: Tree, data: Any) -> None:
    body = get(f"/api/v1/territories/{tree['town'].pk}/criteria", q="travail avoir").json()

    assert body["results"] == [
        {
            "id": body["results"][0]["id"],
            "text": "Avoir un travail",
            "language": "fr",
            "expressions": 3,
            "question": "well_being",
            "group_name": "Young people of the lime trees",
            "group_profile": "young_people",
            "territory_id": tree["neighbourhood"].pk,
            "meeting_date": "2026-03-10",
            "codes": ["A06"],
        }
    ]


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"question": "action"}, {"Aider les voisins", "Visiter les malades"}),
        ({"profile": "elderly", "question": "ill_being"}, {"Être seul", "Bruit"}),
        ({"language": "en"}, {"Friends"}),
        (
            {"period_start": "2026-05"},
            {"La santé", "Les petits-enfants", "Être seul", "Bruit"} | {"Visiter les malades"},
        ),
        ({"period_end": "2026-03", "question": "ill_being"}, {"La solitude", "Le chômage"}),
        ({"component": "a01"}, {"Manger à sa faim", "Pain et travail"}),
        ({"dimension": "D"}, {"Friends", "La solitude", "Les petits-enfants", "Être seul"}),
        ({"dimension": "D", "question": "ill_being"}, {"La solitude", "Être seul"}),
        ({"q": "TRAVAIL"}, {"Avoir un travail", "Pain et travail"}),
        ({"q": "pain travail"}, {"Pain et travail"}),
        ({"q": "nothing-like-this"}, set()),
    ],
)
def test_criteria_filters(
    tree: Tree, data: Any, params: dict[str, str], expected: set[str]
) -> None:
    body = get(f"/api/v1/territories/{tree['network'].pk}/criteria", **params).json()

    assert set(texts(body)) == expected
    assert body["count"] == len(expected)


@pytest.mark.parametrize(
    ("params", "field"),
    [({"component": "Z99"}, "component"), ({"dimension": "Q"}, "dimension")],
)
def test_criteria_unknown_grid_item_is_422(
    tree: Tree, data: Any, params: dict[str, str], field: str
) -> None:
    response = get(f"/api/v1/territories/{tree['town'].pk}/criteria", **params)

    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["query", field]


def test_criteria_of_private_territories_below_stay_private(
    tree: Tree, data: Any, private_school: Territory, user_with_role: Callable[..., User]
) -> None:
    url = f"/api/v1/territories/{tree['town'].pk}/criteria"
    observer = user_with_role(Role.OBSERVER, tree["town"])

    public = get(url).json()
    private = get(url, key=token_for(observer)).json()

    assert "La cantine" not in texts(public)
    assert public["count"] == 7
    assert "La cantine" in texts(private)
    assert private["count"] == 8
    # The synthesis counts them, as the territory's stored figures do.
    assert get(f"/api/v1/territories/{tree['town'].pk}/synthesis").json()["total"]["criteria"] == 8


def test_criteria_count_from_stored_figures_equals_the_rows(tree: Tree, data: Any) -> None:
    for territory in tree.values():
        body = get(f"/api/v1/territories/{territory.pk}/criteria").json()
        assert (
            body["count"] == scope_criteria(territory=territory, filters=SynthesisFilters()).count()
        )


# --- Query counts ---------------------------------------------------------------------------


def test_territory_list_query_count_does_not_grow_with_the_tree(
    tree: Tree, data: Any, user_with_role: Callable[..., User], django_assert_max_num_queries: Any
) -> None:
    for index in range(60):
        TerritoryFactory(name=f"Village {index}", parent=tree["region"], is_public=index % 3 != 0)
    observer = user_with_role(Role.OBSERVER, tree["region"])
    key = token_for(observer)
    get("/api/v1/territories", key=key)  # the token's first use is recorded once

    # The count of the page envelope, the territories, their figures.
    with django_assert_max_num_queries(3):
        anonymous = get("/api/v1/territories", limit=200)
    # The token, the network-administrator check, then the same three.
    with django_assert_max_num_queries(5):
        with_token = get("/api/v1/territories", key=key, limit=200)

    assert anonymous.json()["count"] == len(anonymous.json()["results"]) == 7 + 40
    assert with_token.json()["count"] == len(with_token.json()["results"]) == 7 + 60


def test_territory_list_pages_follow_the_tree_order(tree: Tree) -> None:
    for index in range(8):
        TerritoryFactory(name=f"Village {index}", parent=tree["region"])
    everything = [t["id"] for t in get("/api/v1/territories", limit=200).json()["results"]]

    first = get("/api/v1/territories", limit=6).json()
    second = Client().get(first["next"]).json()
    third = Client().get(second["next"]).json()

    assert first["count"] == second["count"] == third["count"] == len(everything) == 15
    assert [t["id"] for p in (first, second, third) for t in p["results"]] == everything
    assert first["previous"] is None
    assert third["next"] is None
    assert Client().get(second["previous"]).json() == first
    assert get("/api/v1/territories", limit=201).status_code == 422
    assert get("/api/v1/territories", offset=-1).status_code == 422


def test_synthesis_query_count(
    tree: Tree, data: Any, user_with_role: Callable[..., User], django_assert_max_num_queries: Any
) -> None:
    observer = user_with_role(Role.OBSERVER, tree["network"])
    key = token_for(observer)
    url = f"/api/v1/territories/{tree['network'].pk}/synthesis"
    get(url, key=key)

    with django_assert_max_num_queries(8):
        assert get(url).status_code == 200
    with django_assert_max_num_queries(11):
        assert get(url, key=key, profile="elderly").status_code == 200


def test_criteria_query_count_does_not_grow_with_the_page(
    tree: Tree, data: Any, django_assert_max_num_queries: Any
) -> None:
    meeting = data["march"]
    add(meeting, "well_being", *[(f"Critère {n}", "A01") for n in range(60)])
    url = f"/api/v1/territories/{tree['network'].pk}/criteria"

    with django_assert_max_num_queries(8):
        body = get(url, limit=200, question="well_being").json()

    assert len(body["results"]) == 66
    assert all(c["codes"] for c in body["results"] if c["text"].startswith("Critère"))


# --- OpenAPI --------------------------------------------------------------------------------


def test_openapi_lists_the_paths_errors_and_authentication(db: None) -> None:
    schema = Client().get("/api/v1/openapi.json").json()

    paths = schema["paths"]
    assert {
        "/api/v1/territories",
        "/api/v1/territories/{territory_id}",
        "/api/v1/territories/{territory_id}/synthesis",
        "/api/v1/territories/{territory_id}/criteria",
        "/api/v1/groups/{group_id}/synthesis",
    } <= set(paths)
    synthesis = paths["/api/v1/territories/{territory_id}/synthesis"]["get"]
    assert {p["name"] for p in synthesis["parameters"]} == {
        "territory_id",
        "question",
        "profile",
        "language",
        "period_start",
        "period_end",
        "grid_version",
    }
    assert {"200", "401", "404", "422"} <= set(synthesis["responses"])
    criteria = paths["/api/v1/territories/{territory_id}/criteria"]["get"]
    assert {"limit", "offset", "component", "dimension", "q"} <= {
        p["name"] for p in criteria["parameters"]
    }
    assert synthesis["security"] == [{"TokenAuth": []}, {"SessionAuth": []}, {}]
    schemes = schema["components"]["securitySchemes"]
    assert schemes["TokenAuth"] == {"type": "http", "scheme": "bearer"}
    assert schemes["SessionAuth"]["in"] == "cookie"
    assert "ErrorOut" in schema["components"]["schemas"]

    def refs(node: Any) -> set[str]:
        if isinstance(node, dict):
            found = {node["$ref"]} if "$ref" in node else set()
            return found.union(*(refs(v) for v in node.values()))
        if isinstance(node, list):
            return set().union(*(refs(v) for v in node))
        return set()

    # Every schema referred to is defined: the document is complete.
    defined = {f"#/components/schemas/{name}" for name in schema["components"]["schemas"]}
    assert refs(schema) <= defined
    assert Client().get("/api/v1/docs").status_code == 200


# --- Token pages ----------------------------------------------------------------------------


def test_token_pages_need_a_login(db: None) -> None:
    for response in (
        Client().get("/accounts/tokens/"),
        Client().post("/accounts/tokens/", {"name": "x"}),
        Client().post("/accounts/tokens/1/revoke/"),
    ):
        assert response.status_code == 302
        assert response["Location"].startswith("/accounts/login/")
    assert not ApiToken.objects.exists()


def test_a_user_creates_a_token_and_sees_the_key_once(outsider: User) -> None:
    client = client_for(outsider)

    created = client.post("/accounts/tokens/", {"name": "Open data export"})

    assert created.status_code == 200
    assert created["Cache-Control"] == "no-store"
    token = ApiToken.objects.get(user=outsider)
    html = created.content.decode()
    key = html.split('id="new-key">', 1)[1].split("<", 1)[0]
    assert key.startswith(f"spiral_{token.prefix}_")
    assert ApiToken.objects.for_key(key) == token
    assert token.name == "Open data export"
    later = client.get("/accounts/tokens/").content.decode()
    assert "Open data export" in later
    assert token.prefix in later
    assert key not in later
    assert get("/api/v1/territories", key=key).status_code == 200


def test_token_name_is_required(outsider: User) -> None:
    response = client_for(outsider).post("/accounts/tokens/", {"name": "  "})

    assert response.status_code == 200
    assert not ApiToken.objects.exists()


def test_a_user_revokes_their_own_token_only(outsider: User, facilitator: User) -> None:
    mine, other = (
        ApiToken.objects.issue(user=outsider, name="mine")[0],
        ApiToken.objects.issue(user=facilitator, name="theirs")[0],
    )
    client = client_for(outsider)

    assert client.get(f"/accounts/tokens/{mine.pk}/revoke/").status_code == 405
    assert client.post(f"/accounts/tokens/{other.pk}/revoke/").status_code == 404
    response = client.post(f"/accounts/tokens/{mine.pk}/revoke/")

    assert response.status_code == 302
    assert response["Location"] == "/accounts/tokens/"
    mine.refresh_from_db()
    other.refresh_from_db()
    assert mine.revoked_at is not None
    assert other.revoked_at is None
    page = client.get("/accounts/tokens/").content.decode()
    assert "theirs" not in page
    assert "revoked on" in page


def test_profile_links_to_the_tokens(outsider: User) -> None:
    assert "/accounts/tokens/" in client_for(outsider).get("/accounts/profile/").content.decode()


def test_revoking_twice_keeps_the_first_date(outsider: User) -> None:
    token, _key = ApiToken.objects.issue(user=outsider, name="t")
    token.revoke()
    first = token.revoked_at
    token.revoked_at = None
    token.refresh_from_db()
    token.revoke()
    assert token.revoked_at == first
    assert first is not None
    assert first <= timezone.now()


def test_tokens_in_the_admin(outsider: User) -> None:
    token, _key = ApiToken.objects.issue(user=outsider, name="export")
    admin = UserFactory(is_staff=True, is_superuser=True)

    assert client_for(outsider).get("/admin/accounts/apitoken/").status_code == 302
    listing = client_for(admin).get("/admin/accounts/apitoken/")
    change = client_for(admin).get(f"/admin/accounts/apitoken/{token.pk}/change/")

    assert listing.status_code == 200
    assert "export" in listing.content.decode()
    assert change.status_code == 200
    assert token.key_hash not in change.content.decode()
    assert client_for(admin).get("/admin/accounts/apitoken/add/").status_code == 403


def test_every_list_of_the_api_answers_the_one_page_envelope(db: None) -> None:
    """No GET answers a bare JSON array, and every list takes limit and offset and answers
    count, limit, offset, next, previous and results, as the guide promises."""
    schema = Client().get("/api/v1/openapi.json").json()
    components = schema["components"]["schemas"]

    def resolve(node: dict[str, Any]) -> dict[str, Any]:
        while "$ref" in node:
            node = components[node["$ref"].rsplit("/", 1)[1]]
        return node

    lists = []
    for path, operations in schema["paths"].items():
        operation = operations.get("get")
        if operation is None:
            continue
        ok = operation["responses"]["200"]["content"]["application/json"]["schema"]
        body = resolve(ok)
        assert body.get("type") != "array", f"{path} answers a bare list"
        results = resolve(body.get("properties", {}).get("results", {}))
        if results.get("type") != "array":
            continue  # a detail (a campaign's "results" is one aggregate, not a list)
        lists.append(path)
        names = {p["name"] for p in operation.get("parameters", [])}
        assert {"limit", "offset"} <= names, path
        assert {"count", "limit", "offset", "next", "previous", "results"} <= set(
            body["required"]
        ), path
    assert {
        "/api/v1/territories",
        "/api/v1/territories/{territory_id}/criteria",
        "/api/v1/groups",
        "/api/v1/grid/versions",
        "/api/v1/carbon/factor-sets",
        "/api/v1/indicators/territories/{territory_id}/actions",
    } <= set(lists)
