"""Reading territories: live counts, the phase dashboard, what a user can see."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db.models import Count, Exists, OuterRef, Q, Sum

from spiral.accounts.models import RoleAssignment
from spiral.coding.models import Coding
from spiral.consultations.models import Criterion, HomogeneousGroup, Meeting
from spiral.core.permissions import is_network_admin
from spiral.territories.models import (
    PHASES,
    CoordinationMember,
    PhaseStep,
    PhaseStepRecord,
    Territory,
    TerritoryLink,
    TerritoryQuerySet,
)


@dataclass(frozen=True)
class TerritoryCounts:
    groups: int
    meetings: int
    criteria: int
    expressions: int
    coded_criteria: int

    @property
    def coded_share(self) -> float | None:
        return self.coded_criteria / self.criteria if self.criteria else None


def territory_counts(*, territory: Territory) -> TerritoryCounts:
    """Counts over the territory and everything below it, from the stored per-territory figures."""
    return subtree_counts(territory_ids=[territory.pk])[territory.pk]


def subtree_counts(*, territory_ids: list[int]) -> dict[int, TerritoryCounts]:
    """For each territory, the sums of its own and its descendants' figures (one query)."""
    rows = (
        TerritoryLink.objects.filter(ancestor_id__in=territory_ids)
        .values("ancestor_id")
        .annotate(
            groups=Sum("territory__stats__groups"),
            meetings=Sum("territory__stats__meetings"),
            criteria=Sum("territory__stats__criteria"),
            expressions=Sum("territory__stats__expressions"),
            coded=Sum("territory__stats__coded_criteria"),
        )
    )
    counts = {pk: TerritoryCounts(0, 0, 0, 0, 0) for pk in territory_ids}
    for row in rows:
        counts[row["ancestor_id"]] = TerritoryCounts(
            groups=row["groups"] or 0,
            meetings=row["meetings"] or 0,
            criteria=row["criteria"] or 0,
            expressions=row["expressions"] or 0,
            coded_criteria=row["coded"] or 0,
        )
    return counts


def territory_counts_from_rows(*, territory: Territory) -> TerritoryCounts:
    """The same figures computed from the raw rows: the reference the stored figures must equal."""
    criteria = Criterion.objects.filter(territory__ancestor_links__ancestor_id=territory.pk)
    totals = criteria.aggregate(criteria=Count("pk"), expressions=Sum("expressions"))
    coded = criteria.filter(
        Exists(Coding.objects.filter(criterion_id=OuterRef("pk"), superseded_at__isnull=True))
    ).count()
    groups = HomogeneousGroup.objects.in_subtree(territory.pk).active()
    return TerritoryCounts(
        groups=groups.count(),
        meetings=Meeting.objects.filter(group__in=groups).count(),
        criteria=totals["criteria"] or 0,
        expressions=totals["expressions"] or 0,
        coded_criteria=coded,
    )


def territory_ancestors(*, territory: Territory) -> list[Territory]:
    """From the root down to the parent, for breadcrumbs."""
    return list(
        Territory.objects.filter(
            descendant_links__territory=territory, descendant_links__depth__gt=0
        ).order_by("-descendant_links__depth")
    )


def territory_children(
    *, territory: Territory, user: Any
) -> list[tuple[Territory, TerritoryCounts]]:
    """The visible territories just below, each with the figures of its own subtree."""
    children = list(
        visible_territories(user=user).filter(parent=territory).order_by("kind", "name")
    )
    counts = subtree_counts(territory_ids=[child.pk for child in children])
    return [(child, counts[child.pk]) for child in children]


def visible_territories(*, user: Any) -> TerritoryQuerySet:
    """Public territories, plus private ones under a territory where the user holds a role."""
    if is_network_admin(user):
        return Territory.objects.all()
    if user is None or not user.is_authenticated:
        return Territory.objects.public()
    role_territories = RoleAssignment.objects.filter(user=user).values("territory_id")
    return Territory.objects.filter(
        Q(is_public=True) | Q(ancestor_links__ancestor_id__in=role_territories)
    ).distinct()


def territories_of_user(*, user: Any) -> TerritoryQuerySet:
    """Territories where the user holds a role directly (where their work is)."""
    return Territory.objects.filter(role_assignments__user=user).distinct().order_by("name")


@dataclass(frozen=True)
class StepStatus:
    step: PhaseStep
    measured: str  # a figure the platform computed, or ""
    done: bool
    record: PhaseStepRecord | None


@dataclass(frozen=True)
class PhaseStatus:
    phase: int
    label: str
    description: str
    steps: list[StepStatus]
    is_current: bool

    @property
    def done_count(self) -> int:
        return sum(1 for s in self.steps if s.done)


def _metrics(territory: Territory) -> dict[str, tuple[str, bool]]:
    counts = territory_counts(territory=territory)
    groups = HomogeneousGroup.objects.in_subtree(territory.pk).active()
    with_facilitators = groups.annotate(n=Count("facilitators")).filter(n__gt=0).count()
    members = CoordinationMember.objects.filter(group__territory=territory).count()
    share = counts.coded_share
    return {
        "coordination_members": (str(members), members >= 3),
        "groups": (str(counts.groups), counts.groups > 0),
        "groups_with_facilitators": (
            f"{with_facilitators}/{counts.groups}",
            counts.groups > 0 and with_facilitators == counts.groups,
        ),
        "meetings": (str(counts.meetings), counts.meetings > 0),
        "criteria": (str(counts.criteria), counts.criteria > 0),
        "coded_share": (f"{round(100 * share)} %" if share is not None else "–", share == 1.0),
    }


def phase_dashboard(*, territory: Territory, cycle: int | None = None) -> list[PhaseStatus]:
    """The 8 phases of the current cycle with each step's state: measured or recorded."""
    from spiral.territories.method import phase_texts

    cycle = territory.cycle if cycle is None else cycle
    metrics = _metrics(territory)
    records = {
        r.step_id: r
        for r in PhaseStepRecord.objects.filter(territory=territory, cycle=cycle).select_related(
            "recorded_by"
        )
    }
    steps_by_phase: dict[int, list[StepStatus]] = {phase: [] for phase in PHASES}
    for step in PhaseStep.objects.all():
        record = records.get(step.pk)
        measured, measured_done = metrics.get(step.metric, ("", False))
        steps_by_phase.setdefault(step.phase, []).append(
            StepStatus(
                step=step, measured=measured, done=bool(record) or measured_done, record=record
            )
        )
    texts = phase_texts()
    return [
        PhaseStatus(
            phase=phase,
            label=texts[phase][0] if phase in texts else str(phase),
            description=texts[phase][1] if phase in texts else "",
            steps=steps_by_phase.get(phase, []),
            is_current=phase == territory.phase,
        )
        for phase in PHASES
    ]


def public_coordination_members(*, territory: Territory) -> list[CoordinationMember]:
    return list(
        CoordinationMember.objects.shown_publicly()
        .filter(group__territory=territory)
        .order_by("sector", "display_name")
    )
