"""Permission predicates, all in one place.

A role held on a territory applies to that territory and to every territory below it. Views and
API endpoints call these predicates; they never test roles themselves."""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from django.core.exceptions import PermissionDenied

from spiral.accounts.models import Role, RoleAssignment


class Capability(StrEnum):
    VIEW_PRIVATE = "view_private"  # see a private territory, its groups and its criteria
    TRANSCRIBE = "transcribe"  # type, correct and delete criteria
    MANAGE_GROUPS = "manage_groups"  # create and edit groups and meetings
    CODE = "code"  # assign components to criteria
    MANAGE_TERRITORY = "manage_territory"  # page, phases, coordination group, sub-territories
    MANAGE_ROLES = "manage_roles"  # give roles on the territory and below
    MANAGE_GRID = "manage_grid"  # import grid versions and mappings


ROLE_CAPABILITIES: dict[str, frozenset[Capability]] = {
    Role.NETWORK_ADMIN: frozenset(Capability),
    Role.COORDINATOR: frozenset(
        {
            Capability.VIEW_PRIVATE,
            Capability.TRANSCRIBE,
            Capability.MANAGE_GROUPS,
            Capability.CODE,
            Capability.MANAGE_TERRITORY,
            Capability.MANAGE_ROLES,
        }
    ),
    Role.FACILITATOR: frozenset(
        {Capability.VIEW_PRIVATE, Capability.TRANSCRIBE, Capability.MANAGE_GROUPS}
    ),
    Role.CODER: frozenset({Capability.VIEW_PRIVATE, Capability.CODE}),
    Role.OBSERVER: frozenset({Capability.VIEW_PRIVATE}),
}

# Roles a coordinator may hand out; only network administrators appoint network administrators.
ROLES_GRANTABLE_BY_COORDINATOR = (Role.COORDINATOR, Role.FACILITATOR, Role.CODER, Role.OBSERVER)

_CACHE_ATTRIBUTE = "_spiral_capabilities"


def capabilities_on(user: Any, territory_id: int) -> frozenset[Capability]:
    """Everything the user may do on a territory, from roles on it or its ancestors."""
    if user is None or not user.is_authenticated or not user.is_active:
        return frozenset()
    if user.is_superuser:
        return frozenset(Capability)
    cache: dict[int, frozenset[Capability]] = user.__dict__.setdefault(_CACHE_ATTRIBUTE, {})
    if territory_id not in cache:
        roles = (
            RoleAssignment.objects.for_user(user)
            .covering(territory_id)
            .values_list("role", flat=True)
        )
        capabilities: set[Capability] = set()
        for role in roles:
            capabilities |= ROLE_CAPABILITIES.get(role, frozenset())
        cache[territory_id] = frozenset(capabilities)
    return cache[territory_id]


def has_capability(user: Any, territory_id: int, capability: Capability) -> bool:
    return capability in capabilities_on(user, territory_id)


def is_network_admin(user: Any) -> bool:
    if user is None or not user.is_authenticated or not user.is_active:
        return False
    # Only the role held on a root of the tree (the network) counts here; the same role on a
    # country gives every capability on that country, not on the grid or the whole network.
    return (
        bool(user.is_superuser)
        or RoleAssignment.objects.filter(
            user=user, role=Role.NETWORK_ADMIN, territory__parent__isnull=True
        ).exists()
    )


def can_view_territory(user: Any, territory: Any) -> bool:
    return bool(territory.is_public) or has_capability(user, territory.pk, Capability.VIEW_PRIVATE)


def can_view_private_data(user: Any, territory: Any) -> bool:
    """Criteria texts, group details and meetings are for people with a role only."""
    return has_capability(user, territory.pk, Capability.VIEW_PRIVATE)


def can_manage_territory(user: Any, territory: Any) -> bool:
    return has_capability(user, territory.pk, Capability.MANAGE_TERRITORY)


def can_manage_roles(user: Any, territory: Any) -> bool:
    return has_capability(user, territory.pk, Capability.MANAGE_ROLES)


def can_grant_role(user: Any, territory: Any, role: str) -> bool:
    if role == Role.NETWORK_ADMIN:
        return is_network_admin(user)
    return can_manage_roles(user, territory)


def can_manage_groups(user: Any, territory: Any) -> bool:
    return has_capability(user, territory.pk, Capability.MANAGE_GROUPS)


def can_transcribe(user: Any, group: Any) -> bool:
    """Facilitators of the group may transcribe for it even without a role on the territory."""
    if has_capability(user, group.territory_id, Capability.TRANSCRIBE):
        return True
    return bool(
        user is not None
        and user.is_authenticated
        and user.is_active
        and group.facilitators.filter(pk=user.pk).exists()
    )


def can_view_group(user: Any, group: Any) -> bool:
    return has_capability(user, group.territory_id, Capability.VIEW_PRIVATE) or can_transcribe(
        user, group
    )


def can_code(user: Any, territory: Any) -> bool:
    return has_capability(user, territory.pk, Capability.CODE)


def can_manage_grid(user: Any) -> bool:
    return is_network_admin(user)


def require(allowed: bool) -> None:
    """Raise 403 unless allowed; views call ``require(can_x(user, obj))``."""
    if not allowed:
        raise PermissionDenied
