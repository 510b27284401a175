"""What a coordination group in its second cycle met when walking through indicators and
co-evaluations: the small-numbers rule against subtraction, ratings decided in meetings shown with
their why, like-with-like comparisons, the builder starting from the coding, reuse below one's
own territory, and self-survey links that survive bad input over HTTP."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from spiral.accounts.models import Role, User
from spiral.coding.models import Coding
from spiral.consultations.models import GroupProfile
from spiral.grid.models import Component, SenseCategory
from spiral.indicators.models import RaterKind, Rating, SurveyResponse
from spiral.indicators.selectors import (
    Distribution,
    ProfileLine,
    criteria_by_category,
    evaluation_comparison,
    evaluation_results,
    indicator_evaluations,
    protect_by_subtraction,
    reuse_territories,
)
from spiral.indicators.services import (
    indicator_create,
    is_plain_number,
    ratings_record,
    survey_submit,
    survey_token_issue,
)
from spiral.territories.models import Territory
from tests.conftest import client_for
from tests.factories import GroupFactory
from tests.test_indicators import answer, coded_criteria, levels, make_evaluation, make_indicator

THRESHOLD = 5


@pytest.fixture
def survey(tree: dict[str, Territory]) -> tuple[Any, Any, Any]:
    work = make_indicator(tree["town"], "Work")
    housing = make_indicator(tree["town"], "Housing")
    return make_evaluation(tree["town"], [work, housing]), work, housing


# --- the small-numbers rule cannot be undone by subtraction ------------------------------------


def _line(total: int, hidden: bool) -> ProfileLine:
    distribution = Distribution()
    distribution.counts[3] = total
    return ProfileLine(profile=None, distribution=distribution, hidden=hidden)


@given(
    totals=st.lists(st.integers(min_value=1, max_value=12), min_size=1, max_size=6),
    unprofiled=st.integers(min_value=0, max_value=8),
)
def test_hidden_profiles_cannot_be_read_by_subtraction(totals: list[int], unprofiled: int) -> None:
    lines = [_line(total, total < THRESHOLD) for total in totals]
    citizens = sum(totals) + unprofiled
    protect_by_subtraction(lines, citizens=citizens, threshold=THRESHOLD)
    shown = [line for line in lines if not line.hidden]
    # Every profile shown has enough answers ...
    assert all(line.distribution.total >= THRESHOLD for line in shown)
    # ... and when something is hidden, what the public can subtract is not a small group.
    if any(line.hidden for line in lines):
        remainder = citizens - sum(line.distribution.total for line in shown)
        assert remainder >= THRESHOLD or not shown
    # Nothing is hidden when nothing had to be.
    if all(total >= THRESHOLD for total in totals):
        assert not any(line.hidden for line in lines)


def test_answers_without_a_profile_protect_a_small_profile(survey: Any) -> None:
    evaluation, work, housing = survey
    young, elderly = list(GroupProfile.objects.order_by("position")[:2])
    for n in range(11):
        profile = young.code if n < 5 else (elderly.code if n == 5 else "")
        survey_submit(
            evaluation=evaluation,
            token=survey_token_issue(evaluation=evaluation),
            data={f"indicator-{work.pk}": "3", f"indicator-{housing.pk}": "0", "profile": profile},
            indicator_ids=[work.pk, housing.pk],
        )
    result = next(
        r
        for r in evaluation_results(evaluation=evaluation, show_small=False).indicators
        if r.indicator == work
    )
    hidden = {line.profile.code: line.hidden for line in result.by_profile if line.profile}
    # 1 elderly answer hidden among 5 answers without a profile: the 5 young stay shown.
    assert hidden == {young.code: False, elderly.code: True}
    # Without the answers lacking a profile, the 5 young would give the 1 elderly away.
    SurveyResponse.objects.filter(profile__isnull=True).delete()
    page = Client().get(f"/indicators/evaluations/{evaluation.pk}/").content.decode()
    assert "it would reveal a smaller profile" in page
    assert "fewer than 5 answers: not shown" in page


def test_a_group_rating_is_not_counted_as_a_person_of_its_profile(
    survey: Any, tree: dict[str, Territory]
) -> None:
    evaluation, work, _housing = survey
    group = GroupFactory(territory=tree["town"])
    ratings_record(
        evaluation=evaluation, levels={work.pk: 2}, rater=RaterKind.GROUP, group=group, user=None
    )
    result = evaluation_results(evaluation=evaluation, show_small=True).indicators
    work_result = next(r for r in result if r.indicator == work)
    assert work_result.by_profile == []
    assert [(r.group, r.level) for r in work_result.panel] == [(group, 2)]


# --- results, comparisons and the indicator page -----------------------------------------------


def test_results_page_shows_each_meeting_rating_with_its_why(
    survey: Any, tree: dict[str, Territory]
) -> None:
    evaluation, work, _housing = survey
    group = GroupFactory(territory=tree["town"], name="Elderly people")
    ratings_record(
        evaluation=evaluation,
        levels={work.pk: 2},
        rater=RaterKind.COORDINATION,
        user=None,
        notes={work.pk: "Few jobs for the young"},
    )
    ratings_record(
        evaluation=evaluation, levels={work.pk: 4}, rater=RaterKind.GROUP, group=group, user=None
    )
    page = Client().get(f"/indicators/evaluations/{evaluation.pk}/").content.decode()
    assert "Few jobs for the young" in page
    assert "Elderly people" in page
    assert "Ratings decided in meetings" in page


def test_comparison_of_one_source_compares_like_with_like(survey: Any) -> None:
    before, work, housing = survey
    for level in ("1", "1", "2"):
        answer(before, {work.pk: level, housing.pk: "0"})
    ratings_record(evaluation=before, levels={work.pk: 4}, rater=RaterKind.COORDINATION, user=None)
    after = make_evaluation(before.territory, [work], title="After", baseline=before)
    ratings_record(evaluation=after, levels={work.pk: 4}, rater=RaterKind.COORDINATION, user=None)
    before_results = evaluation_results(evaluation=before, show_small=True)
    after_results = evaluation_results(evaluation=after, show_small=True)
    mixed = evaluation_comparison(before=before_results, after=after_results)
    assert [line.change for line in mixed] == [2.5]  # citizens' 1.5 against one rating of 4
    same = evaluation_comparison(before=before_results, after=after_results, source="coordination")
    assert [line.change for line in same] == [0.0]
    page = Client().get(f"/indicators/evaluations/{after.pk}/compare/").content.decode()
    assert 'id="mixed-sources"' in page
    page = Client().get(f"/indicators/evaluations/{after.pk}/compare/?source=coordination")
    assert 'id="mixed-sources"' not in page.content.decode()
    assert "= unchanged" in page.content.decode()
    # A forged source or comparison id is ignored or refused, never an error page.
    assert Client().get(f"/indicators/evaluations/{after.pk}/compare/?source=x").status_code == 200
    assert Client().get(f"/indicators/evaluations/{after.pk}/compare/?with=²").status_code == 404


def test_indicator_page_lists_categories_in_the_method_order_and_its_evaluations(
    survey: Any,
) -> None:
    evaluation, work, _housing = survey
    answer(evaluation, {work.pk: "4", _housing.pk: "0"})
    # make_indicator sorts one criterion as possibility and one as quality.
    assert [label for label, _rows in criteria_by_category(indicator=work)] == [
        "Possibility",
        "Quality",
    ]
    rated = indicator_evaluations(indicator=work)
    assert [(r.evaluation, r.median, r.total) for r in rated] == [(evaluation, 4, 1)]
    page = Client().get(f"/indicators/{work.pk}/").content.decode()
    assert "median level 4 (1 rating)" in page


# --- building from the coding -----------------------------------------------------------------


def test_builder_offers_coded_components_and_starts_from_the_sense_codes(
    tree: dict[str, Territory], user_with_role: Callable[..., User]
) -> None:
    town = tree["town"]
    criteria = coded_criteria(town, ["Pas de travail ici", "Un travail stable"])
    version_id = town.effective_grid_version_id()
    sense = SenseCategory.objects.filter(version_id=version_id, code__startswith="P").first()
    assert sense is not None  # the default grid ships the sense category P (senses.tsv)
    Coding.objects.filter(criterion=criteria[0]).update(sense_category=sense)
    component = Component.objects.get(code="A06", version_id=version_id)
    client = client_for(user_with_role(Role.COORDINATOR, town))
    start = client.get(f"/indicators/territories/{town.slug}/new/").content.decode()
    assert f'name="components" value="{component.pk}"' in start
    assert "(2)" in start  # two criteria of the town are coded in A06
    other = Component.objects.filter(version_id=version_id).exclude(code="A06").first()
    assert other is not None
    assert f'name="components" value="{other.pk}"' not in start  # nothing coded there
    page = client.get(
        f"/indicators/territories/{town.slug}/new/?components={component.pk}"
    ).content.decode()
    selected = re.search(rf'name="category-{criteria[0].pk}".*?</select>', page, flags=re.DOTALL)
    assert selected is not None
    assert 'value="possibility" selected' in selected.group(0)
    unsorted = re.search(rf'name="category-{criteria[1].pk}".*?</select>', page, flags=re.DOTALL)
    assert unsorted is not None
    assert " selected" not in unsorted.group(0)


def test_builder_says_when_nothing_is_coded(
    tree: dict[str, Territory], user_with_role: Callable[..., User]
) -> None:
    client = client_for(user_with_role(Role.COORDINATOR, tree["other_town"]))
    page = client.get(f"/indicators/territories/{tree['other_town'].slug}/new/").content.decode()
    assert 'id="no-coded-criteria"' in page


def test_reuse_is_offered_in_the_territories_below_ones_own(
    tree: dict[str, Territory], user_with_role: Callable[..., User]
) -> None:
    source = make_indicator(tree["other_town"], "Shared work", is_shared=True)
    coordinator = user_with_role(Role.COORDINATOR, tree["town"])
    targets = reuse_territories(user=coordinator, exclude=source.territory)
    assert {t.name for t in targets} == {"Town", "Lime trees", "School"}
    page = client_for(coordinator).get(f"/indicators/{source.pk}/").content.decode()
    assert "Lime trees" in page
    response = client_for(coordinator).post(
        f"/indicators/{source.pk}/reuse/", {"territory": tree["neighbourhood"].pk}
    )
    assert response.status_code == 302
    assert tree["neighbourhood"].indicators.get().derived_from == source
    # A forged territory id is a plain "not found".
    assert (
        client_for(coordinator)
        .post(f"/indicators/{source.pk}/reuse/", {"territory": "1²"})
        .status_code
        == 404
    )


def test_indicator_create_keeps_no_criterion_of_another_component_unasked(
    tree: dict[str, Territory],
) -> None:
    town = tree["town"]
    criteria = coded_criteria(town, ["Un toit"], code="A03")
    component = Component.objects.get(code="A03", version_id=town.effective_grid_version_id())
    indicator = indicator_create(
        territory=town,
        title="Housing",
        question="?",
        components=[component],
        sorted_criteria={criteria[0].pk: "attainment"},
        levels=levels([criteria[0].pk]),
        user=None,
    )
    assert [label for label, _rows in criteria_by_category(indicator=indicator)] == ["Attainment"]


# --- the self-survey link over HTTP: bad input --------------------------------------------------


def _token(response: Any) -> str:
    match = re.search(r'name="token" value="([^"]+)"', response.content.decode())
    assert match
    return match.group(1)


@pytest.mark.parametrize("value", ["²", "٣", "①", "3.0", " ", "<b>", "9" * 40])
def test_survey_page_refuses_odd_levels_without_an_error_page(survey: Any, value: str) -> None:
    evaluation, work, housing = survey
    client = Client()
    url = f"/indicators/s/{evaluation.survey_key}/"
    token = _token(client.get(url))
    response = client.post(
        url, {"token": token, f"indicator-{work.pk}": value, f"indicator-{housing.pk}": "2"}
    )
    assert response.status_code == 400
    assert not SurveyResponse.objects.exists()
    # The valid answer stays chosen on the page, the token is kept: the correction counts once.
    assert _token(response) == token
    fixed = client.post(
        url, {"token": token, f"indicator-{work.pk}": "3", f"indicator-{housing.pk}": "2"}
    )
    assert fixed.status_code == 302
    assert SurveyResponse.objects.count() == 1


@pytest.mark.parametrize("forged", ["indicator-999999", "indicator-²", "indicator-", "indicator-x"])
def test_survey_page_refuses_forged_indicator_ids(survey: Any, forged: str) -> None:
    evaluation, work, housing = survey
    client = Client()
    url = f"/indicators/s/{evaluation.survey_key}/"
    token = _token(client.get(url))
    data = {
        "token": token,
        f"indicator-{work.pk}": "3",
        f"indicator-{housing.pk}": "2",
        forged: "1",
    }
    response = client.post(url, data)
    assert response.status_code == 400
    assert "not part of this survey" in response.content.decode()
    assert not Rating.objects.exists()


def test_survey_page_replayed_from_another_browser_counts_once(survey: Any) -> None:
    evaluation, work, housing = survey
    url = f"/indicators/s/{evaluation.survey_key}/"
    token = _token(Client().get(url))
    data = {"token": token, f"indicator-{work.pk}": "3", f"indicator-{housing.pk}": "2"}
    first = Client().post(url, data)
    replay = Client().post(url, data | {f"indicator-{work.pk}": "5"})
    assert first.status_code == replay.status_code == 302
    assert replay["Location"].endswith("?again=1")
    assert SurveyResponse.objects.count() == 1
    assert sorted(Rating.objects.values_list("level", flat=True)) == [2, 3]


@settings(
    max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(text=st.text(max_size=6))
def test_plain_numbers_are_ascii_digits_that_int_reads(text: str) -> None:
    if is_plain_number(text):
        assert str(int(text)).lstrip("0") == text.lstrip("0")
    else:
        assert not (text.isascii() and text.isdigit())


def test_date_inputs_carry_iso_dates_in_french(survey: Any, coordinator: User) -> None:
    evaluation, _work, _housing = survey
    client = client_for(coordinator)
    client.cookies["spiral_language"] = "fr"
    page = client.get(f"/indicators/territories/{evaluation.territory.slug}/evaluations/new/")
    assert page.content.decode().count('type="date"') == 1
    assert re.search(r'type="date" name="held_on" value="\d{4}-\d{2}-\d{2}"', page.content.decode())


def test_a_recorded_rating_reopens_with_its_levels_and_why(
    survey: Any, coordinator: User, tree: dict[str, Territory]
) -> None:
    evaluation, work, housing = survey
    group = GroupFactory(territory=tree["town"], name="Shopkeepers")
    ratings_record(
        evaluation=evaluation,
        levels={work.pk: 2, housing.pk: 4},
        rater=RaterKind.GROUP,
        group=group,
        user=None,
        notes={work.pk: "Shops close"},
    )
    client = client_for(coordinator)
    url = f"/indicators/evaluations/{evaluation.pk}/rate/"
    page = client.get(url).content.decode()
    assert f'href="?rater=group-{group.pk}"' in page
    reopened = client.get(f"{url}?rater=group-{group.pk}").content.decode()
    assert "Shops close" in reopened
    assert re.search(rf'name="indicator-{work.pk}" value="2" checked', reopened)
    assert re.search(rf'name="indicator-{housing.pk}" value="4" checked', reopened)
    # A forged rater shows the empty form, nothing else.
    forged = client.get(f"{url}?rater=group-999999").content.decode()
    assert "Shops close" not in forged


def test_rate_page_reopen_is_refused_to_people_without_a_rating_role(
    survey: Any, outsider: User
) -> None:
    evaluation, work, _housing = survey
    ratings_record(
        evaluation=evaluation, levels={work.pk: 2}, rater=RaterKind.COORDINATION, user=None
    )
    url = f"/indicators/evaluations/{evaluation.pk}/rate/?rater=coordination"
    assert client_for(outsider).get(url).status_code == 403
    response = Client().get(url)
    assert response.status_code == 302
    assert "/accounts/login/" in response["Location"]


def test_evaluation_without_baseline_offers_the_earlier_one(survey: Any) -> None:
    before, work, _housing = survey
    after = make_evaluation(before.territory, [work], title="Later")
    page = Client().get(f"/indicators/evaluations/{after.pk}/").content.decode()
    assert f"/indicators/evaluations/{after.pk}/compare/?with={before.pk}" in page
    first = Client().get(f"/indicators/evaluations/{before.pk}/").content.decode()
    assert "/compare/?with=" not in first  # nothing earlier to compare with


def test_survey_errors_link_to_the_questions_left_out(survey: Any) -> None:
    evaluation, work, housing = survey
    client = Client()
    url = f"/indicators/s/{evaluation.survey_key}/"
    token = _token(client.get(url))
    response = client.post(url, {"token": token, f"indicator-{work.pk}": "3"})
    assert response.status_code == 400
    page = response.content.decode()
    assert f'href="#q-{housing.pk}"' in page
    assert f'href="#q-{work.pk}"' not in page


def test_dashboard_leads_to_indicators_and_actions(survey: Any, coordinator: User) -> None:
    town = survey[0].territory
    page = client_for(coordinator).get(f"/territories/{town.slug}/dashboard/").content.decode()
    assert f'href="/indicators/territories/{town.slug}/"' in page
    assert f'href="/actions/territories/{town.slug}/"' in page


def test_new_evaluation_proposes_the_latest_one_as_its_comparison(
    survey: Any, coordinator: User
) -> None:
    evaluation = survey[0]
    page = client_for(coordinator).get(
        f"/indicators/territories/{evaluation.territory.slug}/evaluations/new/"
    )
    assert re.search(rf'<option value="{evaluation.pk}" selected>', page.content.decode())
