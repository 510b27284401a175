"""Users, their roles on territories and their keys for the REST API."""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Iterable
from typing import Any

from django.conf import settings
from django.contrib.auth.models import AbstractUser
from django.db import models
from django.utils import timezone
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


API_TOKEN_PREFIX = "spiral"
# last_used_at is written at most this often, so a busy client does not write on every call.
API_TOKEN_TOUCH_SECONDS = 60


def api_token_hash(secret: str) -> str:
    """The stored form of a token's secret part (never the secret itself)."""
    return hashlib.sha256(secret.encode()).hexdigest()


class ApiTokenQuerySet(models.QuerySet["ApiToken"]):
    def active(self) -> ApiTokenQuerySet:
        return self.filter(revoked_at__isnull=True)

    def issue(
        self,
        *,
        user: User,
        name: str,
        access: str = "read",
        territories: Iterable[Any] = (),
    ) -> tuple[ApiToken, str]:
        """A new token and its full key, ``spiral_<prefix>_<secret>``: the key is shown once.

        ``territories``: the token works only there and below (none: wherever its user has
        roles); ``access``: "read" or "write"."""
        prefix = secrets.token_hex(4)
        secret = secrets.token_urlsafe(32)
        token = self.create(
            user=user,
            name=name.strip(),
            prefix=prefix,
            key_hash=api_token_hash(secret),
            access=access,
        )
        token.territories.set(territories)
        return token, f"{API_TOKEN_PREFIX}_{prefix}_{secret}"

    def for_key(self, key: str) -> ApiToken | None:
        """The active token of an active user matching a full key, or None."""
        parts = key.strip().split("_", 2)
        if len(parts) != 3 or parts[0] != API_TOKEN_PREFIX or not parts[2]:
            return None
        if not (parts[1].isascii() and parts[1].isalnum() and len(parts[1]) <= 16):
            return None  # not a prefix we issue (and nothing PostgreSQL would choke on)
        token = (
            self.active()
            .select_related("user")
            .filter(prefix=parts[1], key_hash=api_token_hash(parts[2]))
            # How many territories scope it, in the same query: most tokens have none, and
            # then no further query is needed on each call.
            .annotate(scope_size=models.Count("territories"))
            .first()
        )
        if token is None or not token.user.is_active:
            return None
        return token


class ApiTokenAccess(models.TextChoices):
    READ = "read", _("Read only")
    WRITE = "write", _("Read and write")


class ApiToken(models.Model):
    """A key for the REST API; it acts with its user's roles, narrowed by its own scope.

    Only the SHA-256 of the secret is stored. A token may be limited to some territories (and
    everything below them) and to reading (see ``spiral.api.auth.ApiCaller``)."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("user"),
        on_delete=models.CASCADE,
        related_name="api_tokens",
    )
    name = models.CharField(_("name"), max_length=100, help_text=_("What or who uses it."))
    prefix = models.CharField(_("prefix"), max_length=16, unique=True, editable=False)
    key_hash = models.CharField(max_length=64, unique=True, editable=False)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    last_used_at = models.DateTimeField(_("last used"), null=True, blank=True, editable=False)
    revoked_at = models.DateTimeField(_("revoked"), null=True, blank=True)
    access = models.CharField(
        _("access"), max_length=5, choices=ApiTokenAccess.choices, default=ApiTokenAccess.READ
    )
    territories = models.ManyToManyField(
        "territories.Territory",
        verbose_name=_("territories"),
        blank=True,
        related_name="+",
        help_text=_("The token works only on these territories and below; none: everywhere."),
    )

    objects = ApiTokenQuerySet.as_manager()

    class Meta:
        verbose_name = _("API token")
        verbose_name_plural = _("API tokens")
        ordering = ["-created_at", "-pk"]

    def __str__(self) -> str:
        return f"{self.name} ({self.display_key})"

    @property
    def display_key(self) -> str:
        """What the owner sees of the key once it is created."""
        return f"{API_TOKEN_PREFIX}_{self.prefix}_…"

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None

    @property
    def can_write(self) -> bool:
        return self.access == ApiTokenAccess.WRITE

    def revoke(self) -> None:
        if self.revoked_at is None:
            self.revoked_at = timezone.now()
            self.save(update_fields=["revoked_at"])

    def touch(self) -> None:
        """Record a use, at most once per API_TOKEN_TOUCH_SECONDS (one UPDATE, no read)."""
        now = timezone.now()
        if (
            self.last_used_at
            and (now - self.last_used_at).total_seconds() < API_TOKEN_TOUCH_SECONDS
        ):
            return
        self.last_used_at = now
        type(self).objects.filter(pk=self.pk).update(last_used_at=now)
