"""The footprint computation: a pure function of the answers and a country factor set.

No figure is written here: every factor and every default comes from the factor set (data
files under data/carbon/factors/, loaded as FactorSet rows). Results are kgCO2e per person per
year, by category and sub-category; the collective share (public and shared services) is kept
apart, because no one can cut it alone.

Conventions worth knowing:
- Home figures (area, electricity, heating) are per household and divided by the occupants.
- Car kilometres are the person's own kilometres in a car; the car's emissions are shared by
  the people aboard.
- The 14 lunches and dinners of a week: meal types left unanswered share the meals not yet
  counted, in the national proportions; when every type is answered and they add up to fewer
  than 14, the missing meals count as national average meals (eaten out, skipped, unknown)."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from spiral.carbon.questions import (
    CATEGORIES,
    COLLECTIVE_CATEGORY,
    DONT_KNOW,
    MEAL_TYPES,
    MEALS_PER_WEEK,
    QUESTIONS,
    SUBCATEGORIES,
)

WEEKS_PER_YEAR = 52
DAYS_PER_YEAR = 365


@dataclass(frozen=True)
class FactorData:
    """The figures of one factor set: factor values and default answers, by key."""

    factors: Mapping[str, float]
    defaults: Mapping[str, float | str | None]

    @classmethod
    def from_document(cls, document: Mapping[str, Any]) -> FactorData:
        """From the JSON document of a factor set (entries with value, unit, source...)."""
        return cls(
            factors={key: float(entry["value"]) for key, entry in document["factors"].items()},
            defaults={key: entry["value"] for key, entry in document["defaults"].items()},
        )


@dataclass
class Footprint:
    """Totals in kgCO2e per person per year."""

    categories: dict[str, dict[str, float]]  # category -> sub-category -> kg
    defaults_used: list[str] = field(default_factory=list)

    def category_total(self, category: str) -> float:
        return math.fsum(self.categories[category].values())

    @property
    def individual_total(self) -> float:
        return math.fsum(
            self.category_total(code) for code, _label in CATEGORIES if code != COLLECTIVE_CATEGORY
        )

    @property
    def collective_total(self) -> float:
        return self.category_total(COLLECTIVE_CATEGORY)

    @property
    def total(self) -> float:
        return self.individual_total + self.collective_total

    def as_dict(self) -> dict[str, Any]:
        return {
            "total": round(self.total, 1),
            "individual_total": round(self.individual_total, 1),
            "collective_total": round(self.collective_total, 1),
            "categories": {
                code: {
                    "total": round(self.category_total(code), 1),
                    "subcategories": {
                        sub: round(value, 1) for sub, value in self.categories[code].items()
                    },
                }
                for code, _label in CATEGORIES
            },
            "defaults_used": list(self.defaults_used),
        }


class _Answers:
    """Answers with the factor set's defaults behind them; remembers which defaults were used."""

    def __init__(self, answers: Mapping[str, float | str], defaults: Mapping[str, Any]) -> None:
        self._answers = answers
        self._defaults = defaults
        self.defaults_used: list[str] = []

    def given(self, key: str) -> bool:
        value = self._answers.get(key)
        return value is not None and value != "" and value != DONT_KNOW

    def raw(self, key: str) -> Any:
        if self.given(key):
            return self._answers[key]
        if key not in self.defaults_used:
            self.defaults_used.append(key)
        return self._defaults.get(key)

    def number(self, key: str) -> float:
        value = self.raw(key)
        return 0.0 if value is None else max(float(value), 0.0)

    def choice(self, key: str) -> str:
        value = self.raw(key)
        return DONT_KNOW if value is None else str(value)


def _ratio(factors: Mapping[str, float], prefix: str, choice: str) -> float:
    """A multiplier picked by a choice; "I don't know" is the average (1)."""
    return factors.get(f"{prefix}_{choice}", 1.0)


def _transport(a: _Answers, f: Mapping[str, float]) -> dict[str, float]:
    engine = a.choice("car_engine")
    if engine == "electric":
        per_km = f["car_electric_kwh_per_km"] * f["elec_per_kwh"] + f["car_electric_fixed"]
    else:
        per_km = f.get(f"car_factor_{engine}", f["car_factor_average"])
    passengers = max(a.number("car_passengers"), 1.0)
    car = a.number("car_km") * per_km * _ratio(f, "car_size", a.choice("car_size")) / passengers
    plane = (
        a.number("flight_short_hours") * f["plane_short_speed"] * f["plane_short_per_pkm"]
        + a.number("flight_long_hours") * f["plane_long_speed"] * f["plane_long_per_pkm"]
    )
    two_wheeler = a.choice("two_wheeler_type")
    two_per_km = f.get(f"{two_wheeler}_per_pkm", f["scooter_per_pkm"])
    return {
        "car": car,
        "plane": plane,
        "train": a.number("train_km") * f["train_per_pkm"],
        "bus": a.number("bus_km_week") * WEEKS_PER_YEAR * f["bus_per_pkm"],
        "two_wheelers": a.number("two_wheeler_km") * two_per_km,
    }


def _heating_factor(energy: str, f: Mapping[str, float]) -> float:
    if energy == "none":
        return 0.0
    if energy == "heat_pump":
        return f["heat_electric"] / f["heat_pump_cop"]
    return f.get(f"heat_{energy}", f["heat_average"])


def _housing(a: _Answers, f: Mapping[str, float]) -> dict[str, float]:
    surface = a.number("surface_m2")
    occupants = max(a.number("occupants"), 1.0)
    construction = (
        surface
        * f["construction_per_m2_year"]
        * _ratio(f, "construction", a.choice("housing_type"))
        / occupants
    )
    energy = a.choice("heating_energy")
    if a.given("heating_kwh"):
        heat_kwh = a.number("heating_kwh")
    else:
        a.raw("heating_kwh")  # recorded as a default: the area and insulation stand for it
        heat_kwh = surface * f["heat_need_per_m2"] * _ratio(f, "insulation", a.choice("insulation"))
    heating = heat_kwh * _heating_factor(energy, f) / occupants
    electricity = a.number("electricity_kwh") * f["elec_per_kwh"] / occupants
    return {"construction": construction, "heating": heating, "electricity": electricity}


def _meals_per_week(a: _Answers) -> dict[str, float]:
    defaults = {kind: max(float(a._defaults.get(f"meals_{kind}") or 0), 0.0) for kind in MEAL_TYPES}
    given = {kind: a.number(f"meals_{kind}") for kind in MEAL_TYPES if a.given(f"meals_{kind}")}
    if len(given) == len(MEAL_TYPES) or not given:
        week = {kind: given.get(kind, defaults[kind]) for kind in MEAL_TYPES}
        if not given:
            for kind in MEAL_TYPES:
                a.raw(f"meals_{kind}")
        return week
    rest = max(MEALS_PER_WEEK - sum(given.values()), 0.0)
    open_kinds = [kind for kind in MEAL_TYPES if kind not in given]
    weight = sum(defaults[kind] for kind in open_kinds)
    week = dict(given)
    for kind in open_kinds:
        a.raw(f"meals_{kind}")
        share = defaults[kind] / weight if weight else 1 / len(open_kinds)
        week[kind] = rest * share
    return week


def _food(a: _Answers, f: Mapping[str, float]) -> dict[str, float]:
    week = _meals_per_week(a)
    per_week = sum(count * f[f"meal_{kind}"] for kind, count in week.items())
    missing = max(MEALS_PER_WEEK - sum(week.values()), 0.0)
    if missing:
        # Meals not described count as average meals of the country, not as nothing.
        national = {kind: float(a._defaults.get(f"meals_{kind}") or 0) for kind in MEAL_TYPES}
        national_count = sum(national.values())
        if national_count:
            average = sum(n * f[f"meal_{kind}"] for kind, n in national.items()) / national_count
            per_week += missing * average
    return {
        "meals": per_week * WEEKS_PER_YEAR,
        "breakfasts": f["breakfast_per_day"] * DAYS_PER_YEAR,
        "drinks": f["drinks_year"] * _ratio(f, "habit", a.choice("drinks")),
        "waste": f["food_waste_year"] * _ratio(f, "habit", a.choice("food_waste")),
    }


def _goods(a: _Answers, f: Mapping[str, float]) -> dict[str, float]:
    devices = (
        a.number("phones") * f["phone_item"] / f["phone_life"]
        + a.number("computers") * f["computer_item"] / f["computer_life"]
        + a.number("tvs") * f["tv_item"] / f["tv_life"]
    )
    habits = (
        _ratio(f, "habit", a.choice("furniture")) + _ratio(f, "habit", a.choice("appliances"))
    ) / 2
    return {
        "clothes": a.number("clothes_items") * f["clothing_item"],
        "digital": devices + f["digital_other_year"],
        "other_goods": f["goods_other_year"] * habits,
    }


def footprint_compute(answers: Mapping[str, float | str], factors: FactorData) -> Footprint:
    """Totals by category and sub-category for one person (kgCO2e/year)."""
    a = _Answers(answers, factors.defaults)
    f = factors.factors
    categories = {
        "transport": _transport(a, f),
        "housing": _housing(a, f),
        "food": _food(a, f),
        "goods": _goods(a, f),
        COLLECTIVE_CATEGORY: {"public_market": f["collective_services_year"]},
    }
    for code, subs in SUBCATEGORIES.items():
        assert set(categories[code]) == {sub for sub, _label in subs}, code
    ordered = [question.key for question in QUESTIONS if question.key in a.defaults_used]
    return Footprint(categories=categories, defaults_used=ordered)


def answers_resolved(answers: Mapping[str, float | str], factors: FactorData) -> dict[str, Any]:
    """Every answer made explicit: the given ones, the defaults, the week's meals counted.

    ``footprint_compute(answers_resolved(a, f), f)`` gives the same totals as with ``a``; the
    actions catalogue changes resolved answers so that "drive less" starts from what the person
    (or the national average standing for them) really does."""
    a = _Answers(answers, factors.defaults)
    resolved: dict[str, Any] = {}
    for question in QUESTIONS:
        if question.key.startswith("meals_"):
            continue
        value = a.raw(question.key)
        if value is not None:
            resolved[question.key] = value
    week = _meals_per_week(a)
    missing = MEALS_PER_WEEK - sum(week.values())
    if missing > 1e-9:
        # Complete the week with national average meals so the resolved week counts 14.
        national = {kind: float(factors.defaults.get(f"meals_{kind}") or 0) for kind in MEAL_TYPES}
        count = sum(national.values())
        for kind in MEAL_TYPES:
            share = national[kind] / count if count else 1 / len(MEAL_TYPES)
            week[kind] += missing * share
    for kind in MEAL_TYPES:
        resolved[f"meals_{kind}"] = week[kind]
    return resolved


def heating_kwh(answers: Mapping[str, Any], factors: FactorData) -> float:
    """The home's heating consumption: the one given, or the estimate from area and insulation."""
    a = _Answers(answers, factors.defaults)
    if a.given("heating_kwh"):
        return a.number("heating_kwh")
    f = factors.factors
    return (
        a.number("surface_m2")
        * f["heat_need_per_m2"]
        * _ratio(f, "insulation", a.choice("insulation"))
    )
