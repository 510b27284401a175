"""Who may do what with double coding; built on the predicates of spiral.core.permissions.

- A coordinator of the scope's territory (manage territory) asks for double coding, closes and
  reopens requests, reads every figure including the named coder pairs, and settles any
  disagreement (they run the process; a small territory may have no one else).
- Only the designated second coder codes the sample, not even a coordinator, so that the second
  coding stays blind; while the request is open the second coder sees neither the report nor the
  disagreements.
- Anyone who may read the territory's private data reads the reports (not the named pairs).
- A disagreement is settled by a coordinator, or by someone with the coding capability on the
  territory who is neither of the two coders of that criterion.
"""

from __future__ import annotations

from typing import Any

from spiral.core.permissions import can_code, can_manage_territory, can_view_private_data
from spiral.quality.models import DoubleCodingRequest, SampleItem


def _is(user: Any, user_id: int | None) -> bool:
    return bool(user is not None and user.is_authenticated and user.pk == user_id)


def can_request_double_coding(user: Any, territory: Any) -> bool:
    return can_manage_territory(user, territory)


def can_manage_request(user: Any, request: DoubleCodingRequest) -> bool:
    return can_manage_territory(user, request.territory)


def can_code_sample(user: Any, request: DoubleCodingRequest) -> bool:
    """The second coder only, as long as they keep the coding capability on the territory."""
    return _is(user, request.second_coder_id) and can_code(user, request.territory)


def _blind(user: Any, request: DoubleCodingRequest) -> bool:
    """True while this user must not see the first coding of the request."""
    return request.is_open and _is(user, request.second_coder_id)


def can_view_report(user: Any, request: DoubleCodingRequest) -> bool:
    return can_view_private_data(user, request.territory) and not _blind(user, request)


def can_view_coder_pairs(user: Any, territory: Any) -> bool:
    """Agreement figures named by coder are for coordinators only."""
    return can_manage_territory(user, territory)


def can_view_disagreements(user: Any, request: DoubleCodingRequest) -> bool:
    if _blind(user, request):
        return False
    return can_manage_territory(user, request.territory) or can_code(user, request.territory)


def can_settle(user: Any, item: SampleItem) -> bool:
    request = item.request
    if can_manage_territory(user, request.territory):
        return True
    if not can_code(user, request.territory):
        return False
    return not _is(user, request.second_coder_id) and user.pk not in item.first_coder_ids()
