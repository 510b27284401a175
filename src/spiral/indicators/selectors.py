"""Reading indicators and evaluation results: distributions over the 5 levels, medians, by rater
and by profile (small-numbers rule), radar data and before/after comparisons.

Results are one GROUP BY over the ratings of an evaluation, read through a covering index; the
figures shown are exactly the counts of the rows."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.db.models import Count, QuerySet

from spiral.coding.models import Coding
from spiral.consultations.models import Criterion, GroupProfile
from spiral.indicators.models import (
    LEVELS,
    Evaluation,
    Indicator,
    Level,
    RaterKind,
    Rating,
    SurveyResponse,
)
from spiral.indicators.services import indicator_lineage_id
from spiral.territories.models import Territory


def median_of_counts(counts: dict[int, int]) -> float | None:
    """The median level of a distribution (the mean of the two middle answers when even)."""
    total = sum(counts.values())
    if not total:
        return None
    middle = [(total - 1) // 2, total // 2]
    values: list[int] = []
    seen = 0
    for level in LEVELS:
        n = counts.get(level, 0)
        for position in middle:
            if seen <= position < seen + n:
                values.append(level)
        seen += n
    return sum(values) / len(values)


@dataclass
class Distribution:
    counts: dict[int, int] = field(default_factory=lambda: dict.fromkeys(LEVELS, 0))

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    @property
    def median(self) -> float | None:
        return median_of_counts(self.counts)

    def rows(self) -> list[tuple[int, str, int]]:
        return [(level, str(Level(level).label), self.counts[level]) for level in LEVELS]

    def share(self, level: int) -> float | None:
        return self.counts[level] / self.total if self.total else None


@dataclass
class ProfileLine:
    profile: GroupProfile | None
    distribution: Distribution
    hidden: bool  # fewer answers than the small-numbers threshold, for a public viewer


@dataclass
class IndicatorResult:
    indicator: Indicator
    all: Distribution
    by_rater: dict[str, Distribution]
    by_profile: list[ProfileLine]


@dataclass
class EvaluationResults:
    evaluation: Evaluation
    indicators: list[IndicatorResult]
    respondents: int  # self-survey answers

    @property
    def has_ratings(self) -> bool:
        return any(r.all.total for r in self.indicators)


def evaluation_indicators(evaluation: Evaluation) -> list[Indicator]:
    return list(evaluation.indicators.order_by("title", "pk").prefetch_related("levels"))


def evaluation_results(*, evaluation: Evaluation, show_small: bool) -> EvaluationResults:
    """Everything the results page shows, from two GROUP BY queries over the ratings."""
    indicators = evaluation_indicators(evaluation)
    by_rater: dict[int, dict[str, Distribution]] = {i.pk: {} for i in indicators}
    rows = (
        Rating.objects.filter(evaluation=evaluation)
        .values_list("indicator_id", "rater", "level")
        .annotate(n=Count("pk"))
        .order_by()
    )
    for indicator_id, rater, level, n in rows:
        if indicator_id in by_rater:
            by_rater[indicator_id].setdefault(rater, Distribution()).counts[level] += n
    profile_rows = (
        Rating.objects.filter(evaluation=evaluation, profile__isnull=False)
        .values_list("indicator_id", "profile_id", "level")
        .annotate(n=Count("pk"))
        .order_by()
    )
    by_profile: dict[int, dict[int, Distribution]] = {i.pk: {} for i in indicators}
    for indicator_id, profile_id, level, n in profile_rows:
        if indicator_id in by_profile:
            by_profile[indicator_id].setdefault(profile_id, Distribution()).counts[level] += n
    profiles = GroupProfile.objects.in_bulk({pk for lines in by_profile.values() for pk in lines})
    threshold = settings.SPIRAL_SMALL_NUMBERS_THRESHOLD
    results = []
    for indicator in indicators:
        overall = Distribution()
        for distribution in by_rater[indicator.pk].values():
            for level, n in distribution.counts.items():
                overall.counts[level] += n
        lines = [
            ProfileLine(
                profile=profiles.get(profile_id),
                distribution=distribution,
                hidden=not show_small and distribution.total < threshold,
            )
            for profile_id, distribution in sorted(
                by_profile[indicator.pk].items(),
                key=lambda item: profiles[item[0]].position if item[0] in profiles else 0,
            )
        ]
        ordered = {
            rater: by_rater[indicator.pk][rater]
            for rater in RaterKind.values
            if rater in by_rater[indicator.pk]
        }
        results.append(
            IndicatorResult(indicator=indicator, all=overall, by_rater=ordered, by_profile=lines)
        )
    return EvaluationResults(
        evaluation=evaluation,
        indicators=results,
        respondents=SurveyResponse.objects.filter(evaluation=evaluation).count(),
    )


@dataclass(frozen=True)
class ComparisonLine:
    before: IndicatorResult | None
    after: IndicatorResult
    title: str

    @property
    def change(self) -> float | None:
        if self.before is None or self.before.all.median is None or self.after.all.median is None:
            return None
        return self.after.all.median - self.before.all.median


def evaluation_comparison(
    *, before: EvaluationResults, after: EvaluationResults
) -> list[ComparisonLine]:
    """Indicator by indicator (any version of the same indicator matches), where it moved."""
    earlier = {indicator_lineage_id(r.indicator): r for r in before.indicators}
    return [
        ComparisonLine(
            before=earlier.get(indicator_lineage_id(r.indicator)),
            after=r,
            title=r.indicator.title,
        )
        for r in after.indicators
    ]


# --- indicators -------------------------------------------------------------------------------


def indicators_of_territory(*, territory: Territory) -> QuerySet[Indicator]:
    return Indicator.objects.of_territory(territory.pk).current().prefetch_related("components")


def shared_indicators(*, exclude_territory: Territory | None = None) -> QuerySet[Indicator]:
    shared = Indicator.objects.shared().current().select_related("territory")
    if exclude_territory is not None:
        shared = shared.exclude(territory=exclude_territory)
    return shared.order_by("title")


def criteria_for_components(
    *, territory: Territory, component_ids: list[int]
) -> QuerySet[Criterion]:
    """The territory's criteria currently coded in one of these components."""
    coded = Coding.objects.current().filter(component_id__in=component_ids)
    return (
        Criterion.objects.in_subtree(territory.pk)
        .filter(pk__in=coded.values("criterion_id"))
        .select_related("question", "group__profile")
        .order_by("question__position", "pk")
    )


def indicator_versions(*, indicator: Indicator) -> list[Indicator]:
    """Every version of the indicator, the latest first."""
    versions = [indicator]
    current = indicator.previous
    while current is not None:
        versions.append(current)
        current = current.previous
    later: Any = getattr(indicator, "superseded_by", None)
    while later is not None:
        versions.insert(0, later)
        later = getattr(later, "superseded_by", None)
    return versions


def evaluations_of_territory(*, territory: Territory) -> QuerySet[Evaluation]:
    return (
        Evaluation.objects.of_territory(territory.pk)
        .annotate(respondents=Count("responses", distinct=True))
        .order_by("-held_on", "-pk")
    )


# --- the phase dashboard's map ------------------------------------------------------------------


@dataclass(frozen=True)
class PhaseItem:
    label: str
    done: bool
    url: str = ""
    hint: str = ""


def phase_progress_map(
    *, territory: Territory, can_manage: bool, can_close: bool
) -> dict[int, list[PhaseItem]]:
    """For phases 3 to 8 of the current cycle: what the territory has and what is missing, each
    with the page where it is seen or made (the page to make it only for those who may)."""
    from django.urls import reverse
    from django.utils.translation import gettext as _
    from django.utils.translation import ngettext

    from spiral.actions.models import (
        Action,
        ActionReview,
        ActionStatus,
        Commitment,
        CycleArchive,
        ProgressNote,
        StrategicAxis,
    )

    slug = territory.slug
    cycle = territory.cycle
    indicators_url = reverse("indicators:territory", kwargs={"slug": slug})
    actions_url = reverse("actions:territory", kwargs={"slug": slug})
    indicators = Indicator.objects.of_territory(territory.pk).current().count()
    evaluations = Evaluation.objects.of_territory(territory.pk).filter(cycle=cycle)
    ex_ante = evaluations.filter(kind="ex_ante").count()
    ex_post = evaluations.filter(kind="ex_post").count()
    answers = SurveyResponse.objects.filter(evaluation__in=evaluations).count()
    actions = Action.objects.of_territory(territory.pk).filter(cycle=cycle)
    status_counts = dict(actions.values_list("status").annotate(n=Count("pk")).order_by())
    decided = sum(
        status_counts.get(s, 0)
        for s in (ActionStatus.DECIDED, ActionStatus.IN_PROGRESS, ActionStatus.DONE)
    )
    running = status_counts.get(ActionStatus.IN_PROGRESS, 0) + status_counts.get(
        ActionStatus.DONE, 0
    )
    candidates = status_counts.get(ActionStatus.CANDIDATE, 0)
    axes = StrategicAxis.objects.filter(territory=territory, cycle=cycle).count()
    commitments = Commitment.objects.filter(action__in=actions).count()
    pilots = actions.filter(is_pilot=True).exclude(status=ActionStatus.CANDIDATE).count()
    notes = ProgressNote.objects.filter(action__in=actions).count()
    reviews = ActionReview.objects.filter(action__in=actions)
    lessons = reviews.exclude(lessons="").count()
    archives = CycleArchive.objects.filter(territory=territory).count()

    def make(url_name: str, **kwargs: Any) -> str:
        return reverse(url_name, kwargs=kwargs or {"slug": slug}) if can_manage else ""

    return {
        3: [
            PhaseItem(
                ngettext("%(n)s progress indicator", "%(n)s progress indicators", indicators)
                % {"n": indicators}
                if indicators
                else _("No progress indicator yet"),
                bool(indicators),
                indicators_url if indicators else make("indicators:indicator_new"),
            ),
            PhaseItem(
                ngettext("%(n)s ex-ante co-evaluation", "%(n)s ex-ante co-evaluations", ex_ante)
                % {"n": ex_ante}
                if ex_ante
                else _("No ex-ante co-evaluation yet"),
                bool(ex_ante),
                indicators_url if ex_ante else make("indicators:evaluation_new"),
                ngettext("%(n)s self-survey answer", "%(n)s self-survey answers", answers)
                % {"n": answers},
            ),
        ],
        4: [
            PhaseItem(
                ngettext("%(n)s strategic axis", "%(n)s strategic axes", axes) % {"n": axes}
                if axes
                else _("No strategic axis yet"),
                bool(axes),
                actions_url if axes else make("actions:axis_new"),
            ),
            PhaseItem(
                ngettext("%(n)s candidate action", "%(n)s candidate actions", candidates)
                % {"n": candidates}
                if candidates
                else _("No candidate action to compare"),
                bool(candidates) or bool(decided),
                actions_url,
            ),
        ],
        5: [
            PhaseItem(
                ngettext("%(n)s action decided", "%(n)s actions decided", decided) % {"n": decided}
                if decided
                else _("No action decided yet"),
                bool(decided),
                actions_url,
                ngettext("%(n)s commitment", "%(n)s commitments", commitments) % {"n": commitments},
            ),
            PhaseItem(
                ngettext("%(n)s pilot action", "%(n)s pilot actions", pilots) % {"n": pilots}
                if pilots
                else _("No pilot action chosen"),
                bool(pilots),
                actions_url,
            ),
        ],
        6: [
            PhaseItem(
                ngettext(
                    "%(n)s action carried out or under way",
                    "%(n)s actions carried out or under way",
                    running,
                )
                % {"n": running}
                if running
                else _("No action under way"),
                bool(running),
                actions_url,
                ngettext("%(n)s progress note", "%(n)s progress notes", notes) % {"n": notes},
            ),
        ],
        7: [
            PhaseItem(
                ngettext("%(n)s ex-post co-evaluation", "%(n)s ex-post co-evaluations", ex_post)
                % {"n": ex_post}
                if ex_post
                else _("No ex-post co-evaluation yet"),
                bool(ex_post),
                indicators_url if ex_post else actions_url,
            ),
            PhaseItem(
                _("Lessons recorded") if lessons else _("No lessons recorded yet"),
                bool(lessons),
                actions_url,
            ),
        ],
        8: [
            PhaseItem(
                ngettext("%(n)s cycle closed", "%(n)s cycles closed", archives) % {"n": archives}
                if archives
                else _("The cycle is not closed yet"),
                bool(archives),
                reverse("actions:cycle_close", kwargs={"slug": slug}) if can_close else "",
                _("Closing archives this cycle and opens the next one."),
            ),
        ],
    }
