"""Coding quality: blind double coding of a sample, and the settling of disagreements."""

from __future__ import annotations

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.urls import reverse
from django.utils.translation import gettext_lazy as _


class RequestStatus(models.TextChoices):
    OPEN = "open", _("open")
    CLOSED = "closed", _("closed")


class DoubleCodingRequest(models.Model):
    """A coordinator's request: a second coder codes, blind, a random share of a scope's coded
    criteria. The scope is a territory and everything below it, a group or a meeting;
    ``territory`` is the territory whose permissions apply (the group's for groups and meetings).
    """

    territory = models.ForeignKey(
        "territories.Territory",
        verbose_name=_("territory"),
        on_delete=models.PROTECT,
        related_name="double_coding_requests",
    )
    group = models.ForeignKey(
        "consultations.HomogeneousGroup",
        verbose_name=_("group"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="double_coding_requests",
    )
    meeting = models.ForeignKey(
        "consultations.Meeting",
        verbose_name=_("meeting"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="double_coding_requests",
    )
    share = models.PositiveSmallIntegerField(
        _("share of the coded criteria (%)"),
        validators=[MinValueValidator(1), MaxValueValidator(100)],
    )
    seed = models.PositiveBigIntegerField(_("random seed"))
    # The criteria the sample was drawn from (coded, and not coded by the second coder).
    population = models.PositiveIntegerField(_("criteria the sample was drawn from"))
    second_coder = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("second coder"),
        on_delete=models.PROTECT,
        related_name="double_coding_assignments",
    )
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    requested_at = models.DateTimeField(_("asked on"), auto_now_add=True)
    status = models.CharField(
        _("status"), max_length=10, choices=RequestStatus.choices, default=RequestStatus.OPEN
    )
    closed_at = models.DateTimeField(null=True, blank=True)
    closed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )

    class Meta:
        verbose_name = _("double coding request")
        verbose_name_plural = _("double coding requests")
        ordering = ["-requested_at", "-pk"]
        indexes = [
            models.Index(fields=["territory", "status"], name="double_coding_territory"),
            models.Index(fields=["second_coder", "status"], name="double_coding_coder"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(share__gte=1, share__lte=100), name="double_coding_share_range"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.scope_label} – {self.share} %"

    def get_absolute_url(self) -> str:
        return reverse("quality:request", kwargs={"pk": self.pk})

    @property
    def is_open(self) -> bool:
        return self.status == RequestStatus.OPEN

    @property
    def scope_label(self) -> str:
        if self.meeting is not None:
            return str(self.meeting)
        if self.group is not None:
            return self.group.name
        return self.territory.name


class SampleItemQuerySet(models.QuerySet["SampleItem"]):
    def alive(self) -> SampleItemQuerySet:
        """Items whose criterion has not been deleted since the sample was drawn."""
        return self.filter(criterion__deleted_at__isnull=True)

    def done(self) -> SampleItemQuerySet:
        return self.filter(second_coded_at__isnull=False)


class SampleItem(models.Model):
    """One criterion of the sample: its codes when the request was made (the first coding, with
    who gave each code) and the codes the second coder gives it. The second coding is kept here,
    never as Coding rows, so it changes no synthesis."""

    request = models.ForeignKey(DoubleCodingRequest, on_delete=models.CASCADE, related_name="items")
    criterion = models.ForeignKey(
        "consultations.Criterion", on_delete=models.CASCADE, related_name="double_coding_items"
    )
    position = models.PositiveIntegerField(default=0)
    # [{"code": "A01/P15", "coded_by": 12}, ...]: the criterion's current codings when sampled.
    first_codes = models.JSONField(default=list)
    # The one person behind every first code, when there is one (None: several, or unknown).
    first_coder = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    second_codes = models.JSONField(default=list)  # ["A06", "D03"]
    # Set while the second coder's codes are not empty: the item is "done".
    second_coded_at = models.DateTimeField(null=True, blank=True)

    objects = SampleItemQuerySet.as_manager()

    class Meta:
        verbose_name = _("double coding item")
        verbose_name_plural = _("double coding items")
        ordering = ["request", "position", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["request", "criterion"], name="unique_double_coding_item"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.request_id}: {self.criterion_id}"

    @property
    def first_code_list(self) -> list[str]:
        return [str(entry["code"]) for entry in self.first_codes]

    @property
    def first_code_set(self) -> frozenset[str]:
        return frozenset(self.first_code_list)

    @property
    def second_code_set(self) -> frozenset[str] | None:
        """None while the second coder has not coded the item."""
        return frozenset(self.second_codes) if self.second_coded_at is not None else None

    @property
    def is_done(self) -> bool:
        return self.second_coded_at is not None

    @property
    def differs(self) -> bool:
        """Both coded it, with different sets of full codes."""
        return self.is_done and self.first_code_set != frozenset(self.second_codes)

    def first_coder_ids(self) -> set[int]:
        return {int(e["coded_by"]) for e in self.first_codes if e.get("coded_by") is not None}


class Decision(models.TextChoices):
    FIRST = "first", _("keep the first coding")
    SECOND = "second", _("keep the second coding")
    OTHER = "other", _("other codes")


class Adjudication(models.Model):
    """How a disagreement was settled; the decided codes became the criterion's codes."""

    item = models.OneToOneField(SampleItem, on_delete=models.CASCADE, related_name="adjudication")
    decision = models.CharField(_("decision"), max_length=10, choices=Decision.choices)
    codes = models.JSONField(default=list)  # the codes decided, as full codes
    # False when the criterion already carried exactly these codes: nothing was rewritten.
    applied = models.BooleanField(default=False)
    note = models.TextField(_("note"), blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    decided_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("adjudication")
        verbose_name_plural = _("adjudications")
        ordering = ["-decided_at", "-pk"]

    def __str__(self) -> str:
        return f"{self.item_id}: {self.decision}"
