"""The public bulk path of criteria (consultations.services.criteria_bulk_create) and the
incremental update of the stored figures (syntheses.services.figures_change): all or nothing,
idempotent by client token, and always equal to a full recompute from the rows."""

from __future__ import annotations

import datetime
from typing import Any

import pytest
from django.db import transaction
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from spiral.accounts.models import User
from spiral.coding.models import Coding, CodingSource
from spiral.consultations.models import (
    Criterion,
    CriterionRevision,
    HomogeneousGroup,
    Meeting,
    Question,
    QuestionSet,
)
from spiral.consultations.services import (
    CriteriaRejected,
    CriterionDraft,
    CriterionInput,
    criteria_add,
    criteria_bulk_create,
    criterion_delete,
    criterion_input_check,
    criterion_update,
)
from spiral.grid.codes import GridIndex, ResolvedCode
from spiral.grid.models import GridVersion
from spiral.syntheses.models import SynthesisCell, TerritoryStats
from spiral.syntheses.services import (
    CriterionFacts,
    GroupFacts,
    figures_change,
    territory_stats_rebuild,
)
from spiral.territories.models import Territory
from tests.factories import CriterionFactory, GroupFactory

pytestmark = pytest.mark.django_db

CELL_FIELDS = (
    "territory_id",
    "facet",
    "facet_value",
    "question_kind",
    "level",
    "item_id",
    "criteria",
    "expressions",
)
STATS_FIELDS = ("territory_id", "groups", "meetings", "criteria", "expressions", "coded_criteria")
CODES = ["A01", "A02", "A06", "B01", "D03", "F01", "H01", "A01-11/P15/k"]


def _stored() -> tuple[set[tuple[Any, ...]], set[tuple[Any, ...]]]:
    cells = set(SynthesisCell.objects.values_list(*CELL_FIELDS))
    stats = {row for row in TerritoryStats.objects.values_list(*STATS_FIELDS) if any(row[1:])}
    return cells, stats


def _recomputed() -> tuple[set[tuple[Any, ...]], set[tuple[Any, ...]]]:
    """What a full rebuild from the rows gives, without keeping it."""
    with transaction.atomic():
        territory_stats_rebuild()
        figures = _stored()
        transaction.set_rollback(True)
    return figures


def _questions(meeting: Meeting) -> list[Question]:
    return list(meeting.question_set.questions.order_by("position"))


def _grid() -> GridIndex:
    return GridIndex(GridVersion.objects.get(is_default=True))


def _draft(meeting: Meeting, text: str, **fields: Any) -> CriterionDraft:
    return CriterionDraft(meeting=meeting, question=_questions(meeting)[0], text=text, **fields)


# --- checking ------------------------------------------------------------------------------


def test_criterion_input_check_gives_every_error_and_the_stored_values(meeting: Meeting) -> None:
    bad = criterion_input_check(
        CriterionInput(text="  ", expressions=0, language="xx", code="Z99"),
        meeting=meeting,
        grid=_grid(),
    )
    assert set(bad.errors) == {"text", "expressions", "language", "code"}
    assert not bad.ok
    good = criterion_input_check(
        CriterionInput(text="  Du travail ", code="A01"), meeting=meeting, grid=_grid()
    )
    assert good.ok
    assert good.text == "Du travail"
    assert good.language == meeting.language
    assert good.code is not None
    assert good.code.component.code == "A01"
    without_grid = criterion_input_check(
        CriterionInput(text="x", code="A01"), meeting=meeting, grid=None
    )
    assert set(without_grid.errors) == {"code"}


# --- bulk writes ---------------------------------------------------------------------------


def test_bulk_writes_criteria_revisions_codings_and_figures(
    meeting: Meeting, facilitator: User
) -> None:
    CriterionFactory(meeting=meeting, question=_questions(meeting)[0], position=4)
    territory_stats_rebuild()
    grid = _grid()
    codes = (grid.resolve("A01"), grid.resolve("B01"))
    outcomes = criteria_bulk_create(
        drafts=[
            _draft(meeting, "Le travail", expressions=3, codes=codes),
            _draft(meeting, "La paix", language="en"),
        ],
        user=facilitator,
    )
    assert [o.created for o in outcomes] == [True, True]
    first, second = (Criterion.objects.get(pk=o.criterion_id) for o in outcomes)
    assert (first.text, first.expressions, first.position, first.created_by) == (
        "Le travail",
        3,
        5,
        facilitator,
    )
    assert (second.language, second.position, second.territory) == (
        "en",
        6,
        meeting.group.territory,
    )
    assert CriterionRevision.objects.filter(criterion__in=[first, second]).count() == 2
    codings = Coding.objects.filter(criterion=first)
    assert sorted(codings.values_list("full_code", flat=True)) == ["A01", "B01"]
    assert set(codings.values_list("source", flat=True)) == {CodingSource.IMPORT}
    stats = TerritoryStats.objects.get(territory=meeting.group.territory)
    assert (stats.criteria, stats.expressions, stats.coded_criteria) == (3, 5, 1)
    assert _stored() == _recomputed()


def test_one_bad_draft_and_nothing_is_written(meeting: Meeting, facilitator: User) -> None:
    territory_stats_rebuild()
    before = _stored()
    with pytest.raises(CriteriaRejected) as rejected:
        criteria_bulk_create(
            drafts=[
                _draft(meeting, "Bien"),
                _draft(meeting, "   "),
                _draft(meeting, "Trop", expressions=0),
            ],
            user=facilitator,
        )
    assert sorted(rejected.value.errors) == [1, 2]
    assert "text" in rejected.value.errors[1]
    assert "expressions" in rejected.value.errors[2]
    assert not Criterion.objects.exists()
    assert _stored() == before


def test_a_question_of_another_set_is_a_programming_error(
    meeting: Meeting, facilitator: User
) -> None:
    other_set = QuestionSet.objects.exclude(pk=meeting.question_set_id).first()
    assert other_set is not None
    draft = CriterionDraft(
        meeting=meeting, question=other_set.questions.first(), text="Quelque chose"
    )
    with pytest.raises(ValueError, match="question set"):
        criteria_bulk_create(drafts=[draft], user=facilitator)


def test_client_tokens_make_a_bulk_write_idempotent(meeting: Meeting, facilitator: User) -> None:
    territory_stats_rebuild()
    drafts = [
        _draft(meeting, "Un", client_token="t-1"),
        _draft(meeting, "Deux", client_token="t-2"),
        _draft(meeting, "Un encore", client_token="t-1"),  # same token: the first one wins
        _draft(meeting, "Sans jeton"),
    ]
    first = criteria_bulk_create(drafts=drafts, user=facilitator)
    assert [o.created for o in first] == [True, True, False, True]
    assert first[2].criterion_id == first[0].criterion_id
    figures = _stored()
    again = criteria_bulk_create(drafts=drafts[:3], user=facilitator)
    assert [o.created for o in again] == [False, False, False]
    assert [o.criterion_id for o in again] == [o.criterion_id for o in first[:3]]
    assert Criterion.objects.filter(meeting=meeting).count() == 3
    assert _stored() == figures == _recomputed()


def test_unsaved_meetings_are_created_with_their_criteria_only(
    tree: dict[str, Territory], facilitator: User
) -> None:
    group = GroupFactory(territory=tree["town"])
    territory_stats_rebuild()
    question_set = QuestionSet.objects.get(is_default=True)
    new = Meeting(group=group, held_on=datetime.date(2025, 3, 9), question_set=question_set)
    with pytest.raises(CriteriaRejected):
        criteria_bulk_create(drafts=[_draft(new, "")], user=facilitator)
    assert not Meeting.objects.filter(group=group).exists()
    outcomes = criteria_bulk_create(
        drafts=[_draft(new, "Un"), _draft(new, "Deux")], user=facilitator
    )
    assert Meeting.objects.filter(group=group).count() == 1
    assert new.pk is not None
    assert new.created_by == facilitator
    assert {Criterion.objects.get(pk=o.criterion_id).meeting_id for o in outcomes} == {new.pk}
    assert TerritoryStats.objects.get(territory=tree["town"]).meetings == 1
    assert _stored() == _recomputed()


def test_criteria_add_keeps_per_line_errors_and_saves_the_rest(
    meeting: Meeting, facilitator: User
) -> None:
    territory_stats_rebuild()
    outcomes = criteria_add(
        meeting=meeting,
        question=_questions(meeting)[1],
        inputs=[
            CriterionInput(text="Bon", code="A01"),
            CriterionInput(text="", code="A01"),
            CriterionInput(text="Code faux", code="Z99"),
        ],
        user=facilitator,
    )
    assert [o.ok for o in outcomes] == [True, False, False]
    assert outcomes[0].criterion is not None
    assert outcomes[0].created
    assert Coding.objects.get(criterion=outcomes[0].criterion).source == CodingSource.TRANSCRIPTION
    assert _stored() == _recomputed()


# --- the incremental figures equal a full recompute ----------------------------------------


def test_figures_change_removes_what_it_added(meeting: Meeting) -> None:
    territory_stats_rebuild()
    before = _stored()
    grid = _grid()
    code = grid.resolve("A06")
    facts = CriterionFacts(
        territory_id=meeting.group.territory_id,
        question_kind="well_being",
        profile=meeting.group.profile.code,
        language="fr",
        month="2026-10",
        expressions=4,
        codes=((code.component.pk, code.component.dimension_id, code.component.version_id),),
    )
    with transaction.atomic():
        figures_change(added=[facts, facts])
        assert _stored() != before
        figures_change(removed=[facts, facts])
    assert _stored() == before


def test_new_groups_count_with_their_people(tree: dict[str, Territory]) -> None:
    territory_stats_rebuild()
    groups = [
        GroupFactory(territory=tree["school"], size=9),
        GroupFactory(territory=tree["school"], size=None),
        GroupFactory(territory=tree["neighbourhood"], size=4, is_archived=True),
    ]
    figures_change(
        groups_added=[
            GroupFacts(g.territory_id, g.profile.code, g.size, g.is_archived) for g in groups
        ]
    )
    assert _stored() == _recomputed()


def _counted_group(territory: Territory, size: int | None) -> HomogeneousGroup:
    """A group made around the services, then added to the figures as imports do."""
    group = GroupFactory(territory=territory, size=size)
    figures_change(groups_added=[GroupFacts(group.territory_id, group.profile.code, group.size)])
    return group


MONTHS = [datetime.date(2025, 11, 3), datetime.date(2026, 1, 20), datetime.date(2026, 2, 1)]
place = st.sampled_from(["town", "neighbourhood", "school", "other_town", "country"])
draft_strategy = st.fixed_dictionaries(
    {
        "place": place,
        "month": st.integers(0, len(MONTHS) - 1),
        "question": st.integers(0, 2),
        "language": st.sampled_from(["fr", "en", "pt"]),
        "expressions": st.integers(1, 7),
        "codes": st.lists(st.sampled_from(CODES), max_size=3),
        "new_meeting": st.booleans(),
    }
)
step = st.one_of(
    st.tuples(st.just("bulk"), st.lists(draft_strategy, min_size=1, max_size=8)),
    st.tuples(st.just("delete"), st.integers(0, 1000)),
    st.tuples(st.just("edit"), st.integers(0, 1000), st.integers(1, 9)),
    st.tuples(st.just("group"), place, st.one_of(st.none(), st.integers(1, 12))),
)


@given(steps=st.lists(step, min_size=1, max_size=6))
@hypothesis_settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
def test_incremental_figures_equal_a_full_recompute_after_random_writes(
    steps: list[tuple[Any, ...]], tree: dict[str, Territory], facilitator: User
) -> None:
    """Random bulk inserts (several codes, new meetings, every place of the tree), interleaved
    with the recounting writers (deletions, corrections) and new groups: the stored figures
    always equal what a full rebuild from the rows gives."""
    with transaction.atomic():
        territory_stats_rebuild()
        grid = _grid()
        resolved: dict[str, ResolvedCode] = {code: grid.resolve(code) for code in CODES}
        question_set = QuestionSet.objects.get(is_default=True)
        questions = list(question_set.questions.order_by("position"))
        groups: dict[str, HomogeneousGroup] = {}
        meetings: dict[tuple[str, int], Meeting] = {}
        for operation, *args in steps:
            if operation == "bulk":
                drafts = []
                for d in args[0]:
                    if d["place"] not in groups:
                        groups[d["place"]] = _counted_group(tree[d["place"]], 10)
                    group = groups[d["place"]]
                    key = (d["place"], d["month"])
                    if d["new_meeting"] or key not in meetings:
                        meeting = Meeting(
                            group=group,
                            held_on=MONTHS[d["month"]],
                            question_set=question_set,
                            language="fr",
                        )
                        meetings[key] = meeting
                    meeting = meetings[key]
                    drafts.append(
                        CriterionDraft(
                            meeting=meeting,
                            question=questions[d["question"]],
                            text=f"Critère {len(drafts)}",
                            expressions=d["expressions"],
                            language=d["language"],
                            codes=tuple(resolved[c] for c in d["codes"]),
                        )
                    )
                criteria_bulk_create(drafts=drafts, user=facilitator)
            elif operation in ("delete", "edit"):
                alive = list(Criterion.objects.order_by("pk"))
                if not alive:
                    continue
                criterion = alive[args[0] % len(alive)]
                if operation == "delete":
                    criterion_delete(criterion=criterion, user=facilitator)
                else:
                    criterion_update(
                        criterion=criterion,
                        text=criterion.text + " !",
                        expressions=args[1],
                        language=criterion.language,
                        user=facilitator,
                    )
            else:
                _counted_group(tree[args[0]], args[1])
            stored, recomputed = _stored(), _recomputed()
            assert stored == recomputed, (
                operation,
                sorted(stored[0] - recomputed[0]),
                sorted(recomputed[0] - stored[0]),
                sorted(stored[1] ^ recomputed[1]),
            )
        transaction.set_rollback(True)
