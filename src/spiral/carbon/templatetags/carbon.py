from __future__ import annotations

from typing import Any

from django import template
from django.utils.formats import number_format

register = template.Library()


@register.filter
def tonnes(kg: Any) -> str:
    """1234.5 kg → "1.2" (localised): tonnes with one decimal."""
    try:
        return number_format(round(float(kg) / 1000, 1), decimal_pos=1)
    except (TypeError, ValueError):
        return ""


@register.filter
def category_total(categories: dict[str, Any], code: str) -> float:
    return float(categories.get(code, {}).get("total", 0))


@register.filter
def get_item(mapping: dict[str, Any], key: str) -> Any:
    return mapping.get(key)


@register.filter
def action_label(key: str) -> str:
    """The label of a catalogue action by its key (the key itself if it left the catalogue)."""
    from spiral.carbon.actions import catalogue

    action = catalogue().get(key)
    return action.label if action else key
