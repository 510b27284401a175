"""Carbon campaigns of the demo network: a tower block's group that filled the questionnaire
twice (a year apart), pledged actions and adopted collective ones, and a town-wide campaign
with too few answers to show more than their count. Answers are drawn with a fixed seed."""

from __future__ import annotations

import random
from datetime import timedelta
from typing import Any

from django.utils import timezone

from spiral.carbon.models import FootprintResult
from spiral.carbon.services import (
    PledgeError,
    campaign_create,
    collective_adopt,
    footprint_result_create,
    pledge_add,
)

DEMO_SEED = 2027
# What the first year's answers of a returning person change into, a year later.
A_YEAR_LATER = {"car_km": 0.7, "meals_red_meat": 0.5, "clothes_items": 0.6}


def _answers(rng: random.Random) -> dict[str, Any]:
    """A plausible, partly answered questionnaire of someone in a French tower block."""
    has_car = rng.random() < 0.6
    red = rng.choice([0, 1, 2, 3, 4, 6])
    answers: dict[str, Any] = {
        "car_km": rng.choice([6000, 9000, 12000, 18000]) if has_car else 0,
        "flight_short_hours": rng.choice([0, 0, 0, 2, 4]),
        "flight_long_hours": rng.choice([0, 0, 0, 0, 16]),
        "bus_km_week": rng.choice([0, 10, 30, 60]),
        "housing_type": "apartment",
        "surface_m2": rng.choice([45, 60, 70, 85]),
        "occupants": rng.choice([1, 2, 3, 4]),
        "heating_energy": rng.choice(["gas", "district", "electric"]),
        "meals_red_meat": red,
        "meals_white_meat": rng.choice([2, 4, 6]),
        "clothes_items": rng.choice([5, 10, 20, 30]),
    }
    if has_car:
        answers["car_engine"] = rng.choice(["petrol", "diesel"])
    if rng.random() < 0.5:  # half of them skip the food habits: the average stands for them
        answers["drinks"] = rng.choice(["less", "average", "more"])
        answers["food_waste"] = rng.choice(["less", "average"])
    return answers


def _pledge(result: FootprintResult, keys: list[str]) -> None:
    for key in keys:
        try:
            pledge_add(result=result, action_key=key)
        except PledgeError:
            continue  # does not apply to these answers: a real person would not see it


def load_carbon_demo(
    *, territories: dict[str, Any], groups: list[Any], users: dict[str, Any]
) -> int:
    """Create the demo campaigns and their results; returns the number of results."""
    rng = random.Random(DEMO_SEED)
    tilleuls = territories["fr-ge-roncelieres-tilleuls"]
    tower = next(g for g in groups if g.name == "Habitants de la tour Sequoia")
    coordinator = users["coordinatrice"]
    campaign = campaign_create(
        name="Tour Sequoia : notre empreinte carbone",
        territory=tilleuls,
        group=tower,
        country="FR",
        description=(
            "Les habitants de la tour Sequoia mesurent leur empreinte et cherchent ensemble "
            "ce qui peut baisser sans rien perdre de ce qui compte pour eux."
        ),
        user=coordinator,
    )
    collective_adopt(
        campaign=campaign,
        action_key="carpool_scheme",
        note="Un tableau dans le hall et un groupe de discussion (Nadia)",
        user=coordinator,
    )
    collective_adopt(
        campaign=campaign,
        action_key="repair_cafe",
        note="Un samedi par mois au local du rez-de-chaussée",
        user=coordinator,
    )
    count = 0
    a_year_ago = timezone.now() - timedelta(days=365)
    pledge_sets = [
        ["drive_less", "less_red_meat"],
        ["carpool", "second_hand_clothes"],
        ["lower_heating"],
        ["no_long_flights", "tap_water"],
        [],
    ]
    for index in range(12):
        answers = _answers(rng)
        previous = None
        if index < 4:
            # Came a year ago too, then redid the questionnaire by the private link.
            previous = footprint_result_create(answers=answers, country="FR", campaign=campaign)
            FootprintResult.objects.filter(pk=previous.pk).update(created_at=a_year_ago)
            _pledge(previous, pledge_sets[index % len(pledge_sets)])
            answers = {
                key: (value * A_YEAR_LATER[key] if key in A_YEAR_LATER else value)
                for key, value in answers.items()
            }
            count += 1
        result = footprint_result_create(
            answers=answers, country="FR", campaign=campaign, previous=previous
        )
        _pledge(result, pledge_sets[(index + 1) % len(pledge_sets)])
        count += 1

    town = campaign_create(
        name="Roncelières vers 2 tonnes",
        territory=territories["fr-ge-roncelieres"],
        country="FR",
        description="La campagne ouverte à tous les habitants de la ville.",
        user=coordinator,
    )
    for _index in range(3):
        footprint_result_create(answers=_answers(rng), country="FR", campaign=town)
        count += 1
    return count
