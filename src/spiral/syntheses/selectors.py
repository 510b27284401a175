"""Syntheses: counts of criteria and expressions by dimension of the grid, split by question."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

from django.conf import settings
from django.db.models import Sum

from spiral.coding.models import Coding
from spiral.consultations.models import Criterion, HomogeneousGroup, Question, QuestionKind
from spiral.grid.models import Dimension
from spiral.territories.models import Territory


@dataclass
class DimensionRow:
    dimension: Dimension
    criteria: dict[str, int] = field(default_factory=dict)  # question kind -> criteria
    expressions: dict[str, int] = field(default_factory=dict)

    @property
    def total_criteria(self) -> int:
        return sum(self.criteria.values())

    @property
    def total_expressions(self) -> int:
        return sum(self.expressions.values())


@dataclass
class TerritorySynthesis:
    territory: Territory
    kinds: list[tuple[str, str]]
    rows: list[DimensionRow]
    criteria: int
    expressions: int
    uncoded_criteria: int
    participants: int

    @property
    def below_small_numbers_threshold(self) -> bool:
        return self.participants < settings.SPIRAL_SMALL_NUMBERS_THRESHOLD


def territory_synthesis(*, territory: Territory) -> TerritorySynthesis:
    """Criteria and expressions by dimension and question over the territory and below.

    A criterion coded in two components of one dimension counts once for that dimension, so each
    figure equals a COUNT(DISTINCT criterion) over the raw rows."""
    criteria = Criterion.objects.filter(territory__ancestor_links__ancestor_id=territory.pk)
    version_id = territory.effective_grid_version_id()
    pairs = (
        Coding.objects.current()
        .filter(criterion__in=criteria, component__version_id=version_id)
        .values_list(
            "criterion_id",
            "component__dimension_id",
            "criterion__question__kind",
            "criterion__expressions",
        )
        .distinct()
    )
    dimensions = {
        d.pk: DimensionRow(dimension=d)
        for d in Dimension.objects.filter(version_id=version_id).order_by("position")
    }
    coded: set[int] = set()
    seen: set[tuple[int, int]] = set()
    criteria_counts: dict[tuple[int, str], int] = defaultdict(int)
    expression_counts: dict[tuple[int, str], int] = defaultdict(int)
    for criterion_id, dimension_id, kind, expressions in pairs:
        coded.add(criterion_id)
        if (criterion_id, dimension_id) in seen:
            continue
        seen.add((criterion_id, dimension_id))
        criteria_counts[(dimension_id, kind)] += 1
        expression_counts[(dimension_id, kind)] += expressions
    for (dimension_id, kind), count in criteria_counts.items():
        row = dimensions.get(dimension_id)
        if row is not None:
            row.criteria[kind] = count
            row.expressions[kind] = expression_counts[(dimension_id, kind)]
    totals = criteria.aggregate(expressions=Sum("expressions"))
    total_criteria = criteria.count()
    groups = HomogeneousGroup.objects.filter(pk__in=criteria.values("group_id"))
    participants = groups.aggregate(n=Sum("size"))["n"] or 0
    kinds_present = list(
        Question.objects.filter(criteria__in=criteria).values_list("kind", flat=True).distinct()
    )
    kinds = [(value, str(label)) for value, label in QuestionKind.choices if value in kinds_present]
    return TerritorySynthesis(
        territory=territory,
        kinds=kinds,
        rows=list(dimensions.values()),
        criteria=total_criteria,
        expressions=totals["expressions"] or 0,
        uncoded_criteria=total_criteria - len(coded),
        participants=participants,
    )
