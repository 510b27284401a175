"""Homogeneous groups, their meetings, the question sets they answer and the criteria written."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from spiral.core.i18n import translated
from spiral.core.models import LabelledModel, TimeStampedModel


class GroupProfile(LabelledModel):
    """A controlled profile (young people, elderly people...), for comparisons across groups."""

    code = models.SlugField(_("code"), max_length=40, unique=True)
    description_fr = models.TextField(blank=True)
    description_en = models.TextField(blank=True)
    position = models.PositiveSmallIntegerField(default=0)
    is_active = models.BooleanField(_("offered for new groups"), default=True)

    class Meta:
        verbose_name = _("group profile")
        verbose_name_plural = _("group profiles")
        ordering = ["position", "code"]


class QuestionSet(TimeStampedModel):
    code = models.SlugField(_("code"), max_length=40, unique=True)
    name_fr = models.CharField(max_length=200)
    name_en = models.CharField(max_length=200)
    description_fr = models.TextField(blank=True)
    description_en = models.TextField(blank=True)
    is_default = models.BooleanField(_("default set"), default=False)
    source_url = models.TextField(blank=True)

    class Meta:
        verbose_name = _("question set")
        verbose_name_plural = _("question sets")
        ordering = ["code"]
        constraints = [
            models.UniqueConstraint(
                fields=["is_default"], condition=Q(is_default=True), name="one_default_question_set"
            )
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def name(self) -> str:
        return translated(self, "name")


class QuestionKind(models.TextChoices):
    WELL_BEING = "well_being", _("Well-being")
    ILL_BEING = "ill_being", _("Ill-being")
    ACTION = "action", _("What I do or could do")
    OTHER = "other", _("Other")


class Question(models.Model):
    question_set = models.ForeignKey(
        QuestionSet, on_delete=models.CASCADE, related_name="questions"
    )
    code = models.SlugField(_("code"), max_length=20)
    position = models.PositiveSmallIntegerField(default=0)
    kind = models.CharField(_("kind"), max_length=20, choices=QuestionKind.choices)
    short_label_fr = models.CharField(max_length=80)
    short_label_en = models.CharField(max_length=80)
    text_fr = models.CharField(max_length=400)
    text_en = models.CharField(max_length=400)

    class Meta:
        verbose_name = _("question")
        verbose_name_plural = _("questions")
        ordering = ["question_set", "position"]
        constraints = [
            models.UniqueConstraint(fields=["question_set", "code"], name="unique_question_code")
        ]

    def __str__(self) -> str:
        return self.short_label

    @property
    def text(self) -> str:
        return translated(self, "text")

    @property
    def short_label(self) -> str:
        return translated(self, "short_label")


class HomogeneousGroupQuerySet(models.QuerySet["HomogeneousGroup"]):
    def in_subtree(self, territory_id: int) -> HomogeneousGroupQuerySet:
        return self.filter(territory__ancestor_links__ancestor_id=territory_id)

    def active(self) -> HomogeneousGroupQuerySet:
        return self.filter(is_archived=False)


class HomogeneousGroup(TimeStampedModel):
    territory = models.ForeignKey(
        "territories.Territory",
        verbose_name=_("territory"),
        on_delete=models.PROTECT,
        related_name="groups",
    )
    name = models.CharField(_("name"), max_length=200)
    profile = models.ForeignKey(
        GroupProfile, verbose_name=_("profile"), on_delete=models.PROTECT, related_name="groups"
    )
    size = models.PositiveSmallIntegerField(
        _("number of participants"), null=True, blank=True, help_text=_("Usually 7 to 12 people.")
    )
    language = models.CharField(_("language"), max_length=8, default="fr")
    description = models.TextField(_("description"), blank=True)
    facilitators = models.ManyToManyField(
        settings.AUTH_USER_MODEL,
        verbose_name=_("facilitators"),
        blank=True,
        related_name="facilitated_groups",
    )
    is_archived = models.BooleanField(_("archived"), default=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    objects = HomogeneousGroupQuerySet.as_manager()

    class Meta:
        verbose_name = _("homogeneous group")
        verbose_name_plural = _("homogeneous groups")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("consultations:group", kwargs={"pk": self.pk})


class Meeting(TimeStampedModel):
    group = models.ForeignKey(HomogeneousGroup, on_delete=models.CASCADE, related_name="meetings")
    held_on = models.DateField(_("date"))
    question_set = models.ForeignKey(
        QuestionSet,
        verbose_name=_("question set"),
        on_delete=models.PROTECT,
        related_name="meetings",
    )
    language = models.CharField(_("language of the meeting"), max_length=8, default="fr")
    place = models.CharField(_("place"), max_length=200, blank=True)
    notes = models.TextField(_("notes"), blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        verbose_name = _("meeting")
        verbose_name_plural = _("meetings")
        ordering = ["-held_on", "-pk"]

    def __str__(self) -> str:
        return f"{self.group} – {self.held_on:%Y-%m-%d}"

    def get_absolute_url(self) -> str:
        return reverse("consultations:meeting", kwargs={"pk": self.pk})


class CriterionQuerySet(models.QuerySet["Criterion"]):
    def alive(self) -> CriterionQuerySet:
        return self.filter(deleted_at__isnull=True)

    def in_subtree(self, territory_id: int) -> CriterionQuerySet:
        return self.filter(territory__ancestor_links__ancestor_id=territory_id)

    def coded(self) -> CriterionQuerySet:
        """Criteria with a current coding (a join on isnull would keep uncoded ones too)."""
        from spiral.coding.models import Coding

        current = Coding.objects.filter(
            criterion_id=models.OuterRef("pk"), superseded_at__isnull=True
        )
        return self.filter(models.Exists(current))


class CriterionManager(models.Manager["Criterion"]):
    """Deleted criteria keep their history but disappear from every ordinary query."""

    def get_queryset(self) -> CriterionQuerySet:
        return CriterionQuerySet(self.model, using=self._db).alive()


class Criterion(TimeStampedModel):
    """One idea written on post-its and approved by the group, stored exactly as written."""

    meeting = models.ForeignKey(Meeting, on_delete=models.PROTECT, related_name="criteria")
    question = models.ForeignKey(Question, on_delete=models.PROTECT, related_name="criteria")
    text = models.TextField(_("criterion"))
    language = models.CharField(_("language"), max_length=8)
    expressions = models.PositiveIntegerField(
        _("number of expressions"), default=1, help_text=_("How many identical post-its.")
    )
    position = models.PositiveIntegerField(default=0)
    # A client-made id per typed line: a double submit or a retry finds the row already saved.
    client_token = models.CharField(max_length=80, null=True, blank=True)  # noqa: DJ001 - NULL = no token
    # Denormalised from the meeting's group so that syntheses over a subtree are a plain join.
    group = models.ForeignKey(HomogeneousGroup, on_delete=models.PROTECT, related_name="criteria")
    territory = models.ForeignKey(
        "territories.Territory", on_delete=models.PROTECT, related_name="criteria"
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    deleted_at = models.DateTimeField(null=True, blank=True)
    deleted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    objects = CriterionManager.from_queryset(CriterionQuerySet)()
    all_objects = CriterionQuerySet.as_manager()

    class Meta:
        verbose_name = _("criterion")
        verbose_name_plural = _("criteria")
        ordering = ["position", "pk"]
        base_manager_name = "all_objects"
        constraints = [
            models.UniqueConstraint(
                fields=["meeting", "client_token"],
                condition=Q(client_token__isnull=False),
                name="unique_criterion_client_token",
            ),
            models.CheckConstraint(
                condition=Q(expressions__gte=1), name="criterion_expressions_positive"
            ),
        ]
        indexes = [
            models.Index(fields=["territory", "deleted_at"], name="criterion_territory_alive"),
            models.Index(
                fields=["meeting", "question", "position"], name="criterion_meeting_question"
            ),
        ]

    def __str__(self) -> str:
        return self.text[:80]


class RevisionAction(models.TextChoices):
    CREATED = "created", _("created")
    EDITED = "edited", _("corrected")
    DELETED = "deleted", _("deleted")
    RESTORED = "restored", _("restored")


class CriterionRevision(models.Model):
    """A snapshot of a criterion after each change: corrections never erase what was written."""

    criterion = models.ForeignKey(Criterion, on_delete=models.CASCADE, related_name="revisions")
    action = models.CharField(_("change"), max_length=10, choices=RevisionAction.choices)
    text = models.TextField()
    language = models.CharField(max_length=8)
    expressions = models.PositiveIntegerField()
    question = models.ForeignKey(Question, on_delete=models.PROTECT, related_name="+")
    changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    changed_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("criterion revision")
        verbose_name_plural = _("criterion revisions")
        ordering = ["criterion", "changed_at", "pk"]

    def __str__(self) -> str:
        return f"{self.get_action_display()} {self.changed_at:%Y-%m-%d %H:%M}"
