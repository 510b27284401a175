"""Stored figures equal the raw rows; the synthesis page and its small-numbers rule."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from spiral.accounts.models import Role
from spiral.coding.services import criterion_codings_replace
from spiral.consultations.models import Criterion
from spiral.consultations.services import (
    CriterionInput,
    criteria_add,
    criterion_delete,
    criterion_restore,
    criterion_update,
    group_move,
    meeting_create,
)
from spiral.grid.codes import GridIndex
from spiral.grid.models import GridVersion
from spiral.syntheses.models import TerritoryStats
from spiral.syntheses.selectors import territory_synthesis
from spiral.syntheses.services import territory_stats_rebuild
from spiral.territories.models import Territory
from spiral.territories.selectors import territory_counts, territory_counts_from_rows
from tests.conftest import client_for
from tests.factories import GroupFactory, MeetingFactory

pytestmark = pytest.mark.django_db

CODES = ["A01", "A06", "D03", "F01", "H00", "A01-11/P15/k", ""]

operation = st.one_of(
    st.tuples(
        st.just("add"),
        st.integers(0, 3),
        st.integers(0, 2),
        st.integers(1, 5),
        st.sampled_from(CODES),
    ),
    st.tuples(st.just("delete"), st.integers(0, 50)),
    st.tuples(st.just("restore"), st.integers(0, 50)),
    st.tuples(st.just("recode"), st.integers(0, 50), st.sampled_from(CODES)),
    st.tuples(st.just("correct"), st.integers(0, 50), st.integers(1, 9)),
    st.tuples(st.just("move"), st.integers(0, 3), st.integers(0, 6)),
    st.tuples(st.just("meeting"), st.integers(0, 3)),
)


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(operations=st.lists(operation, min_size=1, max_size=12))
def test_stored_figures_equal_the_raw_rows(
    tree: dict[str, Territory], operations: list[Any]
) -> None:
    """Random writes, recodings, deletions and moves; every territory's figures stay exact."""
    territories = list(tree.values())
    groups = [GroupFactory(territory=territories[3 + i % 4]) for i in range(4)]
    meetings = [
        meeting_create(group=g, held_on=MeetingFactory.build().held_on, user=None) for g in groups
    ]
    grid = GridIndex(GridVersion.objects.get(is_default=True))
    for op in operations:
        kind = op[0]
        everything = list(Criterion.all_objects.order_by("pk"))
        if kind == "add":
            _, g, q, expressions, code = op
            meeting = meetings[g]
            question = meeting.question_set.questions.order_by("position")[q]
            criteria_add(
                meeting=meeting,
                question=question,
                user=None,
                grid=grid,
                inputs=[
                    CriterionInput(
                        text=f"critère {len(everything)}", expressions=expressions, code=code
                    )
                ],
            )
        elif kind in ("delete", "restore", "recode", "correct") and everything:
            criterion = everything[op[1] % len(everything)]
            if kind == "delete":
                criterion_delete(criterion=criterion, user=None)
            elif kind == "restore":
                criterion_restore(criterion=criterion, user=None)
            elif kind == "correct":
                criterion_update(
                    criterion=criterion,
                    text=criterion.text + "!",
                    expressions=op[2],
                    language=criterion.language,
                    user=None,
                )
            else:
                codes = [grid.resolve(op[2])] if op[2] else []
                criterion_codings_replace(criterion=criterion, codes=codes, user=None)
        elif kind == "move":
            group_move(group=groups[op[1]], territory=territories[op[2]])
        elif kind == "meeting":
            meetings.append(
                meeting_create(
                    group=groups[op[1]], held_on=MeetingFactory.build().held_on, user=None
                )
            )
    for territory in territories:
        assert territory_counts(territory=territory) == territory_counts_from_rows(
            territory=territory
        ), territory.name
    # Cleaning for the next example (hypothesis reuses the database of the test).
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
    assert territory_counts(territory=tree["network"]).criteria != 1
    territory_stats_rebuild()
    assert territory_counts(territory=tree["network"]) == territory_counts_from_rows(
        territory=tree["network"]
    )
    assert territory_counts(territory=tree["network"]).criteria == 1


def test_synthesis_counts_each_criterion_once_per_dimension(
    meeting: Any, questions: list[Any], tree: Any
) -> None:
    grid = GridIndex(GridVersion.objects.get(is_default=True))
    [outcome] = criteria_add(
        meeting=meeting,
        question=questions[0],
        inputs=[CriterionInput(text="Pain et travail", expressions=3)],
        user=None,
    )
    assert outcome.criterion is not None
    criterion_codings_replace(
        criterion=outcome.criterion,
        codes=[grid.resolve("A01"), grid.resolve("A06"), grid.resolve("D03")],
        user=None,
    )
    criteria_add(
        meeting=meeting,
        question=questions[1],
        inputs=[CriterionInput(text="Solitude", code="D03"), CriterionInput(text="Non codé")],
        user=None,
    )
    synthesis = territory_synthesis(territory=tree["town"])
    rows = {row.dimension.code: row for row in synthesis.rows}
    assert rows["A"].criteria == {"well_being": 1}
    assert rows["A"].expressions == {"well_being": 3}
    assert rows["D"].criteria == {"well_being": 1, "ill_being": 1}
    assert synthesis.criteria == 3
    assert synthesis.uncoded_criteria == 1
    assert synthesis.participants == meeting.group.size


def test_synthesis_page_small_numbers_rule(tree: Any, user_with_role: Any, settings: Any) -> None:
    settings.SPIRAL_SMALL_NUMBERS_THRESHOLD = 5
    group = GroupFactory(territory=tree["town"], size=3)
    meeting = MeetingFactory(group=group)
    question = meeting.question_set.questions.order_by("position").first()
    criteria_add(
        meeting=meeting,
        question=question,
        inputs=[CriterionInput(text="Travail", code="A06")],
        user=None,
    )
    public = client_for(None).get(f"/territories/{tree['town'].slug}/synthesis/")
    assert public.status_code == 200
    assert "Too few participants" in public.content.decode()
    assert "<table" not in public.content.decode()
    observer = user_with_role(Role.OBSERVER, tree["town"])
    private = client_for(observer).get(f"/territories/{tree['town'].slug}/synthesis/")
    assert "<table" in private.content.decode()
    group.size = 12
    group.save()
    assert (
        "<table"
        in client_for(None).get(f"/territories/{tree['town'].slug}/synthesis/").content.decode()
    )


def test_synthesis_page_of_private_territory(tree: Any, user_with_role: Any) -> None:
    tree["school"].is_public = False
    tree["school"].save()
    assert client_for(None).get(f"/territories/{tree['school'].slug}/synthesis/").status_code == 403
    observer = user_with_role(Role.OBSERVER, tree["town"])
    assert (
        client_for(observer).get(f"/territories/{tree['school'].slug}/synthesis/").status_code
        == 200
    )
