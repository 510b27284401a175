"""The phase dashboard's map of phases 3 to 8: what exists, what is missing, and where to go."""

from __future__ import annotations

from typing import Any

from django import template

from spiral.indicators.permissions import can_close_cycle, can_manage_progress
from spiral.indicators.selectors import PhaseItem, phase_progress_map

register = template.Library()

_CACHE = "_spiral_phase_progress"


@register.inclusion_tag("indicators/_phase_items.html", takes_context=True)
def phase_progress(context: Any, territory: Any, phase: int) -> dict[str, Any]:
    request = context.get("request")
    user = getattr(request, "user", None)
    # One computation per page, not one per phase: kept on the territory object of the page.
    progress: dict[int, list[PhaseItem]] | None = territory.__dict__.get(_CACHE)
    if progress is None:
        progress = phase_progress_map(
            territory=territory,
            can_manage=can_manage_progress(user, territory),
            can_close=can_close_cycle(user, territory),
        )
        territory.__dict__[_CACHE] = progress
    return {"items": progress.get(phase, [])}
