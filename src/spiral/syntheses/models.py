"""Aggregates kept beside the raw rows so pages never scan all criteria (see docs/decisions)."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class TerritoryStats(models.Model):
    """Counts of one territory's own groups and criteria (not its descendants').

    Recomputed from the raw rows, for the territories a write touched, inside the write's
    transaction; subtree figures are sums over the closure table."""

    territory = models.OneToOneField(
        "territories.Territory", on_delete=models.CASCADE, primary_key=True, related_name="stats"
    )
    groups = models.PositiveIntegerField(default=0)
    meetings = models.PositiveIntegerField(default=0)
    criteria = models.PositiveIntegerField(default=0)
    expressions = models.PositiveIntegerField(default=0)
    coded_criteria = models.PositiveIntegerField(default=0)
    refreshed_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("territory figures")
        verbose_name_plural = _("territory figures")

    def __str__(self) -> str:
        return f"{self.territory_id}: {self.criteria} criteria"


class Facet(models.TextChoices):
    """The single filter a rollup row is split by ('' = no filter)."""

    NONE = "", _("none")
    PROFILE = "profile", _("group profile")
    LANGUAGE = "language", _("language")
    MONTH = "month", _("month")


class Level(models.TextChoices):
    TOTAL = "total", _("all criteria")
    CODED = "coded", _("coded criteria (item = grid version)")
    PARTICIPANTS = "participants", _("people in the groups (in the criteria column)")
    DIMENSION = "dimension", _("dimension")
    COMPONENT = "component", _("component")


class SynthesisCell(models.Model):
    """One figure of a synthesis, stored: the criteria and expressions of a territory and
    everything below it, for a question kind, a grid item (all criteria, the coded ones, a
    dimension or a component) and at most one filter value (a profile, a language or a month).

    A territory's own figures are never stored: they are its figures minus its children's. On
    every write the territory's own figures are recounted from the raw rows and the differences
    are added to it and to each of its ancestors (decision 0006)."""

    territory = models.ForeignKey(
        "territories.Territory", on_delete=models.CASCADE, related_name="synthesis_cells"
    )
    facet = models.CharField(max_length=10, choices=Facet.choices, blank=True)
    facet_value = models.CharField(max_length=40, blank=True)
    question_kind = models.CharField(max_length=20)
    level = models.CharField(max_length=12, choices=Level.choices)
    item_id = models.BigIntegerField(
        help_text="0 for the total, else the dimension or component id"
    )
    criteria = models.IntegerField(default=0)
    expressions = models.IntegerField(default=0)

    class Meta:
        verbose_name = _("synthesis figure")
        verbose_name_plural = _("synthesis figures")
        constraints = [
            models.UniqueConstraint(
                fields=["territory", "facet", "facet_value", "question_kind", "level", "item_id"],
                name="unique_synthesis_cell",
            )
        ]

    def __str__(self) -> str:
        return f"{self.territory_id} {self.facet}={self.facet_value} {self.level}:{self.item_id}"


class GroupSynthesisValidation(models.Model):
    """A homogeneous group's approval of its synthesis, usually at its second meeting.

    The figures the group saw are kept (``snapshot``), so a later recoding does not change what
    the record says was validated."""

    group = models.ForeignKey(
        "consultations.HomogeneousGroup", on_delete=models.CASCADE, related_name="validations"
    )
    synthesis_of = models.ForeignKey(
        "consultations.Meeting",
        verbose_name=_("synthesis of the meeting"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        help_text=_("Empty: all the group's meetings."),
    )
    validated_at = models.ForeignKey(
        "consultations.Meeting",
        verbose_name=_("validated at the meeting"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    validated_on = models.DateField(_("validated on"))
    note = models.TextField(_("what the group said"), blank=True)
    snapshot = models.JSONField(default=dict)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    recorded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("validation of a group synthesis")
        verbose_name_plural = _("validations of group syntheses")
        ordering = ["-validated_on", "-pk"]

    def __str__(self) -> str:
        return f"{self.group} – {self.validated_on:%Y-%m-%d}"
