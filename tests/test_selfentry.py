"""Self-entry on phones: opening and closing, idempotent post-its, merges, validation, the
public restitution page, rate limits, CSRF, and permissions of every view."""

from __future__ import annotations

import json
import uuid
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from spiral.accounts.models import User
from spiral.coding.models import Coding
from spiral.consultations.models import Criterion, CriterionRevision, Meeting, Question
from spiral.grid.models import Component
from spiral.selfentry import services
from spiral.selfentry.models import CriterionMerge, GroupRestitution, PostIt, SelfEntrySession
from spiral.syntheses.models import GroupSynthesisValidation
from spiral.territories.models import Territory
from tests.conftest import client_for
from tests.factories import CriterionFactory, GroupFactory, MeetingFactory

pytestmark = pytest.mark.django_db

Tree = dict[str, Territory]


def _phone_id() -> str:
    return uuid.uuid4().hex


def _questions(meeting: Meeting) -> list[Question]:
    return list(meeting.question_set.questions.order_by("position"))


def _post(
    client: Client, code: str, participant: str, items: list[dict[str, Any]], **extra: Any
) -> Any:
    return client.post(
        reverse("selfentry:phone_submit", kwargs={"code": code}),
        data=json.dumps({"participant": participant, "items": items}),
        content_type="application/json",
        **extra,
    )


def _item(question: Question, text: str, client_id: str | None = None) -> dict[str, Any]:
    return {"client_id": client_id or _phone_id(), "question": question.pk, "text": text}


@pytest.fixture
def session(meeting: Meeting, facilitator: User) -> SelfEntrySession:
    return services.selfentry_open(meeting=meeting, user=facilitator)


# --- opening and closing ---------------------------------------------------------------------


def test_open_gives_a_short_unambiguous_code_and_reopening_keeps_it(
    meeting: Meeting, facilitator: User
) -> None:
    first = services.selfentry_open(meeting=meeting, user=facilitator)
    assert len(first.code) == services.CODE_LENGTH
    assert set(first.code) <= set(services.CODE_ALPHABET)
    assert not set(first.code) & set("IL01O")
    assert services.selfentry_open(meeting=meeting, user=facilitator) == first
    assert GroupRestitution.objects.filter(group=meeting.group).count() == 1
    services.selfentry_close(session=first, user=facilitator)
    second = services.selfentry_open(meeting=meeting, user=facilitator)
    assert second.pk != first.pk
    assert second.is_open
    assert SelfEntrySession.objects.filter(meeting=meeting, closed_at__isnull=True).count() == 1


def test_facilitator_opens_and_closes_through_the_pages(
    meeting: Meeting, facilitator: User
) -> None:
    client = client_for(facilitator)
    response = client.post(reverse("selfentry:open", kwargs={"pk": meeting.pk}), follow=True)
    session = SelfEntrySession.objects.get(meeting=meeting)
    body = response.content.decode()
    assert session.code in body
    assert "<svg" in body
    assert 'class="qr"' in body
    assert f"/s/{session.code}/" in body
    client.post(reverse("selfentry:close", kwargs={"pk": meeting.pk}))
    session.refresh_from_db()
    assert not session.is_open


def test_meeting_page_links_to_self_entry(meeting: Meeting, facilitator: User) -> None:
    response = client_for(facilitator).get(meeting.get_absolute_url())
    assert reverse("selfentry:projection", kwargs={"pk": meeting.pk}) in response.content.decode()


# --- post-its from phones --------------------------------------------------------------------


def test_postits_are_saved_once_whatever_the_replays(session: SelfEntrySession) -> None:
    q1, q2, _q3 = _questions(session.meeting)
    phone = _phone_id()
    items = [_item(q1, "Avoir un travail"), _item(q1, "Mes amis"), _item(q2, "Le bruit")]
    client = Client()
    first = _post(client, session.code, phone, items)
    assert first.status_code == 200
    assert [r["created"] for r in first.json()["results"]] == [True, True, True]
    # The answer was lost on the way: the phone sends the same post-its again, twice.
    for _ in range(2):
        again = _post(client, session.code, phone, items)
        assert again.status_code == 200
        assert all(r["ok"] and not r["created"] for r in again.json()["results"])
    # And the same client id twice within one request.
    dup = _item(q2, "Être seul")
    _post(client, session.code, phone, [dup, dup])
    criteria = Criterion.objects.filter(meeting=session.meeting)
    assert sorted(criteria.values_list("text", flat=True)) == sorted(
        ["Avoir un travail", "Mes amis", "Le bruit", "Être seul"]
    )
    assert all(c.expressions == 1 and c.created_by is None for c in criteria)
    assert PostIt.objects.filter(session=session).count() == 4
    assert CriterionRevision.objects.filter(criterion__meeting=session.meeting).count() == 4


def test_participants_are_counted_but_not_stored_as_sent(session: SelfEntrySession) -> None:
    (q1, *_rest) = _questions(session.meeting)
    phones = [_phone_id(), _phone_id()]
    for phone in phones:
        _post(Client(), session.code, phone, [_item(q1, "Un toit"), _item(q1, "Du pain")])
    from spiral.selfentry.selectors import participants_of

    assert participants_of(meeting=session.meeting) == 2
    stored = set(PostIt.objects.values_list("participant", flat=True))
    assert len(stored) == 2
    assert not stored & set(phones)


def test_closed_meeting_refuses_postits_with_a_clear_message(
    session: SelfEntrySession, facilitator: User
) -> None:
    (q1, *_rest) = _questions(session.meeting)
    services.selfentry_close(session=session, user=facilitator)
    response = _post(
        Client(), session.code, _phone_id(), [_item(q1, "Trop tard")], HTTP_ACCEPT_LANGUAGE="fr"
    )
    assert response.status_code == 410
    assert response.json()["closed"] is True
    assert response.json()["error"] == "La saisie est fermée pour cette réunion."
    assert not Criterion.objects.filter(meeting=session.meeting).exists()
    page = Client().get(reverse("selfentry:phone", kwargs={"code": session.code}))
    assert page.status_code == 200
    assert "Writing is closed for this meeting." in page.content.decode()
    with pytest.raises(services.SelfEntryClosed):
        services.postits_submit(
            session=session,
            participant_id=_phone_id(),
            items=[services.PostItInput(client_id=_phone_id(), question_id=q1.pk, text="x")],
        )


def test_unknown_code_and_code_typed_in_lower_case(session: SelfEntrySession) -> None:
    client = Client()
    unknown = client.get(reverse("selfentry:phone", kwargs={"code": "ZZZZZZ"}))
    assert unknown.status_code == 404
    assert "No meeting has this code" in unknown.content.decode()
    posted = _post(client, "ZZZZZZ", _phone_id(), [{"client_id": _phone_id(), "text": "x"}])
    assert posted.status_code == 404
    lower = client.get(reverse("selfentry:phone", kwargs={"code": session.code.lower()}))
    assert lower.status_code == 200
    start = client.get(
        reverse("selfentry:phone_start"), {"code": f" {session.code[:3]}-{session.code[3:]} "}
    )
    assert start.status_code == 302
    assert start["Location"].endswith(f"/s/{session.code}/")


def test_forged_question_and_bad_items_are_refused_one_by_one(
    session: SelfEntrySession, settings: Any
) -> None:
    (q1, *_rest) = _questions(session.meeting)
    other = MeetingFactory()
    foreign = Question.objects.exclude(question_set=session.meeting.question_set).first()
    good = _item(q1, "Une bonne idée")
    items = [
        good,
        {"client_id": _phone_id(), "question": 999_999, "text": "Question inventée"},
        {"client_id": _phone_id(), "question": "abc", "text": "Question illisible"},
        _item(q1, "x" * (settings.SPIRAL_SELFENTRY_MAX_LENGTH + 1)),
        _item(q1, "   "),
        _item(q1, "Sans identifiant", client_id="!"),
        _item(q1, "Caractère \x07 de contrôle"),
    ]
    if foreign is not None:
        items.append(_item(foreign, "Question d'un autre questionnaire"))
    response = _post(Client(), session.code, _phone_id(), items)
    assert response.status_code == 200
    results = response.json()["results"]
    assert results[0]["ok"]
    assert results[0]["created"]
    assert [sorted(r["errors"]) for r in results[1:7]] == [
        ["question"],
        ["question"],
        ["text"],
        ["text"],
        ["client_id"],
        ["text"],
    ]
    assert "at most 500 characters" in results[3]["errors"]["text"]
    assert list(
        Criterion.objects.filter(meeting=session.meeting).values_list("text", flat=True)
    ) == ["Une bonne idée"]
    assert not Criterion.objects.filter(meeting=other).exists()


def test_text_that_no_database_can_store_is_refused(session: SelfEntrySession) -> None:
    (q1, *_rest) = _questions(session.meeting)
    body = json.dumps(
        {"participant": _phone_id(), "items": [_item(q1, "moitié \ud800 de caractère")]}
    )
    assert "\\ud800" in body  # sent escaped, as a phone's JSON would
    response = Client().post(
        reverse("selfentry:phone_submit", kwargs={"code": session.code}),
        data=body,
        content_type="application/json",
    )
    assert response.status_code == 200
    assert response.json()["results"][0]["errors"]["text"]
    assert not Criterion.objects.exists()


@pytest.mark.parametrize(
    "body",
    [
        "not json",
        json.dumps([1, 2]),
        json.dumps({"participant": "p" * 20}),
        json.dumps({"participant": "p" * 20, "items": []}),
        json.dumps({"participant": "p" * 20, "items": [{"text": "x"}] * 51}),
        json.dumps({"participant": "p" * 20, "items": [{"text": 3}]}),
    ],
)
def test_unreadable_requests_are_refused(session: SelfEntrySession, body: str) -> None:
    response = Client().post(
        reverse("selfentry:phone_submit", kwargs={"code": session.code}),
        data=body,
        content_type="application/json",
    )
    assert response.status_code == 400
    assert "cannot be read" in response.json()["error"]


def test_phone_without_valid_identifier_is_refused(session: SelfEntrySession) -> None:
    (q1, *_rest) = _questions(session.meeting)
    response = _post(Client(), session.code, "bad id!", [_item(q1, "Une idée")])
    assert response.status_code == 422
    assert not Criterion.objects.exists()


def test_phone_quota(session: SelfEntrySession, settings: Any) -> None:
    settings.SPIRAL_SELFENTRY_MAX_POSTITS_PER_PHONE = 3
    (q1, *_rest) = _questions(session.meeting)
    phone = _phone_id()
    items = [_item(q1, f"Idée {n}") for n in range(3)]
    assert _post(Client(), session.code, phone, items).status_code == 200
    # Re-sending what is already saved stays allowed: it adds nothing.
    assert _post(Client(), session.code, phone, items).status_code == 200
    over = _post(Client(), session.code, phone, [_item(q1, "Une de trop")])
    assert over.status_code == 422
    assert Criterion.objects.count() == 3


def test_rate_limit_per_phone_and_meeting(session: SelfEntrySession, settings: Any) -> None:
    settings.SPIRAL_SELFENTRY_REQUESTS_PER_MINUTE = 2
    (q1, *_rest) = _questions(session.meeting)
    phone = _phone_id()
    statuses = [
        _post(Client(), session.code, phone, [_item(q1, f"Idée {n}")]).status_code for n in range(3)
    ]
    assert statuses == [200, 200, 429]
    limited = _post(Client(), session.code, phone, [_item(q1, "Encore")])
    assert int(limited["Retry-After"]) >= 1
    # Another phone of the same meeting is not held up.
    assert _post(Client(), session.code, _phone_id(), [_item(q1, "Moi")]).status_code == 200


def test_guessing_codes_is_slowed_down(session: SelfEntrySession, settings: Any) -> None:
    settings.SPIRAL_SELFENTRY_BAD_CODES_PER_10_MIN = 3
    client = Client()
    statuses = [
        client.get(reverse("selfentry:phone", kwargs={"code": f"AAAAA{n}"})).status_code
        for n in range(2, 7)
    ]
    assert statuses == [404, 404, 404, 429, 429]
    # The real code still works (only unknown codes count).
    assert client.get(reverse("selfentry:phone", kwargs={"code": session.code})).status_code == 200


def test_anonymous_post_needs_the_csrf_token_of_the_page(session: SelfEntrySession) -> None:
    (q1, *_rest) = _questions(session.meeting)
    client = Client(enforce_csrf_checks=True)
    refused = _post(client, session.code, _phone_id(), [_item(q1, "Sans jeton")])
    assert refused.status_code == 403
    page = client.get(reverse("selfentry:phone", kwargs={"code": session.code}))
    assert page.status_code == 200
    token = client.cookies["csrftoken"].value
    accepted = _post(
        client, session.code, _phone_id(), [_item(q1, "Avec jeton")], HTTP_X_CSRFTOKEN=token
    )
    assert accepted.status_code == 200
    status = client.get(reverse("selfentry:phone_status", kwargs={"code": session.code}))
    assert status.json()["open"] is True
    assert status.json()["csrf"]


def test_phone_page_shows_questions_in_order_and_no_other_postit(
    session: SelfEntrySession,
) -> None:
    (q1, q2, q3) = _questions(session.meeting)
    CriterionFactory(meeting=session.meeting, question=q1, text="Écrit par quelqu'un d'autre")
    body = Client().get(reverse("selfentry:phone", kwargs={"code": session.code})).content.decode()
    assert body.index(f'data-question="{q1.pk}"') < body.index(f'data-question="{q2.pk}"')
    assert body.index(f'data-question="{q2.pk}"') < body.index(f'data-question="{q3.pk}"')
    assert "Écrit par quelqu" not in body  # individual writing first: no one else's post-its
    assert "Question 1 of 3" in body


@hypothesis_settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(text=st.text(max_size=600))
def test_any_text_is_saved_exactly_or_refused_with_a_reason(
    session: SelfEntrySession, text: str
) -> None:
    (q1, *_rest) = _questions(session.meeting)
    client_id = _phone_id()
    response = _post(Client(), session.code, _phone_id(), [_item(q1, text, client_id)])
    assert response.status_code == 200
    [result] = response.json()["results"]
    saved = Criterion.objects.filter(client_token=services.TOKEN_PREFIX + client_id).first()
    if result["ok"]:
        assert saved is not None
        assert saved.text == text.strip()
    else:
        assert saved is None
        assert result["errors"]["text"]


# --- the wall: live board, merges, validation ------------------------------------------------


def test_wall_board_answers_204_until_something_changes(
    session: SelfEntrySession, facilitator: User
) -> None:
    (q1, *_rest) = _questions(session.meeting)
    client = client_for(facilitator)
    url = reverse("selfentry:wall_board", kwargs={"pk": session.meeting_id})
    first = client.get(url, {"v": ""}).json()
    assert client.get(url, {"v": first["version"]}).status_code == 204
    _post(Client(), session.code, _phone_id(), [_item(q1, "Arrivé en direct")])
    changed = client.get(url, {"v": first["version"]})
    assert changed.status_code == 200
    assert "Arrivé en direct" in changed.json()["html"]
    wall = client.get(reverse("selfentry:wall", kwargs={"pk": session.meeting_id}))
    assert "Arrivé en direct" in wall.content.decode()


def _three_postits(session: SelfEntrySession) -> list[Criterion]:
    (q1, *_rest) = _questions(session.meeting)
    _post(
        Client(),
        session.code,
        _phone_id(),
        [_item(q1, "Avoir un travail"), _item(q1, "avoir un travail"), _item(q1, "Un travail")],
    )
    return list(Criterion.objects.filter(meeting=session.meeting).order_by("pk"))


def test_merge_counts_expressions_and_undo_gives_the_postits_back(
    session: SelfEntrySession, facilitator: User
) -> None:
    a, b, c = _three_postits(session)
    client = client_for(facilitator)
    url = reverse("selfentry:merge", kwargs={"pk": session.meeting_id})
    client.post(url, {"criterion": [a.pk, b.pk]})
    a.refresh_from_db()
    assert a.expressions == 2
    assert list(Criterion.objects.filter(meeting=session.meeting)) == [a, c]
    assert Criterion.all_objects.get(pk=b.pk).deleted_at is not None
    # The total of expressions is kept: nothing counted twice, nothing lost.
    assert sum(Criterion.objects.values_list("expressions", flat=True)) == 3
    second = client.post(url, {"criterion": [a.pk, c.pk]})
    assert second.status_code == 302
    a.refresh_from_db()
    assert a.expressions == 3
    first_merge, second_merge = CriterionMerge.objects.order_by("pk")
    # Undoing the first while the second stands is refused.
    response = client.post(
        reverse(
            "selfentry:merge_undo", kwargs={"pk": session.meeting_id, "merge_pk": first_merge.pk}
        ),
        follow=True,
    )
    assert "undo it first" in response.content.decode()
    for merge in (second_merge, first_merge):
        client.post(
            reverse("selfentry:merge_undo", kwargs={"pk": session.meeting_id, "merge_pk": merge.pk})
        )
    a.refresh_from_db()
    assert a.expressions == 1
    assert Criterion.objects.filter(meeting=session.meeting).count() == 3
    actions = list(CriterionRevision.objects.filter(criterion=b).values_list("action", flat=True))
    assert actions == ["created", "deleted", "restored"]
    assert CriterionMerge.objects.filter(undone_at__isnull=True).count() == 0


def test_merge_refuses_forged_or_mixed_postits(
    session: SelfEntrySession, facilitator: User
) -> None:
    a, b, _c = _three_postits(session)
    (_q1, q2, *_rest) = _questions(session.meeting)
    elsewhere = CriterionFactory()  # another meeting's criterion
    other_question = CriterionFactory(meeting=session.meeting, question=q2)
    client = client_for(facilitator)
    url = reverse("selfentry:merge", kwargs={"pk": session.meeting_id})
    forged = client.post(url, {"criterion": [a.pk, elsewhere.pk]}, follow=True)
    assert "do not belong to the meeting" in forged.content.decode()
    mixed = client.post(url, {"criterion": [a.pk, other_question.pk]}, follow=True)
    assert "same question" in mixed.content.decode()
    alone = client.post(url, {"criterion": [a.pk, "x"]}, follow=True)
    assert "at least two" in alone.content.decode()
    assert not CriterionMerge.objects.exists()
    a.refresh_from_db()
    elsewhere.refresh_from_db()
    assert a.expressions == 1
    assert elsewhere.deleted_at is None
    assert b.deleted_at is None


def test_group_validation_is_recorded_and_closes_writing(
    session: SelfEntrySession, facilitator: User
) -> None:
    a, b, _c = _three_postits(session)
    client = client_for(facilitator)
    client.post(
        reverse("selfentry:merge", kwargs={"pk": session.meeting_id}), {"criterion": [a.pk, b.pk]}
    )
    client.post(
        reverse("selfentry:validate", kwargs={"pk": session.meeting_id}),
        {"note": "D'accord à l'unanimité"},
    )
    validation = GroupSynthesisValidation.objects.get(group=session.meeting.group)
    assert validation.synthesis_of_id == session.meeting_id
    assert validation.note == "D'accord à l'unanimité"
    assert validation.snapshot["expressions"] == 3
    assert [(c["text"], c["expressions"]) for c in validation.snapshot["criteria"]] == [
        ("Avoir un travail", 2),
        ("Un travail", 1),
    ]
    session.refresh_from_db()
    assert not session.is_open


# --- restitution: what became of our words ---------------------------------------------------


def _coded_group_meeting(tree: Tree, size: int | None) -> tuple[Meeting, Criterion]:
    group = GroupFactory(territory=tree["neighbourhood"], size=size, name="Les tilleuls")
    meeting = MeetingFactory(group=group)
    criterion = CriterionFactory(meeting=meeting, text="Avoir un travail stable", expressions=2)
    CriterionFactory(meeting=meeting, text="Pas encore codé")
    component = Component.objects.filter(code="A06").first() or Component.objects.first()
    assert component is not None
    Coding.objects.create(criterion=criterion, component=component)
    return meeting, criterion


def test_restitution_shows_criteria_codes_and_synthesis(tree: Tree) -> None:
    meeting, criterion = _coded_group_meeting(tree, size=9)
    restitution = services.restitution_ensure(group_id=meeting.group_id)
    url = reverse("selfentry:restitution", kwargs={"token": restitution.token})
    response = Client().get(url)
    body = response.content.decode()
    assert response.status_code == 200
    assert "Avoir un travail stable" in body
    assert "Pas encore codé" in body
    coding = criterion.codings.get()
    assert coding.component.code in body
    assert "not coded yet" in body
    assert response["X-Robots-Tag"] == "noindex"
    services.restitution_set_enabled(group_id=meeting.group_id, enabled=False)
    assert Client().get(url).status_code == 404
    assert (
        Client().get(reverse("selfentry:restitution", kwargs={"token": "guess"})).status_code == 404
    )


def test_restitution_of_a_small_group_shows_totals_only(tree: Tree) -> None:
    meeting, _criterion = _coded_group_meeting(tree, size=3)
    restitution = services.restitution_ensure(group_id=meeting.group_id)
    body = (
        Client()
        .get(reverse("selfentry:restitution", kwargs={"token": restitution.token}))
        .content.decode()
    )
    assert "Avoir un travail stable" not in body
    assert "Fewer than 5 people" in body
    assert "2 criteria" in body


def test_restitution_hides_the_name_of_a_private_territory(tree: Tree) -> None:
    meeting, _criterion = _coded_group_meeting(tree, size=9)
    territory = meeting.group.territory
    territory.is_public = False
    territory.save()
    restitution = services.restitution_ensure(group_id=meeting.group_id)
    body = (
        Client()
        .get(reverse("selfentry:restitution", kwargs={"token": restitution.token}))
        .content.decode()
    )
    assert territory.name not in body
    assert "Avoir un travail stable" in body


def test_phone_shows_the_restitution_link(session: SelfEntrySession) -> None:
    token = GroupRestitution.objects.get(group=session.meeting.group).token
    body = Client().get(reverse("selfentry:phone", kwargs={"code": session.code})).content.decode()
    assert f"/r/{token}/" in body


# --- permissions of every facilitator view ---------------------------------------------------

FACILITATOR_VIEWS = [
    ("get", "selfentry:projection", {}),
    ("post", "selfentry:open", {}),
    ("post", "selfentry:close", {}),
    ("post", "selfentry:restitution_toggle", {"enabled": "0"}),
    ("get", "selfentry:wall", {}),
    ("get", "selfentry:wall_board", {}),
    ("post", "selfentry:merge", {}),
    ("post", "selfentry:validate", {}),
]


@pytest.mark.parametrize(("method", "name", "data"), FACILITATOR_VIEWS)
def test_facilitator_views_allowed(
    session: SelfEntrySession, facilitator: User, method: str, name: str, data: dict[str, str]
) -> None:
    url = reverse(name, kwargs={"pk": session.meeting_id})
    response = getattr(client_for(facilitator), method)(url, data)
    assert response.status_code in (200, 302)


def test_group_facilitator_without_role_is_allowed(
    session: SelfEntrySession, outsider: User
) -> None:
    session.meeting.group.facilitators.add(outsider)
    response = client_for(outsider).get(
        reverse("selfentry:wall", kwargs={"pk": session.meeting_id})
    )
    assert response.status_code == 200


@pytest.mark.parametrize(("method", "name", "data"), FACILITATOR_VIEWS)
def test_facilitator_views_denied(
    session: SelfEntrySession,
    outsider: User,
    tree: Tree,
    user_with_role: Any,
    method: str,
    name: str,
    data: dict[str, str],
) -> None:
    url = reverse(name, kwargs={"pk": session.meeting_id})
    anonymous = getattr(Client(), method)(url, data)
    assert anonymous.status_code == 302
    assert "/accounts/login/" in anonymous["Location"]
    assert getattr(client_for(outsider), method)(url, data).status_code == 403
    observer = user_with_role("observer", tree["town"])  # may read, may not run the meeting
    assert getattr(client_for(observer), method)(url, data).status_code == 403
    session.refresh_from_db()
    assert session.is_open  # nothing changed


def test_merge_undo_permissions(
    session: SelfEntrySession, facilitator: User, outsider: User
) -> None:
    a, b, _c = _three_postits(session)
    merge = services.criteria_merge(meeting=session.meeting, target=a, others=[b], user=facilitator)
    url = reverse("selfentry:merge_undo", kwargs={"pk": session.meeting_id, "merge_pk": merge.pk})
    assert Client().post(url).status_code == 302
    assert client_for(outsider).post(url).status_code == 403
    merge.refresh_from_db()
    assert merge.undone_at is None
    # A merge id of another meeting is not found through this meeting.
    other = MeetingFactory(group=session.meeting.group)
    wrong = reverse("selfentry:merge_undo", kwargs={"pk": other.pk, "merge_pk": merge.pk})
    assert client_for(facilitator).post(wrong).status_code == 404
    assert client_for(facilitator).post(url).status_code == 302
    merge.refresh_from_db()
    assert merge.undone_at is not None


@pytest.mark.parametrize(
    "name", ["selfentry:phone", "selfentry:phone_status", "selfentry:restitution"]
)
def test_public_views_need_no_account(session: SelfEntrySession, name: str) -> None:
    token = GroupRestitution.objects.get(group=session.meeting.group).token
    kwargs = {"token": token} if name == "selfentry:restitution" else {"code": session.code}
    assert Client().get(reverse(name, kwargs=kwargs)).status_code == 200
    assert Client().get(reverse("selfentry:phone_start")).status_code == 200


def test_public_views_refuse_wrong_methods(session: SelfEntrySession) -> None:
    code = {"code": session.code}
    assert Client().get(reverse("selfentry:phone_submit", kwargs=code)).status_code == 405
    assert Client().post(reverse("selfentry:phone", kwargs=code)).status_code == 405
