from __future__ import annotations

from typing import Any

from django import template
from django.utils.formats import number_format
from django.utils.translation import gettext as _

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


@register.simple_tag(takes_context=True)
def carbon_rollup(context: Any, territory: Any) -> dict[str, Any]:
    """The carbon figures of a territory and below for a report, with the small-numbers rule
    of the page (a report is rendered for one reader: its request's user)."""
    from spiral.carbon import charts
    from spiral.carbon.selectors import aggregate, territory_results
    from spiral.core.permissions import can_view_private_data

    request = context.get("request")
    user = getattr(request, "user", None)
    full_view = user is not None and can_view_private_data(user, territory)
    agg = aggregate(territory_results(territory.pk), full_view=full_view)
    return {
        "aggregate": agg,
        "bars": charts.aggregate_bars(agg, _("The territory by category")) if agg.spreads else "",
    }


@register.filter
def category_label(code: str) -> str:
    from spiral.carbon.questions import CATEGORIES

    return str(dict(CATEGORIES).get(code, code))
