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
    Category,
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
    # The coordination group's and each homogeneous group's level, with why: decided together
    # in a meeting, they are read one by one, not only counted.
    panel: list[Rating] = field(default_factory=list)


@dataclass
class EvaluationResults:
    evaluation: Evaluation
    indicators: list[IndicatorResult]
    respondents: int  # self-survey answers

    @property
    def has_ratings(self) -> bool:
        return any(r.all.total for r in self.indicators)


def protect_by_subtraction(lines: list[ProfileLine], *, citizens: int, threshold: int) -> None:
    """Hide more profiles when the hidden ones could be read by subtraction.

    The citizens' total is public, so citizens minus the profiles shown gives the hidden profiles
    together (with the answers that gave no profile). While that remainder is not empty and
    smaller than the threshold, the smallest profile still shown is hidden too."""
    if not any(line.hidden for line in lines):
        return  # answers without a profile may be read by subtraction: they told nothing
    shown = sorted(
        (line for line in lines if not line.hidden), key=lambda one: one.distribution.total
    )
    remainder = citizens - sum(line.distribution.total for line in shown)
    while shown and remainder < threshold:
        line = shown.pop(0)
        line.hidden = True
        remainder += line.distribution.total


def recorded_raters(*, evaluation: Evaluation) -> dict[str, list[Rating]]:
    """The ratings decided in meetings, by the rater value of the rating form ("coordination",
    "group-<id>"), so that a group's earlier rating can be reopened and corrected."""
    found: dict[str, list[Rating]] = {}
    for rating in Rating.objects.filter(evaluation=evaluation, response__isnull=True).exclude(
        rater=RaterKind.CITIZEN
    ):
        key = f"group-{rating.group_id}" if rating.group_id else "coordination"
        found.setdefault(key, []).append(rating)
    return found


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
        # People's answers only: a group's rating is one decision of 7-12 people, shown apart.
        Rating.objects.filter(evaluation=evaluation, profile__isnull=False, rater=RaterKind.CITIZEN)
        .values_list("indicator_id", "profile_id", "level")
        .annotate(n=Count("pk"))
        .order_by()
    )
    by_profile: dict[int, dict[int, Distribution]] = {i.pk: {} for i in indicators}
    for indicator_id, profile_id, level, n in profile_rows:
        if indicator_id in by_profile:
            by_profile[indicator_id].setdefault(profile_id, Distribution()).counts[level] += n
    profiles = GroupProfile.objects.in_bulk({pk for lines in by_profile.values() for pk in lines})
    panel: dict[int, list[Rating]] = {i.pk: [] for i in indicators}
    for rating in (
        Rating.objects.filter(evaluation=evaluation, response__isnull=True)
        .exclude(rater=RaterKind.CITIZEN)
        .select_related("group")
        .order_by("rater", "group__name", "pk")
    ):
        if rating.indicator_id in panel:
            panel[rating.indicator_id].append(rating)
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
        if not show_small:
            citizens = by_rater[indicator.pk].get(RaterKind.CITIZEN, Distribution()).total
            protect_by_subtraction(lines, citizens=citizens, threshold=threshold)
        ordered = {
            rater: by_rater[indicator.pk][rater]
            for rater in RaterKind.values
            if rater in by_rater[indicator.pk]
        }
        results.append(
            IndicatorResult(
                indicator=indicator,
                all=overall,
                by_rater=ordered,
                by_profile=lines,
                panel=panel[indicator.pk],
            )
        )
    return EvaluationResults(
        evaluation=evaluation,
        indicators=results,
        respondents=SurveyResponse.objects.filter(evaluation=evaluation).count(),
    )


def source_distribution(result: IndicatorResult, source: str = "") -> Distribution:
    """All ratings of an indicator, or only those of one source (coordination, groups, citizens)."""
    if not source:
        return result.all
    return result.by_rater.get(source) or Distribution()


@dataclass(frozen=True)
class ComparisonLine:
    before: Distribution | None
    after: Distribution
    title: str

    @property
    def change(self) -> float | None:
        if self.before is None or self.before.median is None or self.after.median is None:
            return None
        return self.after.median - self.before.median


def evaluation_comparison(
    *, before: EvaluationResults, after: EvaluationResults, source: str = ""
) -> list[ComparisonLine]:
    """Indicator by indicator (any version of the same indicator matches), where it moved;
    with a source, only that source's ratings on both sides, so like is compared with like."""
    earlier = {indicator_lineage_id(r.indicator): r for r in before.indicators}
    lines = []
    for r in after.indicators:
        match = earlier.get(indicator_lineage_id(r.indicator))
        lines.append(
            ComparisonLine(
                before=source_distribution(match, source) if match is not None else None,
                after=source_distribution(r, source),
                title=r.indicator.title,
            )
        )
    return lines


def rating_sources(results: EvaluationResults) -> dict[str, int]:
    """How many ratings each source gave in an evaluation (to say when two differ)."""
    totals: dict[str, int] = {}
    for r in results.indicators:
        for rater, distribution in r.by_rater.items():
            totals[rater] = totals.get(rater, 0) + distribution.total
    return {rater: n for rater, n in totals.items() if n}


# --- indicators -------------------------------------------------------------------------------


def indicators_of_territory(*, territory: Territory) -> QuerySet[Indicator]:
    return Indicator.objects.of_territory(territory.pk).current().prefetch_related("components")


REUSE_TARGETS_SHOWN = 200


def reuse_territories(*, user: Any, exclude: Territory) -> list[Territory]:
    """Where a user may copy a shared indicator: the territories of their roles and those below
    (a coordinator of a town also runs its neighbourhoods), first ones by name."""
    from spiral.territories.selectors import territories_of_user

    roots = list(territories_of_user(user=user).values_list("pk", flat=True))
    if not roots:
        return []
    return list(
        Territory.objects.filter(ancestor_links__ancestor_id__in=roots)
        .exclude(pk=exclude.pk)
        .distinct()
        .order_by("name")[:REUSE_TARGETS_SHOWN]
    )


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


def criteria_by_category(*, indicator: Indicator) -> list[tuple[str, list[Criterion]]]:
    """The indicator's criteria grouped by category, in the method's order (possibility first:
    each category is one step up the scale), not in the alphabetical order of their codes."""
    grouped: dict[str, list[Criterion]] = {value: [] for value in Category.values}
    for row in indicator.sorted.select_related("criterion").order_by("criterion_id"):
        grouped[row.category].append(row.criterion)
    return [(str(Category(value).label), rows) for value, rows in grouped.items() if rows]


@dataclass(frozen=True)
class RatedIn:
    evaluation: Evaluation
    median: float | None
    total: int


def indicator_evaluations(*, indicator: Indicator) -> list[RatedIn]:
    """The co-evaluations of any version of this indicator, latest first, with its median."""
    lineage = [v.pk for v in indicator_versions(indicator=indicator)]
    evaluations = list(
        Evaluation.objects.filter(indicators__in=lineage).distinct().order_by("-held_on", "-pk")
    )
    counts: dict[int, dict[int, int]] = {e.pk: dict.fromkeys(LEVELS, 0) for e in evaluations}
    rows = (
        Rating.objects.filter(evaluation__in=evaluations, indicator_id__in=lineage)
        .values_list("evaluation_id", "level")
        .annotate(n=Count("pk"))
        .order_by()
    )
    for evaluation_id, level, n in rows:
        counts[evaluation_id][level] += n
    return [
        RatedIn(e, median_of_counts(counts[e.pk]), sum(counts[e.pk].values())) for e in evaluations
    ]


# The sense category a coder gave (P, O, Q, S) is the indicator category of the method; R
# (opposition) is not one of the four.
SENSE_TO_CATEGORY = {
    "P": Category.POSSIBILITY,
    "O": Category.ATTAINMENT,
    "Q": Category.QUALITY,
    "S": Category.SUSTAINABILITY,
}


def categories_from_coding(*, criterion_ids: list[int], component_ids: list[int]) -> dict[int, str]:
    """The category each criterion's coding already says (its sense letter), to start from."""
    rows = (
        Coding.objects.current()
        .filter(
            criterion_id__in=criterion_ids,
            component_id__in=component_ids,
            sense_category__isnull=False,
        )
        .values_list("criterion_id", "sense_category__code")
        .order_by("criterion_id", "pk")
    )
    found: dict[int, str] = {}
    for criterion_id, code in rows:
        category = SENSE_TO_CATEGORY.get((code or "")[:1].upper())
        if category is not None:
            found.setdefault(criterion_id, category.value)
    return found


def component_criteria_counts(*, territory: Territory) -> dict[int, int]:
    """How many of the territory's criteria are coded in each component (one GROUP BY)."""
    rows = (
        Coding.objects.current()
        .filter(criterion__in=Criterion.objects.in_subtree(territory.pk))
        .values_list("component_id")
        .annotate(n=Count("criterion_id", distinct=True))
        .order_by()
    )
    return dict(rows)


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
    archives = CycleArchive.objects.filter(territory=territory).count()
    # Carried-over actions keep their notes and reviews; this cycle's map counts only what was
    # written since the last cycle was closed.
    last_closed = (
        CycleArchive.objects.filter(territory=territory)
        .order_by("-closed_at")
        .values_list("closed_at", flat=True)
        .first()
    )
    notes_qs = ProgressNote.objects.filter(action__in=actions)
    reviews = ActionReview.objects.filter(action__in=actions)
    if last_closed is not None:
        notes_qs = notes_qs.filter(written_on__gte=last_closed.date())
        reviews = reviews.filter(created_at__gt=last_closed)
    notes = notes_qs.count()
    lessons = reviews.exclude(lessons="").count()

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
                else (
                    _("Every candidate action was decided")
                    if decided
                    else _("No candidate action to compare")
                ),
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
