"""Who may do what in the carbon module, composed from spiral.core.permissions.

- Anyone may fill the questionnaire and see their own result (by its private link or account).
- A campaign's anonymous aggregates are as public as its territory; under the small-numbers
  threshold only people with a role on the territory (or the group's facilitators) see more
  than the count.
- Facilitators and coordinators of the territory (and the group's facilitators) run campaigns:
  create them, adopt collective actions, project the workshop view, export the results.
- Network administrators publish new versions of factor sets."""

from __future__ import annotations

from typing import Any

from spiral.carbon.models import Campaign
from spiral.core.permissions import (
    can_manage_groups,
    can_transcribe,
    can_view_group,
    can_view_private_data,
    can_view_territory,
    is_network_admin,
)


def can_view_campaign(user: Any, campaign: Campaign) -> bool:
    return can_view_territory(user, campaign.territory)


def can_see_campaign_details(user: Any, campaign: Campaign) -> bool:
    """Past the small-numbers rule, and the group's criteria texts."""
    if can_view_private_data(user, campaign.territory):
        return True
    return campaign.group is not None and can_view_group(user, campaign.group)


def can_run_campaign(user: Any, campaign: Campaign) -> bool:
    if can_manage_groups(user, campaign.territory):
        return True
    return campaign.group is not None and can_transcribe(user, campaign.group)


def can_create_campaign(user: Any, territory: Any) -> bool:
    return can_manage_groups(user, territory)


def can_join_campaign(user: Any, campaign: Campaign) -> bool:
    return campaign.is_open and can_view_campaign(user, campaign)


def can_manage_factor_sets(user: Any) -> bool:
    return is_network_admin(user)
