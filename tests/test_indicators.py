"""Progress indicators, co-evaluations, the self-survey and its robustness, results (median,
small numbers), actions, ex-post reviews, closing a cycle, the API, and every page's
permissions (allowed and denied)."""

from __future__ import annotations

import datetime
import statistics
from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from spiral.accounts.models import Role, User
from spiral.actions.models import ActionStatus, CycleArchive
from spiral.actions.services import (
    action_decide,
    action_review_record,
    action_save,
    axis_create,
    candidate_scores_record,
    cycle_close,
)
from spiral.coding.services import criterion_codes_add
from spiral.consultations.models import Criterion, GroupProfile
from spiral.consultations.services import CriterionInput, criteria_add
from spiral.grid.models import Component
from spiral.indicators.models import (
    Evaluation,
    Indicator,
    RaterKind,
    Rating,
    SurveyResponse,
)
from spiral.indicators.selectors import evaluation_results, median_of_counts
from spiral.indicators.services import (
    IndicatorError,
    LevelInput,
    SurveyRejected,
    evaluation_create,
    indicator_create,
    indicator_reuse,
    indicator_revise,
    ratings_record,
    survey_submit,
    survey_token_issue,
)
from spiral.territories.models import Territory
from tests.conftest import client_for
from tests.factories import GroupFactory, MeetingFactory

TODAY = datetime.date(2026, 11, 1)


def coded_criteria(territory: Territory, texts: list[str], code: str = "A06") -> list[Criterion]:
    meeting = MeetingFactory(group=GroupFactory(territory=territory))
    question = meeting.question_set.questions.order_by("position").first()
    assert question is not None
    outcomes = criteria_add(
        meeting=meeting,
        question=question,
        inputs=[CriterionInput(text=t) for t in texts],
        user=None,
    )
    criteria = [o.criterion for o in outcomes if o.criterion is not None]
    for criterion in criteria:
        criterion_codes_add(criterion=criterion, codes=[code], user=None)
    return criteria


def levels(criterion_ids: list[int] | None = None) -> dict[int, LevelInput]:
    return {
        n: LevelInput(text=f"Situation {n}", criterion_ids=criterion_ids or []) for n in range(1, 6)
    }


def make_indicator(territory: Territory, title: str = "Work", **kwargs: Any) -> Indicator:
    criteria = coded_criteria(territory, [f"{title} criterion 1", f"{title} criterion 2"])
    component = Component.objects.get(code="A06", version_id=territory.effective_grid_version_id())
    return indicator_create(
        territory=territory,
        title=title,
        question=f"How is {title}?",
        components=[component],
        sorted_criteria={criteria[0].pk: "possibility", criteria[1].pk: "quality"},
        levels=levels([criteria[0].pk]),
        user=None,
        **kwargs,
    )


def make_evaluation(territory: Territory, indicators: list[Indicator], **kwargs: Any) -> Evaluation:
    kwargs.setdefault("survey_open", True)
    kwargs.setdefault("title", "Situation 2026")
    kwargs.setdefault("kind", "ex_ante")
    kwargs.setdefault("held_on", TODAY)
    return evaluation_create(territory=territory, indicators=indicators, user=None, **kwargs)


def answer(evaluation: Evaluation, answers: dict[int, str], token: str | None = None) -> Any:
    data = {f"indicator-{pk}": value for pk, value in answers.items()}
    return survey_submit(
        evaluation=evaluation,
        token=survey_token_issue(evaluation=evaluation) if token is None else token,
        data=data,
        indicator_ids=list(evaluation.indicators.values_list("pk", flat=True)),
    )


# --- indicators -------------------------------------------------------------------------------


def test_indicator_keeps_categories_and_cited_criteria(tree: dict[str, Territory]) -> None:
    indicator = make_indicator(tree["town"])
    assert sorted(indicator.sorted.values_list("category", flat=True)) == ["possibility", "quality"]
    assert indicator.levels.count() == 5
    assert indicator.levels.get(level=1).criteria.count() == 1


def test_indicator_refuses_criteria_of_another_territory(tree: dict[str, Territory]) -> None:
    foreign = coded_criteria(tree["other_town"], ["Ailleurs"])
    with pytest.raises(IndicatorError):
        indicator_create(
            territory=tree["town"],
            title="Work",
            question="?",
            components=[],
            sorted_criteria={foreign[0].pk: "possibility"},
            levels=levels(),
            user=None,
        )
    assert not Indicator.objects.exists()


def test_indicator_needs_five_described_levels(tree: dict[str, Territory]) -> None:
    incomplete = levels()
    incomplete[3] = LevelInput(text="  ")
    with pytest.raises(IndicatorError):
        indicator_create(
            territory=tree["town"],
            title="Work",
            question="?",
            components=[],
            sorted_criteria={},
            levels=incomplete,
            user=None,
        )


def test_rated_indicator_changes_into_a_new_version(tree: dict[str, Territory]) -> None:
    indicator = make_indicator(tree["town"])
    same = indicator_revise(
        indicator=indicator,
        title="Work here",
        question="?",
        sorted_criteria={},
        levels=levels(),
        user=None,
        is_shared=False,
    )
    assert same.pk == indicator.pk
    assert same.version == 1
    evaluation = make_evaluation(tree["town"], [indicator])
    answer(evaluation, {indicator.pk: "3"})
    new = indicator_revise(
        indicator=indicator,
        title="Work, v2",
        question="?",
        sorted_criteria={},
        levels=levels(),
        user=None,
        is_shared=True,
    )
    assert new.pk != indicator.pk
    assert new.version == 2
    assert new.previous_id == indicator.pk
    assert Indicator.objects.current().filter(territory=tree["town"]).get() == new
    indicator.refresh_from_db()
    assert indicator.title == "Work here"  # what people answered is kept
    with pytest.raises(IndicatorError):
        indicator_revise(
            indicator=indicator,
            title="x",
            question="?",
            sorted_criteria={},
            levels=levels(),
            user=None,
            is_shared=False,
        )


def test_shared_indicator_is_reused_by_another_territory(tree: dict[str, Territory]) -> None:
    source = make_indicator(tree["town"], is_shared=True)
    copy = indicator_reuse(source=source, territory=tree["other_town"], user=None)
    assert copy.derived_from == source
    assert copy.territory == tree["other_town"]
    assert list(copy.levels.values_list("text", flat=True)) == [
        f"Situation {n}" for n in range(1, 6)
    ]
    assert not copy.sorted.exists()  # the other town's criteria are its own citizens' words
    with pytest.raises(IndicatorError):
        indicator_reuse(source=source, territory=tree["town"], user=None)


# --- the self-survey: robustness --------------------------------------------------------------


@pytest.fixture
def survey(tree: dict[str, Territory]) -> tuple[Evaluation, Indicator, Indicator]:
    work = make_indicator(tree["town"], "Work")
    housing = make_indicator(tree["town"], "Housing")
    return make_evaluation(tree["town"], [work, housing]), work, housing


def test_survey_answer_counts_once_when_replayed(survey: Any) -> None:
    evaluation, work, housing = survey
    token = survey_token_issue(evaluation=evaluation)
    first = answer(evaluation, {work.pk: "2", housing.pk: "4"}, token)
    again = answer(evaluation, {work.pk: "5", housing.pk: "5"}, token)
    assert first.created
    assert not again.created
    assert again.response == first.response
    assert SurveyResponse.objects.count() == 1
    assert sorted(Rating.objects.values_list("level", flat=True)) == [2, 4]


def test_survey_missing_answer_saves_nothing_and_says_which(survey: Any) -> None:
    evaluation, work, housing = survey
    token = survey_token_issue(evaluation=evaluation)
    with pytest.raises(SurveyRejected) as rejected:
        answer(evaluation, {work.pk: "2"}, token)
    assert set(rejected.value.errors) == {f"indicator-{housing.pk}"}
    assert not SurveyResponse.objects.exists()
    assert not Rating.objects.exists()
    # The same token, corrected, still counts (once).
    assert answer(evaluation, {work.pk: "2", housing.pk: "0"}, token).created
    assert Rating.objects.count() == 1  # "I do not know" is not a rating


@pytest.mark.parametrize("forged", ["999999", "abc", "-1"])
def test_survey_forged_indicator_is_refused(survey: Any, forged: str) -> None:
    evaluation, work, housing = survey
    data = {f"indicator-{work.pk}": "2", f"indicator-{housing.pk}": "3", f"indicator-{forged}": "1"}
    with pytest.raises(SurveyRejected) as rejected:
        survey_submit(
            evaluation=evaluation,
            token=survey_token_issue(evaluation=evaluation),
            data=data,
            indicator_ids=[work.pk, housing.pk],
        )
    assert "" in rejected.value.errors
    assert not Rating.objects.exists()


def test_survey_indicator_of_another_evaluation_is_refused(
    survey: Any, tree: dict[str, Territory]
) -> None:
    evaluation, work, housing = survey
    other = make_indicator(tree["town"], "Health")
    make_evaluation(tree["town"], [other], title="Other")
    data = {
        f"indicator-{work.pk}": "2",
        f"indicator-{housing.pk}": "3",
        f"indicator-{other.pk}": "1",
    }
    with pytest.raises(SurveyRejected):
        survey_submit(
            evaluation=evaluation,
            token=survey_token_issue(evaluation=evaluation),
            data=data,
            indicator_ids=[work.pk, housing.pk],
        )
    assert not Rating.objects.exists()


@pytest.mark.parametrize("token", ["", "garbage", "e30:1abc:xyz"])
def test_survey_bad_token_is_refused(survey: Any, token: str) -> None:
    evaluation, work, housing = survey
    with pytest.raises(SurveyRejected) as rejected:
        answer(evaluation, {work.pk: "2", housing.pk: "3"}, token)
    assert "" in rejected.value.errors


def test_survey_token_of_another_survey_is_refused(survey: Any, tree: dict[str, Territory]) -> None:
    evaluation, work, housing = survey
    other = make_evaluation(tree["town"], [work], title="Other")
    with pytest.raises(SurveyRejected):
        answer(evaluation, {work.pk: "2", housing.pk: "3"}, survey_token_issue(evaluation=other))


def test_closed_survey_refuses_answers(survey: Any) -> None:
    evaluation, work, housing = survey
    Evaluation.objects.filter(pk=evaluation.pk).update(survey_open=False)
    evaluation.refresh_from_db()
    with pytest.raises(SurveyRejected):
        answer(evaluation, {work.pk: "2", housing.pk: "3"})


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    values=st.lists(
        st.one_of(st.sampled_from(["1", "2", "3", "4", "5", "0"]), st.text(max_size=3)),
        min_size=2,
        max_size=2,
    ),
    replays=st.integers(min_value=1, max_value=3),
)
def test_survey_any_input_is_saved_once_or_not_at_all(
    survey: Any, values: list[str], replays: int
) -> None:
    evaluation, work, housing = survey
    before_responses = SurveyResponse.objects.count()
    before_ratings = Rating.objects.count()
    token = survey_token_issue(evaluation=evaluation)
    valid = all(v in {"0", "1", "2", "3", "4", "5"} for v in values)
    created = 0
    for _ in range(replays):
        try:
            created += answer(
                evaluation, {work.pk: values[0], housing.pk: values[1]}, token
            ).created
        except SurveyRejected:
            assert not valid
    assert created == (1 if valid else 0)
    assert SurveyResponse.objects.count() == before_responses + created
    expected = sum(v in {"1", "2", "3", "4", "5"} for v in values) if valid else 0
    assert Rating.objects.count() == before_ratings + expected


# --- the self-survey pages ----------------------------------------------------------------------


def _token(response: Any) -> str:
    import re

    match = re.search(r'name="token" value="([^"]+)"', response.content.decode())
    assert match
    return match.group(1)


def test_survey_page_round_trip_without_account(survey: Any) -> None:
    evaluation, work, housing = survey
    client = Client()
    url = f"/indicators/s/{evaluation.survey_key}/"
    page = client.get(url)
    assert page.status_code == 200
    token = _token(page)
    assert client.get(url).content.decode().count(token) == 1  # same browser, same token
    # Missing answer: 400, the answer given is kept on screen, nothing saved.
    missing = client.post(url, {"token": token, f"indicator-{work.pk}": "2"})
    assert missing.status_code == 400
    assert "Choose a situation" in missing.content.decode()
    assert f'name="indicator-{work.pk}" value="2" checked' in missing.content.decode()
    assert not SurveyResponse.objects.exists()
    done = client.post(
        url, {"token": token, f"indicator-{work.pk}": "2", f"indicator-{housing.pk}": "4"}
    )
    assert done.status_code == 302
    assert done["Location"].endswith("/thanks/")
    replay = Client().post(
        url, {"token": token, f"indicator-{work.pk}": "1", f"indicator-{housing.pk}": "1"}
    )
    assert replay.status_code == 302
    assert replay["Location"].endswith("?again=1")
    assert client.get(url).status_code == 302  # this browser already answered
    assert SurveyResponse.objects.count() == 1
    assert Rating.objects.count() == 2


def test_survey_page_errors_are_translated(survey: Any) -> None:
    evaluation, work, housing = survey
    url = f"/indicators/s/{evaluation.survey_key}/"
    forged = Client().post(
        url,
        {"token": "forged", f"indicator-{work.pk}": "2", f"indicator-{housing.pk}": "2"},
        HTTP_ACCEPT_LANGUAGE="fr",
    )
    assert forged.status_code == 400
    assert "Rechargez la page" in forged.content.decode()
    client = Client()
    token = _token(client.get(url))
    missing = client.post(url, {"token": token}, HTTP_ACCEPT_LANGUAGE="fr")
    assert "Je ne sais pas" in missing.content.decode()
    assert "Choisissez une situation" in missing.content.decode()


def test_unknown_or_closed_survey(survey: Any) -> None:
    evaluation, _work, _housing = survey
    assert Client().get("/indicators/s/nope/").status_code == 404
    Evaluation.objects.filter(pk=evaluation.pk).update(survey_open=False)
    page = Client().get(f"/indicators/s/{evaluation.survey_key}/")
    assert page.status_code == 200
    assert "survey is closed" in page.content.decode()


# --- results ----------------------------------------------------------------------------------


@given(st.lists(st.integers(min_value=1, max_value=5), min_size=1, max_size=60))
def test_median_of_counts_is_the_median(values: list[int]) -> None:
    counts = {level: values.count(level) for level in range(1, 6)}
    assert median_of_counts(counts) == statistics.median(values)


def test_results_by_rater_and_profile_with_small_numbers(
    survey: Any, tree: dict[str, Territory]
) -> None:
    evaluation, work, housing = survey
    profiles = list(GroupProfile.objects.order_by("position")[:2])
    for n in range(6):
        profile = profiles[0] if n < 5 else profiles[1]
        survey_submit(
            evaluation=evaluation,
            token=survey_token_issue(evaluation=evaluation),
            data={
                f"indicator-{work.pk}": str(1 + n % 5),
                f"indicator-{housing.pk}": "0",
                "profile": profile.code,
            },
            indicator_ids=[work.pk, housing.pk],
        )
    ratings_record(
        evaluation=evaluation,
        levels={work.pk: 4, housing.pk: 2},
        rater=RaterKind.COORDINATION,
        user=None,
    )
    group = GroupFactory(territory=tree["neighbourhood"])
    ratings_record(
        evaluation=evaluation, levels={work.pk: 3}, rater=RaterKind.GROUP, group=group, user=None
    )
    ratings_record(
        evaluation=evaluation, levels={work.pk: 5}, rater=RaterKind.GROUP, group=group, user=None
    )
    public = evaluation_results(evaluation=evaluation, show_small=False)
    result = next(r for r in public.indicators if r.indicator == work)
    # 6 citizens (1,2,3,4,5,1), the coordination (4), the group's latest rating (5).
    assert result.all.counts == {1: 2, 2: 1, 3: 1, 4: 2, 5: 2}
    assert result.all.total == Rating.objects.filter(indicator=work).count() == 8
    assert result.all.median == 3.5
    assert set(result.by_rater) == {"coordination", "group", "citizen"}
    hidden = {line.profile.code: line.hidden for line in result.by_profile if line.profile}
    # The 1 answer of the second profile is below the threshold; the 5 of the first would give
    # it away by subtraction from the 6 citizens shown, so they are hidden too.
    assert hidden[profiles[1].code] is True
    assert hidden[profiles[0].code] is True
    private = evaluation_results(evaluation=evaluation, show_small=True)
    assert not any(line.hidden for r in private.indicators for line in r.by_profile)
    assert public.respondents == 6


def test_group_of_another_territory_cannot_rate(survey: Any, tree: dict[str, Territory]) -> None:
    evaluation, work, _housing = survey
    with pytest.raises(IndicatorError):
        ratings_record(
            evaluation=evaluation,
            levels={work.pk: 3},
            rater=RaterKind.GROUP,
            group=GroupFactory(territory=tree["other_town"]),
            user=None,
        )


# --- actions, reviews, cycles -------------------------------------------------------------------


def test_candidates_decision_review_and_comparison(survey: Any, tree: dict[str, Territory]) -> None:
    evaluation, work, housing = survey
    answer(evaluation, {work.pk: "2", housing.pk: "3"})
    axis = axis_create(
        territory=tree["town"], title="Jobs", comparison_criteria="Feasible now\nEffect"
    )
    action = action_save(
        territory=tree["town"],
        fields={"title": "Job forum", "axis": axis},
        indicators=[work],
        user=None,
    )
    candidate_scores_record(action=action, scores={"Feasible now": 3, "Effect": 2})
    with pytest.raises(Exception, match="criteria of its axis"):
        candidate_scores_record(action=action, scores={"Unknown": 1})
    action_decide(
        action=action,
        decided_on=TODAY,
        note="Yes",
        commitments=[("Town hall", "public", "A room")],
        is_pilot=True,
    )
    assert action.status == ActionStatus.DECIDED
    assert action.commitments.count() == 1
    review = action_review_record(
        action=action,
        held_on=TODAY + datetime.timedelta(days=90),
        what_changed="Twelve internships",
        according_to="Young people",
        lessons="Start earlier",
        levels={work.pk: 4},
        user=None,
    )
    assert review.evaluation is not None
    assert review.evaluation.baseline == evaluation
    assert review.evaluation.kind == "ex_post"
    from spiral.indicators.selectors import evaluation_comparison

    lines = evaluation_comparison(
        before=evaluation_results(evaluation=evaluation, show_small=True),
        after=evaluation_results(evaluation=review.evaluation, show_small=True),
    )
    assert [(line.title, line.change) for line in lines] == [("Work", 2.0)]


def test_action_refuses_indicators_of_another_territory(tree: dict[str, Territory]) -> None:
    foreign = make_indicator(tree["other_town"])
    with pytest.raises(Exception, match="own territory"):
        action_save(territory=tree["town"], fields={"title": "x"}, indicators=[foreign], user=None)


def test_cycle_close_archives_and_carries_over(survey: Any, tree: dict[str, Territory]) -> None:
    evaluation, work, housing = survey
    answer(evaluation, {work.pk: "2", housing.pk: "3"})
    town = tree["town"]
    kept = action_save(
        territory=town,
        fields={"title": "Kept", "status": "in_progress"},
        indicators=[work],
        user=None,
    )
    left = action_save(
        territory=town, fields={"title": "Left", "status": "in_progress"}, indicators=[], user=None
    )
    archive = cycle_close(
        territory=town, lessons="More young people", carry_over_ids=[kept.pk], user=None
    )
    town.refresh_from_db()
    assert (town.cycle, town.phase) == (2, 1)
    assert archive.cycle == 1
    assert archive.snapshot["evaluations"][0]["respondents"] == 1
    assert {a["title"] for a in archive.snapshot["actions"]} == {"Kept", "Left"}
    kept.refresh_from_db()
    left.refresh_from_db()
    assert (kept.cycle, left.cycle) == (2, 1)
    assert Indicator.objects.filter(territory=town).count() == 2  # indicators stay
    assert CycleArchive.objects.count() == 1


# --- pages and their permissions ----------------------------------------------------------------


@pytest.fixture
def world(tree: dict[str, Territory], user_with_role: Callable[..., User]) -> dict[str, Any]:
    town = tree["town"]
    indicator = make_indicator(town, is_shared=True)
    evaluation = make_evaluation(town, [indicator])
    answer(evaluation, {indicator.pk: "3"})
    ex_post = make_evaluation(town, [indicator], title="After", kind="ex_post", baseline=evaluation)
    axis = axis_create(territory=town, title="Jobs", comparison_criteria="Feasible now")
    planned = action_save(
        territory=town,
        fields={"title": "Planned", "status": "decided", "axis": axis},
        indicators=[indicator],
        user=None,
    )
    candidate = action_save(
        territory=town, fields={"title": "Idea", "axis": axis}, indicators=[], user=None
    )
    return {
        "town": town,
        "indicator": indicator,
        "evaluation": evaluation,
        "ex_post": ex_post,
        "axis": axis,
        "planned": planned,
        "candidate": candidate,
        "coordinator": user_with_role(Role.COORDINATOR, town),
        "facilitator": user_with_role(Role.FACILITATOR, town),
        "observer": user_with_role(Role.OBSERVER, town),
        "outsider": user_with_role(Role.COORDINATOR, tree["other_town"]),
    }


# (url template, who may see it, who may not). Users: coordinator, facilitator, observer,
# outsider (a coordinator elsewhere), anonymous. The town is public.
READ_PAGES = [
    ("/indicators/territories/{town}/", {"coordinator", "observer", "outsider", "anonymous"}),
    ("/indicators/{indicator}/", {"coordinator", "observer", "outsider", "anonymous"}),
    ("/indicators/evaluations/{evaluation}/", {"coordinator", "observer", "outsider", "anonymous"}),
    (
        "/indicators/evaluations/{ex_post}/compare/",
        {"coordinator", "observer", "outsider", "anonymous"},
    ),
    ("/indicators/evaluations/{evaluation}/qr.svg", {"coordinator", "facilitator", "observer"}),
    ("/actions/territories/{town}/", {"coordinator", "observer", "outsider", "anonymous"}),
    ("/actions/{planned}/", {"coordinator", "observer", "outsider", "anonymous"}),
    ("/actions/{candidate}/", {"coordinator", "facilitator", "observer"}),
    ("/actions/axes/{axis}/", {"coordinator", "facilitator", "observer"}),
    ("/indicators/shared/", {"coordinator", "observer", "outsider", "anonymous"}),
    (
        "/indicators/evaluations/{evaluation}/results.csv",
        {"coordinator", "observer", "outsider", "anonymous"},
    ),
    (
        "/indicators/evaluations/{evaluation}/results.xlsx",
        {"coordinator", "observer", "outsider", "anonymous"},
    ),
]
MANAGE_PAGES = [
    "/indicators/territories/{town}/new/",
    "/indicators/{indicator}/edit/",
    "/indicators/territories/{town}/evaluations/new/",
    "/indicators/evaluations/{evaluation}/rate/",
    "/actions/territories/{town}/new/",
    "/actions/territories/{town}/axes/new/",
    "/actions/{planned}/edit/",
    "/actions/{planned}/review/",
]


def _url(template: str, world: dict[str, Any]) -> str:
    return template.format(
        **{k: getattr(v, "slug", None) or getattr(v, "pk", v) for k, v in world.items()}
    )


def _client(world: dict[str, Any], who: str) -> Client:
    return client_for(None if who == "anonymous" else world[who])


@pytest.mark.parametrize(("template", "allowed"), READ_PAGES)
@pytest.mark.parametrize("who", ["coordinator", "facilitator", "observer", "outsider", "anonymous"])
def test_read_pages_permissions(
    world: dict[str, Any], template: str, allowed: set[str], who: str
) -> None:
    if "qr.svg" not in template and "candidate" not in template and "axes" not in template:
        allowed = allowed | {"facilitator"}
    response = _client(world, who).get(_url(template, world))
    if who in allowed:
        assert response.status_code == 200, (template, who)
    else:
        assert response.status_code in (302, 403), (template, who)


@pytest.mark.parametrize("template", MANAGE_PAGES)
@pytest.mark.parametrize("who", ["coordinator", "facilitator", "observer", "outsider", "anonymous"])
def test_manage_pages_permissions(world: dict[str, Any], template: str, who: str) -> None:
    response = _client(world, who).get(_url(template, world))
    if who in ("coordinator", "facilitator"):
        assert response.status_code == 200, (template, who)
    elif who == "anonymous":
        assert response.status_code == 302
        assert "/accounts/login/" in response["Location"]
    else:
        assert response.status_code == 403, (template, who)


def test_private_territory_hides_everything_from_the_public(world: dict[str, Any]) -> None:
    Territory.objects.filter(pk=world["town"].pk).update(is_public=False)
    for template in (
        "/indicators/territories/{town}/",
        "/indicators/evaluations/{evaluation}/",
        "/actions/territories/{town}/",
    ):
        assert Client().get(_url(template, world)).status_code == 403
        assert _client(world, "outsider").get(_url(template, world)).status_code == 403
        assert _client(world, "observer").get(_url(template, world)).status_code == 200
    # The survey link still works: citizens have no account.
    assert Client().get(f"/indicators/s/{world['evaluation'].survey_key}/").status_code == 200


def test_public_action_page_lists_the_plan_not_the_candidates(world: dict[str, Any]) -> None:
    public = Client().get(_url("/actions/territories/{town}/", world)).content.decode()
    assert "Planned" in public
    assert "Idea" not in public
    private = (
        _client(world, "observer").get(_url("/actions/territories/{town}/", world)).content.decode()
    )
    assert "Idea" in private


@pytest.mark.parametrize("who", ["coordinator", "facilitator", "observer", "outsider", "anonymous"])
def test_writes_permissions(world: dict[str, Any], who: str) -> None:
    client = _client(world, who)
    planned, evaluation = world["planned"], world["evaluation"]
    posts = [
        (f"/actions/{planned.pk}/notes/", {"written_on": "2026-11-02", "text": "Started"}),
        (
            f"/actions/{planned.pk}/commitments/",
            {"actor": "School", "sector": "public", "commitment": "Rooms"},
        ),
        (f"/indicators/evaluations/{evaluation.pk}/survey/", {"open": "0"}),
        (
            f"/indicators/evaluations/{evaluation.pk}/rate/",
            {"rater": "coordination", f"indicator-{world['indicator'].pk}": "4"},
        ),
    ]
    for url, data in posts:
        response = client.post(url, data)
        if who in ("coordinator", "facilitator"):
            assert response.status_code == 302, url
            assert "/accounts/login/" not in response["Location"], url
        elif who == "anonymous":
            assert response.status_code == 302
            assert "/accounts/login/" in response["Location"]
        else:
            assert response.status_code == 403, (url, who)
    allowed = who in ("coordinator", "facilitator")
    assert planned.notes.exists() is allowed
    assert planned.commitments.exists() is allowed
    assert Rating.objects.filter(rater="coordination").exists() is allowed


@pytest.mark.parametrize("who", ["coordinator", "facilitator", "observer", "anonymous"])
def test_cycle_close_is_for_coordinators(world: dict[str, Any], who: str) -> None:
    url = _url("/actions/territories/{town}/close-cycle/", world)
    response = _client(world, who).post(url, {"lessons": "x", "confirm": "on"})
    if who == "coordinator":
        assert response.status_code == 302
        assert CycleArchive.objects.count() == 1
    else:
        assert response.status_code in (302, 403)
        assert not CycleArchive.objects.exists()


def test_builder_creates_an_indicator_through_the_page(world: dict[str, Any]) -> None:
    town = world["town"]
    criteria = coded_criteria(town, ["Un emploi stable"])
    component = Component.objects.get(code="A06", version_id=town.effective_grid_version_id())
    client = _client(world, "coordinator")
    url = f"/indicators/territories/{town.slug}/new/?components={component.pk}"
    assert "Un emploi stable" in client.get(url).content.decode()
    data: dict[str, Any] = {
        "title": "Emploi",
        "question": "Trouvez-vous ?",
        f"category-{criteria[0].pk}": "attainment",
    }
    data |= {f"level-{n}": f"Niveau {n}" for n in range(1, 6)}
    data["level-2-criteria"] = [str(criteria[0].pk)]
    response = client.post(url, data)
    assert response.status_code == 302
    indicator = Indicator.objects.get(title="Emploi")
    assert indicator.levels.get(level=2).criteria.get() == criteria[0]
    data["level-3"] = ""
    assert client.post(url, data).status_code == 400


def test_document_upload_and_download_follow_permissions(
    world: dict[str, Any], tmp_path: Any, settings: Any
) -> None:
    from django.core.files.uploadedfile import SimpleUploadedFile

    settings.MEDIA_ROOT = tmp_path
    planned = world["planned"]
    upload = SimpleUploadedFile("photo.png", b"\x89PNG\r\n\x1a\n", content_type="image/png")
    response = _client(world, "coordinator").post(
        f"/actions/{planned.pk}/documents/", {"file": upload, "caption": "Forum"}
    )
    assert response.status_code == 302
    document = planned.documents.get()
    assert Client().get(f"/actions/documents/{document.pk}/").status_code == 200
    bad = SimpleUploadedFile("x.exe", b"MZ", content_type="application/octet-stream")
    _client(world, "coordinator").post(f"/actions/{planned.pk}/documents/", {"file": bad})
    assert planned.documents.count() == 1
    Territory.objects.filter(pk=world["town"].pk).update(is_public=False)
    assert Client().get(f"/actions/documents/{document.pk}/").status_code == 403


# --- the API ----------------------------------------------------------------------------------


def test_api_public_and_private(world: dict[str, Any]) -> None:
    town, evaluation = world["town"], world["evaluation"]
    listing = Client().get(f"/api/v1/indicators/territories/{town.pk}/indicators")
    assert listing.status_code == 200
    assert [i["title"] for i in listing.json()["results"]] == ["Work"]
    assert listing.json()["count"] == 1
    assert len(listing.json()["results"][0]["levels"]) == 5
    results = Client().get(f"/api/v1/indicators/evaluations/{evaluation.pk}/results").json()
    assert results["respondents"] == 1
    assert results["indicators"][0]["counts"] == [0, 0, 1, 0, 0]
    assert results["indicators"][0]["median"] == 3
    evaluations = Client().get(f"/api/v1/indicators/territories/{town.pk}/evaluations").json()
    assert [(e["title"], e["baseline_id"]) for e in evaluations["results"]] == [
        ("After", evaluation.pk),
        ("Situation 2026", None),
    ]
    actions = Client().get(f"/api/v1/indicators/territories/{town.pk}/actions").json()
    assert [a["title"] for a in actions["results"]] == ["Planned"]
    Territory.objects.filter(pk=town.pk).update(is_public=False)
    assert Client().get(f"/api/v1/indicators/territories/{town.pk}/indicators").status_code == 404
    assert (
        Client().get(f"/api/v1/indicators/evaluations/{evaluation.pk}/results").status_code == 404
    )
    observer = _client(world, "observer")
    assert (
        observer.get(f"/api/v1/indicators/evaluations/{evaluation.pk}/results").status_code == 200
    )
    private_actions = observer.get(f"/api/v1/indicators/territories/{town.pk}/actions").json()
    assert {a["title"] for a in private_actions["results"]} == {"Planned", "Idea"}
    one = observer.get(f"/api/v1/indicators/territories/{town.pk}/actions?limit=1").json()
    assert one["count"] == 2
    assert len(one["results"]) == 1
    assert observer.get(one["next"]).json()["results"][0]["title"] != one["results"][0]["title"]


def test_dashboard_shows_what_exists_and_what_is_missing(world: dict[str, Any]) -> None:
    town = world["town"]
    page = (
        _client(world, "coordinator").get(f"/territories/{town.slug}/dashboard/").content.decode()
    )
    assert "1 progress indicator" in page
    assert "1 ex-ante co-evaluation" in page
    assert "1 self-survey answer" in page
    assert "No pilot action chosen" in page
    assert f"/indicators/territories/{town.slug}/" in page
    assert f"/actions/territories/{town.slug}/close-cycle/" in page
    observer_page = (
        _client(world, "observer").get(f"/territories/{town.slug}/dashboard/").content.decode()
    )
    assert "1 progress indicator" in observer_page
    assert "close-cycle" not in observer_page  # observers see the map, not the doors
    assert _client(world, "outsider").get(f"/territories/{town.slug}/dashboard/").status_code == 403


def test_survey_same_token_racing_counts_once(survey: Any) -> None:
    """Two copies of one answer arriving together: the second misses the first in its check,
    hits the unique constraint on insert, and reports the saved answer instead."""
    from unittest import mock

    from django.db.models import QuerySet

    evaluation, work, housing = survey
    token = survey_token_issue(evaluation=evaluation)
    first = answer(evaluation, {work.pk: "2", housing.pk: "4"}, token)
    with mock.patch.object(QuerySet, "first", return_value=None):
        racing = answer(evaluation, {work.pk: "5", housing.pk: "5"}, token)
    assert not racing.created
    assert racing.response == first.response
    assert SurveyResponse.objects.count() == 1
    assert sorted(Rating.objects.values_list("level", flat=True)) == [2, 4]


def test_api_private_territory_with_a_token(world: dict[str, Any]) -> None:
    from spiral.accounts.models import ApiToken

    town, evaluation = world["town"], world["evaluation"]
    Territory.objects.filter(pk=town.pk).update(is_public=False)
    _token, key = ApiToken.objects.issue(user=world["observer"], name="bench")
    url = f"/api/v1/indicators/evaluations/{evaluation.pk}/results"
    assert Client().get(url, HTTP_AUTHORIZATION=f"Bearer {key}").status_code == 200
    _token, other = ApiToken.objects.issue(user=world["outsider"], name="elsewhere")
    assert Client().get(url, HTTP_AUTHORIZATION=f"Bearer {other}").status_code == 404
    assert Client().get(url, HTTP_AUTHORIZATION="Bearer spiral_nope_nope").status_code == 401


def test_results_export_follows_the_small_numbers_rule(survey: Any) -> None:
    import csv as csv_module
    import io

    evaluation, work, housing = survey
    profile = GroupProfile.objects.order_by("position").first()
    assert profile is not None
    survey_submit(
        evaluation=evaluation,
        token=survey_token_issue(evaluation=evaluation),
        data={f"indicator-{work.pk}": "2", f"indicator-{housing.pk}": "4", "profile": profile.code},
        indicator_ids=[work.pk, housing.pk],
    )
    url = f"/indicators/evaluations/{evaluation.pk}/results.csv"
    rows = list(csv_module.DictReader(io.StringIO(Client().get(url).content.decode())))
    work_rows = [r for r in rows if r["indicator_id"] == str(work.pk)]
    assert [(r["rated_by"], r["profile"], r["level_2"], r["total"]) for r in work_rows] == [
        ("all", "", "1", "1"),
        ("citizen", "", "1", "1"),
    ]  # the single answer of one profile is not shown publicly
    assert Client().get(f"/indicators/evaluations/{evaluation.pk}/results.pdf").status_code == 404
    xlsx = Client().get(f"/indicators/evaluations/{evaluation.pk}/results.xlsx")
    assert xlsx.content[:2] == b"PK"


def test_rating_page_records_a_group_rating_and_keeps_choices_on_error(
    world: dict[str, Any], tree: dict[str, Territory]
) -> None:
    evaluation, indicator = world["evaluation"], world["indicator"]
    group = GroupFactory(territory=tree["neighbourhood"], name="Elderly people")
    client = _client(world, "facilitator")
    url = f"/indicators/evaluations/{evaluation.pk}/rate/"
    assert "Elderly people" in client.get(url).content.decode()
    empty = client.post(url, {"rater": f"group-{group.pk}", f"note-{indicator.pk}": "Kept"})
    assert empty.status_code == 400
    assert "Kept" in empty.content.decode()
    saved = client.post(url, {"rater": f"group-{group.pk}", f"indicator-{indicator.pk}": "2"})
    assert saved.status_code == 302
    rating = Rating.objects.get(rater="group")
    assert (rating.group, rating.level, rating.profile) == (group, 2, group.profile)


@pytest.mark.parametrize("who", ["coordinator", "facilitator", "observer", "outsider", "anonymous"])
def test_more_writes_permissions(
    world: dict[str, Any], who: str, tmp_path: Any, settings: Any
) -> None:
    from django.core.files.uploadedfile import SimpleUploadedFile

    settings.MEDIA_ROOT = tmp_path
    client = _client(world, who)
    candidate, axis = world["candidate"], world["axis"]
    allowed = who in ("coordinator", "facilitator")
    client.post(f"/actions/axes/{axis.pk}/", {"action": candidate.pk, "score-0": "3"})
    assert candidate.scores.exists() is allowed
    client.post(
        f"/actions/{candidate.pk}/decide/",
        {"decided_on": "2026-11-02", "actor": "School", "sector": "public", "commitment": "Rooms"},
    )
    candidate.refresh_from_db()
    assert (candidate.status == ActionStatus.DECIDED) is allowed
    upload = SimpleUploadedFile("notes.pdf", b"%PDF-1.4", content_type="application/pdf")
    client.post(f"/actions/{world['planned'].pk}/documents/", {"file": upload})
    assert world["planned"].documents.exists() is allowed


@pytest.mark.parametrize("who", ["coordinator", "observer", "outsider", "anonymous"])
def test_reuse_needs_managing_the_target_territory(
    world: dict[str, Any], tree: dict[str, Territory], who: str
) -> None:
    target = tree["other_town"]
    response = _client(world, who).post(
        f"/indicators/{world['indicator'].pk}/reuse/", {"territory": target.pk}
    )
    copied = Indicator.objects.filter(territory=target, derived_from=world["indicator"]).exists()
    assert copied is (who == "outsider")  # a coordinator of the other town
    if who == "outsider":
        assert response.status_code == 302
    elif who != "anonymous":
        assert response.status_code == 403


@pytest.mark.parametrize("who", ["coordinator", "facilitator", "observer", "outsider", "anonymous"])
def test_closed_cycle_page_permissions(world: dict[str, Any], who: str) -> None:
    archive = cycle_close(territory=world["town"], lessons="Lessons", carry_over_ids=[], user=None)
    response = _client(world, who).get(f"/actions/cycles/{archive.pk}/")
    if who in ("coordinator", "facilitator", "observer"):
        assert response.status_code == 200
        assert "Lessons" in response.content.decode()
    else:
        assert response.status_code in (302, 403)
    close_page = _client(world, who).get(f"/actions/territories/{world['town'].slug}/close-cycle/")
    assert (close_page.status_code == 200) is (who == "coordinator")


def test_survey_thanks_page_is_public(world: dict[str, Any]) -> None:
    key = world["evaluation"].survey_key
    assert "were recorded" in Client().get(f"/indicators/s/{key}/thanks/").content.decode()
    assert (
        "already recorded" in Client().get(f"/indicators/s/{key}/thanks/?again=1").content.decode()
    )
    assert Client().get("/indicators/s/unknown/thanks/").status_code == 404


def test_review_compares_with_an_evaluation_of_an_earlier_version(
    survey: Any, tree: dict[str, Territory]
) -> None:
    evaluation, work, housing = survey
    answer(evaluation, {work.pk: "2", housing.pk: "3"})
    work_v2 = indicator_revise(
        indicator=work,
        title="Work (v2)",
        question="?",
        sorted_criteria={},
        levels=levels(),
        user=None,
        is_shared=False,
    )
    action = action_save(
        territory=tree["town"],
        fields={"title": "Forum", "status": "in_progress"},
        indicators=[work_v2],
        user=None,
    )
    review = action_review_record(
        action=action,
        held_on=TODAY + datetime.timedelta(days=30),
        what_changed="Better",
        according_to="",
        lessons="",
        levels={work_v2.pk: 3},
        user=None,
    )
    assert review.evaluation is not None
    assert review.evaluation.baseline == evaluation
    from spiral.indicators.selectors import evaluation_comparison

    lines = evaluation_comparison(
        before=evaluation_results(evaluation=evaluation, show_small=True),
        after=evaluation_results(evaluation=review.evaluation, show_small=True),
    )
    assert [(line.title, line.change) for line in lines] == [("Work (v2)", 1.0)]


def test_admin_pages_open_and_ratings_are_read_only(world: dict[str, Any]) -> None:
    admin_user = User.objects.create_superuser("root", "root@example.org", "x-long-password-1")
    client = client_for(admin_user)
    for url in (
        "/admin/indicators/indicator/",
        f"/admin/indicators/indicator/{world['indicator'].pk}/change/",
        "/admin/indicators/evaluation/",
        "/admin/indicators/rating/",
        "/admin/indicators/surveyresponse/",
        "/admin/actions/action/",
        f"/admin/actions/action/{world['planned'].pk}/change/",
        "/admin/actions/strategicaxis/",
        "/admin/actions/cyclearchive/",
    ):
        assert client.get(url).status_code == 200, url
    assert client.get("/admin/indicators/rating/add/").status_code == 403
    assert Client().get("/admin/indicators/rating/").status_code == 302
