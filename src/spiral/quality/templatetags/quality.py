"""Template helpers of double coding: figures as people read them, and the entry links."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django import template
from django.utils.formats import number_format

from spiral.core.permissions import can_view_private_data
from spiral.quality.permissions import can_request_double_coding
from spiral.quality.selectors import open_assignments

register = template.Library()

NONE = "—"


@register.filter
def stat(value: float | None) -> str:
    """A kappa or an alpha with two decimals in the active language; "—" when undefined."""
    if value is None:
        return NONE
    # number_format cuts decimals off; round half up first, as people do.
    rounded = Decimal(repr(value)).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
    return number_format(rounded, decimal_pos=2)


@register.filter
def agreement_percent(value: float | None) -> str:
    """A share (0..1) as a whole percentage, rounded half up; "—" when undefined."""
    if value is None:
        return NONE
    return f"{int(100 * value + 0.5)} %"


@register.inclusion_tag("quality/_links.html", takes_context=True)
def double_coding_links(context: Any, territory: Any, group: Any = None) -> dict[str, Any]:
    """Entry points on a territory dashboard or a group page: ask for double coding, follow the
    requests, and the samples the user has to code."""
    request = context.get("request")
    user = getattr(request, "user", None) or context.get("user")
    if user is None or not user.is_authenticated:
        return {"show": False}
    return {
        "show": True,
        "territory": territory,
        "group": group,
        "can_request": can_request_double_coding(user, territory),
        "can_follow": can_view_private_data(user, territory),
        "assignments": list(open_assignments(user=user, territory=territory)),
    }
