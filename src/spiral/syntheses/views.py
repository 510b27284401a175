from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render

from spiral.core.permissions import can_view_private_data, can_view_territory, require
from spiral.syntheses.selectors import territory_synthesis
from spiral.territories.models import Territory
from spiral.territories.selectors import territory_ancestors


def territory_synthesis_view(request: HttpRequest, slug: str) -> HttpResponse:
    territory = get_object_or_404(Territory, slug=slug)
    require(can_view_territory(request.user, territory))
    synthesis = territory_synthesis(territory=territory)
    private = can_view_private_data(request.user, territory)
    context = {
        "territory": territory,
        "ancestors": territory_ancestors(territory=territory),
        "synthesis": synthesis,
        # The small-numbers rule protects participants on public pages only.
        "hide_breakdown": synthesis.below_small_numbers_threshold and not private,
    }
    return render(request, "syntheses/territory.html", context)
