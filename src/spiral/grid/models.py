"""The SPIRAL classification grid, versioned: dimensions, components, object details, sense and
beneficiary sub-codes, and mappings between versions."""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from spiral.core.i18n import current_language, translated
from spiral.core.models import TimeStampedModel


class GridVersionQuerySet(models.QuerySet["GridVersion"]):
    def default(self) -> GridVersion | None:
        return self.filter(is_default=True).first()


class GridVersion(TimeStampedModel):
    code = models.SlugField(_("code"), max_length=60, unique=True)
    name_fr = models.CharField(_("name (French)"), max_length=200)
    name_en = models.CharField(_("name (English)"), max_length=200)
    description_fr = models.TextField(_("description (French)"), blank=True)
    description_en = models.TextField(_("description (English)"), blank=True)
    provisional_note_fr = models.TextField(_("provisional note (French)"), blank=True)
    provisional_note_en = models.TextField(_("provisional note (English)"), blank=True)
    sources = models.TextField(_("sources"), blank=True, help_text=_("One address per line."))
    is_default = models.BooleanField(_("default version"), default=False)

    objects = GridVersionQuerySet.as_manager()

    class Meta:
        verbose_name = _("grid version")
        verbose_name_plural = _("grid versions")
        ordering = ["code"]
        constraints = [
            models.UniqueConstraint(
                fields=["is_default"], condition=Q(is_default=True), name="one_default_grid_version"
            )
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def name(self) -> str:
        return translated(self, "name")

    @property
    def description(self) -> str:
        return translated(self, "description")

    @property
    def provisional_note(self) -> str:
        return translated(self, "provisional_note")

    def source_list(self) -> list[str]:
        return [line.strip() for line in self.sources.splitlines() if line.strip()]


class EntryStatus(models.TextChoices):
    """Where an entry of the grid comes from; anything but sourced/official is shown flagged."""

    OFFICIAL = "official", _("official (loaded by the network)")
    SOURCED = "sourced", _("sourced")
    INFERRED = "inferred", _("inferred from sources")
    PROVISIONAL = "provisional", _("provisional (written by the project)")


class LabelOrigin(models.TextChoices):
    SOURCE = "source", _("read in a source")
    PROJECT = "project", _("written or translated by the project")
    NETWORK = "network", _("loaded by the network")


FLAGGED_STATUSES = {EntryStatus.INFERRED, EntryStatus.PROVISIONAL}


class GridEntry(models.Model):
    """Fields shared by every kind of grid entry."""

    version = models.ForeignKey(GridVersion, on_delete=models.CASCADE, related_name="+")
    code = models.CharField(_("code"), max_length=20)
    position = models.PositiveIntegerField(_("position"), default=0)
    label_fr = models.CharField(_("label (French)"), max_length=300)
    label_en = models.CharField(_("label (English)"), max_length=300)
    description_fr = models.TextField(_("description (French)"), blank=True)
    description_en = models.TextField(_("description (English)"), blank=True)
    status = models.CharField(_("status"), max_length=12, choices=EntryStatus.choices)
    label_fr_origin = models.CharField(
        _("origin of the French label"), max_length=8, choices=LabelOrigin.choices
    )
    label_en_origin = models.CharField(
        _("origin of the English label"), max_length=8, choices=LabelOrigin.choices
    )
    source_url = models.TextField(_("sources"), blank=True)
    note = models.TextField(_("note"), blank=True)

    class Meta:
        abstract = True
        ordering = ["position", "code"]

    def __str__(self) -> str:
        return f"{self.code} {self.label}"

    @property
    def label(self) -> str:
        return translated(self, "label")

    @property
    def description(self) -> str:
        return translated(self, "description")

    @property
    def is_flagged(self) -> bool:
        """True when the entry is not the network's or a source's own wording."""
        return self.status in FLAGGED_STATUSES

    @property
    def label_is_project_translation(self) -> bool:
        """True when the label shown in the active language was written by the project."""
        language = current_language()
        if language not in ("fr", "en"):
            language = "en"
        return bool(getattr(self, f"label_{language}_origin") == LabelOrigin.PROJECT)

    def source_list(self) -> list[str]:
        return [part.strip() for part in self.source_url.split(" ; ") if part.strip()]


class Dimension(GridEntry):
    version = models.ForeignKey(GridVersion, on_delete=models.CASCADE, related_name="dimensions")

    class Meta(GridEntry.Meta):
        verbose_name = _("dimension")
        verbose_name_plural = _("dimensions")
        constraints = [
            models.UniqueConstraint(fields=["version", "code"], name="unique_dimension_code")
        ]


class ComponentQuerySet(models.QuerySet["Component"]):
    def of_version(self, version: GridVersion) -> ComponentQuerySet:
        return self.filter(version=version)

    def search(self, words: str) -> ComponentQuerySet:
        """Match a code prefix or words in either language's label or description."""
        query = self
        for word in words.split():
            query = query.filter(
                Q(code__istartswith=word)
                | Q(label_fr__icontains=word)
                | Q(label_en__icontains=word)
                | Q(description_fr__icontains=word)
                | Q(description_en__icontains=word)
            )
        return query


class Component(GridEntry):
    version = models.ForeignKey(GridVersion, on_delete=models.CASCADE, related_name="components")
    dimension = models.ForeignKey(Dimension, on_delete=models.CASCADE, related_name="components")

    objects = ComponentQuerySet.as_manager()

    class Meta(GridEntry.Meta):
        verbose_name = _("component")
        verbose_name_plural = _("components")
        constraints = [
            models.UniqueConstraint(fields=["version", "code"], name="unique_component_code")
        ]


class ObjectDetail(GridEntry):
    version = models.ForeignKey(
        GridVersion, on_delete=models.CASCADE, related_name="object_details"
    )
    component = models.ForeignKey(
        Component, on_delete=models.CASCADE, related_name="object_details"
    )

    class Meta(GridEntry.Meta):
        verbose_name = _("object detail")
        verbose_name_plural = _("object details")
        constraints = [
            models.UniqueConstraint(fields=["version", "code"], name="unique_object_detail_code")
        ]


class SenseCategory(GridEntry):
    """R Opposition, P Possibility, O Attainment, Q Quality, S Sustainability."""

    version = models.ForeignKey(
        GridVersion, on_delete=models.CASCADE, related_name="sense_categories"
    )

    class Meta(GridEntry.Meta):
        verbose_name = _("sense category")
        verbose_name_plural = _("sense categories")
        constraints = [
            models.UniqueConstraint(fields=["version", "code"], name="unique_sense_category_code")
        ]


class SenseReason(GridEntry):
    """A numbered reason within a sense category, such as P15 (lack of financial means)."""

    version = models.ForeignKey(GridVersion, on_delete=models.CASCADE, related_name="sense_reasons")
    category = models.ForeignKey(SenseCategory, on_delete=models.CASCADE, related_name="reasons")

    class Meta(GridEntry.Meta):
        verbose_name = _("sense reason")
        verbose_name_plural = _("sense reasons")
        constraints = [
            models.UniqueConstraint(fields=["version", "code"], name="unique_sense_reason_code")
        ]


class Beneficiary(GridEntry):
    """For whom the criterion speaks (k = children)."""

    version = models.ForeignKey(GridVersion, on_delete=models.CASCADE, related_name="beneficiaries")

    class Meta(GridEntry.Meta):
        verbose_name = _("beneficiary")
        verbose_name_plural = _("beneficiaries")
        constraints = [
            models.UniqueConstraint(fields=["version", "code"], name="unique_beneficiary_code")
        ]


class GridMapping(TimeStampedModel):
    """How the codes of one version translate into another's, to carry codings over."""

    source = models.ForeignKey(GridVersion, on_delete=models.CASCADE, related_name="mappings_from")
    target = models.ForeignKey(GridVersion, on_delete=models.CASCADE, related_name="mappings_to")
    note = models.TextField(_("note"), blank=True)

    class Meta:
        verbose_name = _("grid mapping")
        verbose_name_plural = _("grid mappings")
        constraints = [
            models.UniqueConstraint(fields=["source", "target"], name="unique_grid_mapping")
        ]

    def __str__(self) -> str:
        return f"{self.source.code} → {self.target.code}"


class GridMappingRow(models.Model):
    mapping = models.ForeignKey(GridMapping, on_delete=models.CASCADE, related_name="rows")
    source_code = models.CharField(_("code in the source version"), max_length=20)
    target_code = models.CharField(_("code in the target version"), max_length=20)

    class Meta:
        verbose_name = _("mapping row")
        verbose_name_plural = _("mapping rows")
        constraints = [
            models.UniqueConstraint(
                fields=["mapping", "source_code"], name="unique_mapping_source_code"
            )
        ]

    def __str__(self) -> str:
        return f"{self.source_code} → {self.target_code}"
