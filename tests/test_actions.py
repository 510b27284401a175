"""Actions in a second cycle: the plan of this cycle apart from earlier ones, closed cycles read
in words, axes whose criteria change, ex-post reviews of decided actions only, and every write
page refused to whoever may not write (allowed and denied)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.utils import timezone

from spiral.accounts.models import Role, User
from spiral.actions.models import Action, ActionStatus, CandidateScore, StrategicAxis
from spiral.actions.services import (
    ActionError,
    action_review_record,
    action_save,
    axis_create,
    axis_update,
    candidate_scores_record,
    commitment_add,
    cycle_close,
)
from spiral.indicators.models import Evaluation, Indicator
from spiral.territories.models import Territory
from tests.conftest import client_for
from tests.test_indicators import TODAY, answer, make_evaluation, make_indicator

WHO = ["coordinator", "facilitator", "observer", "outsider", "anonymous"]


@pytest.fixture
def plan(tree: dict[str, Territory], user_with_role: Callable[..., User]) -> dict[str, Any]:
    town = tree["town"]
    indicator = make_indicator(town, is_shared=True)
    evaluation = make_evaluation(town, [indicator])
    answer(evaluation, {indicator.pk: "2"})
    axis = axis_create(territory=town, title="Housing", comparison_criteria="Feasible\nEffect")
    decided = action_save(
        territory=town,
        fields={"title": "Insulation days", "status": "in_progress", "axis": axis},
        indicators=[indicator],
        user=None,
    )
    candidate = action_save(
        territory=town, fields={"title": "Empty homes", "axis": axis}, indicators=[], user=None
    )
    return {
        "town": town,
        "indicator": indicator,
        "evaluation": evaluation,
        "axis": axis,
        "decided": decided,
        "candidate": candidate,
        "coordinator": user_with_role(Role.COORDINATOR, town),
        "facilitator": user_with_role(Role.FACILITATOR, town),
        "observer": user_with_role(Role.OBSERVER, town),
        "outsider": user_with_role(Role.COORDINATOR, tree["other_town"]),
    }


def _client(plan: dict[str, Any], who: str) -> Client:
    return client_for(None if who == "anonymous" else plan[who])


def _denied(response: Any, who: str) -> bool:
    if who == "anonymous":
        return response.status_code == 302 and "/accounts/login/" in response["Location"]
    return response.status_code == 403


# --- every write page: allowed and denied -------------------------------------------------------


@pytest.mark.parametrize("who", WHO)
def test_create_and_change_pages_write_only_for_the_territory_team(
    plan: dict[str, Any], who: str
) -> None:
    client = _client(plan, who)
    town, axis, decided = plan["town"], plan["axis"], plan["decided"]
    indicator, _evaluation = plan["indicator"], plan["evaluation"]
    allowed = who in ("coordinator", "facilitator")
    posts: list[tuple[str, dict[str, Any]]] = [
        (f"/actions/territories/{town.slug}/axes/new/", {"title": "Work"}),
        (f"/actions/axes/{axis.pk}/edit/", {"title": "Housing for all", "comparison_criteria": ""}),
        (f"/actions/territories/{town.slug}/new/", {"title": "Forum", "status": "candidate"}),
        (f"/actions/{decided.pk}/edit/", {"title": "Insulation", "status": "in_progress"}),
        (
            f"/actions/{decided.pk}/review/",
            {"held_on": "2026-12-01", "what_changed": "Warmer homes"},
        ),
        (
            f"/indicators/territories/{town.slug}/evaluations/new/",
            {
                "title": "Again",
                "kind": "ex_post",
                "held_on": "2026-12-01",
                "indicators": indicator.pk,
            },
        ),
        (
            f"/indicators/{indicator.pk}/edit/",
            {"title": "Work!", "question": "?"} | {f"level-{n}": f"L{n}" for n in range(1, 6)},
        ),
    ]
    for url, data in posts:
        response = client.post(url, data)
        if allowed:
            assert response.status_code == 302, (url, who)
            assert "/accounts/login/" not in response["Location"], url
        else:
            assert _denied(response, who), (url, who, response.status_code)
    assert StrategicAxis.objects.filter(title="Work").exists() is allowed
    assert StrategicAxis.objects.filter(title="Housing for all").exists() is allowed
    assert Action.objects.filter(title="Forum").exists() is allowed
    assert Action.objects.filter(title="Insulation").exists() is allowed
    assert decided.reviews.exists() is allowed
    assert Evaluation.objects.filter(title="Again").exists() is allowed
    assert Indicator.objects.filter(title="Work!").exists() is allowed


@pytest.mark.parametrize("who", WHO)
def test_axis_edit_page_permissions(plan: dict[str, Any], who: str) -> None:
    response = _client(plan, who).get(f"/actions/axes/{plan['axis'].pk}/edit/")
    if who in ("coordinator", "facilitator"):
        assert response.status_code == 200
        assert "Feasible" in response.content.decode()
    else:
        assert _denied(response, who)


@pytest.mark.parametrize("who", WHO)
def test_documents_of_a_candidate_stay_with_the_team(
    plan: dict[str, Any], who: str, tmp_path: Any, settings: Any
) -> None:
    settings.MEDIA_ROOT = tmp_path
    candidate = plan["candidate"]
    upload = SimpleUploadedFile("plan.pdf", b"%PDF-1.4", content_type="application/pdf")
    _client(plan, "coordinator").post(f"/actions/{candidate.pk}/documents/", {"file": upload})
    document = candidate.documents.get()
    response = _client(plan, who).get(f"/actions/documents/{document.pk}/")
    if who in ("coordinator", "facilitator", "observer"):
        assert response.status_code == 200
    else:
        assert response.status_code in (302, 403)


# --- decisions, reviews and bad input ---------------------------------------------------------


def test_a_candidate_is_decided_before_its_ex_post_review(plan: dict[str, Any]) -> None:
    candidate = plan["candidate"]
    with pytest.raises(ActionError):
        action_review_record(
            action=candidate,
            held_on=TODAY,
            what_changed="Nothing yet",
            according_to="",
            lessons="",
            levels={},
            user=None,
        )
    page = _client(plan, "coordinator").get(f"/actions/{candidate.pk}/").content.decode()
    assert f"/actions/{candidate.pk}/review/" not in page
    decided_page = _client(plan, "coordinator").get(f"/actions/{plan['decided'].pk}/")
    assert f"/actions/{plan['decided'].pk}/review/" in decided_page.content.decode()


def test_review_page_of_a_candidate_says_why_and_saves_nothing(plan: dict[str, Any]) -> None:
    candidate = plan["candidate"]
    response = _client(plan, "coordinator").post(
        f"/actions/{candidate.pk}/review/", {"held_on": "2026-12-01", "what_changed": "x"}
    )
    assert response.status_code == 200
    assert "Decide the action before" in response.content.decode()
    assert not candidate.reviews.exists()


@pytest.mark.parametrize("forged", ["", "abc", "²", "999999"])
def test_scoring_a_forged_candidate_is_not_found(plan: dict[str, Any], forged: str) -> None:
    response = _client(plan, "coordinator").post(
        f"/actions/axes/{plan['axis'].pk}/", {"action": forged, "score-0": "3"}
    )
    assert response.status_code == 404
    assert not CandidateScore.objects.exists()


def test_changing_an_axis_keeps_the_scores_of_the_criteria_kept(plan: dict[str, Any]) -> None:
    candidate, axis = plan["candidate"], plan["axis"]
    candidate_scores_record(action=candidate, scores={"Feasible": 3, "Effect": 1})
    axis_update(axis=axis, title="Housing", comparison_criteria="Feasible\nWho takes part")
    assert dict(candidate.scores.values_list("criterion", "score")) == {"Feasible": 3}


def test_date_fields_are_iso_in_french(plan: dict[str, Any]) -> None:
    client = _client(plan, "coordinator")
    client.cookies["spiral_language"] = "fr"
    page = client.get(f"/actions/{plan['candidate'].pk}/").content.decode()
    assert 'name="decided_on" value="' in page
    value = page.split('name="decided_on" value="', 1)[1].split('"', 1)[0]
    assert value == timezone.localdate().isoformat()
    response = client.post(
        f"/actions/{plan['candidate'].pk}/decide/",
        {"decided_on": value, "actor": "Mairie", "sector": "public", "commitment": "Locaux"},
    )
    assert response.status_code == 302
    plan["candidate"].refresh_from_db()
    assert plan["candidate"].status == ActionStatus.DECIDED


# --- the second cycle ---------------------------------------------------------------------------


def test_next_cycle_shows_its_plan_apart_from_earlier_actions(plan: dict[str, Any]) -> None:
    town, decided, candidate = plan["town"], plan["decided"], plan["candidate"]
    commitment_add(action=decided, actor="Town hall", sector="public", commitment="Rooms")
    archive = cycle_close(
        territory=town, lessons="Start earlier", carry_over_ids=[decided.pk], user=None
    )
    town.refresh_from_db()
    decided.refresh_from_db()
    assert decided.cycle == town.cycle == archive.cycle + 1
    page = _client(plan, "observer").get(f"/actions/territories/{town.slug}/").content.decode()
    plan_part, earlier_part = page.split("Actions of earlier cycles")
    assert decided.title in plan_part
    assert candidate.title in earlier_part
    assert f"/actions/cycles/{archive.pk}/" in page
    public = Client().get(f"/actions/territories/{town.slug}/").content.decode()
    assert f"/actions/cycles/{archive.pk}/" not in public  # the archive is the team's


def test_closed_cycle_reads_in_words_of_the_reader(plan: dict[str, Any]) -> None:
    town, decided = plan["town"], plan["decided"]
    commitment_add(action=decided, actor="Town hall", sector="public", commitment="Rooms")
    archive = cycle_close(territory=town, lessons="", carry_over_ids=[], user=None)
    client = _client(plan, "observer")
    english = client.get(f"/actions/cycles/{archive.pk}/").content.decode()
    assert "In progress" in english
    assert "in_progress" not in english
    client.cookies["spiral_language"] = "fr"
    french = client.get(f"/actions/cycles/{archive.pk}/").content.decode()
    assert "En cours" in french
    assert "Town hall" in french


def test_next_cycle_map_does_not_count_the_last_cycles_reviews(plan: dict[str, Any]) -> None:
    town, decided = plan["town"], plan["decided"]
    action_review_record(
        action=decided,
        held_on=TODAY,
        what_changed="Warmer",
        according_to="",
        lessons="Start earlier",
        levels={},
        user=None,
    )
    client = _client(plan, "coordinator")
    before = client.get(f"/territories/{town.slug}/dashboard/").content.decode()
    assert "Lessons recorded" in before
    cycle_close(territory=town, lessons="", carry_over_ids=[decided.pk], user=None)
    after = client.get(f"/territories/{town.slug}/dashboard/").content.decode()
    assert "No lessons recorded yet" in after
    assert "1 action carried out or under way" in after  # the carried-over action is this cycle's
