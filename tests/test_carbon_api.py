"""Carbon API writes: campaigns (list, create, change, close), collective adoptions, stored
results and their pledges, with the API's tokens (read/write, scoped to territories) and its one
error envelope. Each endpoint is tested allowed and denied."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client
from hypothesis import given, settings
from hypothesis import strategies as st

from spiral.accounts.models import ApiToken, Role, User
from spiral.carbon.models import Campaign, FootprintResult, Pledge
from spiral.carbon.services import result_link_token
from spiral.territories.models import Territory
from tests.factories import CarbonCampaignFactory, carbon_result

pytestmark = pytest.mark.django_db
API = "/api/v1/carbon"
Tree = dict[str, Territory]


def key_for(user: User, *, access: str = "read", territories: tuple[Territory, ...] = ()) -> str:
    _token, key = ApiToken.objects.issue(
        user=user, name="script", access=access, territories=territories
    )
    return key


def call(method: str, path: str, *, key: str | None = None, json: Any = None, **params: Any) -> Any:
    headers = {"HTTP_AUTHORIZATION": f"Bearer {key}"} if key else {}
    client = Client()
    if method == "get":
        return client.get(API + path, params, **headers)
    return getattr(client, method)(
        API + path,
        data=json if json is not None else {},
        content_type="application/json",
        **headers,
    )


@pytest.fixture
def coordinator(tree: Tree, user_with_role: Callable[..., User]) -> User:
    return user_with_role(Role.COORDINATOR, tree["town"])


@pytest.fixture
def street(tree: Tree) -> Campaign:
    return CarbonCampaignFactory(name="Rue des Tilleuls", territory=tree["neighbourhood"])


def assert_error(response: Any, status: int, code: str) -> None:
    assert response.status_code == status, response.content
    body = response.json()
    assert set(body) == {"detail", "code"}
    assert body["code"] == code


# --- Campaigns ---------------------------------------------------------------------------------


def test_campaign_list_pages_and_filters(tree: Tree, street: Campaign) -> None:
    CarbonCampaignFactory(name="Other town", territory=tree["other_town"], is_open=False)
    hidden = CarbonCampaignFactory(name="Private", territory=tree["school"])
    Territory.objects.filter(pk=tree["school"].pk).update(is_public=False)
    body = call("get", "/campaigns").json()
    assert set(body) == {"count", "limit", "offset", "next", "previous", "results"}
    names = {c["name"] for c in body["results"]}
    assert names == {"Rue des Tilleuls", "Other town"}  # the private territory's is left out
    assert hidden.name not in names
    town = call("get", "/campaigns", territory=tree["town"].pk).json()
    assert [c["name"] for c in town["results"]] == ["Rue des Tilleuls"]
    closed = call("get", "/campaigns", is_open="false").json()
    assert [c["name"] for c in closed["results"]] == ["Other town"]
    first = call("get", "/campaigns", limit=1).json()
    assert first["count"] == 2
    assert first["next"] is not None
    assert_error(call("get", "/campaigns", limit=0), 422, "validation_error")


def test_create_campaign_allowed_with_a_write_token_of_a_coordinator(
    tree: Tree, coordinator: User
) -> None:
    response = call(
        "post",
        "/campaigns",
        key=key_for(coordinator, access="write"),
        json={"territory_id": tree["neighbourhood"].pk, "name": "  Tilleuls 2027 "},
    )
    assert response.status_code == 201, response.json()
    body = response.json()
    campaign = Campaign.objects.get(pk=body["id"])
    assert campaign.name == "Tilleuls 2027"
    assert campaign.country == "FR"  # from the territory's country
    assert campaign.created_by == coordinator
    assert body["results"]["count"] == 0
    assert body["adopted"] == []


def test_create_campaign_denied(
    tree: Tree, coordinator: User, user_with_role: Callable[..., User]
) -> None:
    payload = {"territory_id": tree["town"].pk, "name": "Town"}
    assert_error(call("post", "/campaigns", json=payload), 401, "not_authenticated")
    read_only = key_for(coordinator, access="read")
    assert_error(call("post", "/campaigns", key=read_only, json=payload), 403, "read_only_token")
    observer = user_with_role(Role.OBSERVER, tree["town"])
    observer_key = key_for(observer, access="write")
    assert_error(call("post", "/campaigns", key=observer_key, json=payload), 403, "forbidden")
    # A token scoped to the other town has no right in this one.
    scoped = key_for(coordinator, access="write", territories=(tree["other_town"],))
    assert_error(call("post", "/campaigns", key=scoped, json=payload), 403, "forbidden")
    writer = key_for(coordinator, access="write")
    bad_country = {**payload, "country": "ZZ"}
    assert_error(call("post", "/campaigns", key=writer, json=bad_country), 422, "validation_error")
    assert not Campaign.objects.exists()


def test_campaign_group_must_be_of_the_territory(tree: Tree, coordinator: User) -> None:
    from spiral.consultations.models import GroupProfile
    from spiral.consultations.services import group_create

    profile = GroupProfile.objects.first()
    assert profile is not None
    elsewhere = group_create(
        territory=tree["other_town"], name="Aînés", profile=profile, size=8, user=None
    )
    here = group_create(
        territory=tree["neighbourhood"], name="Jeunes", profile=profile, size=8, user=None
    )
    writer = key_for(coordinator, access="write")
    payload = {"territory_id": tree["town"].pk, "name": "Jeunes", "group_id": elsewhere.pk}
    assert_error(call("post", "/campaigns", key=writer, json=payload), 422, "validation_error")
    payload["group_id"] = here.pk
    response = call("post", "/campaigns", key=writer, json=payload)
    assert response.status_code == 201
    assert Campaign.objects.get(pk=response.json()["id"]).group == here


def test_change_and_close_a_campaign(
    tree: Tree, street: Campaign, coordinator: User, user_with_role: Callable[..., User]
) -> None:
    writer = key_for(coordinator, access="write")
    response = call(
        "patch", f"/campaigns/{street.pk}", key=writer, json={"is_open": False, "name": "Closed"}
    )
    assert response.status_code == 200, response.json()
    street.refresh_from_db()
    assert (street.is_open, street.name) == (False, "Closed")
    assert_error(
        call("patch", f"/campaigns/{street.pk}", key=writer, json={"name": None}),
        422,
        "validation_error",
    )
    # Denied: no token, read-only, someone of the other town, an unknown campaign.
    assert_error(call("patch", f"/campaigns/{street.pk}", json={}), 401, "not_authenticated")
    read_only = key_for(coordinator)
    assert_error(call("patch", f"/campaigns/{street.pk}", key=read_only), 403, "read_only_token")
    outsider = user_with_role(Role.COORDINATOR, tree["other_town"])
    outsider_key = key_for(outsider, access="write")
    assert_error(call("patch", f"/campaigns/{street.pk}", key=outsider_key), 403, "forbidden")
    assert_error(call("patch", "/campaigns/999999", key=writer), 404, "not_found")
    street.refresh_from_db()
    assert street.name == "Closed"


def test_adopt_a_collective_action(
    tree: Tree, street: Campaign, coordinator: User, user_with_role: Callable[..., User]
) -> None:
    writer = key_for(coordinator, access="write")
    path = f"/campaigns/{street.pk}/adoptions"
    response = call("post", path, key=writer, json={"action": "carpool_scheme", "note": "Léa"})
    assert response.status_code == 201, response.json()
    assert response.json()["action"] == "carpool_scheme"
    adopted = call("get", f"/campaigns/{street.pk}").json()["adopted"]
    assert [(a["action"], a["note"]) for a in adopted] == [("carpool_scheme", "Léa")]
    # An individual action is not a collective one.
    assert_error(
        call("post", path, key=writer, json={"action": "drive_less"}), 422, "validation_error"
    )
    outsider = key_for(user_with_role(Role.FACILITATOR, tree["other_town"]), access="write")
    assert_error(call("post", path, key=outsider, json={"action": "canteen"}), 403, "forbidden")
    assert_error(call("post", path, json={"action": "canteen"}), 401, "not_authenticated")
    assert street.adoptions.count() == 1


# --- Results and pledges -----------------------------------------------------------------------


def test_store_a_result_in_a_campaign_and_pledge_by_its_token(
    street: Campaign, coordinator: User
) -> None:
    writer = key_for(coordinator, access="write")
    response = call(
        "post",
        "/results",
        key=writer,
        json={
            "campaign_id": street.pk,
            "answers": {"car_km": 12000, "car_engine": "petrol", "meals_red_meat": 5},
            "client_token": "paper-form-1",
        },
    )
    assert response.status_code == 201, response.json()
    body = response.json()
    result = FootprintResult.objects.get(campaign=street)
    assert result.user is None  # the facilitator typing it in does not own it
    assert body["token"] == result_link_token(result)
    assert body["url"].endswith(f"/carbon/r/{body['token']}/")
    assert body["total"] == pytest.approx(result.total_kg, abs=0.1)
    offered = {a["key"] for a in body["actions"]}
    assert {"drive_less", "less_red_meat"} <= offered
    # Sending the same paper form again stores nothing new.
    again = call(
        "post",
        "/results",
        key=writer,
        json={"campaign_id": street.pk, "client_token": "paper-form-1"},
    )
    assert again.json()["token"] == body["token"]
    assert FootprintResult.objects.count() == 1

    token = body["token"]
    first = call("post", f"/results/{token}/pledges", key=writer, json={"action": "drive_less"})
    assert first.status_code == 201, first.json()
    second = call("post", f"/results/{token}/pledges", key=writer, json={"action": "vegetarian"})
    pledged = second.json()
    assert [p["action"] for p in pledged["pledges"]] == ["drive_less", "vegetarian"]
    assert pledged["pledged_kg"] == pytest.approx(
        sum(p.saving_kg for p in Pledge.objects.filter(result=result)), abs=0.2
    )
    # "no car" belongs to the same kind as "drive less": refused, and no longer offered.
    assert "no_car" not in {a["key"] for a in pledged["actions"]}
    assert_error(
        call("post", f"/results/{token}/pledges", key=writer, json={"action": "no_car"}),
        409,
        "exclusive_action",
    )
    campaign = call("get", f"/campaigns/{street.pk}", key=writer).json()
    assert campaign["results"]["pledges"] == 2

    withdrawn = call("delete", f"/results/{token}/pledges/drive_less", key=writer)
    assert withdrawn.status_code == 200
    assert [p["action"] for p in withdrawn.json()["pledges"]] == ["vegetarian"]
    assert_error(
        call("delete", f"/results/{token}/pledges/drive_less", key=writer), 404, "not_found"
    )
    assert call("get", f"/results/{token}").json()["pledges"][0]["action"] == "vegetarian"


def test_an_action_that_does_not_apply_is_refused(coordinator: User) -> None:
    writer = key_for(coordinator, access="write")
    result = carbon_result(None, {"car_km": 0, "flight_long_hours": 0})
    token = result_link_token(result)
    for action in ("drive_less", "no_long_flights"):
        response = call("post", f"/results/{token}/pledges", key=writer, json={"action": action})
        assert_error(response, 409, "action_not_applicable")
    assert_error(
        call("post", f"/results/{token}/pledges", key=writer, json={"action": "fly_more"}),
        422,
        "validation_error",
    )
    assert not Pledge.objects.exists()


def test_results_and_pledges_denied(
    tree: Tree, street: Campaign, coordinator: User, user_with_role: Callable[..., User]
) -> None:
    result = carbon_result(street, {"car_km": 8000})
    token = result_link_token(result)
    pledge = {"action": "drive_less"}
    assert_error(call("post", f"/results/{token}/pledges", json=pledge), 401, "not_authenticated")
    read_only = key_for(coordinator)
    assert_error(
        call("post", f"/results/{token}/pledges", key=read_only, json=pledge),
        403,
        "read_only_token",
    )
    # A token limited to the other town does not reach this campaign's results.
    other = key_for(coordinator, access="write", territories=(tree["other_town"],))
    assert_error(
        call("post", f"/results/{token}/pledges", key=other, json=pledge), 403, "forbidden"
    )
    assert_error(
        call("post", "/results", key=other, json={"campaign_id": street.pk}), 403, "forbidden"
    )
    writer = key_for(coordinator, access="write")
    forged = token[:-3] + "abc"
    assert_error(
        call("post", f"/results/{forged}/pledges", key=writer, json=pledge), 404, "not_found"
    )
    assert_error(call("get", f"/results/{forged}"), 404, "not_found")
    assert not Pledge.objects.exists()
    # A closed campaign takes no new result; without a campaign, an unknown country is refused.
    street.is_open = False
    street.save()
    assert_error(
        call("post", "/results", key=writer, json={"campaign_id": street.pk}),
        409,
        "campaign_closed",
    )
    assert_error(
        call("post", "/results", key=writer, json={"country": "ZZ"}), 422, "validation_error"
    )
    assert_error(call("post", "/results", json={}), 401, "not_authenticated")
    assert FootprintResult.objects.count() == 1


@settings(max_examples=15, deadline=None)
@given(
    keys=st.lists(
        st.sampled_from(
            ["drive_less", "no_car", "carpool", "electric_car", "vegetarian", "less_red_meat"]
        ),
        min_size=1,
        max_size=6,
    )
)
def test_pledged_savings_by_api_never_exceed_the_footprint(keys: list[str]) -> None:
    from tests.factories import UserFactory

    user = UserFactory()
    writer = key_for(user, access="write")
    body = call(
        "post", "/results", key=writer, json={"answers": {"car_km": 15000, "meals_red_meat": 6}}
    ).json()
    for key in keys:
        response = call(
            "post",
            f"/results/{body['token']}/pledges",
            key=key_for(user, access="write"),
            json={"action": key},
        )
        assert response.status_code in (201, 409), response.json()
    final = call("get", f"/results/{body['token']}").json()
    actions = [p["action"] for p in final["pledges"]]
    assert len(actions) == len(set(actions))
    assert not ({"drive_less", "no_car"} <= set(actions))
    assert not ({"vegetarian", "less_red_meat"} <= set(actions))
    for category in ("transport", "food"):
        saved = sum(p["saving_kg"] for p in final["pledges"] if p["category"] == category)
        assert saved <= final["categories"][category]["total"] + 0.5


def test_public_aggregates_hide_the_extremes_and_merge_small_bands(
    tree: Tree, street: Campaign, user_with_role: Callable[..., User], settings: Any
) -> None:
    settings.SPIRAL_SMALL_NUMBERS_THRESHOLD = 5
    for km in (0, 3000, 6000, 12000, 25000, 40000):
        carbon_result(street, {"car_km": km})
    public = call("get", f"/campaigns/{street.pk}").json()["results"]
    assert public["spreads"]["total"]["minimum"] is None
    assert public["spreads"]["total"]["maximum"] is None
    assert all(people >= 5 for _lower, people in public["histogram"])
    observer = key_for(user_with_role(Role.OBSERVER, tree["town"]))
    full = call("get", f"/campaigns/{street.pk}", key=observer).json()["results"]
    assert full["spreads"]["total"]["minimum"] == pytest.approx(
        min(r.total_kg for r in FootprintResult.objects.all()), abs=0.1
    )
    assert sum(people for _lower, people in full["histogram"]) == 6
    assert len(full["histogram"]) == 17  # every one-tonne band, for those who may see them
