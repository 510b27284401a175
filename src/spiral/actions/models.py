"""From indicators to action (phases 4 to 8): strategic axes, candidate actions compared on the
group's own criteria, decisions with commitments, action plans in coresponsibility, their
follow-up, ex-post reviews, and the archive of each closed cycle."""

from __future__ import annotations

from django.conf import settings
from django.core.validators import FileExtensionValidator
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from spiral.core.models import TimeStampedModel
from spiral.territories.models import Sector


class StrategicAxis(TimeStampedModel):
    territory = models.ForeignKey(
        "territories.Territory", on_delete=models.PROTECT, related_name="strategic_axes"
    )
    cycle = models.PositiveSmallIntegerField(_("cycle"))
    title = models.CharField(_("title"), max_length=200)
    description = models.TextField(_("description"), blank=True)
    comparison_criteria = models.TextField(
        _("criteria to compare the candidate actions"),
        blank=True,
        help_text=_("One per line, e.g. “Feasible now”, “Who must be involved”."),
    )

    class Meta:
        verbose_name = _("strategic axis")
        verbose_name_plural = _("strategic axes")
        ordering = ["cycle", "title"]

    def __str__(self) -> str:
        return self.title

    def get_absolute_url(self) -> str:
        return reverse("actions:axis", kwargs={"pk": self.pk})

    def criteria_list(self) -> list[str]:
        return [line.strip() for line in self.comparison_criteria.splitlines() if line.strip()]


class ActionStatus(models.TextChoices):
    CANDIDATE = "candidate", _("Candidate")
    DECIDED = "decided", _("Decided")
    IN_PROGRESS = "in_progress", _("In progress")
    # "Done" alone is also a count elsewhere ("Faits"); an action is "Réalisée".
    DONE = "done", pgettext_lazy("action status", "Done")
    DROPPED = "dropped", _("Dropped")


OPEN_STATUSES = (ActionStatus.DECIDED, ActionStatus.IN_PROGRESS)


class ActionQuerySet(models.QuerySet["Action"]):
    def of_territory(self, territory_id: int) -> ActionQuerySet:
        return self.filter(territory_id=territory_id)

    def planned(self) -> ActionQuerySet:
        """Actions of the plan: decided, carried out or done (not candidates, not dropped)."""
        return self.filter(
            status__in=[ActionStatus.DECIDED, ActionStatus.IN_PROGRESS, ActionStatus.DONE]
        )


class Action(TimeStampedModel):
    territory = models.ForeignKey(
        "territories.Territory",
        verbose_name=_("territory"),
        on_delete=models.PROTECT,
        related_name="actions",
    )
    cycle = models.PositiveSmallIntegerField(_("cycle"))
    axis = models.ForeignKey(
        StrategicAxis,
        verbose_name=_("strategic axis"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="actions",
    )
    title = models.CharField(_("title"), max_length=200)
    objectives = models.TextField(_("objectives"), blank=True)
    description = models.TextField(_("description"), blank=True)
    status = models.CharField(
        _("status"), max_length=12, choices=ActionStatus.choices, default=ActionStatus.CANDIDATE
    )
    is_pilot = models.BooleanField(
        _("demonstrative (pilot) action"),
        default=False,
        help_text=_("Feasible tomorrow morning, first results in about three months."),
    )
    starts_on = models.DateField(_("start"), null=True, blank=True)
    ends_on = models.DateField(_("end"), null=True, blank=True)
    indicators = models.ManyToManyField(
        "indicators.Indicator", verbose_name=_("indicators"), blank=True, related_name="actions"
    )
    criteria = models.ManyToManyField(
        "consultations.Criterion", verbose_name=_("criteria"), blank=True, related_name="+"
    )
    decided_on = models.DateField(_("decided on"), null=True, blank=True)
    decision_note = models.TextField(_("decision"), blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    objects = ActionQuerySet.as_manager()

    class Meta:
        verbose_name = _("action")
        verbose_name_plural = _("actions")
        ordering = ["-cycle", "title"]

    def __str__(self) -> str:
        return self.title

    def get_absolute_url(self) -> str:
        return reverse("actions:action", kwargs={"pk": self.pk})


class CandidateScore(models.Model):
    """How a candidate action fares on one of its axis' comparison criteria (0 to 3)."""

    action = models.ForeignKey(Action, on_delete=models.CASCADE, related_name="scores")
    criterion = models.CharField(max_length=200)
    score = models.PositiveSmallIntegerField(_("score"))
    note = models.CharField(_("note"), max_length=300, blank=True)

    class Meta:
        verbose_name = _("comparison score")
        verbose_name_plural = _("comparison scores")
        constraints = [
            models.UniqueConstraint(fields=["action", "criterion"], name="unique_candidate_score"),
            models.CheckConstraint(condition=Q(score__lte=3), name="candidate_score_0_to_3"),
        ]

    def __str__(self) -> str:
        return f"{self.criterion}: {self.score}"


class Commitment(TimeStampedModel):
    """An actor engaged in an action (public, private, association, citizens) and what they
    committed to."""

    action = models.ForeignKey(Action, on_delete=models.CASCADE, related_name="commitments")
    actor = models.CharField(_("actor"), max_length=200)
    sector = models.CharField(_("sector"), max_length=20, choices=Sector.choices)
    commitment = models.TextField(_("commits to"))

    class Meta:
        verbose_name = _("commitment")
        verbose_name_plural = _("commitments")
        ordering = ["sector", "actor"]

    def __str__(self) -> str:
        return self.actor


class ProgressNote(models.Model):
    action = models.ForeignKey(Action, on_delete=models.CASCADE, related_name="notes")
    written_on = models.DateField(_("date"))
    text = models.TextField(_("what happened"))
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )

    class Meta:
        verbose_name = _("progress note")
        verbose_name_plural = _("progress notes")
        ordering = ["-written_on", "-pk"]

    def __str__(self) -> str:
        return self.text[:60]


DOCUMENT_EXTENSIONS = ["pdf", "jpg", "jpeg", "png", "webp", "odt", "docx", "xlsx", "ods", "txt"]


class ActionDocument(models.Model):
    """A document or a photo of an action; served through a view that checks permissions."""

    action = models.ForeignKey(Action, on_delete=models.CASCADE, related_name="documents")
    file = models.FileField(
        _("file"),
        upload_to="actions/%Y/%m/",
        validators=[FileExtensionValidator(DOCUMENT_EXTENSIONS)],
    )
    caption = models.CharField(_("caption"), max_length=200, blank=True)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    uploaded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("document")
        verbose_name_plural = _("documents")
        ordering = ["-uploaded_at"]

    def __str__(self) -> str:
        return self.caption or self.file.name

    @property
    def is_image(self) -> bool:
        return self.file.name.lower().rsplit(".", 1)[-1] in ("jpg", "jpeg", "png", "webp")


class ActionReview(TimeStampedModel):
    """The ex-post co-evaluation of an action: what changed for well-being, according to whom,
    measured on the same indicators (an ex-post evaluation compared with an earlier one)."""

    action = models.ForeignKey(Action, on_delete=models.CASCADE, related_name="reviews")
    evaluation = models.ForeignKey(
        "indicators.Evaluation",
        verbose_name=_("ex-post evaluation"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="action_reviews",
    )
    held_on = models.DateField(_("date"))
    what_changed = models.TextField(_("what changed for well-being"))
    according_to = models.TextField(_("according to whom"), blank=True)
    lessons = models.TextField(_("lessons"), blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )

    class Meta:
        verbose_name = _("ex-post review")
        verbose_name_plural = _("ex-post reviews")
        ordering = ["-held_on", "-pk"]

    def __str__(self) -> str:
        return f"{self.action} – {self.held_on}"


class CycleArchive(models.Model):
    """The state of a territory when a cycle was closed, kept as it was (JSON), with the
    lessons of the review and what carried over into the next cycle."""

    territory = models.ForeignKey(
        "territories.Territory", on_delete=models.PROTECT, related_name="cycle_archives"
    )
    cycle = models.PositiveSmallIntegerField(_("cycle"))
    closed_at = models.DateTimeField(auto_now_add=True)
    closed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    lessons = models.TextField(_("lessons of the cycle"), blank=True)
    snapshot = models.JSONField(default=dict)

    class Meta:
        verbose_name = _("closed cycle")
        verbose_name_plural = _("closed cycles")
        ordering = ["-closed_at"]

    def __str__(self) -> str:
        return f"{self.territory} – {self.cycle}"
