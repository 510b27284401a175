"""Groups, meetings, criteria: transcription, paste, corrections with history, permissions."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from spiral.accounts.models import Role
from spiral.coding.models import Coding
from spiral.consultations.models import Criterion, CriterionRevision, HomogeneousGroup, Meeting
from spiral.consultations.paste import parse_pasted_line, parse_pasted_text
from spiral.consultations.services import (
    CriterionInput,
    criteria_add,
    criterion_delete,
    criterion_restore,
    criterion_update,
)
from spiral.core.text import CRITERION_MAX_LENGTH
from tests.conftest import client_for
from tests.factories import GroupFactory, MeetingFactory, default_profile

pytestmark = pytest.mark.django_db


# --- reading pasted lines --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expressions", "text", "code"),
    [
        ("1;Having a well-paid job;A06", 1, "Having a well-paid job", "A06"),
        ("4;Having many friends;D03", 4, "Having many friends", "D03"),
        ("2;Being ill;F01", 2, "Being ill", "F01"),
        ("3;Voir mes amis", 3, "Voir mes amis", ""),
        ("Avoir un toit", 1, "Avoir un toit", ""),
        ("2;manger; boire;A01", 2, "manger; boire", "A01"),
        ("2\tAvoir un travail\tA06", 2, "Avoir un travail", "A06"),
        ("Avoir un travail\t3\tA06", 3, "Avoir un travail", "A06"),
        ("Avoir un travail\t3", 3, "Avoir un travail", ""),
        ("Se sentir utile;H01", 1, "Se sentir utile", "H01"),
        ("2\tAvoir un travail\tA06\t\t", 2, "Avoir un travail", "A06"),
        (
            "1;Ne pas pouvoir manger de pain;A01-11/P15/k",
            1,
            "Ne pas pouvoir manger de pain",
            "A01-11/P15/k",
        ),
        ("1;texte;A1", 1, "texte", "A1"),  # a typo in the code is kept as a code, to be refused
    ],
)
def test_pasted_line_formats(raw: str, expressions: int, text: str, code: str) -> None:
    line = parse_pasted_line(raw, 1)
    assert line is not None
    assert (line.expressions, line.text, line.code, line.error) == (expressions, text, code, "")


@pytest.mark.parametrize("raw", ["x;texte;A01", "deux;Avoir un travail;A06", "0;Rien;A01"])
def test_pasted_line_with_unreadable_count_has_an_error(raw: str) -> None:
    line = parse_pasted_line(raw, 7)
    assert line is not None
    assert line.error
    assert line.number == 7


def test_pasted_text_skips_blank_lines_and_keeps_numbers() -> None:
    lines = parse_pasted_text("1;A;A01\n\n   \nx;B;A02\n3;C")
    assert [(line.number, bool(line.error)) for line in lines] == [
        (1, False),
        (4, True),
        (5, False),
    ]
    assert [line.raw for line in lines] == ["1;A;A01", "x;B;A02", "3;C"]


criterion_text = st.text(
    alphabet=st.characters(blacklist_categories=("Cc", "Cs"), blacklist_characters=";\t"),
    min_size=1,
    max_size=60,
).filter(lambda t: t.strip() and not t.strip().isdigit())


@given(
    expressions=st.integers(min_value=1, max_value=999),
    text=criterion_text,
    code=st.sampled_from(["", "A01", "B02", "H00", "A01-11/P15/k"]),
)
def test_wikispiral_format_round_trips(expressions: int, text: str, code: str) -> None:
    line = parse_pasted_line(f"{expressions};{text};{code}", 1)
    assert line is not None
    assert not line.error
    assert line.expressions == expressions
    assert line.text == text.strip()
    assert line.code == code


@given(st.text(max_size=200))
def test_any_pasted_line_is_read_or_explained(raw: str) -> None:
    line = parse_pasted_line(raw, 1)
    if line is not None:
        assert line.error or line.expressions >= 1


# --- saving criteria -------------------------------------------------------------------------


def test_criteria_add_saves_valid_lines_and_explains_the_others(
    meeting: Meeting, questions: list[Any]
) -> None:
    outcomes = criteria_add(
        meeting=meeting,
        question=questions[0],
        inputs=[
            CriterionInput(text="Avoir un travail", expressions=2, code="A06"),
            CriterionInput(text="   "),
            CriterionInput(text="x" * (CRITERION_MAX_LENGTH + 1)),
            CriterionInput(text="bad\x00char"),
            CriterionInput(text="Voir la mer", code="Z99"),
            CriterionInput(text="Voir la mer", code="A1"),
            CriterionInput(text="Voir la mer", language="xx"),
            CriterionInput(text="Voir la mer", expressions=0),
        ],
        user=None,
    )
    assert [o.created for o in outcomes] == [True] + [False] * 7
    assert [sorted(o.errors) for o in outcomes[1:]] == [
        ["text"],
        ["text"],
        ["text"],
        ["code"],
        ["code"],
        ["language"],
        ["expressions"],
    ]
    assert "Z99" in outcomes[4].errors["code"]
    criterion = Criterion.objects.get()
    assert (criterion.text, criterion.expressions, criterion.language) == (
        "Avoir un travail",
        2,
        "fr",
    )
    assert criterion.territory == meeting.group.territory
    assert [c.full_code for c in Coding.objects.current().filter(criterion=criterion)] == ["A06"]
    assert criterion.revisions.get().action == "created"


@pytest.mark.parametrize(
    "text",
    [
        "Être entouré 😊",
        "السعادة مع العائلة",
        "שלום בבית",
        "Voir ‏mes amis",
        "naïve café – « guillemets »",
    ],
)
def test_text_is_stored_exactly_as_written(
    meeting: Meeting, questions: list[Any], text: str
) -> None:
    [outcome] = criteria_add(
        meeting=meeting, question=questions[0], inputs=[CriterionInput(text=text)], user=None
    )
    assert outcome.ok
    assert Criterion.objects.get().text == text


def test_same_client_token_creates_nothing_twice(meeting: Meeting, questions: list[Any]) -> None:
    item = CriterionInput(text="Avoir des amis", client_token="line-1", code="D03")
    first = criteria_add(meeting=meeting, question=questions[0], inputs=[item], user=None)
    again = criteria_add(meeting=meeting, question=questions[0], inputs=[item, item], user=None)
    assert first[0].created
    assert [o.created for o in again] == [False, False]
    assert {o.criterion.pk for o in again if o.criterion} == {first[0].criterion.pk}  # type: ignore[union-attr]
    assert Criterion.objects.count() == 1
    assert Coding.objects.count() == 1


def test_duplicate_tokens_in_one_request_count_once(meeting: Meeting, questions: list[Any]) -> None:
    item = CriterionInput(text="Avoir des amis", client_token="dup")
    outcomes = criteria_add(meeting=meeting, question=questions[0], inputs=[item, item], user=None)
    assert [o.created for o in outcomes] == [True, False]
    assert outcomes[0].criterion == outcomes[1].criterion
    assert Criterion.objects.count() == 1


def test_positions_follow_the_typing_order(meeting: Meeting, questions: list[Any]) -> None:
    for word in ["un", "deux", "trois"]:
        criteria_add(
            meeting=meeting, question=questions[1], inputs=[CriterionInput(text=word)], user=None
        )
    assert list(Criterion.objects.filter(meeting=meeting).values_list("text", flat=True)) == [
        "un",
        "deux",
        "trois",
    ]


def test_question_of_another_set_is_refused(meeting: Meeting) -> None:
    from spiral.consultations.models import Question

    other = Question.objects.exclude(question_set=meeting.question_set).first()
    assert other is not None
    with pytest.raises(ValueError, match="question set"):
        criteria_add(meeting=meeting, question=other, inputs=[CriterionInput(text="x")], user=None)


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    batch=st.lists(
        st.tuples(criterion_text, st.integers(1, 20), st.sampled_from(["a", "b", "c", ""])),
        max_size=8,
    )
)
def test_replaying_any_batch_changes_nothing(
    meeting: Meeting, questions: list[Any], batch: list[Any]
) -> None:
    Criterion.all_objects.filter(meeting=meeting).delete()
    inputs = [
        CriterionInput(text=t, expressions=n, client_token=f"{tok}{i}" if tok else "")
        for i, (t, n, tok) in enumerate(batch)
    ]
    criteria_add(meeting=meeting, question=questions[0], inputs=inputs, user=None)
    count = Criterion.objects.filter(meeting=meeting).count()
    with_tokens = [i for i in inputs if i.client_token]
    criteria_add(meeting=meeting, question=questions[0], inputs=with_tokens, user=None)
    assert Criterion.objects.filter(meeting=meeting).count() == count == len(inputs)


def test_correction_keeps_history_and_recodes(
    meeting: Meeting, questions: list[Any], facilitator: Any
) -> None:
    [outcome] = criteria_add(
        meeting=meeting,
        question=questions[0],
        inputs=[CriterionInput(text="Avoir un travial", code="A06")],
        user=None,
    )
    criterion = outcome.criterion
    assert criterion is not None
    result = criterion_update(
        criterion=criterion,
        text="Avoir un travail",
        expressions=3,
        language="fr",
        code="A10",
        user=facilitator,
    )
    assert result.ok
    criterion.refresh_from_db()
    assert (criterion.text, criterion.expressions) == ("Avoir un travail", 3)
    assert [r.text for r in criterion.revisions.order_by("pk")] == [
        "Avoir un travial",
        "Avoir un travail",
    ]
    assert [c.full_code for c in Coding.objects.current().filter(criterion=criterion)] == ["A10"]
    old = Coding.objects.get(criterion=criterion, full_code="A06")
    assert old.superseded_at is not None
    assert old.superseded_by == facilitator


def test_correction_with_code_none_leaves_codings(meeting: Meeting, questions: list[Any]) -> None:
    [outcome] = criteria_add(
        meeting=meeting,
        question=questions[0],
        inputs=[CriterionInput(text="Travail", code="A06")],
        user=None,
    )
    assert outcome.criterion is not None
    criterion_update(
        criterion=outcome.criterion,
        text="Un travail",
        expressions=1,
        language="fr",
        code=None,
        user=None,
    )
    assert Coding.objects.current().get(criterion=outcome.criterion).full_code == "A06"


def test_invalid_correction_changes_nothing(meeting: Meeting, questions: list[Any]) -> None:
    [outcome] = criteria_add(
        meeting=meeting, question=questions[0], inputs=[CriterionInput(text="Travail")], user=None
    )
    assert outcome.criterion is not None
    result = criterion_update(
        criterion=outcome.criterion, text="", expressions=1, language="fr", user=None
    )
    assert "text" in result.errors
    outcome.criterion.refresh_from_db()
    assert outcome.criterion.text == "Travail"
    assert CriterionRevision.objects.count() == 1


def test_delete_and_restore_keep_everything(meeting: Meeting, questions: list[Any]) -> None:
    [outcome] = criteria_add(
        meeting=meeting, question=questions[0], inputs=[CriterionInput(text="Travail")], user=None
    )
    criterion = outcome.criterion
    assert criterion is not None
    criterion_delete(criterion=criterion, user=None)
    assert not Criterion.objects.filter(pk=criterion.pk).exists()
    assert Criterion.all_objects.filter(pk=criterion.pk).exists()
    criterion_restore(criterion=criterion, user=None)
    assert Criterion.objects.filter(pk=criterion.pk).exists()
    assert [r.action for r in criterion.revisions.order_by("pk")] == [
        "created",
        "deleted",
        "restored",
    ]


# --- views: groups and meetings --------------------------------------------------------------


def test_group_creation_allowed_for_facilitator(tree: Any, facilitator: Any) -> None:
    response = client_for(facilitator).post(
        f"/territories/{tree['neighbourhood'].slug}/groups/new/",
        {
            "name": "Parents de l'école",
            "profile": default_profile().pk,
            "size": 9,
            "language": "fr",
            "facilitators": [facilitator.pk],
        },
    )
    group = HomogeneousGroup.objects.get(name="Parents de l'école")
    assert response.status_code == 302
    assert response["Location"] == group.get_absolute_url()
    assert group.territory == tree["neighbourhood"]
    assert list(group.facilitators.all()) == [facilitator]


@pytest.mark.parametrize("who", ["anonymous", "outsider", "coder", "observer"])
def test_group_creation_denied(tree: Any, outsider: Any, user_with_role: Any, who: str) -> None:
    user = {
        "anonymous": None,
        "outsider": outsider,
        "coder": user_with_role(Role.CODER, tree["town"]),
        "observer": user_with_role(Role.OBSERVER, tree["town"]),
    }[who]
    response = client_for(user).post(
        f"/territories/{tree['town'].slug}/groups/new/",
        {"name": "X", "profile": default_profile().pk, "language": "fr"},
    )
    assert response.status_code == (302 if user is None else 403)
    assert not HomogeneousGroup.objects.filter(name="X").exists()


def test_group_pages(
    meeting: Meeting, facilitator: Any, outsider: Any, user_with_role: Any, tree: Any
) -> None:
    group = meeting.group
    observer = user_with_role(Role.OBSERVER, tree["region"])
    assert client_for(facilitator).get(f"/groups/{group.pk}/").status_code == 200
    assert client_for(observer).get(f"/groups/{group.pk}/").status_code == 200
    assert client_for(outsider).get(f"/groups/{group.pk}/").status_code == 403
    assert client_for(None).get(f"/groups/{group.pk}/").status_code == 302
    assert client_for(facilitator).get(f"/groups/{group.pk}/edit/").status_code == 200
    assert client_for(observer).get(f"/groups/{group.pk}/edit/").status_code == 403


def test_group_facilitator_without_role_can_transcribe(meeting: Meeting) -> None:
    from tests.factories import UserFactory

    volunteer = UserFactory()
    meeting.group.facilitators.add(volunteer)
    assert client_for(volunteer).get(f"/meetings/{meeting.pk}/transcribe/").status_code == 200


def test_meeting_creation_opens_the_transcription(
    meeting: Meeting, facilitator: Any, outsider: Any
) -> None:
    group = meeting.group
    data = {
        "held_on": "2026-11-20",
        "question_set": meeting.question_set_id,
        "language": "pt",
        "place": "Salle des fêtes",
    }
    denied = client_for(outsider).post(f"/groups/{group.pk}/meetings/new/", data)
    assert denied.status_code == 403
    response = client_for(facilitator).post(f"/groups/{group.pk}/meetings/new/", data)
    created = Meeting.objects.get(place="Salle des fêtes")
    assert response["Location"] == f"/meetings/{created.pk}/transcribe/"
    assert created.language == "pt"


def test_meeting_question_set_frozen_once_criteria_exist(
    meeting: Meeting, questions: list[Any], facilitator: Any
) -> None:
    from spiral.consultations.models import QuestionSet

    criteria_add(
        meeting=meeting, question=questions[0], inputs=[CriterionInput(text="Travail")], user=None
    )
    other = QuestionSet.objects.exclude(pk=meeting.question_set_id).first()
    assert other is not None
    client_for(facilitator).post(
        f"/meetings/{meeting.pk}/edit/",
        {"held_on": "2026-11-21", "question_set": other.pk, "language": "fr"},
    )
    meeting.refresh_from_db()
    assert meeting.question_set_id != other.pk
    assert str(meeting.held_on) == "2026-11-21"


def test_meeting_page_permissions(meeting: Meeting, facilitator: Any, outsider: Any) -> None:
    assert client_for(facilitator).get(f"/meetings/{meeting.pk}/").status_code == 200
    assert client_for(outsider).get(f"/meetings/{meeting.pk}/").status_code == 403
    assert client_for(None).get(f"/meetings/{meeting.pk}/").status_code == 302


# --- views: transcription --------------------------------------------------------------------


def post_json(client: Any, url: str, data: dict[str, Any]) -> Any:
    return client.post(
        url, json.dumps(data), content_type="application/json", HTTP_ACCEPT="application/json"
    )


def test_transcription_page(
    meeting: Meeting,
    questions: list[Any],
    facilitator: Any,
    outsider: Any,
    user_with_role: Any,
    tree: Any,
) -> None:
    response = client_for(facilitator).get(
        f"/meetings/{meeting.pk}/transcribe/?q={questions[1].pk}"
    )
    assert response.status_code == 200
    body = response.content.decode()
    for question in questions:
        assert f'id="panel-{question.pk}"' in body
    assert 'option value="A06"' in body
    assert client_for(outsider).get(f"/meetings/{meeting.pk}/transcribe/").status_code == 403
    observer = user_with_role(Role.OBSERVER, tree["town"])
    assert client_for(observer).get(f"/meetings/{meeting.pk}/transcribe/").status_code == 403


def test_typed_line_saved_once_even_if_sent_twice(
    meeting: Meeting, questions: list[Any], facilitator: Any
) -> None:
    client = client_for(facilitator)
    data = {
        "question": questions[0].pk,
        "text": "Avoir un toit",
        "expressions": "2",
        "code": "A03",
        "language": "fr",
        "client_token": "abc",
    }
    first = post_json(client, f"/meetings/{meeting.pk}/criteria/", data)
    second = post_json(client, f"/meetings/{meeting.pk}/criteria/", data)
    assert first.status_code == second.status_code == 200
    assert first.json()["created"] is True
    assert second.json()["created"] is False
    assert first.json()["id"] == second.json()["id"]
    assert "Avoir un toit" in first.json()["row_html"]
    assert first.json()["counts"] == {str(questions[0].pk): 1}
    assert Criterion.objects.count() == 1


def test_typed_line_errors_are_explained(
    meeting: Meeting, questions: list[Any], facilitator: Any
) -> None:
    client = client_for(facilitator)
    url = f"/meetings/{meeting.pk}/criteria/"
    bad_code = post_json(client, url, {"question": questions[0].pk, "text": "Toit", "code": "Q99"})
    assert bad_code.status_code == 422
    assert "Q99" in bad_code.json()["errors"]["code"]
    bad_count = post_json(
        client, url, {"question": questions[0].pk, "text": "Toit", "expressions": "deux"}
    )
    assert "expressions" in bad_count.json()["errors"]
    wrong_question = post_json(client, url, {"question": 999999, "text": "Toit"})
    assert wrong_question.status_code == 400
    garbage = client.post(
        url, b"{not json", content_type="application/json", HTTP_ACCEPT="application/json"
    )
    assert garbage.status_code == 400
    assert Criterion.objects.count() == 0


def test_typed_line_without_javascript(
    meeting: Meeting, questions: list[Any], facilitator: Any
) -> None:
    client = client_for(facilitator)
    ok = client.post(
        f"/meetings/{meeting.pk}/criteria/",
        {"question": questions[2].pk, "text": "Je trie mes déchets", "expressions": "1"},
    )
    assert ok.status_code == 302
    assert ok["Location"].endswith(f"?q={questions[2].pk}")
    bad = client.post(
        f"/meetings/{meeting.pk}/criteria/",
        {"question": questions[2].pk, "text": "Je recycle", "code": "ZZ"},
    )
    assert bad.status_code == 422
    assert "Je recycle" in bad.content.decode()  # what was typed stays on screen
    assert Criterion.objects.count() == 1


@pytest.mark.parametrize("who", ["anonymous", "outsider", "coder"])
def test_typed_line_denied(
    meeting: Meeting, questions: list[Any], outsider: Any, user_with_role: Any, tree: Any, who: str
) -> None:
    user = {
        "anonymous": None,
        "outsider": outsider,
        "coder": user_with_role(Role.CODER, tree["town"]),
    }[who]
    response = post_json(
        client_for(user),
        f"/meetings/{meeting.pk}/criteria/",
        {"question": questions[0].pk, "text": "x"},
    )
    assert response.status_code in (302, 403)
    assert Criterion.objects.count() == 0


PASTE = (
    "2;Avoir un travail;A06\n1;Voir mes amis;D03\nx;Ligne illisible;A01\n"
    "3;Être en bonne santé;F01\n1;Un code faux;A99"
)


def test_paste_saves_good_lines_and_returns_bad_ones(
    meeting: Meeting, questions: list[Any], facilitator: Any
) -> None:
    client = client_for(facilitator)
    url = f"/meetings/{meeting.pk}/criteria/paste/"
    response = post_json(
        client,
        url,
        {"question": questions[0].pk, "text": PASTE, "batch_token": "b1", "language": "fr"},
    )
    payload = response.json()
    assert payload["saved"] == 3
    assert [(r["number"], r["raw"]) for r in payload["rejected"]] == [
        (3, "x;Ligne illisible;A01"),
        (5, "1;Un code faux;A99"),
    ]
    assert all(r["error"] for r in payload["rejected"])
    assert "Voir mes amis" in payload["rows_html"]
    # The same batch sent again (double click, retry) saves nothing more.
    again = post_json(
        client, url, {"question": questions[0].pk, "text": PASTE, "batch_token": "b1"}
    )
    assert again.json()["created"] == 0
    assert Criterion.objects.count() == 3
    fixed = post_json(
        client,
        url,
        {
            "question": questions[0].pk,
            "text": "1;Ligne lisible;A01\n1;Un code juste;A09",
            "batch_token": "b2",
        },
    )
    assert fixed.json()["rejected"] == []
    assert Criterion.objects.count() == 5
    assert Coding.objects.current().count() == 5


def test_paste_without_javascript_keeps_bad_lines_on_screen(
    meeting: Meeting, questions: list[Any], facilitator: Any
) -> None:
    response = client_for(facilitator).post(
        f"/meetings/{meeting.pk}/criteria/paste/",
        {"question": questions[0].pk, "text": PASTE, "batch_token": "nojs"},
    )
    assert response.status_code == 422
    body = response.content.decode()
    assert "x;Ligne illisible;A01" in body
    assert "1;Un code faux;A99" in body
    assert Criterion.objects.count() == 3


def test_paste_denied_to_outsider(meeting: Meeting, questions: list[Any], outsider: Any) -> None:
    response = post_json(
        client_for(outsider),
        f"/meetings/{meeting.pk}/criteria/paste/",
        {"question": questions[0].pk, "text": PASTE},
    )
    assert response.status_code == 403
    assert Criterion.objects.count() == 0


def test_paste_of_many_lines_is_one_request(
    meeting: Meeting, questions: list[Any], facilitator: Any, django_assert_max_num_queries: Any
) -> None:
    text = "\n".join(f"{i % 5 + 1};Critère numéro {i};A0{i % 10}" for i in range(500))
    client = client_for(facilitator)
    with django_assert_max_num_queries(80):  # bounded: not one query per line
        response = post_json(
            client,
            f"/meetings/{meeting.pk}/criteria/paste/",
            {"question": questions[0].pk, "text": text, "batch_token": "big"},
        )
    assert response.json()["saved"] == 500
    assert Criterion.objects.count() == 500


def test_inline_correction_delete_restore_history(
    meeting: Meeting, questions: list[Any], facilitator: Any, outsider: Any
) -> None:
    [outcome] = criteria_add(
        meeting=meeting,
        question=questions[0],
        inputs=[CriterionInput(text="Travial", code="A06")],
        user=None,
    )
    criterion = outcome.criterion
    assert criterion is not None
    client = client_for(facilitator)
    form = client.get(f"/criteria/{criterion.pk}/edit/")
    assert form.status_code == 200
    assert 'value="Travial"' in form.content.decode()
    saved = client.post(
        f"/criteria/{criterion.pk}/edit/",
        {
            "text": "Travail",
            "expressions": 2,
            "code": "A06",
            "language": "fr",
            "question": questions[0].pk,
        },
    )
    assert saved.status_code == 200
    assert "Travail" in saved.content.decode()
    refused = client.post(
        f"/criteria/{criterion.pk}/edit/",
        {
            "text": "Travail",
            "expressions": 2,
            "code": "B99",
            "language": "fr",
            "question": questions[0].pk,
        },
    )
    assert refused.status_code == 422
    assert client.get(f"/criteria/{criterion.pk}/row/").status_code == 200
    deleted = client.post(f"/criteria/{criterion.pk}/delete/", HTTP_HX_REQUEST="true")
    assert "Undo" in deleted.content.decode()
    assert not Criterion.objects.exists()
    restored = client.post(f"/criteria/{criterion.pk}/restore/", HTTP_HX_REQUEST="true")
    assert restored.status_code == 200
    history = client.get(f"/criteria/{criterion.pk}/history/")
    assert "Travial" in history.content.decode()
    assert "Travail" in history.content.decode()
    for url, method in [
        (f"/criteria/{criterion.pk}/edit/", "get"),
        (f"/criteria/{criterion.pk}/row/", "get"),
        (f"/criteria/{criterion.pk}/delete/", "post"),
        (f"/criteria/{criterion.pk}/restore/", "post"),
        (f"/criteria/{criterion.pk}/history/", "get"),
    ]:
        assert getattr(client_for(outsider), method)(url).status_code == 403
        assert getattr(client_for(None), method)(url).status_code == 302
    assert Criterion.objects.get().text == "Travail"


def test_group_move_carries_its_criteria(meeting: Meeting, questions: list[Any], tree: Any) -> None:
    from spiral.consultations.services import group_move

    criteria_add(
        meeting=meeting, question=questions[0], inputs=[CriterionInput(text="Travail")], user=None
    )
    group_move(group=meeting.group, territory=tree["other_town"])
    assert Criterion.objects.get().territory == tree["other_town"]


def test_factories_make_consistent_rows() -> None:
    meeting = MeetingFactory(group=GroupFactory())
    assert meeting.question_set.questions.count() == 3


def test_correction_can_move_a_criterion_to_another_question(
    meeting: Meeting, questions: list[Any], facilitator: Any
) -> None:
    [outcome] = criteria_add(
        meeting=meeting, question=questions[0], inputs=[CriterionInput(text="Le bruit")], user=None
    )
    assert outcome.criterion is not None
    response = client_for(facilitator).post(
        f"/criteria/{outcome.criterion.pk}/edit/",
        {
            "text": "Le bruit",
            "expressions": 1,
            "code": "B01",
            "language": "fr",
            "question": questions[1].pk,
        },
        HTTP_HX_REQUEST="true",
    )
    assert response.status_code == 204
    assert response["HX-Redirect"].endswith(f"/transcribe/?q={questions[1].pk}")
    outcome.criterion.refresh_from_db()
    assert outcome.criterion.question == questions[1]
    assert [r.question_id for r in outcome.criterion.revisions.order_by("pk")] == [
        questions[0].pk,
        questions[1].pk,
    ]
    from spiral.consultations.models import Question

    foreign = Question.objects.exclude(question_set=meeting.question_set).first()
    assert foreign is not None
    refused = client_for(facilitator).post(
        f"/criteria/{outcome.criterion.pk}/edit/",
        {
            "text": "Le bruit",
            "expressions": 1,
            "code": "",
            "language": "fr",
            "question": foreign.pk,
        },
    )
    assert refused.status_code == 422
