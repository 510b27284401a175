"""Agreement between two coders over items that each carry a SET of labels (multi-label coding).

Pure Python, no Django, so that every figure can be checked by hand. Arithmetic is done in exact
fractions and turned into a float only at the end: a figure does not depend on the order of the
items, and "undefined" (a zero denominator) is detected exactly, never as 1e-17.

Definitions (two coders, "first" and "second"; an item either of them has not coded is skipped):

- **Percent agreement**: share of items whose two sets are exactly equal.
- **Cohen's kappa of a label**: over all items, the binary decision "label in the set or not" of
  each coder; ``kappa = (p_o - p_e) / (1 - p_e)`` with ``p_o`` the share of items where both
  decide the same and ``p_e = p1 * p2 + (1 - p1) * (1 - p2)``, ``p1`` and ``p2`` the share of
  items each coder gives the label to.
- **Overall kappa**: Cohen's kappa over every (item, label) binary decision pooled in one 2x2
  table, the labels being those used at least once by either coder on the compared items
  ("micro-averaged" kappa). Every decision weighs the same; it stays defined when one label's
  own kappa is not (a label both coders give to every item).
- **Krippendorff's alpha**: ``alpha = 1 - D_o / D_e`` with a distance between two values. With two
  coders and no missing value, ``D_o`` is the mean distance between the two values of an item,
  and ``D_e`` the mean distance between any two of the 2N values pooled (all ordered pairs of
  distinct positions: ``sum / (n (n - 1))`` with ``n = 2N``). For sets the distance is MASI
  (Passonneau 2006) or Jaccard; for single labels it is nominal (0 if equal, 1 otherwise), which
  gives Krippendorff's nominal alpha.

For sets, ``D_e`` is not computed pair by pair (quadratic in the number of distinct sets): the
distance of two sets depends only on their sizes and the size of their intersection, and pairs
are counted by those three numbers in linear time; the tests check the result against the
definition.

A figure is ``None`` when it is undefined: no item compared, or no variation at all (every value
identical, so ``p_e = 1`` or ``D_e = 0``). Pages show it as "—".
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Hashable, Iterable, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from fractions import Fraction
from functools import lru_cache
from itertools import combinations
from math import comb
from typing import TypeVar

Labels = frozenset[str]
V = TypeVar("V", bound=Hashable)
Distance = Callable[[V, V], Fraction]


class Level(StrEnum):
    """What a label is: the full code as typed, its component, or its dimension letter."""

    CODE = "code"
    COMPONENT = "component"
    DIMENSION = "dimension"


@dataclass(frozen=True)
class CodedPair:
    """One item seen by the two coders; ``None`` when that coder has not coded it yet."""

    first: Labels | None
    second: Labels | None

    @property
    def complete(self) -> bool:
        return self.first is not None and self.second is not None


# ---------------------------------------------------------------- labels


@lru_cache(maxsize=4096)
def component_of(code: str) -> str:
    """The component of a full code: ``A01-11/P15/k`` -> ``A01``; ``A`` -> ``A00``."""
    obj = code.strip().split("/", 1)[0].split("-", 1)[0].upper()
    return f"{obj}00" if len(obj) == 1 else obj


def dimension_of(code: str) -> str:
    """The dimension letter of a full code or a component: ``A01/P15`` -> ``A``."""
    return code.strip()[:1].upper()


def at_level(labels: Iterable[str], level: Level) -> Labels:
    """The set of labels seen at one level (two codes of one component become one label)."""
    if level == Level.COMPONENT:
        return frozenset(component_of(code) for code in labels)
    if level == Level.DIMENSION:
        return frozenset(dimension_of(code) for code in labels)
    return frozenset(code.strip() for code in labels)


def complete_items(pairs: Iterable[CodedPair]) -> list[tuple[Labels, Labels]]:
    """The items both coders have coded (missing data is skipped, not counted as a disagreement)."""
    return [
        (pair.first, pair.second)
        for pair in pairs
        if pair.first is not None and pair.second is not None
    ]


# ---------------------------------------------------------------- distances


def masi_distance(a: frozenset[Hashable], b: frozenset[Hashable]) -> Fraction:
    """1 - MASI (Passonneau 2006): Jaccard's |A∩B|/|A∪B| times a monotonicity weight, 1 when the
    sets are equal, 2/3 when one contains the other, 1/3 when they only overlap, 0 when disjoint.
    Two empty sets are equal (distance 0)."""
    if a == b:
        return Fraction(0)
    common = len(a & b)
    if not common:
        return Fraction(1)
    weight = Fraction(2, 3) if a <= b or b <= a else Fraction(1, 3)
    return 1 - Fraction(common, len(a | b)) * weight


def jaccard_distance(a: frozenset[Hashable], b: frozenset[Hashable]) -> Fraction:
    """1 - |A∩B|/|A∪B|; two empty sets are equal (distance 0)."""
    if a == b:
        return Fraction(0)
    return 1 - Fraction(len(a & b), len(a | b))


def nominal_distance(a: Hashable, b: Hashable) -> Fraction:
    return Fraction(0) if a == b else Fraction(1)


# ---------------------------------------------------------------- statistics


def _as_float(value: Fraction | None) -> float | None:
    return None if value is None else float(value)


def percent_agreement(items: Sequence[tuple[Hashable, Hashable]]) -> float | None:
    """Share (0..1) of items on which the two coders gave exactly the same value."""
    if not items:
        return None
    return float(Fraction(sum(1 for a, b in items if a == b), len(items)))


def _kappa(p_o: Fraction, p_e: Fraction) -> Fraction | None:
    if p_e == 1:
        return None
    return (p_o - p_e) / (1 - p_e)


def cohen_kappa(items: Sequence[tuple[Hashable, Hashable]]) -> float | None:
    """Cohen's kappa for two coders giving one nominal value (True/False for a binary decision)
    to each item."""
    if not items:
        return None
    n = len(items)
    p_o = Fraction(sum(1 for a, b in items if a == b), n)
    first = Counter(a for a, _b in items)
    second = Counter(b for _a, b in items)
    p_e = sum((Fraction(first[c] * second[c], n * n) for c in first), Fraction(0))
    return _as_float(_kappa(p_o, p_e))


def _binary_kappa(*, n: int, first: int, second: int, both: int) -> float | None:
    """Cohen's kappa of a yes/no decision from its counts: n items, ``first`` and ``second``
    yes from each coder, ``both`` yes from both."""
    if not n:
        return None
    p_o = Fraction(n - first - second + 2 * both, n)
    p1, p2 = Fraction(first, n), Fraction(second, n)
    return _as_float(_kappa(p_o, p1 * p2 + (1 - p1) * (1 - p2)))


def label_kappa(items: Sequence[tuple[Labels, Labels]], label: str) -> float | None:
    """Cohen's kappa of one label: present or absent in each coder's set, over all items."""
    return _binary_kappa(
        n=len(items),
        first=sum(1 for a, _b in items if label in a),
        second=sum(1 for _a, b in items if label in b),
        both=sum(1 for a, b in items if label in a and label in b),
    )


def pooled_kappa(items: Sequence[tuple[Labels, Labels]]) -> float | None:
    """Cohen's kappa over every (item, label) decision, labels being those used on the items."""
    universe = frozenset().union(*(a | b for a, b in items)) if items else frozenset()
    decisions = len(items) * len(universe)
    if not decisions:
        return None
    disagreements = sum(len(a ^ b) for a, b in items)
    p_o = Fraction(decisions - disagreements, decisions)
    p1 = Fraction(sum(len(a) for a, _b in items), decisions)
    p2 = Fraction(sum(len(b) for _a, b in items), decisions)
    p_e = p1 * p2 + (1 - p1) * (1 - p2)
    return _as_float(_kappa(p_o, p_e))


def krippendorff_alpha(items: Sequence[tuple[V, V]], distance: Distance[V]) -> float | None:
    """Krippendorff's alpha for two coders (complete items) with the given distance."""
    if not items:
        return None
    observed = sum((distance(a, b) for a, b in items), Fraction(0)) / len(items)
    values: Counter[V] = Counter()
    for a, b in items:
        values[a] += 1
        values[b] += 1
    n = 2 * len(items)
    distinct = list(values)
    # Identical values are at distance 0: only pairs of distinct values count, twice (ordered).
    total = Fraction(0)
    for i, x in enumerate(distinct):
        for y in distinct[i + 1 :]:
            total += values[x] * values[y] * distance(x, y)
    expected = 2 * total / (n * (n - 1))
    if expected == 0:
        return None
    return float(1 - observed / expected)


def _set_similarity(size_a: int, size_b: int, common: int, *, masi: bool) -> Fraction:
    """1 - distance of two sets, which depends only on their sizes and the size of their
    intersection (the same as masi_distance and jaccard_distance)."""
    if common == size_a == size_b:
        return Fraction(1)  # equal sets, two empty ones included
    if not common:
        return Fraction(0)
    jaccard = Fraction(common, size_a + size_b - common)
    if not masi:
        return jaccard
    return jaccard * (Fraction(2, 3) if common == min(size_a, size_b) else Fraction(1, 3))


def _position_pairs_by_class(values: Counter[Labels]) -> Counter[tuple[int, int, int]]:
    """Ordered pairs of positions (i, j), i == j included, counted by (size of the value at i,
    size of the value at j, size of their intersection).

    Comparing every pair of distinct sets is quadratic. Instead, for each subset T of some value,
    count the positions whose value contains T, by size: summing products over the subsets of
    size j gives, for every pair, C(|intersection|, j); binomial inversion turns these sums into
    the number of pairs with an intersection of each exact size. Linear in the number of
    distinct values (times 2^size, small: a criterion has a few codes)."""
    containing: dict[Labels, dict[int, int]] = {}
    for value, count in values.items():
        labels = sorted(value)
        for size in range(len(labels) + 1):
            for subset in combinations(labels, size):
                by_size = containing.setdefault(frozenset(subset), {})
                by_size[len(value)] = by_size.get(len(value), 0) + count
    at_least: Counter[tuple[int, int, int]] = Counter()
    for shared, counts in containing.items():
        for size_a, count_a in counts.items():
            for size_b, count_b in counts.items():
                at_least[(size_a, size_b, len(shared))] += count_a * count_b
    exactly: Counter[tuple[int, int, int]] = Counter()
    for (size_a, size_b, j), total in at_least.items():
        for k in range(j + 1):
            exactly[(size_a, size_b, k)] += (-1) ** (j - k) * comb(j, k) * total
    return exactly


def _set_alphas(items: Sequence[tuple[Labels, Labels]]) -> tuple[float | None, float | None]:
    """Krippendorff's alpha on sets with the MASI and with the Jaccard distance: the same values
    as ``krippendorff_alpha(items, masi_distance)`` (and jaccard_distance), in linear time."""
    if not items:
        return None, None
    observed_classes = Counter((len(a), len(b), len(a & b)) for a, b in items)
    values: Counter[Labels] = Counter()
    for a, b in items:
        values[a] += 1
        values[b] += 1
    pair_classes = _position_pairs_by_class(values)
    n = 2 * len(items)
    alphas: list[float | None] = []
    for masi in (True, False):
        observed = len(items) - sum(
            (
                count * _set_similarity(size_a, size_b, common, masi=masi)
                for (size_a, size_b, common), count in observed_classes.items()
            ),
            Fraction(0),
        )
        similar = sum(
            (
                total * _set_similarity(size_a, size_b, common, masi=masi)
                for (size_a, size_b, common), total in pair_classes.items()
                if total
            ),
            Fraction(0),
        )
        # Every position is similar to itself (1): only the n (n - 1) pairs i != j count.
        expected = n * (n - 1) - (similar - n)
        if expected == 0:
            alphas.append(None)
        else:
            alphas.append(float(1 - (observed / len(items)) / (expected / (n * (n - 1)))))
    return alphas[0], alphas[1]


def alpha_masi(items: Sequence[tuple[Labels, Labels]]) -> float | None:
    """Krippendorff's alpha on sets of labels with the MASI distance."""
    return _set_alphas(items)[0]


def alpha_jaccard(items: Sequence[tuple[Labels, Labels]]) -> float | None:
    """Krippendorff's alpha on sets of labels with the Jaccard distance."""
    return _set_alphas(items)[1]


def alpha_nominal(items: Sequence[tuple[Hashable, Hashable]]) -> float | None:
    """Krippendorff's alpha for single nominal values."""
    return krippendorff_alpha(items, nominal_distance)


# ---------------------------------------------------------------- summaries


@dataclass(frozen=True)
class LabelAgreement:
    """How two coders used one label over the compared items."""

    label: str
    first: int  # items the first coder gave it to
    second: int  # items the second coder gave it to
    both: int  # items both gave it to
    kappa: float | None

    @property
    def either(self) -> int:
        """Items at least one coder gave it to."""
        return self.first + self.second - self.both


@dataclass(frozen=True)
class AgreementFigures:
    """Every figure for one set of items at one level."""

    level: Level
    items: int  # items in the set, coded by both or not
    compared: int  # items coded by both coders: the base of every figure
    identical: int  # compared items with exactly the same set
    percent: float | None
    kappa: float | None
    alpha_masi: float | None
    alpha_jaccard: float | None
    labels: list[LabelAgreement] = field(default_factory=list)


def label_agreements(items: Sequence[tuple[Labels, Labels]]) -> list[LabelAgreement]:
    """Per label: how often each coder used it, how often both did, and its kappa."""
    first: Counter[str] = Counter()
    second: Counter[str] = Counter()
    both: Counter[str] = Counter()
    for a, b in items:
        first.update(a)
        second.update(b)
        both.update(a & b)
    return [
        LabelAgreement(
            label=label,
            first=first[label],
            second=second[label],
            both=both[label],
            kappa=_binary_kappa(
                n=len(items), first=first[label], second=second[label], both=both[label]
            ),
        )
        for label in sorted(set(first) | set(second))
    ]


def agreement_figures(
    pairs: Sequence[CodedPair], *, level: Level = Level.COMPONENT, per_label: bool = True
) -> AgreementFigures:
    """Percent agreement, pooled kappa, alpha (MASI and Jaccard) and, if asked, per-label kappas."""
    items = [(at_level(a, level), at_level(b, level)) for a, b in complete_items(pairs)]
    masi, jaccard = _set_alphas(items)
    return AgreementFigures(
        level=level,
        items=len(pairs),
        compared=len(items),
        identical=sum(1 for a, b in items if a == b),
        percent=percent_agreement(items),
        kappa=pooled_kappa(items),
        alpha_masi=masi,
        alpha_jaccard=jaccard,
        labels=label_agreements(items) if per_label else [],
    )
