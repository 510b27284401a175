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


class SuggestionModelStatus(models.TextChoices):
    PENDING = "pending", _("waiting for the task worker")
    TRAINING = "training", _("training")
    READY = "ready", _("ready")
    FAILED = "failed", _("failed")


class SuggestionModel(models.Model):
    """One trained version of the code-suggestion engine (the file holds the fitted model).

    A network model has no territory; a territory may have its own, used by it and by the
    territories below it instead of the network's. Retraining adds a row and makes it current:
    the previous one stays, no longer current."""

    grid_version = models.ForeignKey(
        "grid.GridVersion", on_delete=models.PROTECT, related_name="suggestion_models"
    )
    territory = models.ForeignKey(
        "territories.Territory",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="suggestion_models",
        help_text=_("Empty for the network's model."),
    )
    status = models.CharField(
        _("status"),
        max_length=20,
        choices=SuggestionModelStatus.choices,
        default=SuggestionModelStatus.PENDING,
    )
    is_current = models.BooleanField(_("current"), default=False)
    engine = models.CharField(_("engine"), max_length=60, blank=True)
    examples = models.PositiveIntegerField(_("training examples"), default=0)
    coded_examples = models.PositiveIntegerField(_("examples from codings"), default=0)
    # The newest coding the model was trained with: automatic retraining counts those after it.
    last_coding_id = models.BigIntegerField(default=0)
    metrics = models.JSONField(_("held-out evaluation"), default=dict, blank=True)
    path = models.CharField(_("file"), max_length=300, blank=True)
    error = models.TextField(_("error"), blank=True)
    automatic = models.BooleanField(_("started automatically"), default=False)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    trained_at = models.DateTimeField(null=True, blank=True)
    training_seconds = models.FloatField(null=True, blank=True)

    class Meta:
        verbose_name = _("suggestion model")
        verbose_name_plural = _("suggestion models")
        ordering = ["-created_at", "-pk"]
        indexes = [
            models.Index(
                fields=["grid_version", "territory", "is_current"], name="suggestion_model_current"
            ),
        ]

    def __str__(self) -> str:
        scope = self.territory.name if self.territory else _("network")
        return f"#{self.pk} {self.grid_version.code} ({scope})"


class Suggestion(models.Model):
    """A suggested component for a criterion by one model, rank 1 to 3: never a coding until a
    person accepts it. Stored so that a page or a meeting is computed once (batch pre-coding)."""

    criterion = models.ForeignKey(
        "consultations.Criterion", on_delete=models.CASCADE, related_name="suggestions"
    )
    model = models.ForeignKey(SuggestionModel, on_delete=models.CASCADE, related_name="+")
    rank = models.PositiveSmallIntegerField()
    component = models.ForeignKey("grid.Component", on_delete=models.CASCADE, related_name="+")
    confidence = models.FloatField()
    # What the suggestion was computed from (text, language, question): a corrected criterion
    # gets new suggestions.
    input_key = models.CharField(max_length=32)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("suggestion")
        verbose_name_plural = _("suggestions")
        ordering = ["criterion", "model", "rank"]
        constraints = [
            models.UniqueConstraint(
                fields=["criterion", "model", "rank"], name="unique_suggestion_rank"
            )
        ]

    def __str__(self) -> str:
        return f"{self.component_id} {self.confidence:.2f}"
