"""Writing accounts and roles."""

from __future__ import annotations

from django.db import transaction

from spiral.accounts.models import RoleAssignment, User
from spiral.territories.models import Territory


@transaction.atomic
def role_grant(
    *, user: User, territory: Territory, role: str, granted_by: User | None
) -> RoleAssignment:
    assignment, _created = RoleAssignment.objects.get_or_create(
        user=user, territory=territory, role=role, defaults={"granted_by": granted_by}
    )
    return assignment


@transaction.atomic
def role_revoke(*, assignment: RoleAssignment) -> None:
    assignment.delete()


@transaction.atomic
def user_create(
    *, username: str, email: str, password: str | None, display_name: str = "", language: str = ""
) -> User:
    user = User.objects.create_user(username=username, email=email, password=password)
    user.display_name = display_name
    user.preferred_language = language
    user.save(update_fields=["display_name", "preferred_language"])
    return user
