"""The solutions catalogue (data/carbon/actions.json) applied to one person's answers.

An individual action is a change of the person's resolved answers; its saving is the footprint
before minus the footprint after. Savings of several actions are computed one after the other
(each on the answers already changed by the previous ones), so two actions acting on the same
thing are never counted twice, and the savings of a person's pledges add up to at most what
they emit. Actions of the same ``exclusive`` group cannot be pledged together."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from django.conf import settings
from django.utils.translation import get_language

from spiral.carbon.compute import FactorData, answers_resolved, footprint_compute, heating_kwh
from spiral.carbon.questions import MEAL_TYPES

ACTIONS_FILE = Path(settings.PACKAGE_DIR) / "data" / "carbon" / "actions.json"
MIN_SAVING_KG = 1.0  # below this an action is not worth proposing


@dataclass(frozen=True)
class Action:
    key: str
    kind: str  # "individual" or "collective"
    label_en: str
    label_fr: str
    category: str = ""
    exclusive: str = ""
    applies_if: Mapping[str, Any] | None = None
    change: Mapping[str, Any] | None = None
    enables: tuple[str, ...] = ()

    @property
    def label(self) -> str:
        return self.label_fr if (get_language() or "en").startswith("fr") else self.label_en


@dataclass(frozen=True)
class Proposal:
    action: Action
    saving_kg: float


@cache
def catalogue() -> dict[str, Action]:
    data = json.loads(ACTIONS_FILE.read_text(encoding="utf-8"))
    actions: dict[str, Action] = {}
    for kind in ("individual", "collective"):
        for row in data[kind]:
            actions[row["key"]] = Action(
                key=row["key"],
                kind=kind,
                label_en=row["label_en"],
                label_fr=row["label_fr"],
                category=row.get("category", ""),
                exclusive=row.get("exclusive", ""),
                applies_if=row.get("applies_if") or {},
                change=row.get("change") or {},
                enables=tuple(row.get("enables", ())),
            )
    return actions


def action_answer_keys(action: Action) -> set[str]:
    """The questions an action's saving rests on: the answers it changes or requires."""
    keys: set[str] = set()
    change = action.change or {}
    for part in ("set", "scale", "add"):
        keys.update(change.get(part, {}))
    for sources in change.get("add_from", {}).values():
        keys.update(sources)
    meals = change.get("meals_to")
    if meals:
        keys.update(f"meals_{kind}" for kind in meals["from"])
    condition = action.applies_if or {}
    keys.update(condition.get("positive_answer", ()))
    keys.update(condition.get("positive_answer_any", ()))
    # "Drive less" rests on the kilometres driven, whatever else the car's answers say.
    if "transport.car" in condition.get("positive", ()):
        keys.add("car_km")
    return keys


def individual_actions() -> list[Action]:
    return [action for action in catalogue().values() if action.kind == "individual"]


def collective_actions() -> list[Action]:
    return [action for action in catalogue().values() if action.kind == "collective"]


def _positive(value: Any) -> bool:
    try:
        return float(value) > 0
    except (TypeError, ValueError):
        return False


def applies(action: Action, resolved: Mapping[str, Any], factors: FactorData) -> bool:
    """Whether the action makes sense for this person: no car, no "drive less"."""
    condition = action.applies_if or {}
    if condition.get("positive"):
        categories = footprint_compute(resolved, factors).categories
        for path in condition["positive"]:
            category, sub = path.split(".")
            if categories[category][sub] <= 0:
                return False
    if any(not _positive(resolved.get(key)) for key in condition.get("positive_answer", ())):
        return False
    if condition.get("positive_answer_any") and not any(
        _positive(resolved.get(key)) for key in condition["positive_answer_any"]
    ):
        return False
    if condition.get("positive_meals") and not any(
        _positive(resolved.get(f"meals_{kind}")) for kind in condition["positive_meals"]
    ):
        return False
    for key, values in condition.get("not", {}).items():
        if resolved.get(key) in values:
            return False
    for key, values in condition.get("in", {}).items():
        if resolved.get(key) not in values:
            return False
    not_all = condition.get("not_all")
    return not (not_all and all(resolved.get(key) in values for key, values in not_all.items()))


def apply_change(
    action: Action, resolved: Mapping[str, Any], factors: FactorData
) -> dict[str, Any]:
    """The resolved answers once the action is done."""
    change = action.change or {}
    after = dict(resolved)
    for key, value in change.get("add_from", {}).items():
        after[key] = float(after.get(key) or 0) + sum(
            float(resolved.get(source) or 0) * rate for source, rate in value.items()
        )
    for key, value in change.get("set", {}).items():
        after[key] = value
    for key, value in change.get("scale", {}).items():
        after[key] = float(after.get(key) or 0) * value
    for key, value in change.get("add", {}).items():
        after[key] = float(after.get(key) or 0) + value
    if "scale_heating" in change:
        after["heating_kwh"] = heating_kwh(resolved, factors) * float(change["scale_heating"])
    if change.get("insulate"):
        now = factors.factors.get(f"insulation_{resolved.get('insulation')}", 1.0)
        better = factors.factors["insulation_renovated"]
        after["heating_kwh"] = heating_kwh(resolved, factors) * min(better / now, 1.0)
        after["insulation"] = "renovated"
    meals = change.get("meals_to")
    if meals:
        moved = sum(float(after.get(f"meals_{kind}") or 0) for kind in meals["from"])
        for kind in meals["from"]:
            after[f"meals_{kind}"] = 0.0
        target = f"meals_{meals['to']}"
        after[target] = float(after.get(target) or 0) + moved
    for kind in MEAL_TYPES:
        after[f"meals_{kind}"] = max(float(after.get(f"meals_{kind}") or 0), 0.0)
    return after


def _total(resolved: Mapping[str, Any], factors: FactorData) -> float:
    return footprint_compute(resolved, factors).total


def pledges_savings(
    answers: Mapping[str, Any], factors: FactorData, keys: Sequence[str]
) -> list[tuple[Action, float]]:
    """Each pledged action with its saving, in pledge order, on top of the previous ones."""
    resolved = answers_resolved(answers, factors)
    actions = catalogue()
    savings = []
    before = _total(resolved, factors)
    for key in keys:
        action = actions[key]
        resolved = apply_change(action, resolved, factors)
        after = _total(resolved, factors)
        savings.append((action, max(before - after, 0.0)))
        before = min(before, after)
    return savings


def proposals(
    answers: Mapping[str, Any], factors: FactorData, pledged: Iterable[str] = ()
) -> list[Proposal]:
    """Individual actions that apply to this person, with their saving after what is pledged."""
    pledged = list(pledged)
    actions = catalogue()
    resolved = answers_resolved(answers, factors)
    for key in pledged:
        resolved = apply_change(actions[key], resolved, factors)
    taken = {actions[key].exclusive for key in pledged if actions[key].exclusive}
    before = _total(resolved, factors)
    found = []
    for action in individual_actions():
        if action.key in pledged or (action.exclusive and action.exclusive in taken):
            continue
        if not applies(action, resolved, factors):
            continue
        saving = before - _total(apply_change(action, resolved, factors), factors)
        if saving >= MIN_SAVING_KG:
            found.append(Proposal(action=action, saving_kg=saving))
    return sorted(found, key=lambda proposal: -proposal.saving_kg)
