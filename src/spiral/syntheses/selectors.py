"""Syntheses: criteria and expressions by dimension and component of the grid, split by question,
for a territory and everything below it, a group or a meeting, with filters.

Territory syntheses with at most one of the profile / language / period filters read the stored
figures (SynthesisCell, a few hundred rows whatever the size of the database); other scopes and
combined filters are computed from the raw rows by ``figures_from_rows``, which is also the
reference the tests compare the stored figures with."""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from django.conf import settings
from django.db.models import Q, QuerySet, Sum
from django.utils.translation import pgettext

from spiral.coding.models import Coding
from spiral.consultations.models import (
    Criterion,
    GroupProfile,
    HomogeneousGroup,
    Meeting,
    QuestionKind,
)
from spiral.core.languages import language_name
from spiral.grid.models import Component, Dimension, GridVersion
from spiral.grid.selectors import grid_structure
from spiral.syntheses.models import Facet, Level, SynthesisCell
from spiral.syntheses.rollups import Figures, figures_sum
from spiral.territories.models import Territory

MONTH_RE = re.compile(r"^\d{4}-(0[1-9]|1[0-2])$")


@dataclass(frozen=True)
class SynthesisFilters:
    """Filters of a synthesis; empty strings mean "all"."""

    question_kind: str = ""
    profile: str = ""  # group profile code
    language: str = ""
    period_start: str = ""  # "YYYY-MM", inclusive
    period_end: str = ""  # "YYYY-MM", inclusive
    grid_version: str = ""  # version code; default: the scope's own version

    def __post_init__(self) -> None:
        for value in (self.period_start, self.period_end):
            if value and not MONTH_RE.match(value):
                raise ValueError(f"period must be YYYY-MM, not {value!r}")
        if self.question_kind and self.question_kind not in QuestionKind.values:
            raise ValueError(f"unknown question kind {self.question_kind!r}")

    @property
    def has_period(self) -> bool:
        return bool(self.period_start or self.period_end)

    @property
    def facets_used(self) -> int:
        return sum(bool(x) for x in (self.profile, self.language, self.has_period))

    def apply_to_criteria(self, criteria: QuerySet[Criterion]) -> QuerySet[Criterion]:
        """The same filters on raw criteria rows."""
        if self.question_kind:
            criteria = criteria.filter(question__kind=self.question_kind)
        if self.profile:
            criteria = criteria.filter(group__profile__code=self.profile)
        if self.language:
            criteria = criteria.filter(language=self.language)
        if self.period_start:
            year, month = map(int, self.period_start.split("-"))
            criteria = criteria.filter(meeting__held_on__gte=date(year, month, 1))
        if self.period_end:
            year, month = map(int, self.period_end.split("-"))
            following = date(year + (month == 12), month % 12 + 1, 1)
            criteria = criteria.filter(meeting__held_on__lt=following)
        return criteria


@dataclass
class Figure:
    criteria: int = 0
    expressions: int = 0

    def add(self, criteria: int, expressions: int) -> None:
        self.criteria += criteria
        self.expressions += expressions


@dataclass
class ItemLine:
    """A dimension or a component: its figures per question kind and in all."""

    code: str
    label: str
    flagged: bool
    item_id: int
    by_kind: dict[str, Figure] = field(default_factory=dict)
    components: list[ItemLine] = field(default_factory=list)

    @property
    def total(self) -> Figure:
        total = Figure()
        for figure in self.by_kind.values():
            total.add(figure.criteria, figure.expressions)
        return total

    def figure(self, kind: str) -> Figure:
        return self.by_kind.get(kind, Figure())


@dataclass
class Synthesis:
    scope_label: str
    filters: SynthesisFilters
    version: GridVersion
    kinds: list[tuple[str, str]]  # question kinds present, with their labels
    totals: dict[str, Figure]  # every criterion, coded or not, per question kind
    coded: dict[str, Figure]  # criteria coded in this version, per question kind
    dimensions: list[ItemLine]
    participants: int
    source: str  # "stored" or "rows": where the figures were read

    @property
    def total(self) -> Figure:
        total = Figure()
        for figure in self.totals.values():
            total.add(figure.criteria, figure.expressions)
        return total

    @property
    def coded_total(self) -> Figure:
        total = Figure()
        for figure in self.coded.values():
            total.add(figure.criteria, figure.expressions)
        return total

    @property
    def uncoded_criteria(self) -> int:
        return self.total.criteria - self.coded_total.criteria

    @property
    def below_small_numbers_threshold(self) -> bool:
        return self.participants < settings.SPIRAL_SMALL_NUMBERS_THRESHOLD

    def share(self, figure: Figure, kind: str = "") -> float | None:
        """Share of the scope's criteria (of one question kind, or all) this figure represents."""
        base = self.totals.get(kind, Figure()).criteria if kind else self.total.criteria
        return figure.criteria / base if base else None

    def as_rows(self) -> list[dict[str, Any]]:
        """Flat rows for CSV, XLSX and the API: one per (dimension or component, question kind)."""
        rows = []
        for dimension in self.dimensions:
            for line, level in [
                (dimension, "dimension"),
                *((c, "component") for c in dimension.components),
            ]:
                for kind, _label in self.kinds:
                    figure = line.figure(kind)
                    rows.append(
                        {
                            "level": level,
                            "code": line.code,
                            "label": line.label,
                            "question": kind,
                            "criteria": figure.criteria,
                            "expressions": figure.expressions,
                            "share_of_question_criteria": self.share(figure, kind),
                            "provisional": line.flagged,
                        }
                    )
        return rows


def _figures_from_cells(territory: Territory, filters: SynthesisFilters) -> Figures:
    cells = SynthesisCell.objects.filter(territory=territory)
    if filters.question_kind:
        cells = cells.filter(question_kind=filters.question_kind)
    if filters.profile:
        cells = cells.filter(facet=Facet.PROFILE, facet_value=filters.profile)
    elif filters.language:
        cells = cells.filter(facet=Facet.LANGUAGE, facet_value=filters.language)
    elif filters.has_period:
        cells = cells.filter(facet=Facet.MONTH)
        if filters.period_start:
            cells = cells.filter(facet_value__gte=filters.period_start)
        if filters.period_end:
            cells = cells.filter(facet_value__lte=filters.period_end)
    else:
        cells = cells.filter(facet=Facet.NONE)
    rows = cells.exclude(level=Level.PARTICIPANTS).values_list(
        "question_kind", "level", "item_id", "criteria", "expressions"
    )
    # Month cells of a period are summed: each criterion lies in exactly one month.
    return figures_sum(
        ((Facet.NONE, "", kind, level, item), (c, e)) for kind, level, item, c, e in rows
    )


def figures_from_rows(criteria: QuerySet[Criterion]) -> Figures:
    """The figures of a set of criteria, computed in Python from the raw rows (the reference)."""
    facts = list(criteria.values_list("pk", "question__kind", "expressions"))
    ids = [pk for pk, _kind, _expressions in facts]
    codings: dict[int, list[tuple[int, int, int]]] = defaultdict(list)
    for start in range(0, len(ids), 5000):
        for criterion_id, component_id, dimension_id, version_id in (
            Coding.objects.current()
            .filter(criterion_id__in=ids[start : start + 5000])
            .values_list(
                "criterion_id", "component_id", "component__dimension_id", "component__version_id"
            )
        ):
            codings[criterion_id].append((component_id, dimension_id, version_id))
    figures: dict[tuple[str, str, str, str, int], list[int]] = defaultdict(lambda: [0, 0])
    for pk, kind, expressions in facts:
        items = {(Level.TOTAL.value, 0)}
        for component_id, dimension_id, version_id in codings.get(pk, []):
            items |= {
                ("component", component_id),
                ("dimension", dimension_id),
                ("coded", version_id),
            }
        for level, item in items:
            cell = figures[(Facet.NONE.value, "", kind, level, item)]
            cell[0] += 1
            cell[1] += expressions
    return {key: (c, e) for key, (c, e) in figures.items()}


def _participants(groups: QuerySet[HomogeneousGroup], filters: SynthesisFilters) -> int:
    if filters.profile:
        groups = groups.filter(profile__code=filters.profile)
    return int(groups.filter(is_archived=False).aggregate(n=Sum("size"))["n"] or 0)


def scope_participants(*, territory: Territory, profile: str = "") -> int:
    """People in the active groups of the territory and below (of one profile, if given), from
    the stored figures."""
    cell = SynthesisCell.objects.filter(
        territory=territory,
        level=Level.PARTICIPANTS,
        facet=Facet.PROFILE if profile else Facet.NONE,
        facet_value=profile,
    ).values_list("criteria", flat=True)
    return int(cell.first() or 0)


def _build(
    *,
    scope_label: str,
    figures: Figures,
    filters: SynthesisFilters,
    version: GridVersion,
    participants: int,
    source: str,
) -> Synthesis:
    by_item: dict[tuple[str, int], dict[str, Figure]] = defaultdict(dict)
    for (_facet, _value, kind, level, item), (criteria, expressions) in figures.items():
        by_item[(level, item)][kind] = Figure(criteria, expressions)
    dimensions = []
    for dimension, components in grid_structure(version=version).dimensions:
        line = ItemLine(
            code=dimension.code,
            label=dimension.label,
            flagged=dimension.is_flagged,
            item_id=dimension.pk,
            by_kind=by_item.get(("dimension", dimension.pk), {}),
            components=[
                ItemLine(
                    code=c.code,
                    label=c.label,
                    flagged=c.is_flagged,
                    item_id=c.pk,
                    by_kind=by_item.get(("component", c.pk), {}),
                )
                for c in components
            ],
        )
        dimensions.append(line)
    totals = by_item.get(("total", 0), {})
    kinds = [(value, str(label)) for value, label in QuestionKind.choices if value in totals]
    return Synthesis(
        scope_label=scope_label,
        filters=filters,
        version=version,
        kinds=kinds,
        totals=totals,
        coded=by_item.get(("coded", version.pk), {}),
        dimensions=dimensions,
        participants=participants,
        source=source,
    )


def _version(filters: SynthesisFilters, fallback_id: int | None) -> GridVersion:
    if filters.grid_version:
        return GridVersion.objects.get(code=filters.grid_version)
    if fallback_id is not None:
        return GridVersion.objects.get(pk=fallback_id)
    version = GridVersion.objects.default()
    if version is None:
        raise GridVersion.DoesNotExist("no grid version")
    return version


def territory_synthesis(
    *, territory: Territory, filters: SynthesisFilters | None = None
) -> Synthesis:
    """The synthesis of a territory and everything below it."""
    filters = filters or SynthesisFilters()
    if filters.facets_used <= 1:
        figures, source = _figures_from_cells(territory, filters), "stored"
    else:
        criteria = filters.apply_to_criteria(Criterion.objects.in_subtree(territory.pk))
        figures, source = figures_from_rows(criteria), "rows"
    return _build(
        scope_label=territory.name,
        figures=figures,
        filters=filters,
        version=_version(filters, territory.effective_grid_version_id()),
        participants=scope_participants(territory=territory, profile=filters.profile),
        source=source,
    )


def group_synthesis(
    *, group: HomogeneousGroup, filters: SynthesisFilters | None = None
) -> Synthesis:
    filters = filters or SynthesisFilters()
    criteria = filters.apply_to_criteria(Criterion.objects.filter(group=group))
    return _build(
        scope_label=group.name,
        figures=figures_from_rows(criteria),
        filters=filters,
        version=_version(filters, group.territory.effective_grid_version_id()),
        participants=_participants(HomogeneousGroup.objects.filter(pk=group.pk), filters),
        source="rows",
    )


def meeting_synthesis(*, meeting: Meeting, filters: SynthesisFilters | None = None) -> Synthesis:
    filters = filters or SynthesisFilters()
    criteria = filters.apply_to_criteria(Criterion.objects.filter(meeting=meeting))
    return _build(
        scope_label=str(meeting),
        figures=figures_from_rows(criteria),
        filters=filters,
        version=_version(filters, meeting.group.territory.effective_grid_version_id()),
        participants=_participants(HomogeneousGroup.objects.filter(pk=meeting.group_id), filters),
        source="rows",
    )


def criteria_behind(
    *,
    criteria: QuerySet[Criterion],
    component: Component | None = None,
    dimension: Dimension | None = None,
) -> QuerySet[Criterion]:
    """The criteria behind a number: those coded in this component (or dimension)."""
    current = Coding.objects.current()
    if component is not None:
        current = current.filter(component=component)
    elif dimension is not None:
        current = current.filter(component__dimension=dimension)
    return (
        criteria.filter(pk__in=current.values("criterion_id"))
        .select_related("group__profile", "territory", "question", "meeting")
        .order_by("territory__name", "group__name", "position", "pk")
    )


def scope_criteria(*, territory: Territory, filters: SynthesisFilters) -> QuerySet[Criterion]:
    return filters.apply_to_criteria(Criterion.objects.in_subtree(territory.pk))


def month_range(start: str, end: str) -> Iterable[str]:
    year, month = map(int, start.split("-"))
    while f"{year:04d}-{month:02d}" <= end:
        yield f"{year:04d}-{month:02d}"
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)


def filter_choices_for(*, territory: Territory) -> dict[str, Any]:
    """Values offered in the filter form: profiles, languages and months present in the scope."""
    facets = (
        SynthesisCell.objects.filter(territory=territory, level=Level.TOTAL)
        .exclude(facet=Facet.NONE)
        .values_list("facet", "facet_value")
        .distinct()
    )
    present: dict[str, set[str]] = defaultdict(set)
    for facet, value in facets:
        present[facet].add(value)
    return {key: sorted(values) for key, values in present.items()}


def active_versions() -> QuerySet[GridVersion]:
    return GridVersion.objects.filter(
        Q(is_default=True) | Q(components__codings__isnull=False)
    ).distinct()


def synthesis_compare_label(synthesis: Synthesis, letter: str) -> str:
    """The label of one side of a comparison: its letter, scope and filters, in the reader's
    language (the comparison page, its chart and the comparison PDF use the same words)."""
    parts = [synthesis.scope_label]
    filters = synthesis.filters
    if filters.profile:
        profile = GroupProfile.objects.filter(code=filters.profile).first()
        parts.append(profile.label if profile else filters.profile)
    if filters.language:
        parts.append(language_name(filters.language))
    if filters.question_kind:
        parts.append(str(QuestionKind(filters.question_kind).label))
    if filters.has_period:
        parts.append(f"{filters.period_start or '…'}–{filters.period_end or '…'}")
    # Translatable for the punctuation: French puts a no-break space before the colon.
    return pgettext("side of a comparison", "%(letter)s: %(label)s") % {
        "letter": letter,
        "label": " · ".join(parts),
    }
