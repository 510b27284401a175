"""On a phone: answer the carbon questionnaire partly, see the result and the path to 2 t,
pledge two actions, and find them counted in the group's results."""

from __future__ import annotations

from typing import Any

import pytest

from spiral.carbon.models import FootprintResult, Pledge
from tests.factories import CarbonCampaignFactory, TerritoryFactory, carbon_result

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

PHONE = {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True}


def test_questionnaire_result_pledges_and_group_on_a_phone(
    live_server: Any, new_context: Any
) -> None:
    street = TerritoryFactory(name="Rue des Tilleuls", kind="neighbourhood", country_code="FR")
    campaign = CarbonCampaignFactory(name="Tilleuls 2026", territory=street)
    for km in (3000, 8000, 15000, 20000):  # neighbours already in: the group has 5 results
        carbon_result(campaign, {"car_km": km})

    page = new_context(**PHONE).new_page()
    page.goto(f"{live_server.url}/carbon/campaigns/{campaign.pk}/join/")
    # One step at a time on the phone: transport first, housing hidden.
    assert page.locator("#step-transport").is_visible()
    assert not page.locator("#step-housing").is_visible()
    page.fill("#id_car_km", "12000")
    page.select_option("#id_car_engine", "petrol")
    page.locator("#step-transport .carbon-next").click()
    assert page.locator("#step-housing").is_visible()
    page.locator("#step-housing .carbon-next").click()  # housing left to the national average
    page.fill("#id_meals_red_meat", "5")
    page.locator("#step-food .carbon-submit").click()

    page.wait_for_url("**/carbon/r/**")
    result = FootprintResult.objects.get(campaign=campaign, answers__car_km=12000.0)
    assert result.answers == {"car_km": 12000.0, "car_engine": "petrol", "meals_red_meat": 5.0}
    assert page.locator("#carbon-total").inner_text().endswith("t")
    assert page.locator("#carbon-path svg").is_visible()
    assert "2050" in page.locator("#path").inner_text()
    # Nothing wider than the phone: no horizontal scrolling of the page.
    assert page.evaluate("document.documentElement.scrollWidth") <= 390

    page.locator("li[data-action=drive_less] button").click()
    page.wait_for_selector(".carbon-pledged li")
    page.locator("li[data-action=less_red_meat] button").click()
    page.wait_for_function("document.querySelectorAll('.carbon-pledged li').length === 2")
    pledges = Pledge.objects.filter(result=result)
    assert sorted(pledges.values_list("action", flat=True)) == ["drive_less", "less_red_meat"]
    # Once "less red meat" is pledged, "vegetarian" (same kind) is no longer offered.
    assert page.locator("li[data-action=vegetarian]").count() == 0

    page.goto(f"{live_server.url}/carbon/campaigns/{campaign.pk}/")
    assert page.locator("#carbon-count").inner_text() == "5"
    assert page.locator("#carbon-pledges").inner_text() == "2"
    total_t = sum(p.saving_kg for p in pledges) / 1000
    assert page.locator("#carbon-pledged").inner_text() == f"{total_t:.1f} t"
    assert page.locator("#carbon-spread").is_visible()


def test_no_car_hides_the_car_questions_and_belgium_says_its_average_is_an_estimate(
    live_server: Any, new_context: Any
) -> None:
    page = new_context(**PHONE).new_page()
    page.goto(f"{live_server.url}/carbon/start/?country=BE")
    assert page.locator(".carbon-steps-nav li[aria-current]").inner_text() == "Transport"
    assert page.locator("#id_car_engine").is_visible()
    page.fill("#id_car_km", "0")
    assert not page.locator("#id_car_engine").is_visible()
    assert not page.locator("#id_car_passengers").is_visible()
    page.locator("#step-transport .carbon-submit").click()
    page.wait_for_url("**/carbon/r/**")
    result = FootprintResult.objects.get()
    assert result.answers == {"car_km": 0.0}
    assert page.locator("li[data-action=drive_less]").count() == 0  # no car, no "drive less"
    note = page.locator("#carbon-average-note").inner_text()
    assert "No national footprint of Belgium" in note
    assert "Project estimate for Belgium" in page.locator(".stats").inner_text()
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
