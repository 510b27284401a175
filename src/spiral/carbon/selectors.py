"""Reads of the carbon module: anonymous aggregates of a campaign or a territory, the path to
2 t, the well-being criteria beside them. Aggregates never name a person or show an answer."""

from __future__ import annotations

import bisect
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.db import connection
from django.db.models import Count, Q, QuerySet, Sum

from spiral.carbon.models import Campaign, FactorSet, FootprintResult
from spiral.carbon.questions import CATEGORIES, INDIVIDUAL_CATEGORIES
from spiral.territories.models import TerritoryLink

CATEGORY_COLUMNS = tuple(f"{code}_kg" for code, _label in CATEGORIES)
HISTOGRAM_STEP_KG = 1000.0
HISTOGRAM_LAST_KG = 16000.0  # the last bin gathers everything above
# Dimensions of the SPIRAL grid about material conditions; the others (relations, balances,
# feelings, commitment) are the non-material side of well-being the carbon discussion needs.
MATERIAL_DIMENSIONS = ("A", "B")


@dataclass(frozen=True)
class Spread:
    median: float
    q1: float
    q3: float
    minimum: float
    maximum: float
    mean: float


@dataclass
class Aggregate:
    count: int
    hidden: bool  # below the small-numbers threshold for this viewer: the count only
    spreads: dict[str, Spread] = field(default_factory=dict)  # category code or "total"
    histogram: list[tuple[float, int]] = field(default_factory=list)  # (lower bound kg, count)
    # The histogram as drawn: empty ends trimmed; for a public view, bands merged so that none
    # holds fewer people than the small-numbers threshold. (lower kg, upper kg or None, count)
    bands: list[tuple[float, float | None, int]] = field(default_factory=list)
    pledged_kg: dict[str, float] = field(default_factory=dict)  # by category, and "total"
    pledges: int = 0
    pledgers: int = 0
    full_view: bool = False  # the viewer may see private data of the scope


def _quantile(ordered: Sequence[float], fraction: float) -> float:
    """Linear interpolation between order statistics (the "inclusive" method of the
    statistics module), on values already sorted: 20,000 values take a few milliseconds."""
    position = (len(ordered) - 1) * fraction
    low = math.floor(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def _spread(values: list[float]) -> Spread:
    values.sort()
    return Spread(
        median=_quantile(values, 0.5),
        q1=_quantile(values, 0.25),
        q3=_quantile(values, 0.75),
        minimum=values[0],
        maximum=values[-1],
        mean=math.fsum(values) / len(values),
    )


def counted_results(results: QuerySet[FootprintResult]) -> QuerySet[FootprintResult]:
    """A result redone in the same campaign counts once: the latest."""
    return results.filter(superseded=False)


def campaign_results(campaign: Campaign) -> QuerySet[FootprintResult]:
    return counted_results(FootprintResult.objects.filter(campaign=campaign))


def territory_results(territory_id: int) -> QuerySet[FootprintResult]:
    """Every campaign result of the territory and the territories below it."""
    # A subquery on the closure table rather than a join through territories: the covering
    # index on (territory, superseded, figures...) then answers alone.
    below = TerritoryLink.objects.filter(ancestor_id=territory_id).values("territory_id")
    return counted_results(FootprintResult.objects.filter(territory_id__in=below))


def aggregate(results: QuerySet[FootprintResult], *, full_view: bool) -> Aggregate:
    """Distribution, median and spread per category, pledged savings summed.

    ``full_view``: the viewer may see private data of the scope; otherwise a scope with fewer
    results than SPIRAL_SMALL_NUMBERS_THRESHOLD shows its count only."""
    if connection.vendor == "postgresql":
        return _aggregate_in_database(results, full_view=full_view)
    # Two reads, both answered by the covering index: the category figures of every result
    # (medians need them all), and the pledge sums computed by the database.
    rows = list(results.order_by().values_list(*CATEGORY_COLUMNS))
    count = len(rows)
    hidden = count < settings.SPIRAL_SMALL_NUMBERS_THRESHOLD and not full_view
    result = Aggregate(count=count, hidden=hidden, full_view=full_view)
    if hidden or not count:
        return result
    columns = list(zip(*rows, strict=True))
    for index, (code, _label) in enumerate(CATEGORIES):
        result.spreads[code] = _spread(list(columns[index]))
    totals: list[float] = [float(sum(row)) for row in rows]
    result.spreads["total"] = _spread(totals)  # sorts totals: the bands are then bisections
    bins = int(HISTOGRAM_LAST_KG // HISTOGRAM_STEP_KG)
    edges = [bisect.bisect_left(totals, i * HISTOGRAM_STEP_KG) for i in range(bins + 1)]
    edges.append(count)
    result.histogram = [(i * HISTOGRAM_STEP_KG, edges[i + 1] - edges[i]) for i in range(bins + 1)]
    _bands_set(result, full_view=full_view)
    _pledges_add(result, results)
    return result


def histogram_bands(
    histogram: Sequence[tuple[float, int]], *, threshold: int | None
) -> list[tuple[float, float | None, int]]:
    """Trim the empty bands at both ends; with a threshold, merge neighbouring bands until each
    holds at least that many people (a last band too small joins the one before it)."""
    bands: list[tuple[float, float | None, int]] = [
        (lower, lower + HISTOGRAM_STEP_KG if lower < HISTOGRAM_LAST_KG else None, count)
        for lower, count in histogram
    ]
    while bands and not bands[0][2]:
        bands.pop(0)
    while bands and not bands[-1][2]:
        bands.pop()
    if not threshold or not bands:
        return bands
    merged: list[tuple[float, float | None, int]] = []
    lower: float | None = None
    people = 0
    for low, high, count in bands:
        lower = low if lower is None else lower
        people += count
        if people >= threshold:
            merged.append((lower, high, people))
            lower, people = None, 0
    if people:
        if merged:
            first, _high, earlier = merged.pop()
            merged.append((first, bands[-1][1], earlier + people))
        else:
            merged.append((bands[0][0], bands[-1][1], people))
    return merged


def _bands_set(result: Aggregate, *, full_view: bool) -> None:
    threshold = None if full_view else settings.SPIRAL_SMALL_NUMBERS_THRESHOLD
    result.bands = histogram_bands(result.histogram, threshold=threshold)
    if not full_view:
        # The per-tonne counts would isolate people: the API gets the merged bands too.
        result.histogram = [(lower, count) for lower, _upper, count in result.bands]


def _pledges_add(result: Aggregate, results: QuerySet[FootprintResult]) -> None:
    sums = results.order_by().aggregate(
        **{code: Sum(f"pledged_{code}_kg") for code in INDIVIDUAL_CATEGORIES},
        pledges=Sum("pledge_count"),
        pledgers=Count("pk", filter=Q(pledge_count__gt=0)),
    )
    for code in INDIVIDUAL_CATEGORIES:
        if sums[code]:
            result.pledged_kg[code] = float(sums[code])
    result.pledged_kg["total"] = math.fsum(result.pledged_kg.values())
    result.pledges = int(sums["pledges"] or 0)
    result.pledgers = int(sums["pledgers"] or 0)


def _aggregate_in_database(results: QuerySet[FootprintResult], *, full_view: bool) -> Aggregate:
    """PostgreSQL computes the quartiles itself (percentile_cont: the same interpolation as
    ``_quantile``): sending 20,000 rows to Python costs more than the sort."""
    pledge_columns = [f"pledged_{code}_kg" for code in INDIVIDUAL_CATEGORIES]
    inner, params = (
        results.order_by()
        .values_list(*CATEGORY_COLUMNS, *pledge_columns, "pledge_count")
        .query.sql_with_params()
    )
    expressions = [*CATEGORY_COLUMNS, "(" + " + ".join(CATEGORY_COLUMNS) + ")"]
    parts = [
        f"percentile_cont(ARRAY[0.25, 0.5, 0.75]) WITHIN GROUP (ORDER BY {e}), "
        f"MIN({e}), MAX({e}), AVG({e})"
        for e in expressions
    ]
    # The pledge sums come from the same scan.
    parts += [f"SUM({column})" for column in pledge_columns]
    parts += ["SUM(pledge_count)", "COUNT(*) FILTER (WHERE pledge_count > 0)"]
    step, last = HISTOGRAM_STEP_KG, int(HISTOGRAM_LAST_KG // HISTOGRAM_STEP_KG)
    total = expressions[-1]
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT COUNT(*), {', '.join(parts)} FROM ({inner}) AS r", params)
        row = cursor.fetchone()
        count = int(row[0])
        hidden = count < settings.SPIRAL_SMALL_NUMBERS_THRESHOLD and not full_view
        result = Aggregate(count=count, hidden=hidden, full_view=full_view)
        if hidden or not count:
            return result
        codes = [code for code, _label in CATEGORIES] + ["total"]
        for index, code in enumerate(codes):
            quartiles, low, high, mean = row[1 + 4 * index : 5 + 4 * index]
            result.spreads[code] = Spread(
                median=float(quartiles[1]),
                q1=float(quartiles[0]),
                q3=float(quartiles[2]),
                minimum=float(low),
                maximum=float(high),
                mean=float(mean),
            )
        cursor.execute(
            f"SELECT LEAST(FLOOR({total} / {step}), {last})::int AS b, COUNT(*) "
            f"FROM ({inner}) AS r GROUP BY b",
            params,
        )
        counts = dict(cursor.fetchall())
    result.histogram = [(i * step, int(counts.get(i, 0))) for i in range(last + 1)]
    _bands_set(result, full_view=full_view)
    first = 1 + 4 * len(codes)
    for offset, code in enumerate(INDIVIDUAL_CATEGORIES):
        if row[first + offset]:
            result.pledged_kg[code] = float(row[first + offset])
    result.pledged_kg["total"] = math.fsum(result.pledged_kg.values())
    result.pledges = int(row[first + len(INDIVIDUAL_CATEGORIES)] or 0)
    result.pledgers = int(row[first + len(INDIVIDUAL_CATEGORIES) + 1] or 0)
    return result


@dataclass(frozen=True)
class PathYear:
    year: int
    budget_kg: float


def path_to_target(*, start_kg: float, start_year: int, factor_set: FactorSet) -> list[PathYear]:
    """An equal, shrinking budget: the same cut every year from today's figure to the target.

    Not a verdict: a footprint already under the target keeps its figure as its budget."""
    factors = factor_set.document["factors"]
    target_kg = float(factors["target_kg"]["value"])
    target_year = int(factors["target_year"]["value"])
    years = max(target_year - start_year, 1)
    start = max(start_kg, 0.0)
    step = max(start - target_kg, 0.0) / years
    return [PathYear(year=start_year + i, budget_kg=start - step * i) for i in range(years + 1)]


def path_milestones(path: list[PathYear]) -> list[PathYear]:
    """The first year, every fifth year and the last: enough for a chart on a phone."""
    return [p for i, p in enumerate(path) if i == 0 or i == len(path) - 1 or p.year % 5 == 0]


def group_wellbeing(campaign: Campaign) -> dict[str, Any] | None:
    """The well-being criteria the campaign's group expressed, by dimension, non-material first."""
    if campaign.group_id is None:
        return None
    from spiral.syntheses.selectors import group_synthesis

    synthesis = group_synthesis(group=campaign.group)  # type: ignore[arg-type]
    lines = [line for line in synthesis.dimensions if line.total.criteria]
    non_material = [line for line in lines if line.code not in MATERIAL_DIMENSIONS]
    material = [line for line in lines if line.code in MATERIAL_DIMENSIONS]
    return {
        "synthesis": synthesis,
        "non_material": non_material,
        "material": material,
        "hidden": synthesis.below_small_numbers_threshold,
        "examples": wellbeing_examples(campaign.group_id),
    }


WELLBEING_EXAMPLES = 12


def wellbeing_examples(group_id: int, limit: int = WELLBEING_EXAMPLES) -> list[dict[str, Any]]:
    """The group's own words about well-being, non-material ones first, the most shared first:
    what the discussion should keep while emissions go down. Texts, never authors (criteria
    have none); shown only to people who may read the group's criteria."""
    from spiral.coding.models import Coding
    from spiral.consultations.models import Criterion, QuestionKind

    criteria: list[dict[str, Any]] = [
        dict(row)
        for row in Criterion.objects.alive()
        .filter(group_id=group_id, question__kind=QuestionKind.WELL_BEING)
        .order_by("-expressions", "pk")
        .values("pk", "text", "expressions")[: limit * 4]
    ]
    dimensions: dict[int, str] = {}
    for criterion_id, code in (
        Coding.objects.current()
        .filter(criterion_id__in=[c["pk"] for c in criteria])
        .order_by("pk")
        .values_list("criterion_id", "component__dimension__code")
    ):
        dimensions.setdefault(criterion_id, code)
    for criterion in criteria:
        criterion["dimension"] = dimensions.get(criterion["pk"], "")
        criterion["material"] = criterion["dimension"] in MATERIAL_DIMENSIONS
        criterion["non_material"] = bool(criterion["dimension"]) and not criterion["material"]
    # Stable sort: non-material first, then the not yet coded, then the material ones; within
    # each, still by how many people wrote it.
    criteria.sort(key=lambda c: 0 if c["non_material"] else 2 if c["material"] else 1)
    return criteria[:limit]
