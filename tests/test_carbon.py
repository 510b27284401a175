"""Carbon footprint: factor files, the computation, the actions catalogue, campaigns, pages, API."""

from __future__ import annotations

import csv
import io
import itertools
import json
import math
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.core.management import call_command
from django.test import Client
from hypothesis import HealthCheck, given
from hypothesis import settings as hsettings
from hypothesis import strategies as st

from spiral.accounts.models import Role
from spiral.carbon.actions import (
    applies,
    apply_change,
    catalogue,
    individual_actions,
    pledges_savings,
    proposals,
)
from spiral.carbon.compute import FactorData, answers_resolved, footprint_compute
from spiral.carbon.factorsets import (
    FACTORS_DIR,
    FactorChangeError,
    current_factor_set,
    factor_documents,
    factor_set_new_version,
)
from spiral.carbon.models import FactorSet, FootprintResult
from spiral.carbon.questions import QUESTIONS, InvalidAnswers, answers_clean
from spiral.carbon.selectors import aggregate, campaign_results, path_to_target, territory_results
from spiral.carbon.services import (
    PledgeError,
    collective_adopt,
    pledge_add,
    pledge_remove,
    result_link_token,
)
from tests.factories import (
    CarbonCampaignFactory,
    CriterionFactory,
    GroupFactory,
    MeetingFactory,
    RoleFactory,
    TerritoryFactory,
    UserFactory,
    carbon_result,
)

DOCUMENTS = factor_documents()
FR = FactorData.from_document(DOCUMENTS["FR"])
TN = FactorData.from_document(DOCUMENTS["TN"])
REFERENCE = Path(settings.PACKAGE_DIR) / "data" / "carbon" / "reference" / "carbon-factors.tsv"


def close(value: float, expected: float) -> bool:
    return math.isclose(value, expected, rel_tol=1e-9, abs_tol=1e-6)


# --- factor files ------------------------------------------------------------------------------


def test_factor_files_are_built_from_the_reference_and_up_to_date() -> None:
    # The command checks every "sourced" figure against the reference table, then the files.
    call_command("carbon_build_factor_files", "--check")


@pytest.mark.parametrize("country", ["FR", "BE", "IT", "PT", "CV", "GA", "MA", "TN"])
def test_each_country_has_a_file_with_a_source_or_note_for_every_figure(country: str) -> None:
    document = DOCUMENTS[country]
    assert document["version"]
    assert document["name_fr"]
    assert document["name_en"]
    for section in ("factors", "defaults"):
        for key, entry in document[section].items():
            assert entry["status"] in {"sourced", "derived", "estimate"}, key
            if entry["status"] == "sourced":
                assert entry["sources"], key
            else:
                assert entry["note"] or entry["sources"], key
    questions = {q.key for q in QUESTIONS}
    assert questions <= set(document["defaults"]), questions - set(document["defaults"])


def test_electricity_and_collective_share_differ_by_country() -> None:
    elec = {c: d["factors"]["elec_per_kwh"]["value"] for c, d in DOCUMENTS.items()}
    services = {c: d["factors"]["collective_services_year"]["value"] for c, d in DOCUMENTS.items()}
    assert len(set(elec.values())) == len(elec)
    assert services["FR"] == 1398
    assert services["TN"] == 265


COUNTRIES_WITH_FIGURE = [c for c, d in sorted(DOCUMENTS.items()) if d["national_footprint"]]


def test_countries_with_a_national_figure() -> None:
    # Belgium's only consumption figure is flagged "treat with caution" by the reference.
    assert COUNTRIES_WITH_FIGURE == ["CV", "FR", "GA", "IT", "MA", "PT", "TN"]


@pytest.mark.parametrize("country", COUNTRIES_WITH_FIGURE)
def test_all_defaults_lie_within_5_percent_of_the_national_figure(country: str) -> None:
    document = DOCUMENTS[country]
    footprint = footprint_compute({}, FactorData.from_document(document))
    national = float(document["national_footprint"]["value"])
    assert abs(footprint.total / national - 1) < 0.05, (footprint.total, national)


def test_french_defaults_match_the_source_category_defaults() -> None:
    footprint = footprint_compute({}, FR)
    assert abs(footprint.category_total("food") - 2046) < 2
    assert abs(footprint.category_total("housing") - 1660) < 2
    assert footprint.category_total("goods") == pytest.approx(1190, abs=1)
    assert footprint.category_total("services") == 1398
    assert footprint.categories["transport"]["plane"] == pytest.approx(418, abs=1)


# --- the computation, hand-checked -------------------------------------------------------------


def test_transport_hand_checked() -> None:
    answers = {
        "car_km": 10000,
        "car_engine": "petrol",
        "car_size": "medium",
        "car_passengers": 2,
        "flight_short_hours": 2,
        "flight_long_hours": 10,
        "train_km": 1000,
        "bus_km_week": 20,
        "two_wheeler_km": 1000,
        "two_wheeler_type": "motorbike",
    }
    t = footprint_compute(answers, FR).categories["transport"]
    assert close(t["car"], 10000 * 0.272 / 2)
    assert close(t["plane"], 2 * 500 * 0.3 + 10 * 850 * 0.16)
    assert close(t["train"], 1000 * 0.0088)
    assert close(t["bus"], 20 * 52 * 0.11)
    assert close(t["two_wheelers"], 1000 * 0.192)


def test_electric_car_uses_the_country_electricity() -> None:
    answers = {"car_km": 10000, "car_engine": "electric", "car_size": "large", "car_passengers": 1}
    fr = footprint_compute(answers, FR).categories["transport"]["car"]
    tn = footprint_compute(answers, TN).categories["transport"]["car"]
    assert close(fr, 10000 * (0.205 * 0.0519 + 0.0971) * 1.449)
    assert close(tn, 10000 * (0.205 * 0.453 + 0.0971) * 1.449)


def test_housing_hand_checked_with_a_known_consumption() -> None:
    answers = {
        "housing_type": "house",
        "surface_m2": 100,
        "occupants": 2,
        "heating_energy": "gas",
        "heating_kwh": 10000,
        "electricity_kwh": 3000,
    }
    h = footprint_compute(answers, FR).categories["housing"]
    assert close(h["construction"], 100 * 17.9 * 0.928 / 2)
    assert close(h["heating"], 10000 * 0.215 / 2)
    assert close(h["electricity"], 3000 * 0.0519 / 2)


def test_housing_hand_checked_with_the_area_proxy_and_a_heat_pump() -> None:
    answers = {
        "housing_type": "apartment",
        "surface_m2": 50,
        "occupants": 1,
        "heating_energy": "heat_pump",
        "insulation": "poor",
    }
    h = footprint_compute(answers, FR).categories["housing"]
    assert close(h["construction"], 50 * 17.9 * 1.072)
    assert close(h["heating"], 50 * 150 * 1.3 * 0.079 / 2.9)
    assert (
        footprint_compute({**answers, "heating_energy": "none"}, FR).categories["housing"][
            "heating"
        ]
        == 0
    )


def test_food_hand_checked() -> None:
    answers = {"meals_vegan": 14, "drinks": "less", "food_waste": "more"}
    food = footprint_compute(answers, FR).categories["food"]
    assert close(food["meals"], 14 * 0.54 * 52)  # diet_vegan_year: 393 in the reference
    assert round(food["meals"]) == 393
    assert close(food["breakfasts"], 0.32 * 365)
    assert close(food["drinks"], 238 * 0.5)
    assert close(food["waste"], 194 * 1.5)


def test_food_partial_week_fills_the_rest_in_national_proportions() -> None:
    # 7 red-meat meals given; the 7 others share the French week's 5 vegetarian, 4 white meat,
    # 2 fish (and 0 vegan) proportionally.
    meals = footprint_compute({"meals_red_meat": 7}, FR).categories["food"]["meals"]
    rest = 7 * (5 * 0.85 + 4 * 1.65 + 2 * 1.45) / 11
    assert close(meals, (7 * 5.01 + rest) * 52)


def test_food_week_short_of_14_counts_average_meals() -> None:
    week = {f"meals_{k}": 0 for k in ("vegan", "vegetarian", "white_meat", "red_meat", "fish")}
    meals = footprint_compute({**week, "meals_vegan": 7}, FR).categories["food"]["meals"]
    average = (5 * 0.85 + 4 * 1.65 + 3 * 5.01 + 2 * 1.45) / 14
    assert close(meals, (7 * 0.54 + 7 * average) * 52)


def test_goods_hand_checked() -> None:
    answers = {
        "clothes_items": 10,
        "phones": 2,
        "computers": 1,
        "tvs": 0,
        "furniture": "less",
        "appliances": "more",
    }
    g = footprint_compute(answers, FR).categories["goods"]
    assert close(g["clothes"], 10 * 19.22)
    assert close(g["digital"], 2 * 85 / 2.5 + 185 / 5 + 106.15)
    assert close(g["other_goods"], 656 * (0.5 + 1.5) / 2)


def test_collective_share_is_apart_and_does_not_move_with_answers() -> None:
    low = footprint_compute({"car_km": 0, "meals_vegan": 14}, TN)
    high = footprint_compute({"car_km": 50000, "flight_long_hours": 40}, TN)
    assert low.collective_total == high.collective_total == 265
    assert close(low.total, low.individual_total + 265)


def test_defaults_used_are_listed_and_a_full_answer_uses_none() -> None:
    assert footprint_compute({}, FR).defaults_used == [q.key for q in QUESTIONS]
    every = {q.key: (q.choice_values[0] if q.kind == "choice" else 1) for q in QUESTIONS}
    assert footprint_compute(every, FR).defaults_used == []


def test_answers_are_checked() -> None:
    with pytest.raises(InvalidAnswers) as error:
        answers_clean(
            {
                "car_km": -1,
                "colour": "red",
                "car_engine": "steam",
                "meals_vegan": 10,
                "meals_fish": 10,
                "train_km": "many",
            }
        )
    assert set(error.value.errors) == {"car_km", "colour", "car_engine", "meals", "train_km"}
    assert answers_clean({"car_km": "", "car_engine": "dont_know", "train_km": "12"}) == {
        "train_km": 12.0
    }


# --- hypothesis --------------------------------------------------------------------------------


def _answer_strategy() -> st.SearchStrategy[dict[str, Any]]:
    fields: dict[str, st.SearchStrategy[Any]] = {}
    for q in QUESTIONS:
        if q.kind == "choice":
            fields[q.key] = st.sampled_from([*q.choice_values, "dont_know"])
        elif q.key.startswith("meals_"):
            fields[q.key] = st.integers(0, 2)
        else:
            fields[q.key] = st.floats(q.minimum, min(q.maximum, 100_000), allow_nan=False)
    return st.fixed_dictionaries({}, optional=fields)


ANSWERS = _answer_strategy()
COUNTRY_DATA = st.sampled_from([FactorData.from_document(d) for d in DOCUMENTS.values()])


@given(answers=ANSWERS, data=COUNTRY_DATA)
@hsettings(max_examples=150, deadline=None)
def test_totals_are_never_negative(answers: dict[str, Any], data: FactorData) -> None:
    footprint = footprint_compute(answers_clean(answers), data)
    for subs in footprint.categories.values():
        assert all(value >= 0 and math.isfinite(value) for value in subs.values())
    assert footprint.total >= footprint.collective_total > 0


@given(answers=ANSWERS, data=COUNTRY_DATA, more=st.floats(0, 50_000))
@hsettings(max_examples=100, deadline=None)
def test_total_is_monotonic_in_car_km(
    answers: dict[str, Any], data: FactorData, more: float
) -> None:
    answers = answers_clean(answers)
    km = float(answers.get("car_km", 5000))
    base = footprint_compute({**answers, "car_km": km}, data).total
    assert footprint_compute({**answers, "car_km": km + more}, data).total >= base - 1e-9


@given(answers=ANSWERS, data=COUNTRY_DATA)
@hsettings(max_examples=100, deadline=None)
def test_resolved_answers_give_the_same_totals(answers: dict[str, Any], data: FactorData) -> None:
    answers = answers_clean(answers)
    a = footprint_compute(answers, data).as_dict()
    b = footprint_compute(answers_resolved(answers, data), data).as_dict()
    # Totals are rounded to 0.1 kg after summing: the two paths may differ by one rounding step.
    for name, category in a["categories"].items():
        assert category["total"] == pytest.approx(b["categories"][name]["total"], abs=0.11)
        assert category["subcategories"] == pytest.approx(
            b["categories"][name]["subcategories"], abs=0.11
        )


@given(answers=ANSWERS, data=COUNTRY_DATA, picks=st.lists(st.integers(0, 30), max_size=8))
@hsettings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_pledges_never_exceed_the_category_footprint(
    answers: dict[str, Any], data: FactorData, picks: list[int]
) -> None:
    answers = answers_clean(answers)
    pledged: list[str] = []
    for pick in picks:
        offered = proposals(answers, data, pledged)
        if not offered:
            break
        pledged.append(offered[pick % len(offered)].action.key)
    exclusive = [catalogue()[key].exclusive for key in pledged]
    assert len(exclusive) == len(set(exclusive))  # never two of the same kind
    footprint = footprint_compute(answers, data)
    by_category: dict[str, float] = {}
    for action, saving in pledges_savings(answers, data, pledged):
        assert saving >= 0
        by_category[action.category] = by_category.get(action.category, 0) + saving
    for category, saving in by_category.items():
        assert saving <= footprint.category_total(category) + 1e-6


# --- actions -----------------------------------------------------------------------------------


def test_no_car_no_car_action_and_no_flight_no_flight_action() -> None:
    offered = {p.action.key for p in proposals({"car_km": 0, "flight_long_hours": 0}, FR)}
    assert not offered & {"drive_less", "no_car", "carpool", "electric_car", "no_long_flights"}
    assert "train_not_plane" in offered  # short flights still at the national average
    assert {"drive_less", "no_long_flights"} <= {p.action.key for p in proposals({}, FR)}


def test_a_vegan_is_not_told_to_eat_less_meat() -> None:
    offered = {p.action.key for p in proposals({"meals_vegan": 14}, FR)}
    assert not offered & {"vegetarian", "less_red_meat"}


def test_heat_pump_only_for_gas_or_oil_and_insulation_only_when_not_renovated() -> None:
    gas = {p.action.key for p in proposals({"heating_energy": "gas"}, FR)}
    wood = {
        p.action.key for p in proposals({"heating_energy": "wood", "insulation": "renovated"}, FR)
    }
    assert "heat_pump" in gas
    assert "heat_pump" not in wood
    assert "insulate" not in wood


def test_saving_is_computed_from_the_persons_answers() -> None:
    def saving(answers: dict[str, Any]) -> float:
        return next(p.saving_kg for p in proposals(answers, FR) if p.action.key == "drive_less")

    assert close(
        saving({"car_km": 20000, "car_engine": "diesel", "car_passengers": 1}), 20000 * 0.33 * 0.228
    )
    assert saving({"car_km": 1000}) < saving({"car_km": 2000})


def test_mutually_exclusive_actions_are_not_proposed_together_nor_counted_twice() -> None:
    after_vegetarian = {p.action.key for p in proposals({}, FR, ["vegetarian"])}
    assert "less_red_meat" not in after_vegetarian
    # Driving a third less then car-pooling: the second saving is on the km left.
    (_a, first), (_b, second) = pledges_savings({"car_km": 9000}, FR, ["drive_less", "carpool"])
    alone = next(p.saving_kg for p in proposals({"car_km": 9000}, FR) if p.action.key == "carpool")
    assert second < alone
    total = footprint_compute({"car_km": 9000}, FR).total
    resolved = answers_resolved({"car_km": 9000}, FR)
    for key in ("drive_less", "carpool"):
        resolved = apply_change(catalogue()[key], resolved, FR)
    assert close(first + second, total - footprint_compute(resolved, FR).total)


def test_every_individual_action_applies_to_someone_and_saves_something() -> None:
    heavy = {
        "car_km": 20000,
        "car_engine": "petrol",
        "flight_short_hours": 5,
        "flight_long_hours": 20,
        "heating_energy": "gas",
        "insulation": "poor",
        "drinks": "more",
        "food_waste": "more",
        "furniture": "more",
        "appliances": "more",
    }
    resolved = answers_resolved(heavy, FR)
    for action in individual_actions():
        assert applies(action, resolved, FR), action.key
    assert len({p.action.exclusive for p in proposals(heavy, FR)}) >= 12


# --- path to 2 t -------------------------------------------------------------------------------


@pytest.mark.django_db
def test_path_shrinks_by_equal_steps_to_the_target() -> None:
    fs = current_factor_set("FR")
    path = path_to_target(start_kg=10000, start_year=2026, factor_set=fs)
    assert path[0].year == 2026
    assert path[-1].year == 2050
    assert path[0].budget_kg == 10000
    assert close(path[-1].budget_kg, 2000)
    steps = {round(a.budget_kg - b.budget_kg, 6) for a, b in itertools.pairwise(path)}
    assert steps == {round(8000 / 24, 6)}
    flat = path_to_target(start_kg=1500, start_year=2026, factor_set=fs)
    assert {p.budget_kg for p in flat} == {1500}


# --- factor sets and stored results ------------------------------------------------------------


@pytest.mark.django_db
def test_shipped_factor_sets_are_loaded_and_current() -> None:
    assert set(FactorSet.objects.current().values_list("country", flat=True)) == set(DOCUMENTS)


@pytest.mark.django_db
def test_new_factor_version_is_current_and_results_keep_theirs() -> None:
    old_set = current_factor_set("FR")
    result = carbon_result(answers={"electricity_kwh": 5000})
    admin = UserFactory()
    new = factor_set_new_version(
        factor_set=old_set,
        version="2027.1",
        changes={"elec_per_kwh": {"value": "0.1", "source": "https://example.org/elec"}},
        note="New mix",
        user=admin,
    )
    assert current_factor_set("FR") == new
    assert new.document["factors"]["elec_per_kwh"]["sources"] == ["https://example.org/elec"]
    later = carbon_result(answers={"electricity_kwh": 5000})
    result.refresh_from_db()
    assert result.factor_set == old_set
    assert later.factor_set == new
    assert later.housing_kg > result.housing_kg
    with pytest.raises(FactorChangeError):
        factor_set_new_version(
            factor_set=new,
            version="2027.2",
            changes={"elec_per_kwh": {"value": "1"}},
            note="",
            user=admin,
        )
    with pytest.raises(FactorChangeError):
        factor_set_new_version(factor_set=new, version="2027.1", changes={}, note="", user=admin)


@pytest.mark.django_db
def test_result_is_idempotent_by_client_token_and_stores_columns() -> None:
    first = carbon_result(answers={"car_km": 0}, client_token="abc")
    again = carbon_result(answers={"car_km": 99999}, client_token="abc")
    assert first.pk == again.pk
    assert FootprintResult.objects.count() == 1
    assert abs(first.total_kg - first.detail["total"]) < 0.1
    assert first.transport_kg < 1000  # no car: flights, train, bus, two-wheelers only


@pytest.mark.django_db
def test_pledge_records_its_saving_and_refuses_what_does_not_apply() -> None:
    result = carbon_result(answers={"car_km": 10000, "car_engine": "diesel"})
    pledge = pledge_add(result=result, action_key="drive_less")
    assert close(pledge.saving_kg, 10000 * 0.33 * 0.228 / 1.6)
    assert pledge_add(result=result, action_key="drive_less").pk == pledge.pk  # idempotent
    with pytest.raises(PledgeError):
        pledge_add(result=result, action_key="no_car")  # same kind as drive_less
    no_car = carbon_result(answers={"car_km": 0})
    with pytest.raises(PledgeError):
        pledge_add(result=no_car, action_key="drive_less")
    with pytest.raises(PledgeError):
        pledge_add(result=result, action_key="carpool_scheme")  # collective, not individual
    carpool = pledge_add(result=result, action_key="carpool")
    pledge_remove(result=result, action_key="drive_less")
    carpool.refresh_from_db()
    assert close(carpool.saving_kg, 10000 * 0.228 / 1.6 - 10000 * 0.228 / 2.6)


# --- campaigns and aggregates ------------------------------------------------------------------


@pytest.fixture
def campaign_tree(db: None) -> dict[str, Any]:
    network = TerritoryFactory(name="Net", kind="network")
    town = TerritoryFactory(name="Carbon town", parent=network, country_code="FR")
    street = TerritoryFactory(name="Carbon street", kind="neighbourhood", parent=town)
    private = TerritoryFactory(name="Private town", parent=network, is_public=False)
    return {"network": network, "town": town, "street": street, "private": private}


@pytest.mark.django_db
def test_aggregate_medians_spread_pledges_and_small_numbers(
    campaign_tree: dict[str, Any], settings: Any
) -> None:
    settings.SPIRAL_SMALL_NUMBERS_THRESHOLD = 5
    campaign = CarbonCampaignFactory(territory=campaign_tree["street"])
    results = [carbon_result(campaign, {"car_km": km}) for km in (0, 5000, 10000, 15000)]
    hidden = aggregate(campaign_results(campaign), full_view=False)
    assert hidden.count == 4
    assert hidden.hidden
    assert not hidden.spreads
    shown = aggregate(campaign_results(campaign), full_view=True)
    transport = sorted(r.transport_kg for r in results)
    assert close(shown.spreads["transport"].median, (transport[1] + transport[2]) / 2)
    assert shown.spreads["services"].q1 == shown.spreads["services"].q3 == 1398
    carbon_result(campaign, {"car_km": 20000})
    public = aggregate(campaign_results(campaign), full_view=False)
    assert not public.hidden
    assert sum(n for _b, n in public.histogram) == 5
    # Publicly, no band of the distribution isolates fewer than 5 people: here, one band.
    assert [n for _low, _high, n in public.bands] == [5]
    assert [n for _b, n in public.histogram] == [5]
    full = aggregate(campaign_results(campaign), full_view=True)
    expected: dict[float, int] = {}
    for stored in FootprintResult.objects.all():
        band = min(stored.total_kg // 1000, 16) * 1000
        expected[band] = expected.get(band, 0) + 1
    assert {b: n for b, n in full.histogram if n} == expected
    assert full.bands[0][0] == min(expected)  # empty bands at the ends are not drawn
    assert full.bands[-1][0] == max(expected)
    pledge = pledge_add(result=results[1], action_key="drive_less")
    other = pledge_add(result=results[2], action_key="vegetarian")
    agg = aggregate(campaign_results(campaign), full_view=False)
    assert agg.pledges == 2
    assert agg.pledgers == 2
    assert close(agg.pledged_kg["total"], pledge.saving_kg + other.saving_kg)
    assert close(agg.pledged_kg["food"], other.saving_kg)


@pytest.mark.django_db
def test_redo_in_the_same_campaign_counts_once_and_rolls_up(campaign_tree: dict[str, Any]) -> None:
    campaign = CarbonCampaignFactory(territory=campaign_tree["street"])
    other = CarbonCampaignFactory(territory=campaign_tree["town"])
    first = carbon_result(campaign)
    carbon_result(campaign, {"car_km": 0}, previous=first)
    carbon_result(other)
    assert campaign_results(campaign).count() == 1
    assert territory_results(campaign_tree["town"].pk).count() == 2
    assert territory_results(campaign_tree["network"].pk).count() == 2
    assert territory_results(campaign_tree["street"].pk).count() == 1


# --- pages and their permissions ---------------------------------------------------------------


def _filled(client: Client, url: str, **answers: Any) -> Any:
    return client.post(url, answers)


@pytest.mark.django_db
def test_questionnaire_without_account_gives_a_private_link(client: Client) -> None:
    assert client.get("/carbon/").status_code == 200
    page = client.get("/carbon/start/?country=FR")
    assert page.status_code == 200
    assert b"car_km" in page.content
    response = client.post("/carbon/start/?country=FR", {"car_km": "0", "meals_vegan": "14"})
    assert response.status_code == 302
    result = FootprintResult.objects.get()
    assert result.answers == {"car_km": 0.0, "meals_vegan": 14.0}
    page = client.get(response.url)
    assert page.status_code == 200
    content = page.content.decode()
    assert "<svg" in content
    assert "2050" in content
    assert "drive_less" not in content


@pytest.mark.django_db
def test_home_lists_open_campaigns_of_public_territories_only(
    client: Client, campaign_tree: dict[str, Any]
) -> None:
    CarbonCampaignFactory(name="Open street", territory=campaign_tree["street"])
    CarbonCampaignFactory(name="Hidden street", territory=campaign_tree["private"])
    CarbonCampaignFactory(name="Closed street", territory=campaign_tree["street"], is_open=False)
    content = client.get("/carbon/").content.decode()
    assert "Open street" in content
    assert "Hidden street" not in content
    assert "Closed street" not in content


@pytest.mark.django_db
def test_questionnaire_refuses_an_unknown_country_and_bad_answers(client: Client) -> None:
    assert client.get("/carbon/start/?country=ZZ").status_code == 302
    response = client.post("/carbon/start/?country=FR", {"car_km": "-5"})
    assert response.status_code == 200
    assert FootprintResult.objects.count() == 0


@pytest.mark.django_db
def test_result_needs_its_signed_link(client: Client) -> None:
    result = carbon_result()
    token = result_link_token(result)
    assert client.get(f"/carbon/r/{token}/").status_code == 200
    assert client.get(f"/carbon/r/{token[:-2]}xx/").status_code == 404
    assert client.get(f"/carbon/r/{result.pk}/").status_code == 404


@pytest.mark.django_db
def test_pledge_by_link_allowed_and_forged_link_denied(client: Client) -> None:
    result = carbon_result(answers={"car_km": 8000})
    token = result_link_token(result)
    response = client.post(f"/carbon/r/{token}/pledge/", {"action": "drive_less"})
    assert response.status_code == 302
    assert result.pledges.count() == 1
    assert client.post("/carbon/r/forged/pledge/", {"action": "carpool"}).status_code == 404
    assert client.get(f"/carbon/r/{token}/pledge/").status_code == 405


@pytest.mark.django_db
def test_redo_prefills_and_compares(client: Client) -> None:
    result = carbon_result(answers={"car_km": 12345})
    token = result_link_token(result)
    page = client.get(f"/carbon/r/{token}/redo/")
    assert page.status_code == 200
    assert b'value="12345.0"' in page.content
    response = client.post(f"/carbon/r/{token}/redo/", {"car_km": "100"})
    new = FootprintResult.objects.exclude(pk=result.pk).get()
    assert new.previous == result
    assert "Compared with your previous result" in client.get(response.url).content.decode()
    assert client.get("/carbon/r/nope/redo/").status_code == 404


@pytest.mark.django_db
def test_my_results_for_an_account_only(client: Client) -> None:
    user = UserFactory()
    assert client.get("/carbon/mine/").status_code == 302
    client.force_login(user)
    client.post("/carbon/start/?country=FR", {"car_km": "1"})
    page = client.get("/carbon/mine/")
    assert page.status_code == 200
    assert "/carbon/r/" in page.content.decode()
    assert FootprintResult.objects.get().user == user


@pytest.mark.django_db
def test_campaign_page_public_and_private(client: Client, campaign_tree: dict[str, Any]) -> None:
    public = CarbonCampaignFactory(territory=campaign_tree["street"])
    private = CarbonCampaignFactory(territory=campaign_tree["private"])
    assert client.get(f"/carbon/campaigns/{public.pk}/").status_code == 200
    assert client.get(f"/carbon/campaigns/{private.pk}/").status_code == 403
    observer = UserFactory()
    RoleFactory(user=observer, territory=campaign_tree["private"], role=Role.OBSERVER)
    client.force_login(observer)
    assert client.get(f"/carbon/campaigns/{private.pk}/").status_code == 200


@pytest.mark.django_db
def test_join_open_campaign_allowed_closed_denied(
    client: Client, campaign_tree: dict[str, Any]
) -> None:
    campaign = CarbonCampaignFactory(territory=campaign_tree["street"])
    response = client.post(f"/carbon/campaigns/{campaign.pk}/join/", {"car_km": "0"})
    assert response.status_code == 302
    result = FootprintResult.objects.get()
    assert result.campaign == campaign
    assert result.territory == campaign_tree["street"]
    campaign.is_open = False
    campaign.save()
    assert client.get(f"/carbon/campaigns/{campaign.pk}/join/").status_code == 403


@pytest.mark.django_db
def test_workshop_and_adopt_for_facilitators_only(
    client: Client, campaign_tree: dict[str, Any]
) -> None:
    group = GroupFactory(territory=campaign_tree["street"])
    campaign = CarbonCampaignFactory(territory=campaign_tree["street"], group=group)
    url = f"/carbon/campaigns/{campaign.pk}/"
    assert client.get(url + "workshop/").status_code == 403
    assert client.post(url + "adopt/", {"action": "tool_library"}).status_code == 403
    outsider = UserFactory()
    RoleFactory(user=outsider, territory=campaign_tree["private"], role=Role.FACILITATOR)
    client.force_login(outsider)
    assert client.get(url + "workshop/").status_code == 403
    facilitator = UserFactory()
    group.facilitators.add(facilitator)
    client.force_login(facilitator)
    assert client.get(url + "workshop/").status_code == 200
    assert client.post(url + "adopt/", {"action": "tool_library", "note": "Ana"}).status_code == 302
    assert campaign.adoptions.get().action == "tool_library"
    assert client.post(url + "toggle/").status_code == 302
    campaign.refresh_from_db()
    assert not campaign.is_open
    client.logout()
    assert client.post(url + "toggle/").status_code == 403
    assert "library of shared tools" in client.get(url).content.decode()


@pytest.mark.django_db
def test_campaign_shows_the_groups_wellbeing_dimensions(
    client: Client, campaign_tree: dict[str, Any], settings: Any
) -> None:
    from spiral.coding.services import criterion_codes_add

    settings.SPIRAL_SMALL_NUMBERS_THRESHOLD = 1
    group = GroupFactory(territory=campaign_tree["street"], size=8)
    meeting = MeetingFactory(group=group)
    criterion = CriterionFactory(meeting=meeting, text="Voir mes voisins")
    criterion_codes_add(criterion=criterion, codes=["D04"], user=None)
    campaign = CarbonCampaignFactory(territory=campaign_tree["street"], group=group)
    content = client.get(f"/carbon/campaigns/{campaign.pk}/").content.decode()
    assert "What well-being means for this group" in content
    section = content.split("Relations, balance, feelings, commitment")[1].split("Material")[0]
    assert ">D</span>" in section


@pytest.mark.django_db
def test_new_campaign_for_coordinators_only(client: Client, campaign_tree: dict[str, Any]) -> None:
    url = f"/carbon/territories/{campaign_tree['town'].slug}/campaigns/new/"
    assert client.get(url).status_code == 403
    coordinator = UserFactory()
    RoleFactory(user=coordinator, territory=campaign_tree["town"], role=Role.COORDINATOR)
    client.force_login(coordinator)
    assert client.get(url).status_code == 200
    response = client.post(url, {"name": "Rue des Lilas", "country": "FR"})
    assert response.status_code == 302
    observer = UserFactory()
    RoleFactory(user=observer, territory=campaign_tree["town"], role=Role.OBSERVER)
    client.force_login(observer)
    assert client.post(url, {"name": "No", "country": "FR"}).status_code == 403


@pytest.mark.django_db
def test_exports_for_the_people_running_the_campaign(
    client: Client, campaign_tree: dict[str, Any]
) -> None:
    campaign = CarbonCampaignFactory(territory=campaign_tree["street"])
    user = UserFactory()
    carbon_result(campaign, {"car_km": 1000}, user=user)
    pledge_add(result=carbon_result(campaign), action_key="drive_less")
    url = f"/carbon/campaigns/{campaign.pk}/export."
    assert client.get(url + "csv").status_code == 403
    observer = UserFactory()
    RoleFactory(user=observer, territory=campaign_tree["town"], role=Role.OBSERVER)
    client.force_login(observer)
    response = client.get(url + "csv")
    assert response.status_code == 200
    rows = list(csv.DictReader(io.StringIO(response.content.decode())))
    assert len(rows) == 2
    assert {r["row"] for r in rows} == {"1", "2"}
    assert sorted(float(r["pledged_kg"]) > 0 for r in rows) == [False, True]
    assert user.username not in response.content.decode()
    xlsx = client.get(url + "xlsx")
    assert xlsx.status_code == 200
    assert xlsx.content[:2] == b"PK"
    assert client.get(url + "pdf").status_code == 404


@pytest.mark.django_db
def test_territory_rollup_page_public_and_private(
    client: Client, campaign_tree: dict[str, Any]
) -> None:
    campaign = CarbonCampaignFactory(territory=campaign_tree["street"])
    carbon_result(campaign)
    page = client.get(f"/carbon/territories/{campaign_tree['town'].slug}/")
    assert page.status_code == 200
    assert "Too few results" in page.content.decode()
    assert client.get(f"/carbon/territories/{campaign_tree['private'].slug}/").status_code == 403


@pytest.mark.django_db
def test_factor_sets_readable_by_all_and_changed_by_network_admins(
    client: Client, campaign_tree: dict[str, Any]
) -> None:
    fs = current_factor_set("FR")
    assert client.get("/carbon/factors/").status_code == 200
    page = client.get(f"/carbon/factors/{fs.pk}/")
    assert page.status_code == 200
    assert "nosgestesclimat" in page.content.decode()
    change = {
        "version": "2027.1",
        "key": "elec_per_kwh",
        "value": "0.06",
        "source": "https://x.org",
    }
    assert client.post(f"/carbon/factors/{fs.pk}/", change).status_code == 403
    coordinator = UserFactory()
    RoleFactory(user=coordinator, territory=campaign_tree["town"], role=Role.COORDINATOR)
    client.force_login(coordinator)
    assert client.post(f"/carbon/factors/{fs.pk}/", change).status_code == 403
    admin = UserFactory()
    RoleFactory(user=admin, territory=campaign_tree["network"], role=Role.NETWORK_ADMIN)
    client.force_login(admin)
    assert client.post(f"/carbon/factors/{fs.pk}/", change).status_code == 302
    assert current_factor_set("FR").version == "2027.1"


# --- API ---------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_api_footprint_anonymous(client: Client) -> None:
    response = client.post(
        "/api/v1/carbon/footprint",
        json.dumps({"country": "tn", "answers": {"car_km": 0, "car_engine": "dont_know"}}),
        content_type="application/json",
    )
    assert response.status_code == 200, response.content
    data = response.json()
    assert data["country"] == "TN"
    assert data["collective_total"] == 265
    assert set(data["categories"]["transport"]["subcategories"]) == {
        "car",
        "plane",
        "train",
        "bus",
        "two_wheelers",
    }
    assert "car_km" not in data["defaults_used"]
    assert "car_engine" in data["defaults_used"]
    assert "drive_less" not in {a["key"] for a in data["actions"]}
    assert FootprintResult.objects.count() == 0  # stores nothing


@pytest.mark.django_db
def test_api_footprint_refuses_bad_answers_and_unknown_country(client: Client) -> None:
    bad = client.post(
        "/api/v1/carbon/footprint",
        json.dumps({"answers": {"car_km": -3, "meals_fish": 15}}),
        content_type="application/json",
    )
    assert bad.status_code == 422
    unknown = client.post(
        "/api/v1/carbon/footprint", json.dumps({"country": "ZZ"}), content_type="application/json"
    )
    assert unknown.status_code == 404


@pytest.mark.django_db
def test_openapi_documents_every_question_with_unit_and_default(client: Client) -> None:
    schema = client.get("/api/v1/openapi.json").json()
    props = schema["components"]["schemas"]["CarbonAnswers"]["properties"]
    assert set(props) == {q.key for q in QUESTIONS}
    assert "km/year" in props["car_km"]["description"]
    assert "FR 11849" in props["car_km"]["description"]


@pytest.mark.django_db
def test_api_campaign_and_territory_aggregates_permissions(
    client: Client, campaign_tree: dict[str, Any], settings: Any
) -> None:
    settings.SPIRAL_SMALL_NUMBERS_THRESHOLD = 2
    public = CarbonCampaignFactory(territory=campaign_tree["street"])
    private = CarbonCampaignFactory(territory=campaign_tree["private"])
    for _ in range(2):
        carbon_result(public)
    data = client.get(f"/api/v1/carbon/campaigns/{public.pk}").json()
    assert data["results"]["count"] == 2
    assert not data["results"]["hidden"]
    assert data["results"]["path"][-1] == [2050, 2000.0]
    assert client.get(f"/api/v1/carbon/campaigns/{private.pk}").status_code == 404
    town = client.get(f"/api/v1/carbon/territories/{campaign_tree['town'].pk}")
    assert town.status_code == 200
    assert town.json()["count"] == 2
    denied = client.get(f"/api/v1/carbon/territories/{campaign_tree['private'].pk}")
    assert denied.status_code == 404
    observer = UserFactory()
    RoleFactory(user=observer, territory=campaign_tree["private"], role=Role.OBSERVER)
    client.force_login(observer)
    assert client.get(f"/api/v1/carbon/campaigns/{private.pk}").status_code == 200
    factor_sets = client.get("/api/v1/carbon/factor-sets").json()
    assert factor_sets["count"] == len(factor_sets["results"]) > 0
    assert client.get("/api/v1/carbon/factor-sets?limit=0").status_code == 422


@pytest.mark.django_db
def test_pages_in_french(client: Client) -> None:
    result = carbon_result(answers={"car_km": 8000})
    page = client.get("/carbon/start/?country=FR", HTTP_ACCEPT_LANGUAGE="fr")
    content = page.content.decode()
    assert "Je ne sais pas" in content
    assert "Kilomètres parcourus en voiture" in content
    result_page = client.get(f"/carbon/r/{result_link_token(result)}/", HTTP_ACCEPT_LANGUAGE="fr")
    text = result_page.content.decode()
    assert "Votre chemin vers 2 tonnes" in text
    assert "Rouler un tiers de moins" in text  # the catalogue's own French label


@pytest.mark.django_db
def test_factor_set_admin_for_network_admins_only(client: Client) -> None:
    fs = current_factor_set("FR")
    url = f"/admin/carbon/factorset/{fs.pk}/change/"
    staff = UserFactory(is_staff=True)
    client.force_login(staff)
    assert client.get(url).status_code == 403  # staff without the network role
    admin = UserFactory(is_staff=True, is_superuser=True)
    client.force_login(admin)
    assert client.get(url).status_code == 200
    carbon_result()
    page = client.get(url).content.decode()
    assert 'name="document"' not in page  # a version that computed results is read-only


@hsettings(max_examples=60, deadline=None)
@given(
    counts=st.lists(st.integers(min_value=0, max_value=12), min_size=17, max_size=17),
    threshold=st.integers(min_value=1, max_value=10),
)
def test_public_histogram_bands_never_isolate_fewer_than_the_threshold(
    counts: list[int], threshold: int
) -> None:
    from spiral.carbon.selectors import histogram_bands

    histogram = [(i * 1000.0, n) for i, n in enumerate(counts)]
    bands = histogram_bands(histogram, threshold=threshold)
    assert sum(n for _low, _high, n in bands) == sum(counts)
    if sum(counts) >= threshold:
        assert all(n >= threshold for _low, _high, n in bands)
    for (_low, high, _n), (low, _high, _m) in itertools.pairwise(bands):
        assert high == low  # contiguous: every person falls in exactly one band


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("country", "label", "absent"),
    [
        ("FR", "Average in France", "project's estimate"),
        ("IT", "Estimated average in Italy", "Average in Italy"),
        ("CV", "Estimated average in Cape Verde", "Average in Cape Verde"),
        ("BE", "Project estimate for Belgium", "Average in Belgium"),
    ],
)
def test_result_says_honestly_what_the_average_is(
    client: Client, country: str, label: str, absent: str
) -> None:
    result = carbon_result(answers={"car_km": 5000}, country=country)
    page = client.get(f"/carbon/r/{result_link_token(result)}/", HTTP_ACCEPT_LANGUAGE="en")
    content = page.content.decode().replace("&#x27;", "'")
    assert label in content
    assert absent not in content
    note = content.split('id="carbon-average-note"')[1].split("</p>")[0]
    if country == "BE":
        # No national figure: said so, with a measured footprint of another country beside it.
        assert "No national footprint of Belgium" in note
        assert "measured national footprint of France is 8.5 t" in note
    elif country == "FR":
        assert "national footprint of France: 8.5 t" in note
    else:
        assert "tuned to come within 5 %" in note
        expected = "emitted in the country" if country == "CV" else "counts CO2 only"
        assert expected in note


def test_every_factor_file_states_its_comparison_basis() -> None:
    for path in sorted(FACTORS_DIR.glob("*.json")):
        document = json.loads(path.read_text(encoding="utf-8"))
        basis = document["average_basis"]
        assert basis in ("national", "estimate_tuned", "no_national_figure"), path.name
        assert document["average_note"], path.name
        assert (document["national_footprint"] is None) == (basis == "no_national_figure")
        if basis == "national":
            # Only a figure of every gas can stand as "the" national average.
            assert document["national_footprint"]["unit"].startswith("kgCO2e")
        if document["national_footprint"]:
            assert document["national_scope"] in (
                "consumption_all_gases",
                "consumption_co2",
                "territorial_co2",
            )


@pytest.mark.django_db
def test_result_page_marks_savings_resting_on_averages_and_compares_by_category(
    client: Client,
) -> None:
    first = carbon_result(answers={"car_km": 12000, "flight_long_hours": 0})
    token = result_link_token(first)
    page = client.get(f"/carbon/r/{token}/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    drive = page.split('data-action="drive_less"')[1].split("</li>")[0]
    assert "From the national average" not in drive  # car_km was answered
    clothes = page.split('data-action="second_hand_clothes"')[1].split("</li>")[0]
    assert "From the national average" in clothes  # clothes were left to the average
    assert 'data-action="no_long_flights"' not in page  # no long-haul flight: not offered
    pledge_add(result=first, action_key="drive_less")
    response = client.post(f"/carbon/r/{token}/redo/", {"car_km": "6000"})
    page = client.get(response.url, HTTP_ACCEPT_LANGUAGE="en").content.decode()
    table = page.split('id="carbon-compare"')[1].split("</table>")[0]
    assert "Transport" in table
    assert "Difference" in table
    assert "What you had pledged then:" in page


@pytest.mark.django_db
def test_result_in_a_campaign_shows_the_collective_actions_adopted(
    client: Client, campaign_tree: dict[str, Any]
) -> None:
    campaign = CarbonCampaignFactory(territory=campaign_tree["street"])
    collective_adopt(campaign=campaign, action_key="carpool_scheme", note="Léa", user=None)
    result = carbon_result(campaign, {"car_km": 9000})
    page = client.get(f"/carbon/r/{result_link_token(result)}/", HTTP_ACCEPT_LANGUAGE="en")
    together = page.content.decode().split('id="together"')[1]
    assert "Car-pooling between neighbours" in together
    assert "Léa" in together
    assert "Helps with:" in together


@pytest.mark.django_db
def test_territory_rollup_page_has_its_own_path_and_distribution(
    client: Client, campaign_tree: dict[str, Any], settings: Any
) -> None:
    settings.SPIRAL_SMALL_NUMBERS_THRESHOLD = 2
    campaign = CarbonCampaignFactory(territory=campaign_tree["street"])
    for km in (2000, 9000, 16000):
        carbon_result(campaign, {"car_km": km})
    page = client.get(
        f"/carbon/territories/{campaign_tree['town'].slug}/", HTTP_ACCEPT_LANGUAGE="en"
    ).content.decode()
    assert "The territory by category" in page
    assert "The group by category" not in page
    assert "Distribution of footprints" in page
    assert "The territory's path to 2 tonnes" in page
