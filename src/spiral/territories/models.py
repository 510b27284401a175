"""Territories (a tree from the network down to neighbourhoods and collective actors), their
coordination groups and their progress through the cycles and phases of the method."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models, transaction
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from tree_queries.models import TreeNode
from tree_queries.query import TreeQuerySet

from spiral.core.i18n import translated
from spiral.core.models import TimeStampedModel

CYCLES = (0, 1, 2, 3)
PHASES = (1, 2, 3, 4, 5, 6, 7, 8)


class TerritoryKind(models.TextChoices):
    NETWORK = "network", _("Network")
    COUNTRY = "country", _("Country")
    REGION = "region", _("Region")
    LOCALITY = "locality", _("Locality")
    NEIGHBOURHOOD = "neighbourhood", _("Neighbourhood")
    COLLECTIVE_ACTOR = "collective_actor", _("Collective actor")


class ActorType(models.TextChoices):
    SCHOOL = "school", _("School")
    HOSPITAL = "hospital", _("Hospital")
    FIRM = "firm", _("Firm")
    ASSOCIATION = "association", _("Association")
    PUBLIC_BODY = "public_body", _("Public body")
    OTHER = "other", _("Other")


class TerritoryQuerySet(TreeQuerySet):
    def public(self) -> TerritoryQuerySet:
        return self.filter(is_public=True)

    def subtree_of(self, territory: Territory | int) -> TerritoryQuerySet:
        """The territory and all its descendants, through the closure table (no recursion)."""
        territory_id = territory if isinstance(territory, int) else territory.pk
        return self.filter(ancestor_links__ancestor_id=territory_id)


class Territory(TreeNode, TimeStampedModel):
    name = models.CharField(_("name"), max_length=200)
    slug = models.SlugField(_("short name in addresses"), max_length=120, unique=True)
    kind = models.CharField(_("kind"), max_length=20, choices=TerritoryKind.choices)
    actor_type = models.CharField(
        _("type of collective actor"), max_length=20, choices=ActorType.choices, blank=True
    )
    country_code = models.CharField(_("country code"), max_length=2, blank=True)
    language = models.CharField(_("working language"), max_length=8, default="fr")
    description = models.TextField(
        _("description"), blank=True, help_text=_("Markdown: **bold**, *italics*, lists, links.")
    )
    is_public = models.BooleanField(
        _("public page"), default=True, help_text=_("Anyone can see the page and its figures.")
    )
    grid_version = models.ForeignKey(
        "grid.GridVersion",
        verbose_name=_("grid version"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="territories",
        help_text=_("Empty: the version of the parent territory, or the network's default."),
    )
    cycle = models.PositiveSmallIntegerField(
        _("current cycle"), default=1, validators=[MinValueValidator(0), MaxValueValidator(3)]
    )
    phase = models.PositiveSmallIntegerField(
        _("current phase"), default=1, validators=[MinValueValidator(1), MaxValueValidator(8)]
    )

    objects = TerritoryQuerySet.as_manager()

    class Meta:
        verbose_name = _("territory")
        verbose_name_plural = _("territories")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("territories:detail", kwargs={"slug": self.slug})

    def save(self, *args: Any, **kwargs: Any) -> None:
        previous_parent_id = (
            type(self).objects.filter(pk=self.pk).values_list("parent_id", flat=True).first()
            if self.pk
            else None
        )
        is_new = self._state.adding
        moved_below_itself = (
            not is_new
            and self.parent_id
            and previous_parent_id != self.parent_id
            and TerritoryLink.objects.filter(
                territory_id=self.parent_id, ancestor_id=self.pk
            ).exists()
        )
        if moved_below_itself:
            # A cycle would make the tree queries recurse for ever: refuse it at the source.
            raise ValidationError(
                _("A territory cannot be placed below itself or its descendants.")
            )
        with transaction.atomic():
            old_ancestors = [] if is_new else self.ancestor_ids()
            super().save(*args, **kwargs)
            if is_new or previous_parent_id != self.parent_id:
                rebuild_closure(self)
            if not is_new and previous_parent_id != self.parent_id:
                from spiral.syntheses.rollups import subtree_cells_rebuild

                # The figures of the old and new ancestors no longer sum the same territories.
                subtree_cells_rebuild(territory_ids=[*old_ancestors, *self.ancestor_ids()])

    def ancestor_ids(self) -> list[int]:
        """Ids from the root down to this territory, itself included."""
        links = TerritoryLink.objects.filter(territory=self).order_by("-depth")
        return list(links.values_list("ancestor_id", flat=True))

    def effective_grid_version_id(self) -> int | None:
        """The grid version this territory codes with: its own, an ancestor's or the default."""
        from spiral.grid.models import GridVersion

        own = (
            Territory.objects.filter(descendant_links__territory=self, grid_version__isnull=False)
            .order_by("descendant_links__depth")
            .values_list("grid_version_id", flat=True)
            .first()
        )
        if own:
            return int(own)
        default = GridVersion.objects.default()
        return default.pk if default else None


class TerritoryLink(models.Model):
    """Closure table: one row per (ancestor, descendant) pair, the pair (t, t) included.

    Aggregating criteria over a territory and everything below it becomes a plain join, on
    SQLite and PostgreSQL alike, without recursive queries on hot paths."""

    territory = models.ForeignKey(
        Territory, on_delete=models.CASCADE, related_name="ancestor_links"
    )
    ancestor = models.ForeignKey(
        Territory, on_delete=models.CASCADE, related_name="descendant_links"
    )
    depth = models.PositiveSmallIntegerField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["territory", "ancestor"], name="unique_territory_link")
        ]
        indexes = [models.Index(fields=["ancestor", "territory"], name="territory_link_ancestor")]

    def __str__(self) -> str:
        return f"{self.ancestor_id} > {self.territory_id} ({self.depth})"


def rebuild_closure(territory: Territory) -> None:
    """Recompute the closure rows of a territory and its whole subtree (after create or move)."""
    subtree = list(
        Territory.objects.descendants(territory, include_self=True).values_list("pk", "parent_id")
    )
    subtree_ids = [pk for pk, _parent in subtree]
    TerritoryLink.objects.filter(territory_id__in=subtree_ids).delete()
    above = list(Territory.objects.ancestors(territory).values_list("pk", flat=True))  # root first
    parent_of = dict(subtree)
    rows: list[TerritoryLink] = []
    for pk in subtree_ids:
        chain = [pk]
        node = parent_of.get(pk)
        while node is not None and node in parent_of:
            chain.append(node)
            node = parent_of[node]
        chain.extend(reversed(above))
        rows.extend(
            TerritoryLink(territory_id=pk, ancestor_id=ancestor_id, depth=depth)
            for depth, ancestor_id in enumerate(chain)
        )
    TerritoryLink.objects.bulk_create(rows, batch_size=1000)


class CoordinationGroup(TimeStampedModel):
    """The multi-actor platform (plateforme multi-acteurs) that runs SPIRAL for a territory."""

    territory = models.OneToOneField(
        Territory, on_delete=models.CASCADE, related_name="coordination_group"
    )
    name = models.CharField(_("name"), max_length=200, blank=True)
    established_on = models.DateField(_("set up on"), null=True, blank=True)
    charter = models.TextField(_("charter or statutes"), blank=True)

    class Meta:
        verbose_name = _("coordination group")
        verbose_name_plural = _("coordination groups")

    def __str__(self) -> str:
        return self.name or str(
            _("Coordination group of %(territory)s") % {"territory": self.territory}
        )


class Sector(models.TextChoices):
    PUBLIC = "public", _("Public body")
    PRIVATE = "private", _("Private sector")
    ASSOCIATION = "association", _("Association")
    CITIZEN = "citizen", _("Citizen")


class CoordinationMemberQuerySet(models.QuerySet["CoordinationMember"]):
    def shown_publicly(self) -> CoordinationMemberQuerySet:
        return self.filter(show_publicly=True)


class CoordinationMember(TimeStampedModel):
    group = models.ForeignKey(CoordinationGroup, on_delete=models.CASCADE, related_name="members")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    display_name = models.CharField(_("name"), max_length=150)
    organisation = models.CharField(_("organisation"), max_length=200, blank=True)
    sector = models.CharField(_("sector"), max_length=20, choices=Sector.choices)
    role_label = models.CharField(_("role in the group"), max_length=120, blank=True)
    show_publicly = models.BooleanField(_("agrees to be named on the public page"), default=False)

    objects = CoordinationMemberQuerySet.as_manager()

    class Meta:
        verbose_name = _("coordination group member")
        verbose_name_plural = _("coordination group members")
        ordering = ["display_name"]

    def __str__(self) -> str:
        return self.display_name


class PhaseStep(models.Model):
    """A step of a phase of the method, from the data file; some are measured by the platform."""

    phase = models.PositiveSmallIntegerField(_("phase"))
    key = models.SlugField(_("key"), max_length=60, unique=True)
    position = models.PositiveSmallIntegerField(default=0)
    label_fr = models.CharField(max_length=200)
    label_en = models.CharField(max_length=200)
    help_fr = models.TextField(blank=True)
    help_en = models.TextField(blank=True)
    metric = models.CharField(
        _("measure"), max_length=40, blank=True, help_text=_("Measured by the platform when set.")
    )
    source_url = models.TextField(blank=True)

    class Meta:
        verbose_name = _("phase step")
        verbose_name_plural = _("phase steps")
        ordering = ["phase", "position"]

    def __str__(self) -> str:
        return f"{self.phase}. {self.label}"

    @property
    def label(self) -> str:
        return translated(self, "label")

    @property
    def help(self) -> str:
        return translated(self, "help")


class PhaseStepRecord(TimeStampedModel):
    """A coordinator's record that a step was done in a cycle, with a note."""

    territory = models.ForeignKey(Territory, on_delete=models.CASCADE, related_name="phase_records")
    cycle = models.PositiveSmallIntegerField(_("cycle"))
    step = models.ForeignKey(PhaseStep, on_delete=models.CASCADE, related_name="records")
    done_on = models.DateField(_("done on"))
    note = models.TextField(_("note"), blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )

    class Meta:
        verbose_name = _("phase step record")
        verbose_name_plural = _("phase step records")
        constraints = [
            models.UniqueConstraint(
                fields=["territory", "cycle", "step"], name="unique_step_record"
            )
        ]
