"""Aggregates kept beside the raw rows so pages never scan all criteria (see docs/decisions)."""

from __future__ import annotations

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
