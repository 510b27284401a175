"""Users and their roles on territories."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.models import AbstractUser
from django.db import models
from django.utils.translation import gettext_lazy as _

from spiral.core.models import TimeStampedModel


class User(AbstractUser):
    """A person with an account: staff, coordinators, facilitators. Citizens have none."""

    display_name = models.CharField(_("name shown to others"), max_length=150, blank=True)
    preferred_language = models.CharField(
        _("interface language"), max_length=8, choices=settings.LANGUAGES, blank=True
    )

    class Meta:
        verbose_name = _("user")
        verbose_name_plural = _("users")

    @property
    def shown_name(self) -> str:
        return self.display_name or self.get_full_name() or self.username


class Role(models.TextChoices):
    NETWORK_ADMIN = "network_admin", _("Network administrator")
    COORDINATOR = "coordinator", _("Coordinator")
    FACILITATOR = "facilitator", _("Facilitator")
    CODER = "coder", _("Coder")
    OBSERVER = "observer", _("Observer")


class RoleAssignmentQuerySet(models.QuerySet["RoleAssignment"]):
    def for_user(self, user: User) -> RoleAssignmentQuerySet:
        return self.filter(user=user)

    def covering(self, territory_id: int) -> RoleAssignmentQuerySet:
        """Roles held on the territory itself or on any of its ancestors."""
        return self.filter(territory__descendant_links__territory_id=territory_id)


class RoleAssignment(TimeStampedModel):
    """A role on a territory; it applies to the territory and all its descendants."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("user"),
        on_delete=models.CASCADE,
        related_name="role_assignments",
    )
    territory = models.ForeignKey(
        "territories.Territory",
        verbose_name=_("territory"),
        on_delete=models.CASCADE,
        related_name="role_assignments",
    )
    role = models.CharField(_("role"), max_length=20, choices=Role.choices)
    granted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )

    objects = RoleAssignmentQuerySet.as_manager()

    class Meta:
        verbose_name = _("role assignment")
        verbose_name_plural = _("role assignments")
        constraints = [
            models.UniqueConstraint(
                fields=["user", "territory", "role"], name="unique_role_per_territory"
            )
        ]

    def __str__(self) -> str:
        return f"{self.user} – {self.get_role_display()} – {self.territory}"
