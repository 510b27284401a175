"""Coding quality: agreement statistics (checked by hand), blind double coding, the settling of
disagreements, the pages and their permissions."""

from __future__ import annotations

import random
import re
from collections.abc import Callable
from fractions import Fraction
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from spiral.accounts.models import Role, User
from spiral.coding.models import Coding
from spiral.coding.selectors import CodingScope, ScopeKind
from spiral.coding.services import criterion_codes_add
from spiral.consultations.models import Criterion, Meeting, Question
from spiral.grid.codes import CodeError
from spiral.quality.agreement import (
    CodedPair,
    Level,
    agreement_figures,
    alpha_jaccard,
    alpha_masi,
    alpha_nominal,
    at_level,
    cohen_kappa,
    component_of,
    dimension_of,
    jaccard_distance,
    krippendorff_alpha,
    label_agreements,
    label_kappa,
    masi_distance,
    nominal_distance,
    percent_agreement,
    pooled_kappa,
)
from spiral.quality.models import Adjudication, Decision, DoubleCodingRequest, SampleItem
from spiral.quality.selectors import agreement_line, request_report
from spiral.quality.services import (
    QualityError,
    disagreement_settle,
    double_coding_request_close,
    double_coding_request_create,
    merged_codes,
    sample_draw,
    sample_item_code_remove,
    sample_item_codes_add,
    sample_size,
)
from spiral.territories.models import Territory
from tests.conftest import client_for
from tests.factories import (
    GroupFactory,
    MeetingFactory,
    UserFactory,
    add_criteria,
    assert_figures_exact,
    current_codes,
)

JSON = {"HTTP_ACCEPT": "application/json"}


def S(*labels: str) -> frozenset[str]:
    return frozenset(labels)


# ================================================================ agreement, by hand


def test_masi_and_jaccard_distances() -> None:
    # Equal sets: MASI = J * M = 1 * 1.
    assert masi_distance(S("A01"), S("A01")) == 0
    assert masi_distance(S(), S()) == 0
    # One contains the other: J = 1/2, M = 2/3, MASI = 1/3, distance 2/3.
    assert masi_distance(S("A01", "D03"), S("A01")) == Fraction(2, 3)
    # They only overlap: J = 1/3, M = 1/3, MASI = 1/9, distance 8/9.
    assert masi_distance(S("A01", "D03"), S("A01", "E02")) == Fraction(8, 9)
    # Disjoint: M = 0, distance 1 (also against an empty set).
    assert masi_distance(S("B02"), S("C04")) == 1
    assert masi_distance(S(), S("C04")) == 1
    # Jaccard: 1 - |A∩B| / |A∪B|.
    assert jaccard_distance(S("A01", "D03"), S("A01")) == Fraction(1, 2)
    assert jaccard_distance(S("A01", "D03"), S("A01", "E02")) == Fraction(2, 3)
    assert jaccard_distance(S(), S()) == 0
    assert nominal_distance("a", "a") == 0
    assert nominal_distance("a", "b") == 1


def test_cohen_kappa_classic_two_by_two() -> None:
    # 50 items: both yes 20, first yes / second no 5, first no / second yes 10, both no 15.
    # p_o = (20 + 15) / 50 = 0.7
    # first says yes 25/50 = 0.5, second 30/50 = 0.6
    # p_e = 0.5 * 0.6 + 0.5 * 0.4 = 0.5
    # kappa = (0.7 - 0.5) / (1 - 0.5) = 0.4
    items = [(True, True)] * 20 + [(True, False)] * 5 + [(False, True)] * 10 + [(False, False)] * 15
    assert cohen_kappa(items) == pytest.approx(0.4)
    assert percent_agreement(items) == pytest.approx(0.7)


def test_krippendorff_binary_example_two_observers() -> None:
    # Krippendorff, "Computing Krippendorff's alpha-reliability" (2011), binary data, two
    # observers, ten units:
    first = [0, 1, 0, 0, 0, 0, 0, 0, 1, 0]
    second = [1, 1, 1, 0, 0, 1, 0, 0, 0, 0]
    items = list(zip(first, second, strict=True))
    # Coincidences: o00 = 10, o01 = o10 = 4, o11 = 2; n0 = 14, n1 = 6, n = 20.
    # alpha = 1 - (n - 1) * o01 / (n0 * n1) = 1 - 19 * 4 / (14 * 6) = 1 - 76/84 = 2/21 ≈ 0.095
    # Same with D_o / D_e: D_o = 4 units out of 10 = 2/5; D_e = 2 * 14 * 6 / (20 * 19) = 42/95;
    # 1 - (2/5) / (42/95) = 1 - 38/42 = 2/21.
    assert alpha_nominal(items) == pytest.approx(2 / 21)
    assert round(alpha_nominal(items) or 0, 3) == 0.095  # the value printed in the paper
    # Cohen's kappa on the same table: both 0 on 5 units, both 1 on 1, (0,1) on 3, (1,0) on 1.
    # p_o = 6/10; first gives 1 to 2/10, second to 4/10; p_e = 0.2*0.4 + 0.8*0.6 = 0.56;
    # kappa = (0.6 - 0.56) / 0.44 = 1/11 ≈ 0.0909.
    assert cohen_kappa(items) == pytest.approx(1 / 11)


def test_nominal_alpha_three_categories() -> None:
    # Six items, two coders: (a,a) (a,b) (b,b) (b,b) (c,c) (c,a).
    items = [("a", "a"), ("a", "b"), ("b", "b"), ("b", "b"), ("c", "c"), ("c", "a")]
    # Values pooled: a 4, b 5, c 3; n = 12.
    # D_o = 2 differing items / 6 = 1/3
    # D_e = 2 (4*5 + 4*3 + 5*3) / (12 * 11) = 94/132 = 47/66
    # alpha = 1 - (1/3) / (47/66) = 1 - 22/47 = 25/47 ≈ 0.532
    assert alpha_nominal(items) == pytest.approx(25 / 47)
    # Cohen: p_o = 4/6; first a,b,c 2/6 each; second a 2/6, b 3/6, c 1/6;
    # p_e = (2*2 + 2*3 + 2*1) / 36 = 1/3; kappa = (2/3 - 1/3) / (2/3) = 1/2.
    assert cohen_kappa(items) == pytest.approx(0.5)
    # The same items as one-label sets: MASI and Jaccard distances are then nominal.
    as_sets = [(S(a), S(b)) for a, b in items]
    assert alpha_masi(as_sets) == pytest.approx(25 / 47)
    assert alpha_jaccard(as_sets) == pytest.approx(25 / 47)


MULTI = [
    (S("A01"), S("A01")),
    (S("A01", "D03"), S("A01")),
    (S("B02"), S("C04")),
]


def test_multi_label_masi_example() -> None:
    # Distances: u1 0; u2 {A01,D03} vs {A01}: subset, J 1/2, M 2/3 -> 1 - 1/3 = 2/3; u3 disjoint 1.
    # D_o = (0 + 2/3 + 1) / 3 = 5/9
    # Pooled values (n = 6): {A01} x3, X = {A01,D03}, {B02}, {C04}; 15 unordered pairs:
    #   {A01}-{A01} 3 pairs at 0; {A01}-X 3 at 2/3 = 2; {A01}-{B02} 3 at 1 = 3;
    #   {A01}-{C04} 3 at 1 = 3; X-{B02} 1; X-{C04} 1; {B02}-{C04} 1  -> sum 11
    # D_e = 11/15; alpha = 1 - (5/9) / (11/15) = 1 - 75/99 = 8/33 ≈ 0.242
    assert alpha_masi(MULTI) == pytest.approx(8 / 33)
    # Jaccard: u2 at 1/2, so D_o = (0 + 1/2 + 1) / 3 = 1/2; {A01}-X pairs 3 * 1/2 = 1.5,
    # sum 10.5, D_e = 10.5/15 = 7/10; alpha = 1 - (1/2) / (7/10) = 2/7 ≈ 0.286
    assert alpha_jaccard(MULTI) == pytest.approx(2 / 7)
    # One item in three has exactly the same set.
    assert percent_agreement(MULTI) == pytest.approx(1 / 3)


def test_multi_label_kappas() -> None:
    # Per component, "given or not" over the 3 items:
    #  A01: both on u1 and u2, neither on u3 -> p_o 1, p1 = p2 = 2/3,
    #       p_e = 4/9 + 1/9 = 5/9, kappa = (1 - 5/9) / (4/9) = 1
    #  D03: first on u2 only, second never -> p_o 2/3, p1 1/3, p2 0,
    #       p_e = 0 + 2/3 * 1 = 2/3, kappa = 0; B02 and C04 alike: 0
    assert label_kappa(MULTI, "A01") == pytest.approx(1)
    assert label_kappa(MULTI, "D03") == pytest.approx(0)
    rows = {row.label: row for row in label_agreements(MULTI)}
    assert sorted(rows) == ["A01", "B02", "C04", "D03"]
    assert (rows["A01"].first, rows["A01"].second, rows["A01"].both) == (2, 2, 2)
    assert (rows["D03"].first, rows["D03"].second, rows["D03"].both, rows["D03"].either) == (
        1,
        0,
        0,
        1,
    )
    assert rows["C04"].kappa == pytest.approx(0)
    # Pooled over 3 items x 4 components = 12 decisions:
    #   disagreements: D03 on u2, B02 on u3, C04 on u3 -> 3; p_o = 9/12
    #   first gives 4 of 12 (1/3), second 3 of 12 (1/4)
    #   p_e = 1/3 * 1/4 + 2/3 * 3/4 = 7/12; kappa = (9/12 - 7/12) / (5/12) = 2/5
    assert pooled_kappa(MULTI) == pytest.approx(0.4)


def test_multi_label_masi_with_overlaps() -> None:
    items = [
        (S("A01", "D03"), S("A01", "E02")),  # overlap only: J 1/3, M 1/3 -> 8/9
        (S("A01"), S("A01")),  # 0
        (S("D03"), S("D03", "E02")),  # subset: J 1/2, M 2/3 -> 2/3
        (S("E02"), S("E02")),  # 0
    ]
    # D_o = (8/9 + 2/3) / 4 = 7/18
    # Pooled (n = 8): X={A01,D03} 1, Y={A01,E02} 1, a={A01} 2, d={D03} 1, Z={D03,E02} 1, e={E02} 2
    # n_x n_y δ over distinct pairs:
    #   X-Y 8/9, X-a 2*2/3, X-d 2/3, X-Z 8/9, X-e 2*1, Y-a 2*2/3, Y-d 1, Y-Z 8/9, Y-e 2*2/3,
    #   a-d 2, a-Z 2, a-e 4, d-Z 2/3, d-e 2, Z-e 2*2/3
    #   = 3 * 8/9 + (4+2+4+4+2+4)/3 + (2+1+2+2+4+2) = 8/3 + 20/3 + 13 = 67/3
    # D_e = 2 * (67/3) / (8 * 7) = 67/84
    # alpha = 1 - (7/18) / (67/84) = 1 - 588/1206 = 103/201 ≈ 0.512
    assert alpha_masi(items) == pytest.approx(103 / 201)


def test_dimension_level_and_code_level() -> None:
    assert component_of("A01-11/P15/k") == "A01"
    assert component_of("A") == "A00"
    assert component_of("d03/p15") == "D03"
    assert dimension_of("A01/P15") == "A"
    assert at_level(["A01/P15", "A01-11"], Level.COMPONENT) == S("A01")
    assert at_level(["A01/P15", "D03"], Level.DIMENSION) == S("A", "D")
    # A01 vs A06: the components disagree, the dimension agrees.
    pairs = [
        CodedPair(first=S("A01/P15"), second=S("A06")),
        CodedPair(first=S("D03"), second=S("D03")),
    ]
    components = agreement_figures(pairs, level=Level.COMPONENT)
    dimensions = agreement_figures(pairs, level=Level.DIMENSION)
    codes = agreement_figures(pairs, level=Level.CODE)
    assert components.percent == pytest.approx(0.5)
    assert dimensions.percent == pytest.approx(1)
    assert dimensions.alpha_masi == pytest.approx(1)
    assert codes.identical == 1
    # Components: 2 items x {A01, A06, D03}; disagreements A01 and A06 on u1 -> p_o 4/6;
    # each coder gives 2 of 6 (1/3); p_e = 1/9 + 4/9 = 5/9; kappa = (6/9 - 5/9) / (4/9) = 1/4.
    assert components.kappa == pytest.approx(0.25)


def test_missing_data_is_skipped() -> None:
    pairs = [
        CodedPair(first=S("A01"), second=S("A01")),
        CodedPair(first=S("A01", "D03"), second=S("A01")),
        CodedPair(first=S("B02"), second=S("C04")),
        CodedPair(first=S("B02"), second=None),  # not coded by the second coder yet
        CodedPair(first=None, second=S("A06")),
    ]
    figures = agreement_figures(pairs)
    assert (figures.items, figures.compared, figures.identical) == (5, 3, 1)
    assert figures.alpha_masi == pytest.approx(8 / 33)
    assert figures.alpha_jaccard == pytest.approx(2 / 7)
    assert figures.kappa == pytest.approx(0.4)


def test_degenerate_cases_are_undefined_not_errors() -> None:
    # Nothing compared.
    empty = agreement_figures([CodedPair(first=S("A01"), second=None)])
    assert (empty.compared, empty.percent, empty.kappa, empty.alpha_masi) == (0, None, None, None)
    assert cohen_kappa([]) is None
    assert krippendorff_alpha([], nominal_distance) is None
    # Every item identical, one value: no variation, kappa and alpha undefined (no division
    # by zero); percent agreement is still 100 %.
    same = [(S("A01"), S("A01"))] * 5
    assert pooled_kappa(same) is None
    assert alpha_masi(same) is None
    assert label_kappa(same, "A01") is None
    assert percent_agreement(same) == 1
    assert cohen_kappa([(True, True)] * 3) is None
    # A single item coded differently: alpha 0, kappa defined.
    assert alpha_masi([(S("A01"), S("B02"))]) == pytest.approx(0)


def test_kappa_can_be_negative() -> None:
    # Systematic disagreement: p_o = 0, p1 = p2 = 1/2, p_e = 1/2, kappa = -1.
    assert cohen_kappa([(True, False), (False, True)]) == pytest.approx(-1)


# ---------------------------------------------------------------- agreement, properties

LABELS = st.frozensets(st.sampled_from(["A01", "A06", "B02", "C04", "D03", "E02"]), max_size=4)
ITEMS = st.lists(st.tuples(LABELS, LABELS), min_size=1, max_size=25)


def _alpha_by_definition(
    items: list[tuple[frozenset[str], frozenset[str]]], distance: Any
) -> float | None:
    """Krippendorff's alpha from its definition, every ordered pair of values one by one."""
    d_o = sum((distance(a, b) for a, b in items), Fraction(0)) / len(items)
    values = [v for pair in items for v in pair]
    n = len(values)
    d_e = sum(
        (distance(values[i], values[j]) for i in range(n) for j in range(n) if i != j),
        Fraction(0),
    ) / (n * (n - 1))
    return None if d_e == 0 else float(1 - d_o / d_e)


@settings(deadline=None)
@given(ITEMS)
def test_alpha_matches_its_definition(items: list[tuple[frozenset[str], frozenset[str]]]) -> None:
    # The pages use a linear-time computation (sets counted by size and intersection size);
    # it must give exactly the quadratic definition, with both distances.
    assert alpha_masi(items) == _alpha_by_definition(items, masi_distance)
    assert alpha_jaccard(items) == _alpha_by_definition(items, jaccard_distance)
    assert alpha_masi(items) == krippendorff_alpha(items, masi_distance)


@given(ITEMS)
def test_kappas_match_their_two_by_two_tables(
    items: list[tuple[frozenset[str], frozenset[str]]],
) -> None:
    # Per label and pooled, kappa is computed from counts; it must equal Cohen's kappa over
    # the explicit list of yes/no decisions.
    universe = sorted(frozenset().union(*(a | b for a, b in items)))
    for label in universe:
        decisions = [(label in a, label in b) for a, b in items]
        assert label_kappa(items, label) == cohen_kappa(decisions)
    pooled = [(label in a, label in b) for a, b in items for label in universe]
    assert pooled_kappa(items) == cohen_kappa(pooled)


@given(st.lists(LABELS, min_size=1, max_size=25))
def test_identical_codings_agree_perfectly(sets: list[frozenset[str]]) -> None:
    items = [(s, s) for s in sets]
    assert percent_agreement(items) == 1
    varied = len(set(sets)) > 1
    assert alpha_masi(items) == (1 if varied else None)
    assert alpha_jaccard(items) == (1 if varied else None)
    universe = frozenset().union(*sets)
    # Kappa is undefined only when every decision is the same (no label, or every label
    # on every item).
    constant = not universe or all(s == universe for s in sets)
    assert pooled_kappa(items) == (None if constant else 1)
    for row in label_agreements(items):
        assert row.kappa in (1, None)


@given(ITEMS)
def test_figures_are_symmetric_and_bounded(
    items: list[tuple[frozenset[str], frozenset[str]]],
) -> None:
    swapped = [(b, a) for a, b in items]
    for measure in (alpha_masi, alpha_jaccard, pooled_kappa, percent_agreement):
        value = measure(items)
        assert value == measure(swapped)
        assert value is None or value <= 1
    assert [r.kappa for r in label_agreements(items)] == [
        r.kappa for r in label_agreements(swapped)
    ]


@given(ITEMS, st.randoms(use_true_random=False))
def test_figures_do_not_depend_on_item_order(
    items: list[tuple[frozenset[str], frozenset[str]]], rng: random.Random
) -> None:
    shuffled = list(items)
    rng.shuffle(shuffled)
    pairs = [CodedPair(first=a, second=b) for a, b in items]
    shuffled_pairs = [CodedPair(first=a, second=b) for a, b in shuffled]
    assert agreement_figures(pairs) == agreement_figures(shuffled_pairs)


@given(st.lists(st.tuples(st.sampled_from("abc"), st.sampled_from("abc")), min_size=1))
def test_single_labels_give_nominal_alpha(items: list[tuple[str, str]]) -> None:
    as_sets = [(S(a), S(b)) for a, b in items]
    assert alpha_masi(as_sets) == alpha_nominal(items)
    assert alpha_jaccard(as_sets) == alpha_nominal(items)


@settings(deadline=None)  # the first call imports scikit-learn
@given(st.lists(st.tuples(st.sampled_from("abc"), st.sampled_from("abc")), min_size=2))
def test_kappa_agrees_with_scikit_learn(items: list[tuple[str, str]]) -> None:
    metrics = pytest.importorskip("sklearn.metrics")
    ours = cohen_kappa(items)
    first, second = zip(*items, strict=True)
    if ours is None:
        return  # scikit-learn returns nan (and warns) where kappa is undefined
    assert ours == pytest.approx(metrics.cohen_kappa_score(first, second))


# ---------------------------------------------------------------- drawing a sample


def test_sample_size_rounds_up_and_draws_at_least_one() -> None:
    assert sample_size(population=0, share=10) == 0
    assert sample_size(population=7, share=10) == 1  # 0.7 -> 1
    assert sample_size(population=40, share=10) == 4
    assert sample_size(population=41, share=10) == 5  # 4.1 -> 5
    assert sample_size(population=3, share=100) == 3


@given(
    st.lists(st.integers(min_value=1, max_value=10_000), min_size=1, max_size=200, unique=True),
    st.integers(min_value=1, max_value=100),
    st.integers(min_value=0, max_value=2**31 - 1),
)
def test_a_draw_is_reproducible_from_its_seed(population: list[int], share: int, seed: int) -> None:
    drawn = sample_draw(population=population, share=share, seed=seed)
    assert drawn == sample_draw(population=list(reversed(population)), share=share, seed=seed)
    assert len(drawn) == sample_size(population=len(population), share=share)
    assert set(drawn) <= set(population)
    assert drawn == sorted(set(drawn))


def test_figures_as_people_read_them() -> None:
    from django.utils import translation

    from spiral.quality.templatetags.quality import agreement_percent, stat

    assert stat(None) == "—"
    assert stat(5 / 9) == "0.56"  # rounded, not cut off
    assert stat(0.125) == "0.13"  # half up
    assert stat(-1 / 11) == "-0.09"
    assert stat(1.0) == "1.00"
    assert agreement_percent(None) == "—"
    assert agreement_percent(0.825) == "83 %"
    assert agreement_percent(1 / 3) == "33 %"
    with translation.override("fr"):
        assert stat(5 / 9) == "0,56"


def test_merged_codes_follow_the_coding_rule() -> None:
    assert merged_codes([], ["A01", "A01/P15"]) == ["A01/P15"]
    assert merged_codes(["A01/P15"], ["A01"]) == ["A01/P15"]
    assert merged_codes(["A06"], ["D03", "A06"]) == ["A06", "D03"]


# ================================================================ with the database


@pytest.fixture
def people(tree: dict[str, Territory], user_with_role: Callable[..., User]) -> dict[str, Any]:
    return {
        "coordinator": user_with_role(Role.COORDINATOR, tree["town"]),
        "network admin": user_with_role(Role.NETWORK_ADMIN, tree["network"]),
        "first coder": user_with_role(Role.CODER, tree["town"]),
        "second coder": user_with_role(Role.CODER, tree["town"]),
        "third coder": user_with_role(Role.CODER, tree["country"]),
        "facilitator": user_with_role(Role.FACILITATOR, tree["town"]),
        "observer": user_with_role(Role.OBSERVER, tree["town"]),
        "outsider": user_with_role(Role.COORDINATOR, tree["other_town"]),
        "no role": UserFactory(),
        "anonymous": None,
    }


FIRST_CODES = [["A06"], ["D03", "A01"], ["B02"], ["C04"], ["A03/P15"], ["A06"]]
TEXTS = ["Avoir un travail", "Des amis et manger", "Des routes", "Être écouté", "Un toit", "Job"]


@pytest.fixture
def criteria(
    meeting: Meeting, questions: list[Question], people: dict[str, Any]
) -> list[Criterion]:
    """Six criteria of the lime trees' young people, coded by the first coder."""
    rows = add_criteria(meeting, questions[0], TEXTS)
    for criterion, codes in zip(rows, FIRST_CODES, strict=True):
        criterion_codes_add(criterion=criterion, codes=codes, user=people["first coder"])
    return rows


def town_scope(tree: dict[str, Territory]) -> CodingScope:
    return CodingScope(kind=ScopeKind.TERRITORY, territory=tree["town"])


@pytest.fixture
def dcr(
    tree: dict[str, Territory], criteria: list[Criterion], people: dict[str, Any]
) -> DoubleCodingRequest:
    """Every coded criterion of the town, for the second coder."""
    return double_coding_request_create(
        scope=town_scope(tree),
        share=100,
        second_coder=people["second coder"],
        user=people["coordinator"],
        seed=42,
    )


def item_of(dcr: DoubleCodingRequest, criterion: Criterion) -> SampleItem:
    return SampleItem.objects.get(request=dcr, criterion=criterion)


SECOND_CODES = [["A06"], ["D03"], ["B03"], ["C04"], ["A03"], ["A10"]]


def code_second(dcr: DoubleCodingRequest, criteria: list[Criterion]) -> None:
    for criterion, codes in zip(criteria, SECOND_CODES, strict=True):
        sample_item_codes_add(item=item_of(dcr, criterion), codes=codes)


# ---------------------------------------------------------------- requests


@pytest.mark.django_db
def test_a_request_draws_and_snapshots_the_first_coding(
    tree: dict[str, Territory], criteria: list[Criterion], people: dict[str, Any]
) -> None:
    dcr = double_coding_request_create(
        scope=town_scope(tree),
        share=50,
        second_coder=people["second coder"],
        user=people["coordinator"],
        seed=7,
    )
    assert (dcr.share, dcr.seed, dcr.population, dcr.status) == (50, 7, 6, "open")
    assert dcr.requested_by == people["coordinator"]
    items = list(dcr.items.order_by("position"))
    assert len(items) == 3  # 50 % of 6
    by_pk = {c.pk: codes for c, codes in zip(criteria, FIRST_CODES, strict=True)}
    for item in items:
        assert item.first_code_set == frozenset(by_pk[item.criterion_id])
        assert item.first_coder == people["first coder"]
        assert {e["coded_by"] for e in item.first_codes} == {people["first coder"].pk}
        assert item.second_codes == []
        assert not item.is_done
    # The same seed over the same criteria draws the same sample.
    again = double_coding_request_create(
        scope=town_scope(tree),
        share=50,
        second_coder=people["second coder"],
        user=None,
        seed=7,
    )
    assert set(again.items.values_list("criterion_id", flat=True)) == {
        i.criterion_id for i in items
    }
    # The draw is the pure function's over the coded criteria.
    assert sorted(i.criterion_id for i in items) == sample_draw(
        population=[c.pk for c in criteria], share=50, seed=7
    )
    # Items are shown in the order the criteria were written.
    positions = [Criterion.objects.get(pk=i.criterion_id).position for i in items]
    assert positions == sorted(positions)


@pytest.mark.django_db
def test_the_draw_leaves_out_what_the_second_coder_coded(
    tree: dict[str, Territory],
    criteria: list[Criterion],
    people: dict[str, Any],
    meeting: Meeting,
    questions: list[Question],
) -> None:
    second = people["second coder"]
    criterion_codes_add(criterion=criteria[0], codes=["A10"], user=second)
    uncoded = add_criteria(meeting, questions[0], ["Pas encore codé"])[0]
    dcr = double_coding_request_create(
        scope=town_scope(tree), share=100, second_coder=second, user=None, seed=1
    )
    drawn = set(dcr.items.values_list("criterion_id", flat=True))
    assert criteria[0].pk not in drawn  # the second coder gave it a code
    assert uncoded.pk not in drawn  # nothing to compare with
    assert drawn == {c.pk for c in criteria[1:]}
    assert dcr.population == 5
    # Mixed coders on one criterion: the first coder is not identifiable.
    criterion_codes_add(criterion=criteria[1], codes=["A10"], user=people["third coder"])
    other = double_coding_request_create(
        scope=town_scope(tree), share=100, second_coder=second, user=None, seed=1
    )
    assert item_of(other, criteria[1]).first_coder is None
    assert item_of(other, criteria[2]).first_coder == people["first coder"]


@pytest.mark.django_db
def test_a_request_is_refused_without_a_sample_or_a_coder(
    tree: dict[str, Territory], criteria: list[Criterion], people: dict[str, Any]
) -> None:
    with pytest.raises(QualityError):
        double_coding_request_create(
            scope=town_scope(tree), share=10, second_coder=people["observer"], user=None
        )
    with pytest.raises(QualityError):
        double_coding_request_create(
            scope=CodingScope(kind=ScopeKind.TERRITORY, territory=tree["other_town"]),
            share=10,
            second_coder=people["network admin"],
            user=None,
        )
    with pytest.raises(QualityError):
        double_coding_request_create(
            scope=town_scope(tree), share=0, second_coder=people["second coder"], user=None
        )
    assert not DoubleCodingRequest.objects.exists()


@pytest.mark.django_db
def test_group_and_meeting_scopes(
    tree: dict[str, Territory],
    criteria: list[Criterion],
    people: dict[str, Any],
    meeting: Meeting,
    questions: list[Question],
) -> None:
    later = MeetingFactory(group=meeting.group)
    other = add_criteria(later, questions[0], ["Plus tard"])[0]
    criterion_codes_add(criterion=other, codes=["A06"], user=None)
    group_scope = CodingScope(
        kind=ScopeKind.GROUP, territory=meeting.group.territory, group=meeting.group
    )
    by_group = double_coding_request_create(
        scope=group_scope, share=100, second_coder=people["second coder"], user=None
    )
    assert by_group.items.count() == 7
    assert by_group.scope_label == meeting.group.name
    meeting_scope = CodingScope(
        kind=ScopeKind.MEETING,
        territory=meeting.group.territory,
        group=meeting.group,
        meeting=later,
    )
    by_meeting = double_coding_request_create(
        scope=meeting_scope, share=100, second_coder=people["second coder"], user=None
    )
    assert list(by_meeting.items.values_list("criterion_id", flat=True)) == [other.pk]
    assert by_meeting.meeting == later
    assert by_meeting.territory == tree["neighbourhood"]
    assert by_meeting.items.get().first_coder is None  # coded by nobody known


# ---------------------------------------------------------------- second coding


@pytest.mark.django_db
def test_the_second_coding_changes_no_coding_and_no_figure(
    tree: dict[str, Territory], criteria: list[Criterion], dcr: DoubleCodingRequest
) -> None:
    codings_before = list(Coding.objects.order_by("pk").values_list("pk", "superseded_at"))
    item = item_of(dcr, criteria[0])
    assert sample_item_codes_add(item=item, codes=["a01"]) == ["A01"]
    assert sample_item_codes_add(item=item, codes=["A01/P15", "D03"]) == ["A01/P15", "D03"]
    item.refresh_from_db()
    assert item.second_codes == ["A01/P15", "D03"]  # the precise code replaced the general one
    assert item.is_done
    assert item.second_coded_at is not None
    assert sample_item_codes_add(item=item, codes=["A01"]) == []  # already said, more precisely
    assert list(Coding.objects.order_by("pk").values_list("pk", "superseded_at")) == (
        codings_before
    )
    assert current_codes(criteria[0]) == {"A06"}
    assert_figures_exact(tree["town"], tree["neighbourhood"])
    # Removing every code makes the item "not done" again.
    assert sample_item_code_remove(item=item, code="D03")
    assert not sample_item_code_remove(item=item, code="D03")
    assert sample_item_code_remove(item=item, code="A01/P15")
    item.refresh_from_db()
    assert item.second_codes == []
    assert not item.is_done
    with pytest.raises(CodeError):
        sample_item_codes_add(item=item, codes=["Z99"])
    with pytest.raises(CodeError):
        sample_item_codes_add(item=item, codes=[])
    double_coding_request_close(request=dcr, user=None)
    with pytest.raises(QualityError):
        sample_item_codes_add(item=item, codes=["A06"])
    with pytest.raises(QualityError):
        sample_item_code_remove(item=item, code="A06")


@pytest.mark.django_db
def test_report_figures_match_the_hand_computation(
    criteria: list[Criterion], dcr: DoubleCodingRequest, people: dict[str, Any]
) -> None:
    # Second coding of 5 of the 6 criteria; the sixth is missing and skipped.
    for criterion, codes in list(zip(criteria, SECOND_CODES, strict=True))[:5]:
        sample_item_codes_add(item=item_of(dcr, criterion), codes=codes)
    report = request_report(request=dcr, with_pairs=True)
    assert (report.progress.done, report.progress.total) == (5, 6)
    levels = {f.level: f for f in report.levels}
    # Components compared (first | second):
    #   {A06}|{A06}  {A01,D03}|{D03}  {B02}|{B03}  {C04}|{C04}  {A03}|{A03}
    # identical: 3 of 5; at code level A03/P15 vs A03 differs: 2 of 5; dimensions: 4 of 5.
    assert levels[Level.COMPONENT].identical == 3
    assert levels[Level.CODE].identical == 2
    assert levels[Level.DIMENSION].identical == 4
    expected = [
        (S("A06"), S("A06")),
        (S("A01", "D03"), S("D03")),
        (S("B02"), S("B03")),
        (S("C04"), S("C04")),
        (S("A03"), S("A03")),
    ]
    assert levels[Level.COMPONENT].alpha_masi == alpha_masi(expected)
    # Pooled kappa by hand: universe {A01, A03, A06, B02, B03, C04, D03}, 5 x 7 = 35 decisions;
    # disagreements: A01 (u2), B02 and B03 (u3) -> 3; p_o = 32/35;
    # first gives 6 labels (6/35), second 5 (5/35);
    # p_e = 6/35 * 5/35 + 29/35 * 30/35 = (30 + 870) / 1225 = 900/1225;
    # kappa = (1120/1225 - 900/1225) / (325/1225) = 220/325 = 44/65 ≈ 0.677
    assert levels[Level.COMPONENT].kappa == pytest.approx(44 / 65)
    assert report.headline.percent == pytest.approx(3 / 5)
    d03 = next(row for row in report.components if row.agreement.label == "D03")
    assert (d03.agreement.first, d03.agreement.second, d03.agreement.both) == (1, 1, 1)
    assert d03.label  # the component's name
    [pair] = report.pairs
    assert pair.figures.compared == 5
    assert {pair.first, pair.second} == {
        people["first coder"].shown_name,
        people["second coder"].shown_name,
    }
    # Differences of full codes: u2, u3 and u5 (A03/P15 vs A03).
    assert (report.to_settle, report.settled) == (3, 0)


@pytest.mark.django_db
def test_coder_pairs_are_unordered(
    tree: dict[str, Territory], criteria: list[Criterion], people: dict[str, Any]
) -> None:
    first, second = people["first coder"], people["second coder"]
    one = double_coding_request_create(
        scope=town_scope(tree), share=100, second_coder=second, user=None, seed=3
    )
    for item in one.items.all():
        sample_item_codes_add(item=item, codes=["A06"])
    # The other way round: the second coder's own codes, coded again by the first coder.
    for criterion in criteria:
        Coding.objects.filter(criterion=criterion).update(coded_by=second)
    other = double_coding_request_create(
        scope=town_scope(tree), share=100, second_coder=first, user=None, seed=3
    )
    for item in other.items.all():
        sample_item_codes_add(item=item, codes=["A06"])
    from spiral.quality.selectors import territory_pair_rows

    [pair] = territory_pair_rows(territory=tree["town"])
    assert pair.figures.compared == 12


# ---------------------------------------------------------------- settling


@pytest.mark.django_db
def test_settling_applies_the_decision_through_the_coding_services(
    tree: dict[str, Territory],
    criteria: list[Criterion],
    dcr: DoubleCodingRequest,
    people: dict[str, Any],
) -> None:
    code_second(dcr, criteria)
    third = people["third coder"]
    # Keep the first coding: the criterion already has it, nothing is rewritten.
    kept = disagreement_settle(
        item=item_of(dcr, criteria[1]), decision=Decision.FIRST, note="Deux idées", user=third
    )
    assert (kept.codes, kept.applied, kept.decided_by) == (["D03", "A01"], False, third)
    assert current_codes(criteria[1]) == {"D03", "A01"}
    # Keep the second coding: B02 is replaced by B03, and stays in the history.
    second = disagreement_settle(
        item=item_of(dcr, criteria[2]), decision=Decision.SECOND, user=third
    )
    assert second.applied
    assert second.codes == ["B03"]
    assert current_codes(criteria[2]) == {"B03"}
    old = Coding.objects.get(criterion=criteria[2], full_code="B02")
    assert old.superseded_at is not None
    assert old.superseded_by == third
    # Other codes, typed: the coding rule applies (the precise code replaces the general one).
    other = disagreement_settle(
        item=item_of(dcr, criteria[5]),
        decision=Decision.OTHER,
        codes=["a06", "A06/P15", "A10"],
        user=third,
    )
    assert other.codes == ["A06/P15", "A10"]
    assert current_codes(criteria[5]) == {"A06/P15", "A10"}
    assert_figures_exact(tree["town"], tree["neighbourhood"], tree["network"])
    # Settled once only; items that agree have nothing to settle; wrong codes are refused.
    with pytest.raises(QualityError):
        disagreement_settle(item=item_of(dcr, criteria[2]), decision=Decision.FIRST, user=third)
    with pytest.raises(QualityError):
        disagreement_settle(item=item_of(dcr, criteria[0]), decision=Decision.FIRST, user=third)
    with pytest.raises(CodeError):
        disagreement_settle(
            item=item_of(dcr, criteria[4]), decision=Decision.OTHER, codes=["Q42"], user=third
        )
    with pytest.raises(QualityError):
        disagreement_settle(item=item_of(dcr, criteria[4]), decision="maybe", user=third)
    assert Adjudication.objects.count() == 3
    report = request_report(request=dcr)
    assert (report.to_settle, report.settled) == (1, 3)


# ---------------------------------------------------------------- the synthesis line


@pytest.mark.django_db
def test_agreement_line_pools_open_requests_and_the_last_closed_one(
    tree: dict[str, Territory], criteria: list[Criterion], people: dict[str, Any]
) -> None:
    assert agreement_line(territory=tree["town"]) is None
    old = double_coding_request_create(
        scope=town_scope(tree), share=100, second_coder=people["second coder"], user=None
    )
    assert agreement_line(territory=tree["town"]) is None  # nothing coded twice yet
    code_second(old, criteria)
    double_coding_request_close(request=old, user=None)
    line = agreement_line(territory=tree["town"])
    assert line is not None
    assert not line.in_progress
    assert (line.requests, line.figures.compared, line.figures.identical) == (1, 6, 3)
    newer = double_coding_request_create(
        scope=town_scope(tree), share=50, second_coder=people["third coder"], user=None
    )
    first_item = newer.items.order_by("position").first()
    assert first_item is not None
    sample_item_codes_add(item=first_item, codes=["A06"])
    line = agreement_line(territory=tree["network"])
    assert line is not None
    assert line.in_progress
    assert line.requests == 2
    assert line.figures.compared == 7
    assert agreement_line(territory=tree["other_town"]) is None


# ================================================================ pages


ALL = [
    "coordinator",
    "network admin",
    "first coder",
    "second coder",
    "third coder",
    "facilitator",
    "observer",
    "outsider",
    "no role",
    "anonymous",
]


def _check(response: Any, who: str, allowed: list[str], ok: int = 200) -> None:
    if who == "anonymous":
        assert response.status_code == 302
        assert "/accounts/login/" in response["Location"]
    elif who in allowed:
        assert response.status_code == ok, who
    else:
        assert response.status_code == 403, who


@pytest.mark.django_db
@pytest.mark.parametrize("who", ALL)
def test_territory_page_permissions(
    who: str,
    people: dict[str, Any],
    dcr: DoubleCodingRequest,
    tree: dict[str, Territory],
    criteria: list[Criterion],
) -> None:
    code_second(dcr, criteria)
    response = client_for(people[who]).get(f"/quality/territories/{tree['town'].slug}/")
    readers = [
        "coordinator",
        "network admin",
        "first coder",
        "second coder",
        "third coder",
        "facilitator",
        "observer",
    ]
    _check(response, who, readers)
    if response.status_code == 200:
        html = response.content.decode()
        assert "Double coding requests" in html
        # The named pairs are for coordinators; the second coder sees the way to the sample.
        assert ("By pair of coders" in html) == (who in ("coordinator", "network admin"))
        assert (f"/quality/requests/{dcr.pk}/code/" in html) == (who == "second coder")
        assert (f'href="/quality/requests/{dcr.pk}/"' in html) == (who != "second coder")


@pytest.mark.django_db
@pytest.mark.parametrize("who", ALL)
def test_new_request_permissions(
    who: str,
    people: dict[str, Any],
    criteria: list[Criterion],
    tree: dict[str, Territory],
    meeting: Meeting,
) -> None:
    client = client_for(people[who])
    managers = ["coordinator", "network admin"]
    territory_url = f"/quality/territories/{tree['town'].slug}/new/"
    group_url = f"/quality/groups/{meeting.group_id}/new/"
    for url in (territory_url, group_url):
        _check(client.get(url), who, managers)
    data = {"share": "50", "second_coder": people["second coder"].pk, "seed": "5"}
    _check(client.post(territory_url, data), who, managers, ok=302)
    _check(client.post(group_url, {**data, "meeting": meeting.pk}), who, managers, ok=302)
    if who in managers:
        by_territory, by_meeting = DoubleCodingRequest.objects.order_by("pk")
        assert by_territory.territory == tree["town"]
        assert by_territory.items.count() == 3
        assert by_meeting.meeting == meeting
        assert by_meeting.group == meeting.group
        assert by_territory.seed == 5
        assert by_territory.requested_by == people[who]
    else:
        assert not DoubleCodingRequest.objects.exists()


@pytest.mark.django_db
def test_new_request_form_offers_coders_and_reports_errors(
    people: dict[str, Any], criteria: list[Criterion], tree: dict[str, Territory]
) -> None:
    client = client_for(people["coordinator"])
    url = f"/quality/territories/{tree['town'].slug}/new/"
    html = client.get(url).content.decode()
    assert "6 coded criteria in this scope." in html
    for name in ("first coder", "second coder", "third coder", "coordinator", "network admin"):
        assert f'value="{people[name].pk}"' in html, name
    for name in ("observer", "facilitator", "outsider"):
        assert f'value="{people[name].pk}"' not in html, name
    # The first coder coded everything: nothing left to draw for them.
    response = client.post(url, {"share": "10", "second_coder": people["first coder"].pk})
    assert response.status_code == 200
    assert "nothing to sample" in response.content.decode()
    response = client.post(url, {"share": "120", "second_coder": people["second coder"].pk})
    assert response.status_code == 200
    assert not DoubleCodingRequest.objects.exists()
    # A meeting of another group is not offered.
    elsewhere = MeetingFactory(group=GroupFactory(territory=tree["town"]))
    group_url = f"/quality/groups/{criteria[0].group_id}/new/"
    data = {"share": "10", "second_coder": people["second coder"].pk, "meeting": elsewhere.pk}
    response = client.post(group_url, data)
    assert response.status_code == 200
    assert not DoubleCodingRequest.objects.exists()
    response = client.post(url, {"share": "10", "second_coder": people["second coder"].pk})
    dcr = DoubleCodingRequest.objects.get()
    assert response["Location"] == f"/quality/requests/{dcr.pk}/"
    assert dcr.items.count() == 1


@pytest.mark.django_db
@pytest.mark.parametrize("who", ALL)
def test_report_permissions(
    who: str, people: dict[str, Any], dcr: DoubleCodingRequest, criteria: list[Criterion]
) -> None:
    code_second(dcr, criteria)
    client = client_for(people[who])
    readers = ["coordinator", "network admin", "first coder", "third coder", "facilitator"]
    readers.append("observer")
    response = client.get(f"/quality/requests/{dcr.pk}/")
    _check(response, who, readers)  # not the second coder while the request is open
    if response.status_code == 200:
        html = response.content.decode()
        assert 'data-level="component"' in html
        assert ("By pair of coders" in html) == (who in ("coordinator", "network admin"))
    double_coding_request_close(request=dcr, user=None)
    _check(client.get(f"/quality/requests/{dcr.pk}/"), who, [*readers, "second coder"])


@pytest.mark.django_db
def test_report_page_shows_the_figures(
    people: dict[str, Any], dcr: DoubleCodingRequest, criteria: list[Criterion]
) -> None:
    code_second(dcr, criteria)
    html = client_for(people["coordinator"]).get(f"/quality/requests/{dcr.pk}/").content.decode()
    # Components: 3 of 6 identical (A06, C04, A03); see the hand computation above.
    assert re.search(r'data-level="component">.*?<td class="num">6</td><td class="num">50 %', html)
    # Different full codes: {D03,A01}|{D03}, B02|B03, A03/P15|A03, A06|A10.
    assert "4 disagreements to settle" in html
    assert 'data-code="D03"' in html


@pytest.mark.django_db
@pytest.mark.parametrize("who", ALL)
def test_status_permissions(who: str, people: dict[str, Any], dcr: DoubleCodingRequest) -> None:
    client = client_for(people[who])
    response = client.post(f"/quality/requests/{dcr.pk}/status/", {"status": "closed"})
    _check(response, who, ["coordinator", "network admin"], ok=302)
    dcr.refresh_from_db()
    assert dcr.is_open == (who not in ("coordinator", "network admin"))
    if not dcr.is_open:
        client.post(f"/quality/requests/{dcr.pk}/status/", {"status": "open"})
        dcr.refresh_from_db()
        assert dcr.is_open
        assert dcr.closed_at is None
        assert client.get(f"/quality/requests/{dcr.pk}/status/").status_code == 405


@pytest.mark.django_db
@pytest.mark.parametrize("who", ALL)
def test_blind_screen_is_for_the_second_coder_only(
    who: str, people: dict[str, Any], dcr: DoubleCodingRequest, criteria: list[Criterion]
) -> None:
    client = client_for(people[who])
    item = item_of(dcr, criteria[0])
    responses = [
        client.get(f"/quality/requests/{dcr.pk}/code/"),
        client.post(f"/quality/items/{item.pk}/codes/", {"code": "A10"}, **JSON),
        client.post(f"/quality/items/{item.pk}/codes/remove/", {"code": "A10"}, **JSON),
    ]
    for response in responses:
        _check(response, who, ["second coder"])  # not even the coordinator: it stays blind
    item.refresh_from_db()
    assert item.second_codes == []


@pytest.mark.django_db
def test_blind_screen_hides_the_first_coding(
    people: dict[str, Any], dcr: DoubleCodingRequest, criteria: list[Criterion]
) -> None:
    client = client_for(people["second coder"])
    html = client.get(f"/quality/requests/{dcr.pk}/code/").content.decode()
    for criterion in criteria:
        assert criterion.text in html
        assert f'id="code-{item_of(dcr, criterion).pk}"' in html
    assert "0 / 6 done" in html
    assert 'id="component-choices"' in html
    assert "component-picker.js" in html
    # No chip, no history link, no address of the coding screen: the first codes are nowhere.
    assert "data-coding=" not in html
    assert 'class="chip"' not in html
    assert "/history" not in html
    assert "/coding/" not in html
    assert "A03/P15" not in html
    assert "suggest" not in html.lower()


@pytest.mark.django_db
def test_blind_coding_as_json_and_plain_form(
    people: dict[str, Any], dcr: DoubleCodingRequest, criteria: list[Criterion]
) -> None:
    client = client_for(people["second coder"])
    item = item_of(dcr, criteria[0])
    response = client.post(f"/quality/items/{item.pk}/codes/", {"code": "a06 d03"}, **JSON)
    payload = response.json()
    assert payload["ok"]
    assert payload["done"]
    assert payload["progress"] == "1 / 6 done"
    assert 'data-code="A06"' in payload["codes_html"]
    assert 'data-code="D03"' in payload["codes_html"]
    response = client.post(f"/quality/items/{item.pk}/codes/", {"code": "Z99"}, **JSON)
    assert response.status_code == 422
    assert response.json()["error"]
    response = client.post(f"/quality/items/{item.pk}/codes/remove/", {"code": "D03"}, **JSON)
    assert response.json()["ok"]
    item.refresh_from_db()
    assert item.second_codes == ["A06"]
    # Without JavaScript: a redirect back to the row, the error shown beside it.
    screen = f"/quality/requests/{dcr.pk}/code/"
    other = item_of(dcr, criteria[1])
    response = client.post(f"/quality/items/{other.pk}/codes/", {"code": "Q77", "next": screen})
    assert response["Location"] == f"{screen}#item-{other.pk}"
    html = client.get(screen).content.decode()
    assert re.search(rf'id="code-error-{other.pk}">[^<]*Q77', html)
    # A forged "next" leaving the site is ignored.
    response = client.post(
        f"/quality/items/{other.pk}/codes/", {"code": "A06", "next": "https://evil.example/"}
    )
    assert response["Location"].startswith(screen)
    # Closed: the screen is read only and writes are refused.
    double_coding_request_close(request=dcr, user=None)
    html = client.get(screen).content.decode()
    assert "This double coding is closed" in html
    assert 'name="code"' not in html
    response = client.post(f"/quality/items/{item.pk}/codes/", {"code": "A10"}, **JSON)
    assert response.status_code == 409
    assert current_codes(criteria[0]) == {"A06"}


@pytest.mark.django_db
def test_blind_screen_opens_on_the_first_criterion_to_code(
    people: dict[str, Any],
    dcr: DoubleCodingRequest,
    criteria: list[Criterion],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr("spiral.quality.views.BLIND_PAGE_SIZE", 2)
    items = list(dcr.items.order_by("position"))
    for item in items[:3]:
        sample_item_codes_add(item=item, codes=["A06"])
    client = client_for(people["second coder"])
    html = client.get(f"/quality/requests/{dcr.pk}/code/").content.decode()
    # Items 3 and 4 are on page 2; item 4 is the first not coded, and has the focus.
    assert "Page 2 of 3" in html
    assert f'id="item-{items[2].pk}"' in html
    assert re.search(rf'id="code-{items[3].pk}"[^>]*autofocus', html)
    assert "3 / 6 done" in html
    html = client.get(f"/quality/requests/{dcr.pk}/code/?page=1").content.decode()
    assert f'id="item-{items[0].pk}"' in html


@pytest.mark.django_db
@pytest.mark.parametrize("who", ALL)
def test_disagreement_queue_permissions(
    who: str, people: dict[str, Any], dcr: DoubleCodingRequest, criteria: list[Criterion]
) -> None:
    code_second(dcr, criteria)
    client = client_for(people[who])
    readers = ["coordinator", "network admin", "first coder", "third coder"]
    response = client.get(f"/quality/requests/{dcr.pk}/disagreements/")
    _check(response, who, readers)
    if response.status_code == 200:
        html = response.content.decode()
        # Side by side: the criterion, its group and question, both codings.
        assert TEXTS[2] in html
        assert "Young people of the lime trees" in html
        assert 'data-code="B02"' in html
        assert 'data-code="B03"' in html
        assert TEXTS[0] not in html  # the two codings agree
        can_settle_here = who != "first coder"
        assert ('name="decision"' in html) == can_settle_here
        assert ("someone else settles it" in html) == (not can_settle_here)


@pytest.mark.django_db
@pytest.mark.parametrize("who", ALL)
def test_settle_permissions(
    who: str, people: dict[str, Any], dcr: DoubleCodingRequest, criteria: list[Criterion]
) -> None:
    code_second(dcr, criteria)
    item = item_of(dcr, criteria[2])
    response = client_for(people[who]).post(
        f"/quality/items/{item.pk}/settle/", {"decision": "second", "note": "B03 fits"}
    )
    settlers = ["coordinator", "network admin", "third coder"]
    _check(response, who, settlers, ok=302)
    if who in settlers:
        assert current_codes(criteria[2]) == {"B03"}
        adjudication = Adjudication.objects.get()
        assert adjudication.note == "B03 fits"
        assert adjudication.decided_by == people[who]
    else:
        assert current_codes(criteria[2]) == {"B02"}
        assert not Adjudication.objects.exists()


@pytest.mark.django_db
def test_settling_from_the_queue(
    people: dict[str, Any], dcr: DoubleCodingRequest, criteria: list[Criterion]
) -> None:
    code_second(dcr, criteria)
    double_coding_request_close(request=dcr, user=None)
    client = client_for(people["third coder"])
    queue = f"/quality/requests/{dcr.pk}/disagreements/"
    item = item_of(dcr, criteria[5])
    # Codes typed without choosing: "other codes" is meant.
    response = client.post(
        f"/quality/items/{item.pk}/settle/", {"codes": "A06 A10", "note": "", "next": queue}
    )
    assert response["Location"] == queue
    assert current_codes(criteria[5]) == {"A06", "A10"}
    html = client.get(queue).content.decode()
    assert 'id="settled"' in html
    assert "A10" in html
    # Nothing chosen and nothing typed: the error is shown on the item.
    other = item_of(dcr, criteria[2])
    response = client.post(f"/quality/items/{other.pk}/settle/", {"next": queue})
    assert response["Location"] == f"{queue}#item-{other.pk}"
    html = client.get(queue).content.decode()
    assert "Choose the first coding" in html
    response = client.post(
        f"/quality/items/{other.pk}/settle/", {"decision": "other", "codes": "", "next": queue}
    )
    assert "Type the codes" in client.get(queue).content.decode()
    # A code the grid does not know.
    client.post(f"/quality/items/{other.pk}/settle/", {"codes": "Q42", "next": queue})
    assert "Q42" in client.get(queue).content.decode()
    assert current_codes(criteria[2]) == {"B02"}
    # The second coder may read the queue once the request is closed, but settles nothing.
    second = client_for(people["second coder"])
    assert second.get(queue).status_code == 200
    assert second.post(f"/quality/items/{other.pk}/settle/", {"decision": "first"}).status_code == (
        403
    )


@pytest.mark.django_db
def test_queue_warns_when_the_criterion_was_recoded_since(
    people: dict[str, Any], dcr: DoubleCodingRequest, criteria: list[Criterion]
) -> None:
    code_second(dcr, criteria)
    criterion_codes_add(criterion=criteria[2], codes=["B05"], user=None)
    html = (
        client_for(people["coordinator"])
        .get(f"/quality/requests/{dcr.pk}/disagreements/")
        .content.decode()
    )
    assert "Recoded since the sample was drawn: its codes are now B02, B05." in html
    assert "same components, different precision" in html  # A03/P15 vs A03


# ---------------------------------------------------------------- other pages


@pytest.mark.django_db
def test_synthesis_page_shows_the_agreement_line(
    people: dict[str, Any],
    dcr: DoubleCodingRequest,
    criteria: list[Criterion],
    tree: dict[str, Territory],
) -> None:
    url = f"/territories/{tree['town'].slug}/synthesis/"
    assert "coding-agreement" not in client_for(None).get(url).content.decode()
    code_second(dcr, criteria)
    # 3 of 6 identical; kappa and alpha computed over the component sets.
    pairs = [
        CodedPair(first=item.first_code_set, second=item.second_code_set)
        for item in dcr.items.all()
    ]
    figures = agreement_figures(pairs)
    kappa = f"{figures.kappa:.2f}"
    public = client_for(None).get(url).content.decode()
    assert "two coders agree on 50 % of 6 double-coded criteria" in public
    assert f"κ = {kappa}" in public
    assert "/quality/" not in public  # headline numbers only, no way to the texts
    private = client_for(people["observer"]).get(url).content.decode()
    assert f'href="/quality/territories/{tree["town"].slug}/"' in private
    french = client_for(None).get(url, HTTP_ACCEPT_LANGUAGE="fr").content.decode()
    assert "coding-agreement" in french


@pytest.mark.django_db
def test_dashboard_and_group_page_links(
    people: dict[str, Any],
    dcr: DoubleCodingRequest,
    tree: dict[str, Territory],
    meeting: Meeting,
) -> None:
    dashboard = f"/territories/{tree['town'].slug}/dashboard/"
    group_page = meeting.group.get_absolute_url()
    html = client_for(people["coordinator"]).get(dashboard).content.decode()
    assert f"/quality/territories/{tree['town'].slug}/new/" in html
    assert f"/quality/territories/{tree['town'].slug}/" in html
    html = client_for(people["coordinator"]).get(group_page).content.decode()
    assert f"/quality/groups/{meeting.group_id}/new/" in html
    html = client_for(people["second coder"]).get(dashboard).content.decode()
    assert f"/quality/requests/{dcr.pk}/code/" in html
    assert "0 / 6" in html
    assert f"/quality/territories/{tree['town'].slug}/new/" not in html
    html = client_for(people["facilitator"]).get(group_page).content.decode()
    assert "/quality/groups/" not in html
