"""Codings (attributions): a criterion assigned to one or more components of the grid."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class CodingSource(models.TextChoices):
    TRANSCRIPTION = "transcription", _("typed with the criterion")
    CODING = "coding", _("coding screen")
    IMPORT = "import", _("import")
    SUGGESTION = "suggestion", _("accepted suggestion")
    CARRIED_OVER = "carried_over", _("carried over from another grid version")
    DEMO = "demo", _("demo data")


class CodingQuerySet(models.QuerySet["Coding"]):
    def current(self) -> CodingQuerySet:
        return self.filter(superseded_at__isnull=True)


class Coding(models.Model):
    """One component given to a criterion; recoding supersedes the row, so history is kept."""

    criterion = models.ForeignKey(
        "consultations.Criterion", on_delete=models.CASCADE, related_name="codings"
    )
    component = models.ForeignKey(
        "grid.Component", on_delete=models.PROTECT, related_name="codings"
    )
    object_detail = models.ForeignKey(
        "grid.ObjectDetail", on_delete=models.PROTECT, null=True, blank=True, related_name="codings"
    )
    sense_category = models.ForeignKey(
        "grid.SenseCategory",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="codings",
    )
    sense_reason = models.ForeignKey(
        "grid.SenseReason", on_delete=models.PROTECT, null=True, blank=True, related_name="codings"
    )
    beneficiary = models.ForeignKey(
        "grid.Beneficiary", on_delete=models.PROTECT, null=True, blank=True, related_name="codings"
    )
    full_code = models.CharField(_("full code"), max_length=30)
    source = models.CharField(max_length=20, choices=CodingSource.choices)
    coded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    superseded_at = models.DateTimeField(null=True, blank=True)
    superseded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    objects = CodingQuerySet.as_manager()

    class Meta:
        verbose_name = _("coding")
        verbose_name_plural = _("codings")
        ordering = ["criterion", "pk"]
        indexes = [
            models.Index(fields=["criterion", "superseded_at"], name="coding_criterion_current"),
        ]

    def __str__(self) -> str:
        return self.full_code
