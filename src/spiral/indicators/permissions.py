"""Who may do what with indicators, co-evaluations and actions; built on spiral.core.permissions.

- Coordinators and facilitators of the territory (or above) build indicators, run evaluations
  and follow actions: they run the meetings where those are written.
- Anyone with a role that reads the territory's private data (observers too) reads everything,
  including results by profile below the small-numbers threshold.
- Public territories show their indicators, results (small-numbers rule applied) and planned
  actions to everybody; private ones to people with a role only.
- The self-survey link is a capability: whoever holds it may answer, without an account.
- Closing a cycle is the coordinators' decision only.
"""

from __future__ import annotations

from typing import Any

from spiral.core.permissions import (
    can_manage_groups,
    can_manage_territory,
    can_transcribe,
    can_view_private_data,
    can_view_territory,
)


def can_manage_progress(user: Any, territory: Any) -> bool:
    """Build indicators, open evaluations, record ratings, write actions and their follow-up."""
    return can_manage_territory(user, territory) or can_manage_groups(user, territory)


def can_view_progress(user: Any, territory: Any) -> bool:
    return can_view_territory(user, territory)


def can_view_progress_details(user: Any, territory: Any) -> bool:
    """Candidate actions, small breakdowns, the survey link: people with a role only."""
    return can_view_private_data(user, territory)


def can_rate_for_group(user: Any, group: Any) -> bool:
    """A group's rating is entered by its facilitators or by whoever manages the territory."""
    return can_manage_progress(user, group.territory) or can_transcribe(user, group)


def can_close_cycle(user: Any, territory: Any) -> bool:
    return can_manage_territory(user, territory)
