"""Syntheses: stored figures equal a plain GROUP BY over the raw rows under random writes; pages,
filters, comparisons, texts behind the numbers, exports, group syntheses and their validation."""

from __future__ import annotations

import csv
import datetime
import io
import re
from typing import Any

import openpyxl
import pytest
from django.utils import translation
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from spiral.accounts.models import Role
from spiral.coding.services import criterion_codings_replace
from spiral.consultations.models import Criterion, GroupProfile
from spiral.consultations.services import (
    CriterionInput,
    criteria_add,
    criterion_delete,
    criterion_restore,
    criterion_update,
    group_create,
    group_move,
    meeting_create,
)
from spiral.core.templatetags.spiral import pct
from spiral.grid.codes import GridIndex
from spiral.grid.models import GridVersion
from spiral.syntheses.models import GroupSynthesisValidation, SynthesisCell, TerritoryStats
from spiral.syntheses.rollups import figures_sum, own_figures_from_rows, synthesis_cells_rebuild_all
from spiral.syntheses.selectors import (
    SynthesisFilters,
    _figures_from_cells,
    figures_from_rows,
    territory_synthesis,
)
from spiral.syntheses.services import territory_stats_rebuild
from spiral.territories.models import Territory
from spiral.territories.selectors import territory_counts, territory_counts_from_rows
from tests.conftest import client_for

pytestmark = pytest.mark.django_db

# Codes chosen so some criteria get two components of one dimension (A01 + A06), one of
# another (D03), a full code with detail, sense and beneficiary, or nothing.
CODE_SETS = [
    [],
    ["A01"],
    ["A06"],
    ["A01", "A06"],
    ["A01", "D03"],
    ["A01-11/P15/k"],
    ["F01", "H00"],
    ["B"],
]
PROFILES = ["young_people", "elderly", "parents"]
LANGUAGES = ["fr", "pt", "en"]
MONTHS = [datetime.date(2025, 11, 3), datetime.date(2026, 1, 20), datetime.date(2026, 6, 1)]

operation = st.one_of(
    st.tuples(
        st.just("add"),
        st.integers(0, 5),
        st.integers(0, 2),
        st.integers(1, 6),
        st.integers(0, 7),
        st.integers(0, 2),
    ),
    st.tuples(st.just("delete"), st.integers(0, 99)),
    st.tuples(st.just("restore"), st.integers(0, 99)),
    st.tuples(st.just("recode"), st.integers(0, 99), st.integers(0, 7)),
    st.tuples(st.just("correct"), st.integers(0, 99), st.integers(1, 9)),
    st.tuples(st.just("move_group"), st.integers(0, 5), st.integers(0, 6)),
    st.tuples(st.just("move_territory"), st.integers(0, 6), st.integers(0, 6)),
)

single_filter = st.one_of(
    st.just(SynthesisFilters()),
    st.builds(SynthesisFilters, profile=st.sampled_from(PROFILES)),
    st.builds(SynthesisFilters, language=st.sampled_from(LANGUAGES)),
    st.builds(
        SynthesisFilters, question_kind=st.sampled_from(["well_being", "ill_being", "action"])
    ),
    st.builds(
        SynthesisFilters,
        period_start=st.sampled_from(["", "2025-11", "2026-01"]),
        period_end=st.sampled_from(["2026-01", "2026-06"]),
    ),
    st.builds(
        SynthesisFilters,
        question_kind=st.sampled_from(["well_being", "ill_being"]),
        profile=st.sampled_from(PROFILES),
    ),
)


def raw_figures(territory: Territory, filters: SynthesisFilters) -> dict[Any, Any]:
    """The reference: a plain computation over the raw rows of the subtree."""
    return figures_from_rows(filters.apply_to_criteria(Criterion.objects.in_subtree(territory.pk)))


def own_plus_children(territory: Territory) -> dict[Any, Any]:
    """A territory's own figures plus the subtree figures of each child (no filter)."""
    own = own_figures_from_rows(territory_id=territory.pk).items()
    parts = [(key, value) for key, value in own if key[0] == "" and key[3] != "participants"]
    for child in Territory.objects.filter(parent=territory):
        parts.extend(_figures_from_cells(child, SynthesisFilters()).items())
    return figures_sum(parts)


@settings(
    max_examples=20,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    operations=st.lists(operation, min_size=1, max_size=14),
    checks=st.lists(st.tuples(st.integers(0, 6), single_filter), min_size=3, max_size=6),
)
def test_stored_syntheses_equal_a_plain_count_of_the_rows(
    tree: dict[str, Territory], operations: list[Any], checks: list[Any]
) -> None:
    """Random groups, criteria with one or several codes, recodings, deletions, corrections,
    group and territory moves: every synthesis read from the stored figures equals the one
    counted from the raw rows, and each territory's figures are its own plus its children's."""
    territories = list(tree.values())
    profiles = {p.code: p for p in GroupProfile.objects.filter(code__in=PROFILES)}
    grid = GridIndex(GridVersion.objects.get(is_default=True))
    groups = [
        group_create(
            territory=territories[2 + i % 5],
            name=f"g{i}",
            profile=profiles[PROFILES[i % 3]],
            size=4 + i,
            language=LANGUAGES[i % 3],
            user=None,
        )
        for i in range(6)
    ]
    meetings = [
        meeting_create(group=g, held_on=MONTHS[i % 3], user=None) for i, g in enumerate(groups)
    ]
    for op in operations:
        everything = list(Criterion.all_objects.order_by("pk"))
        if op[0] == "add":
            _, g, q, expressions, codes, lang = op
            meeting = meetings[g]
            question = meeting.question_set.questions.order_by("position")[q]
            [outcome] = criteria_add(
                meeting=meeting,
                question=question,
                user=None,
                grid=grid,
                inputs=[
                    CriterionInput(
                        text=f"c{len(everything)}",
                        expressions=expressions,
                        language=LANGUAGES[lang],
                    )
                ],
            )
            assert outcome.criterion is not None
            criterion_codings_replace(
                criterion=outcome.criterion,
                codes=[grid.resolve(c) for c in CODE_SETS[codes]],
                user=None,
            )
        elif op[0] in ("delete", "restore", "recode", "correct") and everything:
            criterion = everything[op[1] % len(everything)]
            if op[0] == "delete":
                criterion_delete(criterion=criterion, user=None)
            elif op[0] == "restore":
                criterion_restore(criterion=criterion, user=None)
            elif op[0] == "recode":
                criterion_codings_replace(
                    criterion=criterion,
                    codes=[grid.resolve(c) for c in CODE_SETS[op[2]]],
                    user=None,
                )
            else:
                criterion_update(
                    criterion=criterion,
                    text=criterion.text + "!",
                    expressions=op[2],
                    language=criterion.language,
                    user=None,
                )
        elif op[0] == "move_group":
            group_move(group=groups[op[1]], territory=territories[op[2]])
        elif op[0] == "move_territory":
            moving, target = territories[op[1]], territories[op[2]]
            below = set(Territory.objects.subtree_of(moving).values_list("pk", flat=True))
            if moving.parent_id is not None and target.pk not in below:
                moving.refresh_from_db()
                moving.parent = target
                moving.save()
    for index, filters in checks:
        territory = Territory.objects.get(pk=territories[index].pk)
        stored = territory_synthesis(territory=territory, filters=filters)
        expected = raw_figures(territory, filters)
        assert (
            dict(_figures_from_cells(territory, filters) if filters.facets_used <= 1 else expected)
            == expected
        )
        assert stored.total.criteria == sum(
            c for (_f, _v, _k, lv, _i), (c, _e) in expected.items() if lv == "total"
        )
    for territory in Territory.objects.all():
        assert _figures_from_cells(territory, SynthesisFilters()) == own_plus_children(territory)
        assert territory_counts(territory=territory) == territory_counts_from_rows(
            territory=territory
        )
    # The bulk rebuild gives exactly what the writes maintained.
    kept = set(
        SynthesisCell.objects.values_list(
            "territory_id",
            "facet",
            "facet_value",
            "question_kind",
            "level",
            "item_id",
            "criteria",
            "expressions",
        )
    )
    synthesis_cells_rebuild_all()
    assert kept == set(
        SynthesisCell.objects.values_list(
            "territory_id",
            "facet",
            "facet_value",
            "question_kind",
            "level",
            "item_id",
            "criteria",
            "expressions",
        )
    )
    # Clean up for the next example: hypothesis reuses this test's database.
    Criterion.all_objects.all().delete()
    for meeting in meetings:
        meeting.delete()
    for group in groups:
        group.delete()
    territory_stats_rebuild()


def test_rebuild_repairs_figures_written_around_the_services(
    meeting: Any, questions: list[Any], tree: Any
) -> None:
    criteria_add(
        meeting=meeting,
        question=questions[0],
        inputs=[CriterionInput(text="Travail", code="A06")],
        user=None,
    )
    TerritoryStats.objects.all().update(criteria=999)
    SynthesisCell.objects.all().update(criteria=999)
    territory_stats_rebuild()
    assert territory_counts(territory=tree["network"]).criteria == 1
    synthesis = territory_synthesis(territory=tree["network"])
    assert synthesis.total.criteria == 1
    assert _figures_from_cells(tree["network"], SynthesisFilters()) == raw_figures(
        tree["network"], SynthesisFilters()
    )


@pytest.fixture
def coded_town(tree: dict[str, Territory]) -> dict[str, Any]:
    """Two groups in Town (young people, elderly people) with coded criteria."""
    grid = GridIndex(GridVersion.objects.get(is_default=True))
    young = group_create(
        territory=tree["town"],
        name="Young",
        profile=GroupProfile.objects.get(code="young_people"),
        size=9,
        user=None,
    )
    old = group_create(
        territory=tree["neighbourhood"],
        name="Elderly",
        profile=GroupProfile.objects.get(code="elderly"),
        size=8,
        user=None,
    )
    m1 = meeting_create(group=young, held_on=datetime.date(2026, 3, 10), user=None)
    m2 = meeting_create(group=old, held_on=datetime.date(2026, 5, 2), user=None)
    q1, q2, _q3 = m1.question_set.questions.order_by("position")
    criteria_add(
        meeting=m1,
        question=q1,
        grid=grid,
        user=None,
        inputs=[
            CriterionInput(text="Un travail", expressions=3, code="A06"),
            CriterionInput(text="Des amis", expressions=2, code="D03"),
            CriterionInput(text="Pas codé", expressions=1),
        ],
    )
    [both] = criteria_add(
        meeting=m1,
        question=q2,
        grid=grid,
        user=None,
        inputs=[CriterionInput(text="Pas de pain ni de travail", expressions=4)],
    )
    assert both.criterion is not None
    criterion_codings_replace(
        criterion=both.criterion, codes=[grid.resolve("A01"), grid.resolve("A06")], user=None
    )
    criteria_add(
        meeting=m2,
        question=q1,
        grid=grid,
        user=None,
        inputs=[
            CriterionInput(text="La santé", expressions=5, code="F01"),
            CriterionInput(text="Voir mes petits-enfants", expressions=1, code="D02"),
        ],
    )
    return {"young": young, "old": old, "m1": m1, "m2": m2}


def test_synthesis_counts(coded_town: dict[str, Any], tree: dict[str, Territory]) -> None:
    synthesis = territory_synthesis(territory=tree["town"])
    dims = {d.code: d for d in synthesis.dimensions}
    assert (synthesis.total.criteria, synthesis.total.expressions) == (6, 16)
    assert synthesis.uncoded_criteria == 1
    # A01 + A06 on one criterion: counted once in A, once in each component.
    assert dims["A"].figure("ill_being").criteria == 1
    assert dims["A"].figure("ill_being").expressions == 4
    components = {c.code: c for c in dims["A"].components}
    assert components["A01"].total.criteria == 1
    assert components["A06"].total.criteria == 2
    assert synthesis.participants == 17
    young = territory_synthesis(
        territory=tree["town"], filters=SynthesisFilters(profile="young_people")
    )
    assert young.total.criteria == 4
    assert young.participants == 9
    period = territory_synthesis(
        territory=tree["town"], filters=SynthesisFilters(period_start="2026-04")
    )
    assert period.total.criteria == 2
    region = territory_synthesis(territory=tree["region"])
    network = territory_synthesis(territory=tree["network"])
    assert region.total == network.total == synthesis.total


def test_region_and_network_are_sums_on_the_demo_data() -> None:
    from django.core.management import call_command

    call_command("load_demo_data")
    network = Territory.objects.get(parent=None)
    for parent in [network, *Territory.objects.filter(kind="region")]:
        assert _figures_from_cells(parent, SynthesisFilters()) == own_plus_children(parent)
        assert _figures_from_cells(parent, SynthesisFilters()) == raw_figures(
            parent, SynthesisFilters()
        )
    for filters in [
        SynthesisFilters(profile="elderly"),
        SynthesisFilters(language="pt"),
        SynthesisFilters(period_start="2026-01"),
    ]:
        assert _figures_from_cells(network, filters) == raw_figures(network, filters)


def test_synthesis_page(coded_town: dict[str, Any], tree: dict[str, Territory]) -> None:
    response = client_for(None).get(f"/territories/{tree['town'].slug}/synthesis/")
    body = response.content.decode()
    assert response.status_code == 200
    assert body.count("<svg") == 2  # bars and radar
    assert 'data-code="A06"' in body
    assert "Too few participants" not in body
    filtered = client_for(None).get(
        f"/territories/{tree['town'].slug}/synthesis/?profile=elderly&question=well_being"
    )
    assert 'data-code="A06"' not in filtered.content.decode()
    assert 'data-code="F01"' in filtered.content.decode()
    bad = client_for(None).get(f"/territories/{tree['town'].slug}/synthesis/?period_start=2026-13")
    assert bad.status_code == 200  # invalid filters are shown as errors, not as a crash


def test_synthesis_page_small_numbers_rule(tree: Any, user_with_role: Any, settings: Any) -> None:
    settings.SPIRAL_SMALL_NUMBERS_THRESHOLD = 5
    group = group_create(
        territory=tree["town"],
        name="Tiny",
        profile=GroupProfile.objects.get(code="parents"),
        size=3,
        user=None,
    )
    meeting = meeting_create(group=group, held_on=datetime.date(2026, 2, 2), user=None)
    criteria_add(
        meeting=meeting,
        question=meeting.question_set.questions.first(),
        inputs=[CriterionInput(text="Travail", code="A06")],
        user=None,
    )
    url = f"/territories/{tree['town'].slug}/synthesis/"
    public = client_for(None).get(url)
    assert "Too few participants" in public.content.decode()
    assert "<table" not in public.content.decode()
    assert client_for(None).get(url + "export.csv").status_code == 404
    assert client_for(None).get(url + "components/A06/").status_code == 404
    observer = user_with_role(Role.OBSERVER, tree["town"])
    assert "<table" in client_for(observer).get(url).content.decode()
    assert client_for(observer).get(url + "export.csv").status_code == 200
    from spiral.consultations.services import group_update

    group_update(group=group, size=12)
    assert "<table" in client_for(None).get(url).content.decode()


def test_synthesis_of_private_territory(tree: Any, user_with_role: Any) -> None:
    tree["school"].is_public = False
    tree["school"].save()
    for suffix in ["", "export.csv", "compare/", "components/A06/"]:
        assert client_for(None).get(
            f"/territories/{tree['school'].slug}/synthesis/{suffix}"
        ).status_code in (403, 404)
    observer = user_with_role(Role.OBSERVER, tree["town"])
    assert (
        client_for(observer).get(f"/territories/{tree['school'].slug}/synthesis/").status_code
        == 200
    )


def test_exports_round_trip(coded_town: dict[str, Any], tree: dict[str, Territory]) -> None:
    synthesis = territory_synthesis(territory=tree["town"])
    url = f"/territories/{tree['town'].slug}/synthesis/"
    rows = list(
        csv.DictReader(io.StringIO(client_for(None).get(url + "export.csv").content.decode()))
    )
    assert len(rows) == len(synthesis.as_rows())
    a06 = [r for r in rows if r["code"] == "A06"]
    assert sum(int(r["criteria"]) for r in a06) == 2
    workbook = openpyxl.load_workbook(io.BytesIO(client_for(None).get(url + "export.xlsx").content))
    sheet = workbook.worksheets[0]
    header = [c.value for c in sheet[1]]
    xlsx_rows = [
        dict(zip(header, [c.value for c in row], strict=True)) for row in sheet.iter_rows(min_row=2)
    ]
    assert [(r["code"], r["question"], r["criteria"]) for r in xlsx_rows] == [
        (r["code"], r["question"], int(r["criteria"])) for r in rows
    ]
    assert client_for(None).get(url + "export.pdf").status_code == 404


def test_texts_behind_a_number(coded_town: dict[str, Any], tree: dict[str, Territory]) -> None:
    url = f"/territories/{tree['town'].slug}/synthesis/components/A06/"
    body = client_for(None).get(url).content.decode()
    assert "Un travail" in body
    assert "Pas de pain ni de travail" in body
    assert "Des amis" not in body
    assert "Young" in body
    exported = client_for(None).get(url + "?format=csv").content.decode()
    assert len(list(csv.DictReader(io.StringIO(exported)))) == 2
    assert (
        client_for(None)
        .get(f"/territories/{tree['town'].slug}/synthesis/components/Z99/")
        .status_code
        == 404
    )


def test_compare_two_profiles_and_two_territories(
    coded_town: dict[str, Any], tree: dict[str, Territory]
) -> None:
    url = f"/territories/{tree['town'].slug}/synthesis/compare/"
    body = client_for(None).get(url + "?a-profile=young_people&b-profile=elderly").content.decode()
    assert "<svg" in body
    assert "Young people" in body
    other = client_for(None).get(url + f"?other={tree['region'].pk}").content.decode()
    assert "Grand Est" in other
    tree["other_town"].is_public = False
    tree["other_town"].save()
    assert (
        client_for(None).get(url + f"?other={tree['other_town'].pk}").status_code == 200
    )  # not offered: ignored


def test_compare_labels_and_chart_numbers_follow_the_language(
    coded_town: dict[str, Any], tree: dict[str, Territory]
) -> None:
    url = f"/territories/{tree['town'].slug}/synthesis/compare/?a-profile=young_people"
    english = client_for(None).get(url, HTTP_ACCEPT_LANGUAGE="en").content.decode()
    french = client_for(None).get(url, HTTP_ACCEPT_LANGUAGE="fr").content.decode()
    assert "A: Town · Young people" in english
    assert "A\u00a0: Town · Jeunes" in french
    assert "A: Town" not in french
    chart_en = english[english.index("<svg") : english.index("</svg>")]
    chart_fr = french[french.index("<svg") : french.index("</svg>")]
    # The chart's percentages are written like the table's: "8,8 %" in French.
    assert re.search(r">\d+(\.\d)?%<", chart_en)
    assert not re.search(r"\d%<", chart_fr)
    assert re.search(r">\d+(,\d)?\u202f%<", chart_fr)


def test_table_shares_use_the_language_decimal_separator() -> None:
    # Like the charts beside the tables.
    with translation.override("en"):
        assert (pct(0.088), pct(0.0), pct(0.37), pct(None)) == ("8.8 %", "0.0 %", "37 %", "–")
    with translation.override("fr"):
        assert (pct(0.088), pct(0.0), pct(0.37)) == ("8,8 %", "0,0 %", "37 %")


def test_group_synthesis_and_validation(
    coded_town: dict[str, Any],
    tree: dict[str, Territory],
    facilitator: Any,
    outsider: Any,
    user_with_role: Any,
) -> None:
    group = coded_town["young"]
    url = f"/groups/{group.pk}/synthesis/"
    page = client_for(facilitator).get(url)
    body = page.content.decode()
    assert page.status_code == 200
    assert "Pas de pain ni de travail" in body
    assert body.count("Pas de pain ni de travail") == 2  # under A01 and under A06
    assert "Pas codé" in body
    assert client_for(None).get(url).status_code == 302
    assert client_for(outsider).get(url).status_code == 403
    observer = user_with_role(Role.OBSERVER, tree["town"])
    assert client_for(observer).get(url).status_code == 200
    assert client_for(observer).post(url, {"validated_on": "2026-04-01"}).status_code == 403
    second = meeting_create(group=group, held_on=datetime.date(2026, 4, 1), user=None)
    response = client_for(facilitator).post(
        url + f"?meeting={coded_town['m1'].pk}",
        {"validated_on": "2026-04-01", "validated_at": second.pk, "note": "Ajouter la mobilité"},
    )
    assert response.status_code == 302
    validation = GroupSynthesisValidation.objects.get()
    assert validation.synthesis_of == coded_town["m1"]
    assert validation.validated_at == second
    assert validation.snapshot["criteria"] == 4
    assert validation.recorded_by == facilitator
    assert "Ajouter la mobilité" in client_for(facilitator).get(url).content.decode()
