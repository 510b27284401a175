"""Self-entry: participants write their own post-its on their phones during a meeting.

Each post-it becomes a Criterion through ``criteria_bulk_create`` (idempotent by client token); the
models here only record what self-entry adds: the open/closed entry window and its short code,
which criterion came from which anonymous phone, the facilitator's merges, and the public link
through which the group sees what became of its words."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from spiral.core.models import TimeStampedModel


class SelfEntrySession(models.Model):
    """A window during which phones may write post-its into a meeting, reached by a short code."""

    meeting = models.ForeignKey(
        "consultations.Meeting", on_delete=models.CASCADE, related_name="selfentry_sessions"
    )
    code = models.CharField(_("code"), max_length=12, unique=True)
    opened_at = models.DateTimeField(_("opened"), auto_now_add=True)
    opened_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    closed_at = models.DateTimeField(_("closed"), null=True, blank=True)
    closed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        verbose_name = _("self-entry session")
        verbose_name_plural = _("self-entry sessions")
        ordering = ["-opened_at", "-pk"]
        constraints = [
            # At most one open window per meeting: two codes at once would confuse the room.
            models.UniqueConstraint(
                fields=["meeting"],
                condition=Q(closed_at__isnull=True),
                name="one_open_selfentry_per_meeting",
            )
        ]

    def __str__(self) -> str:
        return self.code

    @property
    def is_open(self) -> bool:
        return self.closed_at is None


class PostIt(models.Model):
    """A criterion that came from a phone, with the anonymous participant who wrote it.

    ``participant`` is a keyed hash of the random id the phone keeps in its localStorage: it
    counts participants and limits their rate, and cannot be traced back to a person."""

    session = models.ForeignKey(SelfEntrySession, on_delete=models.CASCADE, related_name="postits")
    criterion = models.OneToOneField(
        "consultations.Criterion", on_delete=models.CASCADE, related_name="postit"
    )
    participant = models.CharField(max_length=64)
    received_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("post-it written on a phone")
        verbose_name_plural = _("post-its written on phones")
        indexes = [models.Index(fields=["session", "participant"], name="postit_participant")]

    def __str__(self) -> str:
        return f"{self.session_id}:{self.criterion_id}"


class CriterionMerge(models.Model):
    """Identical post-its gathered into one criterion; the others are soft-deleted and their
    expressions added to it. Undoing restores them and takes the expressions back."""

    meeting = models.ForeignKey(
        "consultations.Meeting", on_delete=models.CASCADE, related_name="criterion_merges"
    )
    target = models.ForeignKey(
        "consultations.Criterion", on_delete=models.CASCADE, related_name="merges_into"
    )
    merged = models.ManyToManyField("consultations.Criterion", related_name="merged_by")
    added_expressions = models.PositiveIntegerField()
    merged_at = models.DateTimeField(auto_now_add=True)
    merged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    undone_at = models.DateTimeField(null=True, blank=True)
    undone_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        verbose_name = _("merge of identical post-its")
        verbose_name_plural = _("merges of identical post-its")
        ordering = ["-merged_at", "-pk"]

    def __str__(self) -> str:
        return f"→ {self.target_id} (+{self.added_expressions})"


class GroupRestitution(TimeStampedModel):
    """The public link through which a group's participants see what became of their words."""

    group = models.OneToOneField(
        "consultations.HomogeneousGroup", on_delete=models.CASCADE, related_name="restitution"
    )
    token = models.CharField(max_length=40, unique=True)
    is_enabled = models.BooleanField(_("public link active"), default=True)

    class Meta:
        verbose_name = _("restitution link")
        verbose_name_plural = _("restitution links")

    def __str__(self) -> str:
        return self.token


class RateLimitCounter(models.Model):
    """Requests counted in one fixed window of one rate limit (see ratelimit.py).

    In the database rather than Django's cache: the settings give each web process its own
    in-memory cache, so with several gunicorn workers every limit would be multiplied by their
    number; the database is the one thing every process shares, on SQLite and PostgreSQL."""

    key = models.CharField(max_length=200, unique=True)  # limit, who, window number
    count = models.PositiveIntegerField(default=0)
    expires_at = models.DateTimeField(db_index=True)

    class Meta:
        verbose_name = _("rate-limit counter")
        verbose_name_plural = _("rate-limit counters")

    def __str__(self) -> str:
        return f"{self.key}: {self.count}"
