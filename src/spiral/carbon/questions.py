"""The questionnaire: about thirty questions in five steps, each with its unit.

Questions are definitions, not figures: their national defaults ("I don't know") and every
emission factor live in the country factor sets (data/carbon/factors/*.json). An answer left
out, empty or "dont_know" takes the country's default, so a partial questionnaire still gives an
honest estimate."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

DONT_KNOW = "dont_know"


@dataclass(frozen=True)
class Question:
    key: str
    step: str
    label: Promise
    unit: str = ""
    kind: str = "number"  # "number" or "choice"
    minimum: float = 0
    maximum: float = 1_000_000
    choices: tuple[tuple[str, Promise], ...] = field(default_factory=tuple)
    help: Promise | str = ""

    @property
    def choice_values(self) -> tuple[str, ...]:
        return tuple(value for value, _label in self.choices)


HABITS = (
    ("less", _("Less than most people")),
    ("average", _("Like most people")),
    ("more", _("More than most people")),
)

STEPS: tuple[tuple[str, Promise], ...] = (
    ("transport", _("Transport")),
    ("housing", _("Housing")),
    ("food", _("Food")),
    ("goods", _("Goods")),
    # No question: the share of collective services is the same for everyone of a country.
    ("services", _("Collective services")),
)

MEAL_TYPES = ("vegan", "vegetarian", "white_meat", "red_meat", "fish")
MEALS_PER_WEEK = 14

QUESTIONS: tuple[Question, ...] = (
    # --- transport
    Question(
        "car_km",
        "transport",
        _("Kilometres you travel by car in a year (driver or passenger)"),
        "km/year",
        maximum=200_000,
        help=_("0 if you never use a car."),
    ),
    Question(
        "car_engine",
        "transport",
        _("Engine of the car you use most"),
        kind="choice",
        choices=(
            ("petrol", _("Petrol")),
            ("diesel", _("Diesel")),
            ("electric", _("Electric")),
        ),
    ),
    Question(
        "car_size",
        "transport",
        _("Size of that car"),
        kind="choice",
        choices=(
            ("small", _("Small")),
            ("medium", _("Medium")),
            ("large", _("Large or SUV")),
        ),
    ),
    Question(
        "car_passengers",
        "transport",
        _("People usually in the car, you included"),
        "persons",
        minimum=1,
        maximum=9,
    ),
    Question(
        "flight_short_hours",
        "transport",
        _("Hours of short and medium-haul flights in a year"),
        "hours/year",
        maximum=2_000,
        help=_("Flights under about 3 hours; count the return trip too."),
    ),
    Question(
        "flight_long_hours",
        "transport",
        _("Hours of long-haul flights in a year"),
        "hours/year",
        maximum=2_000,
        help=_("Paris–New York and back is about 16 hours."),
    ),
    Question("train_km", "transport", _("Kilometres by train in a year"), "km/year"),
    Question(
        "bus_km_week",
        "transport",
        _("Kilometres by bus or coach in a typical week"),
        "km/week",
        maximum=10_000,
    ),
    Question(
        "two_wheeler_km",
        "transport",
        _("Kilometres by scooter, motorbike or electric bike in a year"),
        "km/year",
        maximum=100_000,
    ),
    Question(
        "two_wheeler_type",
        "transport",
        _("Which two-wheeler"),
        kind="choice",
        choices=(
            ("scooter", _("Scooter or light motorbike")),
            ("motorbike", _("Motorbike")),
            ("ebike", _("Electric bike or kick scooter")),
        ),
    ),
    # --- housing
    Question(
        "housing_type",
        "housing",
        _("Your home"),
        kind="choice",
        choices=(("apartment", _("Apartment")), ("house", _("House"))),
    ),
    Question(
        "surface_m2", "housing", _("Living area of your home"), "m²", minimum=5, maximum=2_000
    ),
    Question(
        "occupants", "housing", _("People living in your home"), "persons", minimum=1, maximum=30
    ),
    Question(
        "heating_energy",
        "housing",
        _("Main heating energy"),
        kind="choice",
        choices=(
            ("gas", _("Gas")),
            ("fuel_oil", _("Heating oil")),
            ("electric", _("Electric heaters")),
            ("heat_pump", _("Heat pump")),
            ("wood", _("Wood logs")),
            ("pellets", _("Wood pellets")),
            ("district", _("District heating")),
            ("none", _("No heating")),
        ),
    ),
    Question(
        "heating_kwh",
        "housing",
        _("Heating consumption of the home, if you know it"),
        "kWh/year",
        maximum=200_000,
        help=_("From your bills; leave empty and the living area and insulation give an estimate."),
    ),
    Question(
        "insulation",
        "housing",
        _("Insulation of your home"),
        kind="choice",
        choices=(
            ("poor", _("Poor (draughts, single glazing)")),
            ("average", _("Average")),
            ("renovated", _("Good or renovated in the last 10 years")),
        ),
    ),
    Question(
        "electricity_kwh",
        "housing",
        _("Electricity of the home in a year, heating excluded"),
        "kWh/year",
        maximum=100_000,
    ),
    # --- food
    Question(
        "meals_vegan",
        "food",
        _("Vegan meals (no animal product)"),
        "meals/week",
        maximum=MEALS_PER_WEEK,
    ),
    Question(
        "meals_vegetarian",
        "food",
        _("Vegetarian meals (eggs, cheese)"),
        "meals/week",
        maximum=MEALS_PER_WEEK,
    ),
    Question(
        "meals_white_meat",
        "food",
        _("Meals with chicken or pork"),
        "meals/week",
        maximum=MEALS_PER_WEEK,
    ),
    Question(
        "meals_red_meat",
        "food",
        _("Meals with beef, veal or lamb"),
        "meals/week",
        maximum=MEALS_PER_WEEK,
    ),
    Question("meals_fish", "food", _("Meals with fish"), "meals/week", maximum=MEALS_PER_WEEK),
    Question(
        "drinks",
        "food",
        _("Bought drinks (coffee, soda, bottled water, alcohol)"),
        kind="choice",
        choices=HABITS,
    ),
    Question("food_waste", "food", _("Food you throw away"), kind="choice", choices=HABITS),
    # --- goods
    Question(
        "clothes_items",
        "goods",
        _("New clothes and pairs of shoes bought in a year"),
        "items/year",
        maximum=1_000,
    ),
    Question("phones", "goods", _("Smartphones you use"), "devices", maximum=20),
    Question("computers", "goods", _("Computers and tablets you use"), "devices", maximum=20),
    Question("tvs", "goods", _("Televisions in your home, per person"), "devices", maximum=20),
    Question("furniture", "goods", _("New furniture you buy"), kind="choice", choices=HABITS),
    Question(
        "appliances",
        "goods",
        _("New household appliances and leisure equipment you buy"),
        kind="choice",
        choices=HABITS,
    ),
)

QUESTIONS_BY_KEY = {question.key: question for question in QUESTIONS}

CATEGORIES: tuple[tuple[str, Promise], ...] = (
    ("transport", _("Transport")),
    ("housing", _("Housing")),
    ("food", _("Food")),
    ("goods", _("Goods")),
    ("services", _("Collective services")),
)
INDIVIDUAL_CATEGORIES = ("transport", "housing", "food", "goods")
COLLECTIVE_CATEGORY = "services"

SUBCATEGORIES: dict[str, tuple[tuple[str, Promise], ...]] = {
    "transport": (
        ("car", _("Car")),
        ("plane", _("Plane")),
        ("train", _("Train")),
        ("bus", _("Bus and coach")),
        ("two_wheelers", _("Two-wheelers")),
    ),
    "housing": (
        ("construction", _("Building and upkeep")),
        ("heating", _("Heating")),
        ("electricity", _("Electricity")),
    ),
    "food": (
        ("meals", _("Lunches and dinners")),
        ("breakfasts", _("Breakfasts")),
        ("drinks", _("Drinks")),
        ("waste", _("Food waste")),
    ),
    "goods": (
        ("clothes", _("Clothes")),
        ("digital", _("Digital devices")),
        ("other_goods", _("Furniture, appliances, leisure")),
    ),
    "services": (("public_market", _("Public and shared services")),),
}


# Units as people read them; the API keeps the plain unit strings above.
UNIT_LABELS: dict[str, Promise] = {
    "km/year": _("km a year"),
    "km/week": _("km a week"),
    "hours/year": _("hours a year"),
    "persons": _("people"),
    "m²": _("m²"),
    "kWh/year": _("kWh a year"),
    "meals/week": _("meals a week"),
    "items/year": _("items a year"),
    "devices": _("devices"),
}


class InvalidAnswers(ValueError):
    """Answers that name an unknown question or give a value outside its range."""

    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__("; ".join(f"{key}: {message}" for key, message in errors.items()))
        self.errors = errors


def answers_clean(raw: dict[str, Any]) -> dict[str, float | str]:
    """Keep the given answers, typed; drop empty and "I don't know" ones (they take defaults)."""
    errors: dict[str, str] = {}
    clean: dict[str, float | str] = {}
    for key, value in raw.items():
        question = QUESTIONS_BY_KEY.get(key)
        if question is None:
            errors[key] = "unknown question"
            continue
        if value is None or value == "" or value == DONT_KNOW:
            continue
        if question.kind == "choice":
            if value not in question.choice_values:
                errors[key] = f"expected one of {', '.join(question.choice_values)}"
            else:
                clean[key] = str(value)
            continue
        try:
            number = float(value)
        except (TypeError, ValueError):
            errors[key] = "not a number"
            continue
        if isinstance(value, bool) or not math.isfinite(number):
            errors[key] = "not a number"
        elif not question.minimum <= number <= question.maximum:
            errors[key] = f"expected between {question.minimum:g} and {question.maximum:g}"
        else:
            clean[key] = number
    given_meals = sum(float(clean.get(f"meals_{kind}", 0)) for kind in MEAL_TYPES)
    if given_meals > MEALS_PER_WEEK:
        errors["meals"] = f"at most {MEALS_PER_WEEK} lunches and dinners a week"
    if errors:
        raise InvalidAnswers(errors)
    return clean
