"""Progress indicators written with citizens, their 5-level scale, and co-evaluations (ex-ante
and ex-post) in which the coordination group, homogeneous groups and citizens rate them."""

from __future__ import annotations

import secrets

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from spiral.core.models import TimeStampedModel

LEVELS = (1, 2, 3, 4, 5)


class Category(models.TextChoices):
    """The four categories of the method; each one is the step from one level to the next."""

    POSSIBILITY = "possibility", _("Possibility")
    ATTAINMENT = "attainment", _("Attainment")
    QUALITY = "quality", _("Quality")
    SUSTAINABILITY = "sustainability", _("Sustainability")


class Level(models.IntegerChoices):
    VERY_UNSATISFACTORY = 1, _("Very unsatisfactory situation")
    UNSATISFACTORY = 2, _("Unsatisfactory situation")
    AVERAGE = 3, _("Average situation")
    GOOD = 4, _("Good situation")
    IDEAL = 5, _("Ideal situation")


class IndicatorQuerySet(models.QuerySet["Indicator"]):
    def of_territory(self, territory_id: int) -> IndicatorQuerySet:
        return self.filter(territory_id=territory_id)

    def current(self) -> IndicatorQuerySet:
        """The latest version of each indicator (older versions stay for past evaluations)."""
        return self.filter(superseded_by__isnull=True)

    def shared(self) -> IndicatorQuerySet:
        return self.filter(is_shared=True, territory__is_public=True)


class Indicator(TimeStampedModel):
    """A theme of well-being (one component or a group of them) with a 5-level scale.

    Versioned: changing an indicator already rated creates a new version, so past evaluations
    keep the wording citizens answered."""

    territory = models.ForeignKey(
        "territories.Territory",
        verbose_name=_("territory"),
        on_delete=models.PROTECT,
        related_name="indicators",
    )
    title = models.CharField(_("title"), max_length=200)
    question = models.CharField(
        _("question asked"),
        max_length=400,
        help_text=_("The question of the self-survey, e.g. “How easy is it to find work here?”"),
    )
    components = models.ManyToManyField(
        "grid.Component", verbose_name=_("components"), blank=True, related_name="indicators"
    )
    version = models.PositiveSmallIntegerField(_("version"), default=1)
    previous = models.OneToOneField(
        "self",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="superseded_by",
        verbose_name=_("previous version"),
    )
    derived_from = models.ForeignKey(
        "self",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="reuses",
        verbose_name=_("reused from"),
    )
    is_shared = models.BooleanField(
        _("shared with other territories"),
        default=False,
        help_text=_("Other territories of the network may copy it and adapt it."),
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    objects = IndicatorQuerySet.as_manager()

    class Meta:
        verbose_name = _("progress indicator")
        verbose_name_plural = _("progress indicators")
        ordering = ["title", "-version"]

    def __str__(self) -> str:
        return self.title

    def get_absolute_url(self) -> str:
        return reverse("indicators:indicator", kwargs={"pk": self.pk})


class IndicatorCriterion(models.Model):
    """A criterion of the territory behind an indicator, sorted into one of the 4 categories."""

    indicator = models.ForeignKey(Indicator, on_delete=models.CASCADE, related_name="sorted")
    criterion = models.ForeignKey(
        "consultations.Criterion", on_delete=models.PROTECT, related_name="+"
    )
    category = models.CharField(_("category"), max_length=20, choices=Category.choices)

    class Meta:
        verbose_name = _("criterion of an indicator")
        verbose_name_plural = _("criteria of indicators")
        ordering = ["category", "criterion_id"]
        constraints = [
            models.UniqueConstraint(
                fields=["indicator", "criterion"], name="unique_indicator_criterion"
            )
        ]

    def __str__(self) -> str:
        return f"{self.indicator_id}: {self.criterion_id} ({self.category})"


class ScaleLevel(models.Model):
    """One of the 5 situations of an indicator, in words drawn from the criteria it cites."""

    indicator = models.ForeignKey(Indicator, on_delete=models.CASCADE, related_name="levels")
    level = models.PositiveSmallIntegerField(_("level"), choices=Level.choices)
    text = models.TextField(_("description of the situation"))
    criteria = models.ManyToManyField(
        "consultations.Criterion",
        verbose_name=_("criteria it comes from"),
        blank=True,
        related_name="+",
    )

    class Meta:
        verbose_name = _("level of a scale")
        verbose_name_plural = _("levels of scales")
        ordering = ["indicator", "level"]
        constraints = [
            models.UniqueConstraint(fields=["indicator", "level"], name="unique_scale_level"),
            models.CheckConstraint(
                condition=Q(level__gte=1) & Q(level__lte=5), name="scale_level_1_to_5"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.level}. {self.text[:60]}"


class EvaluationKind(models.TextChoices):
    EX_ANTE = "ex_ante", _("Ex-ante (before the actions)")
    EX_POST = "ex_post", _("Ex-post (after the actions)")


def new_survey_key() -> str:
    return secrets.token_urlsafe(12)


class EvaluationQuerySet(models.QuerySet["Evaluation"]):
    def of_territory(self, territory_id: int) -> EvaluationQuerySet:
        return self.filter(territory_id=territory_id)


class Evaluation(TimeStampedModel):
    """A co-evaluation of a territory's situation on some indicators, at one moment."""

    territory = models.ForeignKey(
        "territories.Territory",
        verbose_name=_("territory"),
        on_delete=models.PROTECT,
        related_name="evaluations",
    )
    title = models.CharField(_("title"), max_length=200)
    kind = models.CharField(_("kind"), max_length=10, choices=EvaluationKind.choices)
    cycle = models.PositiveSmallIntegerField(_("cycle"))
    held_on = models.DateField(_("date"))
    indicators = models.ManyToManyField(
        Indicator, verbose_name=_("indicators"), related_name="evaluations"
    )
    baseline = models.ForeignKey(
        "self",
        verbose_name=_("compared with"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="followers",
        help_text=_("An earlier evaluation (ex-ante) to compare this one with."),
    )
    survey_key = models.CharField(max_length=40, unique=True, default=new_survey_key)
    survey_open = models.BooleanField(_("self-survey open"), default=False)
    ask_profile = models.BooleanField(
        _("ask respondents for their profile"),
        default=True,
        help_text=_("Optional for them; results by profile follow the small-numbers rule."),
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    objects = EvaluationQuerySet.as_manager()

    class Meta:
        verbose_name = _("co-evaluation")
        verbose_name_plural = _("co-evaluations")
        ordering = ["-held_on", "-pk"]

    def __str__(self) -> str:
        return self.title

    def get_absolute_url(self) -> str:
        return reverse("indicators:evaluation", kwargs={"pk": self.pk})


class RaterKind(models.TextChoices):
    COORDINATION = "coordination", _("Coordination group")
    GROUP = "group", _("Homogeneous group")
    CITIZEN = "citizen", _("Citizen (self-survey)")


class SurveyResponse(models.Model):
    """One person's answer to a self-survey; no identity, only a hash of a one-time token.

    The unique (evaluation, token_hash) pair is what makes a replayed or doubled submission
    count once: the token is handed to the browser, never tied to a person."""

    evaluation = models.ForeignKey(Evaluation, on_delete=models.CASCADE, related_name="responses")
    token_hash = models.CharField(max_length=64)
    profile = models.ForeignKey(
        "consultations.GroupProfile", on_delete=models.PROTECT, null=True, blank=True
    )
    submitted_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("self-survey answer")
        verbose_name_plural = _("self-survey answers")
        constraints = [
            models.UniqueConstraint(
                fields=["evaluation", "token_hash"], name="unique_survey_response_token"
            )
        ]

    def __str__(self) -> str:
        return f"{self.evaluation_id}/{self.pk}"


class Rating(models.Model):
    """A level given to an indicator in an evaluation: by a citizen, a group or the coordination."""

    evaluation = models.ForeignKey(Evaluation, on_delete=models.CASCADE, related_name="ratings")
    indicator = models.ForeignKey(Indicator, on_delete=models.PROTECT, related_name="ratings")
    level = models.PositiveSmallIntegerField(_("level"), choices=Level.choices)
    rater = models.CharField(_("rated by"), max_length=20, choices=RaterKind.choices)
    group = models.ForeignKey(
        "consultations.HomogeneousGroup",
        verbose_name=_("group"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    # Denormalised from the response or the group, so that results by profile are one GROUP BY.
    profile = models.ForeignKey(
        "consultations.GroupProfile",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    response = models.ForeignKey(
        SurveyResponse, on_delete=models.CASCADE, null=True, blank=True, related_name="ratings"
    )
    note = models.TextField(_("why"), blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("rating")
        verbose_name_plural = _("ratings")
        constraints = [
            models.CheckConstraint(
                condition=Q(level__gte=1) & Q(level__lte=5), name="rating_level_1_to_5"
            ),
            models.UniqueConstraint(
                fields=["response", "indicator"],
                condition=Q(response__isnull=False),
                name="unique_rating_per_response",
            ),
        ]
        indexes = [
            # Covers the results page: counts by indicator and level, and by profile.
            models.Index(
                fields=["evaluation", "indicator", "rater", "level"], name="rating_results"
            ),
            models.Index(
                fields=["evaluation", "indicator", "profile", "level"], name="rating_by_profile"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.indicator_id}: {self.level}"
