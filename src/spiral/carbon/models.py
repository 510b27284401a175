"""Factor sets, footprints (one per questionnaire filled), pledges, and campaigns gathering them."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from spiral.core.models import TimeStampedModel


class FactorSetQuerySet(models.QuerySet["FactorSet"]):
    def current(self) -> FactorSetQuerySet:
        return self.filter(is_current=True)


class FactorSet(TimeStampedModel):
    """One version of a country's factors and defaults; a result keeps the version it used."""

    country = models.CharField(_("country code"), max_length=2)
    version = models.CharField(_("version"), max_length=40)
    name_fr = models.CharField(max_length=100)
    name_en = models.CharField(max_length=100)
    document = models.JSONField(_("factors, defaults and sources"))
    is_current = models.BooleanField(_("current version"), default=True)
    note = models.TextField(_("what changed"), blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    objects = FactorSetQuerySet.as_manager()

    class Meta:
        verbose_name = _("factor set")
        verbose_name_plural = _("factor sets")
        ordering = ["country", "-created_at"]
        constraints = [
            models.UniqueConstraint(fields=["country", "version"], name="unique_factor_set"),
            models.UniqueConstraint(
                fields=["country"], condition=models.Q(is_current=True), name="one_current_set"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.country} {self.version}"

    @property
    def name(self) -> str:
        from spiral.core.i18n import translated

        return translated(self, "name")

    @property
    def national_footprint(self) -> float | None:
        entry = self.document.get("national_footprint")
        return float(entry["value"]) if entry else None

    @property
    def national_source(self) -> str:
        entry = self.document.get("national_footprint") or {}
        sources = entry.get("sources") or []
        return str(sources[0]) if sources else ""

    @property
    def average_basis(self) -> str:
        """What the "average" beside a result is: ``national`` (the national footprint, all
        gases, reproduced by the defaults), ``estimate_tuned`` (the project's estimates tuned
        to a partial national figure) or ``no_national_figure`` (the project's estimates
        alone). Stated in the data files since 2026.2; worked out for older versions."""
        stated = self.document.get("average_basis")
        if stated:
            return str(stated)
        entry = self.document.get("national_footprint")
        if not entry:
            return "no_national_figure"
        return "national" if str(entry.get("unit", "")).startswith("kgCO2e") else "estimate_tuned"

    @property
    def national_scope(self) -> str:
        """What the national figure counts: ``consumption_all_gases``, ``consumption_co2`` or
        ``territorial_co2`` (empty without a figure)."""
        return str(self.document.get("national_scope") or "")

    @property
    def average_is_estimate(self) -> bool:
        return self.average_basis != "national"


class Campaign(TimeStampedModel):
    """A carbon campaign of a territory, optionally of one homogeneous group (a street...)."""

    name = models.CharField(_("name"), max_length=200)
    territory = models.ForeignKey(
        "territories.Territory",
        verbose_name=_("territory"),
        on_delete=models.PROTECT,
        related_name="carbon_campaigns",
    )
    group = models.ForeignKey(
        "consultations.HomogeneousGroup",
        verbose_name=_("homogeneous group"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="carbon_campaigns",
        help_text=_("Empty for a campaign of the whole territory."),
    )
    country = models.CharField(
        _("country of the factors"),
        max_length=2,
        help_text=_("Whose national averages stand for unanswered questions."),
    )
    description = models.TextField(_("description"), blank=True)
    is_open = models.BooleanField(_("open to new answers"), default=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        verbose_name = _("carbon campaign")
        verbose_name_plural = _("carbon campaigns")
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("carbon:campaign", kwargs={"pk": self.pk})


AGGREGATED_COLUMNS = (
    "transport_kg",
    "housing_kg",
    "food_kg",
    "goods_kg",
    "services_kg",
    "pledged_transport_kg",
    "pledged_housing_kg",
    "pledged_food_kg",
    "pledged_goods_kg",
    "pledge_count",
)


class FootprintResult(models.Model):
    """One filled questionnaire. Category totals are columns so a campaign aggregates in SQL."""

    campaign = models.ForeignKey(
        Campaign, on_delete=models.CASCADE, null=True, blank=True, related_name="results"
    )
    # Copied from the campaign: roll-ups filter the territory tree without a join.
    territory = models.ForeignKey(
        "territories.Territory",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="carbon_results",
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="carbon_results",
    )
    previous = models.ForeignKey(
        "self", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    factor_set = models.ForeignKey(FactorSet, on_delete=models.PROTECT, related_name="results")
    # A result redone in the same campaign: only the latest counts in the campaign's figures.
    superseded = models.BooleanField(default=False)
    client_token = models.CharField(max_length=64, blank=True)
    answers = models.JSONField(default=dict)
    detail = models.JSONField(default=dict)  # totals by category and sub-category
    transport_kg = models.FloatField()
    housing_kg = models.FloatField()
    food_kg = models.FloatField()
    goods_kg = models.FloatField()
    services_kg = models.FloatField()
    total_kg = models.FloatField()
    # Pledged savings summed by category and counted, kept by the pledge services, so that a
    # campaign's figures come from one index-only read of this table (see the indexes).
    pledged_transport_kg = models.FloatField(default=0)
    pledged_housing_kg = models.FloatField(default=0)
    pledged_food_kg = models.FloatField(default=0)
    pledged_goods_kg = models.FloatField(default=0)
    pledge_count = models.PositiveSmallIntegerField(default=0)
    created_at = models.DateTimeField(_("created"), auto_now_add=True, db_index=True)

    class Meta:
        verbose_name = _("footprint result")
        verbose_name_plural = _("footprint results")
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["client_token"],
                condition=~models.Q(client_token=""),
                name="unique_footprint_client_token",
            )
        ]
        # Covering indexes: aggregating 20,000 results reads the index alone, never the wide
        # rows with their answers (decision 0011).
        indexes = [
            models.Index(
                fields=[scope, "superseded", *AGGREGATED_COLUMNS], name=f"carbon_{scope}_cover"
            )
            for scope in ("campaign", "territory")
        ]

    def __str__(self) -> str:
        return f"{self.total_kg:.0f} kgCO2e ({self.created_at:%Y-%m-%d})"

    def category_kg(self, category: str) -> float:
        return float(getattr(self, f"{category}_kg"))

    @property
    def individual_kg(self) -> float:
        return self.total_kg - self.services_kg


class Pledge(models.Model):
    """An action a person commits to, with its saving estimated against their own answers."""

    result = models.ForeignKey(FootprintResult, on_delete=models.CASCADE, related_name="pledges")
    action = models.CharField(_("action"), max_length=60)
    category = models.CharField(max_length=20)
    saving_kg = models.FloatField(_("estimated saving (kgCO2e/year)"))
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("pledge")
        verbose_name_plural = _("pledges")
        ordering = ["created_at", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["result", "action"], name="unique_pledge_action")
        ]

    def __str__(self) -> str:
        return self.action


class CollectiveAdoption(models.Model):
    """A collective action a campaign's group decided to carry together."""

    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="adoptions")
    action = models.CharField(_("action"), max_length=60)
    note = models.TextField(_("who does what"), blank=True)
    adopted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("collective action adopted")
        verbose_name_plural = _("collective actions adopted")
        ordering = ["created_at", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["campaign", "action"], name="unique_adoption")
        ]

    def __str__(self) -> str:
        return self.action
