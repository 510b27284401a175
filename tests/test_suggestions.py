"""Code suggestions: the engine, the models and their training, batch pre-coding, accepting a
suggestion on the coding screen, the commands and the API."""

from __future__ import annotations

import csv
import io
import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from django.core.management import CommandError, call_command
from django.test import Client
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from spiral.accounts.models import Role, User
from spiral.coding.models import (
    Coding,
    CodingSource,
    Suggestion,
    SuggestionModel,
    SuggestionModelStatus,
)
from spiral.coding.services import criterion_code_add, criterion_code_remove
from spiral.coding.suggest import training
from spiral.coding.suggest.corpus import Example, load_seed_corpus, question_kind
from spiral.coding.suggest.engine import HybridSuggester, Query
from spiral.coding.suggest.services import (
    SuggestionNotOffered,
    suggestion_accept,
    suggestions_fill,
    suggestions_precode,
)
from spiral.coding.suggest.training import (
    current_model,
    forget_loaded_suggesters,
    suggestion_model_create,
    suggestion_model_train,
)
from spiral.consultations.models import Criterion, Meeting, Question
from spiral.consultations.services import criterion_update
from spiral.grid.models import GridVersion
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

pytestmark = pytest.mark.django_db

JSON = {"HTTP_ACCEPT": "application/json"}
SMALL_COMPONENTS = ("A01", "A03", "A06", "D03", "F01", "H05")
IMMEDIATE = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}
DUMMY = {"default": {"BACKEND": "django_tasks.backends.dummy.DummyBackend"}}


# ---------------------------------------------------------------- fixtures


def _small_corpus() -> list[Example]:
    """A few components of the seed corpus: up to 15 texts per component in French and in
    English, 3 in each other language (fast to train on, still realistic)."""
    taken: dict[tuple[str, str], int] = {}
    subset = []
    for example in load_seed_corpus():
        if example.component not in SMALL_COMPONENTS:
            continue
        key = (example.component, example.language)
        limit = 15 if example.language in ("fr", "en") else 3
        if taken.get(key, 0) < limit:
            taken[key] = taken.get(key, 0) + 1
            subset.append(example)
    return subset


SMALL_CORPUS = _small_corpus()


@pytest.fixture(scope="module")
def fitted() -> HybridSuggester:
    return HybridSuggester().fit(SMALL_CORPUS)


@pytest.fixture(scope="module")
def fitted_fr_en() -> HybridSuggester:
    return HybridSuggester().fit([e for e in SMALL_CORPUS if e.language in ("fr", "en")])


@pytest.fixture(autouse=True)
def _models_in_tmp(settings: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Model files in a temporary folder; models learn from the small corpus (fast)."""
    settings.SPIRAL_SUGGESTION_MODELS_DIR = tmp_path / "models"
    settings.SPIRAL_RETRAIN_AFTER_CODINGS = 500
    settings.SPIRAL_SUGGESTION_MIN_CONFIDENCE = 0.0
    monkeypatch.setattr(
        training, "base_examples", lambda *, version: [*SMALL_CORPUS, *_grid_labels(version)]
    )
    forget_loaded_suggesters()


def _grid_labels(version: GridVersion) -> list[Example]:
    return [e for e in training.grid_examples(version=version) if e.component in SMALL_COMPONENTS]


@pytest.fixture
def grid() -> GridVersion:
    version = GridVersion.objects.default()
    assert version is not None
    return version


@pytest.fixture
def network_model(grid: GridVersion, fitted: HybridSuggester, settings: Any) -> SuggestionModel:
    """A current network model (the small corpus's, fitted once for the module)."""
    model = SuggestionModel.objects.create(
        grid_version=grid,
        status=SuggestionModelStatus.READY,
        is_current=True,
        engine=fitted.engine,
        examples=len(SMALL_CORPUS),
        path="network.joblib",
    )
    fitted.save(Path(settings.SPIRAL_SUGGESTION_MODELS_DIR) / model.path)
    return model


@pytest.fixture
def coder(tree: dict[str, Territory], user_with_role: Callable[..., User]) -> User:
    return user_with_role(Role.CODER, tree["town"])


@pytest.fixture
def criteria(meeting: Meeting, questions: list[Question]) -> list[Criterion]:
    return add_criteria(
        meeting,
        questions[0],
        ["Manger à sa faim tous les jours", "Avoir un travail stable", "Voir mes amis"],
    )


# ---------------------------------------------------------------- the engine


@settings(
    max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    text=st.text(min_size=1, max_size=80).filter(lambda t: t.strip()),
    language=st.sampled_from(["fr", "en", "pt", "it", "es", "de", ""]),
    question=st.sampled_from(["well_being", "ill_being", "action", "other", ""]),
)
def test_three_distinct_components_sorted_with_confidences_summing_at_most_one(
    fitted: HybridSuggester, text: str, language: str, question: str
) -> None:
    [suggestions] = fitted.predict([Query(text, language, question)], k=3)
    codes = [s.component for s in suggestions]
    confidences = [s.confidence for s in suggestions]
    assert len(codes) == 3
    assert len(set(codes)) == 3
    assert set(codes) <= set(SMALL_COMPONENTS)
    assert confidences == sorted(confidences, reverse=True)
    assert all(0 <= c <= 1 for c in confidences)
    assert sum(confidences) <= 1 + 1e-9


def test_probabilities_of_a_batch_sum_to_one(fitted: HybridSuggester) -> None:
    queries = [Query("Avoir un logement", "fr", "well_being"), Query("A job", "en", "")]
    probabilities = fitted.predict_proba(queries)
    assert probabilities.shape == (2, len(SMALL_COMPONENTS))
    assert probabilities.sum(axis=1) == pytest.approx([1.0, 1.0])


def test_a_portuguese_text_about_food_is_understood_from_french_and_english(
    fitted_fr_en: HybridSuggester,
) -> None:
    assert set(fitted_fr_en.languages) == {"fr", "en"}
    [suggestions] = fitted_fr_en.predict(
        [Query("Não ter dinheiro para comprar comida", "pt", "ill_being")], k=3
    )
    assert "A01" in [s.component for s in suggestions]


def test_a_saved_model_predicts_the_same(fitted: HybridSuggester, tmp_path: Path) -> None:
    path = tmp_path / "model.joblib"
    fitted.save(path)
    loaded = HybridSuggester.load(path)
    queries = [Query("Des voisins sympas", "fr", "well_being"), Query("Trabalho", "pt", "")]
    assert loaded.predict_proba(queries) == pytest.approx(fitted.predict_proba(queries))
    assert path.stat().st_size < 5_000_000


def test_tuning_stays_inside_the_training_data() -> None:
    suggester = HybridSuggester(tune=True).fit(SMALL_CORPUS)
    assert set(suggester.tuning) == {"seen", "unseen"}
    assert sum(suggester.params.weights_seen) == pytest.approx(1.0)
    assert suggester.predict([Query("Un logement", "fr")], k=1)[0][0].component in SMALL_COMPONENTS


def test_question_codes_are_read() -> None:
    assert [question_kind(v) for v in ("q1", "Q2", "q3", "action", "nope", None)] == [
        "well_being",
        "ill_being",
        "action",
        "action",
        "",
        "",
    ]


def test_the_seed_corpus_is_read_from_every_file(tmp_path: Path) -> None:
    header = "language\tquestion\tcomponent\tsense\tgroup\ttext\n"
    (tmp_path / "seed-a.tsv").write_text(header + "fr\tq1\tA01\t\tfr-young-1\tManger\n")
    (tmp_path / "seed-b.tsv").write_text(header + "pt\tq3\tH05\tS\tpt-elderly-1\tReciclar\n")
    (tmp_path / "other.tsv").write_text(header + "en\tq1\tA06\t\ten-x-1\tNot read\n")
    examples = load_seed_corpus(tmp_path)
    assert [(e.text, e.language, e.question, e.component, e.group) for e in examples] == [
        ("Manger", "fr", "well_being", "A01", "fr-young-1"),
        ("Reciclar", "pt", "action", "H05", "pt-elderly-1"),
    ]
    shipped = load_seed_corpus()
    assert shipped, "the seed corpus ships with Spiral"
    assert all(e.text and e.component and e.group for e in shipped)
    assert (Path(training.__file__).parents[2] / "data" / "corpus" / "README.md").exists()


def test_training_on_the_full_seed_corpus_is_quick_and_right_on_its_own_texts(
    grid: GridVersion,
) -> None:
    corpus = load_seed_corpus()
    started = time.perf_counter()
    suggester = HybridSuggester().fit(corpus)
    assert time.perf_counter() - started < 90  # about 13 s on an idle 2-core machine
    sample = corpus[::25]
    ranked = suggester.predict([Query(e.text, e.language, e.question) for e in sample])
    top3 = sum(e.component in [s.component for s in r] for e, r in zip(sample, ranked, strict=True))
    assert top3 / len(sample) > 0.9  # texts it learnt from: a sanity check, not an evaluation


# ---------------------------------------------------------------- models and training


def test_the_retrain_task_makes_a_new_current_model_and_keeps_the_old(
    settings: Any,
    network_model: SuggestionModel,
    grid: GridVersion,
    user_with_role: Callable[..., User],
    tree: dict[str, Territory],
    django_capture_on_commit_callbacks: Any,
) -> None:
    settings.TASKS = IMMEDIATE
    admin = user_with_role(Role.NETWORK_ADMIN, tree["network"])
    with django_capture_on_commit_callbacks(execute=True):
        response = client_for(admin).post(
            "/coding/suggestion-models/", {"grid_version": grid.pk, "territory": ""}
        )
    assert response.status_code == 302
    old, new = SuggestionModel.objects.order_by("pk")
    assert old.pk == network_model.pk
    assert (old.is_current, new.is_current) == (False, True)
    assert new.status == SuggestionModelStatus.READY
    assert new.requested_by == admin
    assert new.examples > 0
    assert new.metrics["overall"]["n"] > 0  # measured on held-out groups
    for model in (old, new):
        assert (Path(settings.SPIRAL_SUGGESTION_MODELS_DIR) / model.path).exists()
    assert current_model(version_id=grid.pk) == new
    page = client_for(admin).get("/coding/suggestion-models/")
    assert page.status_code == 200
    assert f"#{new.pk}" in page.content.decode()


def test_codings_are_training_data(
    network_model: SuggestionModel, criteria: list[Criterion], grid: GridVersion
) -> None:
    criterion_code_add(criterion=criteria[0], code="A01", user=None)
    removed = criterion_code_add(criterion=criteria[1], code="D03", user=None).created[0]
    criterion_code_remove(criterion=criteria[1], coding_id=removed.pk, user=None)
    examples, last = training.coding_examples(version=grid)
    assert [(e.text, e.component, e.question) for e in examples] == [
        ("Manger à sa faim tous les jours", "A01", "well_being")
    ]
    assert last == Coding.objects.order_by("-pk").first().pk  # type: ignore[union-attr]
    model = suggestion_model_train(model=suggestion_model_create(version=grid), evaluate=False)
    assert model.coded_examples == 1
    assert model.last_coding_id == last


def test_a_failed_training_is_recorded(grid: GridVersion, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(training, "base_examples", lambda *, version: [])
    model = suggestion_model_create(version=grid)
    with pytest.raises(ValueError, match="at least two components"):
        suggestion_model_train(model=model, evaluate=False)
    model.refresh_from_db()
    assert model.status == SuggestionModelStatus.FAILED
    assert "at least two components" in model.error
    assert not model.is_current


def test_retraining_is_requested_after_n_codings(
    settings: Any,
    network_model: SuggestionModel,
    criteria: list[Criterion],
    django_capture_on_commit_callbacks: Any,
) -> None:
    from django_tasks import default_task_backend

    settings.TASKS = DUMMY
    settings.SPIRAL_RETRAIN_AFTER_CODINGS = 3
    for criterion, code in zip(criteria[:2], ["A01", "A06"], strict=True):
        with django_capture_on_commit_callbacks(execute=True):
            criterion_code_add(criterion=criterion, code=code, user=None)
    assert SuggestionModel.objects.count() == 1
    with django_capture_on_commit_callbacks(execute=True):
        criterion_code_add(criterion=criteria[2], code="D03", user=None)
    pending = SuggestionModel.objects.exclude(pk=network_model.pk).get()
    assert (pending.status, pending.automatic, pending.is_current) == ("pending", True, False)
    assert [r.kwargs for r in default_task_backend.results] == [{"model_id": pending.pk}]  # type: ignore[attr-defined]
    # While it waits for the worker, more codings ask for nothing more.
    with django_capture_on_commit_callbacks(execute=True):
        criterion_code_add(criterion=criteria[2], code="F01", user=None)
    assert SuggestionModel.objects.count() == 2


def test_a_territory_model_serves_its_subtree(
    network_model: SuggestionModel, grid: GridVersion, tree: dict[str, Territory]
) -> None:
    own = suggestion_model_train(
        model=suggestion_model_create(version=grid, territory=tree["town"]), evaluate=False
    )
    assert current_model(version_id=grid.pk, territory_id=tree["town"].pk) == own
    assert current_model(version_id=grid.pk, territory_id=tree["neighbourhood"].pk) == own
    assert current_model(version_id=grid.pk, territory_id=tree["other_town"].pk) == network_model
    assert current_model(version_id=grid.pk) == network_model
    network_model.refresh_from_db()
    assert network_model.is_current  # a territory's model does not retire the network's


# ---------------------------------------------------------------- suggestions, never codings


def test_pre_coding_stores_suggestions_and_writes_no_coding(
    network_model: SuggestionModel, criteria: list[Criterion], meeting: Meeting
) -> None:
    outcome = suggestions_precode(criteria=Criterion.objects.filter(meeting=meeting))
    assert (outcome.criteria, outcome.computed) == (3, 3)
    assert Suggestion.objects.count() == 9
    assert not Coding.objects.exists()
    ranks = sorted(Suggestion.objects.filter(criterion=criteria[0]).values_list("rank", flat=True))
    assert ranks == [1, 2, 3]
    # Stored: pre-coding again computes nothing.
    again = suggestions_precode(criteria=Criterion.objects.filter(meeting=meeting))
    assert again.computed == 0
    assert Suggestion.objects.count() == 9


def test_a_corrected_criterion_gets_new_suggestions(
    network_model: SuggestionModel, criteria: list[Criterion]
) -> None:
    criterion = Criterion.objects.select_related("question").get(pk=criteria[0].pk)
    assert suggestions_fill(criteria=[criterion]).computed == 1
    criterion_update(
        criterion=criterion,
        text="Avoir un logement chauffé",
        expressions=1,
        language="fr",
        user=None,
    )
    criterion = Criterion.objects.select_related("question").get(pk=criteria[0].pk)
    assert suggestions_fill(criteria=[criterion]).computed == 1
    assert Suggestion.objects.filter(criterion=criterion).count() == 3
    assert not Coding.objects.exists()


def test_pre_coding_without_a_model_trains_one_first(
    grid: GridVersion, criteria: list[Criterion], meeting: Meeting
) -> None:
    assert not SuggestionModel.objects.exists()
    suggestions_precode(criteria=Criterion.objects.filter(meeting=meeting))
    model = SuggestionModel.objects.get()
    assert (model.is_current, model.status) == (True, "ready")
    assert Suggestion.objects.filter(model=model).count() == 9


def test_accepting_a_suggestion_codes_with_source_suggestion_and_keeps_history(
    network_model: SuggestionModel,
    criteria: list[Criterion],
    coder: User,
    tree: dict[str, Territory],
) -> None:
    criterion = criteria[0]
    suggestions_fill(criteria=[Criterion.objects.select_related("question").get(pk=criterion.pk)])
    first, second = [
        s.component.code
        for s in Suggestion.objects.filter(criterion=criterion).order_by("rank")[:2]
    ]
    wrong = criterion_code_add(
        criterion=criterion, code="H05" if first != "H05" else "A03", user=coder
    )
    criterion_code_remove(criterion=criterion, coding_id=wrong.created[0].pk, user=coder)
    response = client_for(coder).post(
        f"/coding/criteria/{criterion.pk}/suggestions/accept/", {"component": first}, **JSON
    )
    assert response.status_code == 200
    payload = response.json()
    assert payload["ok"]
    assert payload["added"] == [first]
    assert payload["coded"]
    coding = Coding.objects.current().get(criterion=criterion)
    assert (coding.full_code, coding.source, coding.coded_by) == (first, "suggestion", coder)
    assert coding.source == CodingSource.SUGGESTION
    # History: the code removed before is still there, superseded.
    assert Coding.objects.filter(criterion=criterion, superseded_at__isnull=False).count() == 1
    # Accepting the second suggestion too adds it (several components per criterion).
    suggestion_accept(criterion=criterion, component=second, user=coder)
    assert current_codes(criterion) == {first, second}
    assert_figures_exact(tree["neighbourhood"], tree["town"], tree["network"])


def test_only_a_suggested_component_can_be_accepted(
    network_model: SuggestionModel, criteria: list[Criterion], coder: User
) -> None:
    criterion = criteria[0]
    with pytest.raises(SuggestionNotOffered):
        suggestion_accept(criterion=criterion, component="A01", user=coder)
    suggestions_fill(criteria=[Criterion.objects.select_related("question").get(pk=criterion.pk)])
    offered = set(
        Suggestion.objects.filter(criterion=criterion).values_list("component__code", flat=True)
    )
    other = next(c for c in SMALL_COMPONENTS if c not in offered)
    response = client_for(coder).post(
        f"/coding/criteria/{criterion.pk}/suggestions/accept/", {"component": other}, **JSON
    )
    assert response.status_code == 422
    assert "was not suggested" in response.json()["error"]
    assert not Coding.objects.exists()


def test_the_coding_screen_shows_suggestions_of_uncoded_rows(
    network_model: SuggestionModel, criteria: list[Criterion], coder: User, meeting: Meeting
) -> None:
    criterion_code_add(criterion=criteria[2], code="D03", user=None)
    html = client_for(coder).get(f"/coding/meetings/{meeting.pk}/").content.decode()
    assert f'id="suggestions-{criteria[0].pk}"' in html
    assert f"/coding/criteria/{criteria[0].pk}/suggestions/accept/" in html
    assert f"/coding/criteria/{criteria[2].pk}/suggestions/accept/" not in html  # coded
    assert "Accept the" in html
    assert "confidence" in html
    assert "<kbd>=</kbd>" in html  # the shortcut is explained
    assert Suggestion.objects.filter(criterion=criteria[0]).count() == 3
    assert not Coding.objects.filter(criterion=criteria[0]).exists()


def test_the_coding_screen_works_without_any_model(
    criteria: list[Criterion], coder: User, meeting: Meeting
) -> None:
    response = client_for(coder).get(f"/coding/meetings/{meeting.pk}/")
    assert response.status_code == 200
    assert "/suggestions/accept/" not in response.content.decode()
    assert not SuggestionModel.objects.exists()  # a page view never trains


def test_pre_coding_the_page_from_the_screen(
    network_model: SuggestionModel, criteria: list[Criterion], coder: User, meeting: Meeting
) -> None:
    response = client_for(coder).post(
        "/coding/suggestions/",
        {
            "scope": "meeting",
            "scope_id": meeting.pk,
            "criteria": [criteria[0].pk, criteria[1].pk],
            "what": "page",
        },
        **JSON,
    )
    assert response.status_code == 200
    payload = response.json()
    assert payload["ok"]
    assert set(payload["rows"]) == {str(criteria[0].pk), str(criteria[1].pk)}
    assert "suggestion-accept" in payload["rows"][str(criteria[0].pk)]
    assert Suggestion.objects.values("criterion").distinct().count() == 2
    assert not Coding.objects.exists()


def test_a_large_scope_is_pre_coded_in_the_background(
    settings: Any,
    network_model: SuggestionModel,
    criteria: list[Criterion],
    coder: User,
    tree: dict[str, Territory],
) -> None:
    from django_tasks import default_task_backend

    settings.TASKS = DUMMY
    settings.SPIRAL_SUGGEST_SYNC_LIMIT = 2
    response = client_for(coder).post(
        "/coding/suggestions/",
        {"scope": "territory", "scope_id": tree["town"].pk, "what": "scope"},
        **JSON,
    )
    assert response.status_code == 200
    assert "background" in response.json()["message"]
    [result] = default_task_backend.results  # type: ignore[attr-defined]
    assert result.kwargs == {"scope_kind": "territory", "scope_id": tree["town"].pk}
    assert not Suggestion.objects.exists()
    result.task.call(**result.kwargs)  # what the worker does
    assert Suggestion.objects.count() == 9
    assert not Coding.objects.exists()


# ---------------------------------------------------------------- permissions


@pytest.fixture
def people(tree: dict[str, Territory], user_with_role: Callable[..., User]) -> dict[str, Any]:
    return {
        "coder": user_with_role(Role.CODER, tree["town"]),
        "coordinator": user_with_role(Role.COORDINATOR, tree["town"]),
        "network admin": user_with_role(Role.NETWORK_ADMIN, tree["network"]),
        "coder above": user_with_role(Role.CODER, tree["country"]),
        "facilitator": user_with_role(Role.FACILITATOR, tree["town"]),
        "observer": user_with_role(Role.OBSERVER, tree["town"]),
        "outsider": user_with_role(Role.CODER, tree["other_town"]),
        "country admin": user_with_role(Role.NETWORK_ADMIN, tree["country"]),
        "no role": UserFactory(),
        "anonymous": None,
    }


CODERS = ["coder", "coordinator", "network admin", "coder above", "country admin"]
NOT_CODERS = ["facilitator", "observer", "outsider", "no role"]


@pytest.mark.parametrize("who", CODERS + NOT_CODERS + ["anonymous"])
def test_accept_and_pre_code_permissions(
    who: str,
    people: dict[str, Any],
    network_model: SuggestionModel,
    criteria: list[Criterion],
    meeting: Meeting,
) -> None:
    criterion = criteria[0]
    suggestions_fill(criteria=[Criterion.objects.select_related("question").get(pk=criterion.pk)])
    first = Suggestion.objects.filter(criterion=criterion, rank=1).get().component.code
    client = client_for(people[who])
    responses = [
        client.post(
            f"/coding/criteria/{criterion.pk}/suggestions/accept/", {"component": first}, **JSON
        ),
        client.post("/coding/suggestions/", {"scope": "meeting", "scope_id": meeting.pk}, **JSON),
    ]
    if who in CODERS:
        assert [r.status_code for r in responses] == [200, 200]
        assert current_codes(criterion) == {first}
        assert Suggestion.objects.count() == 9
    else:
        expected = 302 if who == "anonymous" else 403
        assert [r.status_code for r in responses] == [expected, expected]
        assert not Coding.objects.exists()
        assert Suggestion.objects.count() == 3
    if who in CODERS:
        assert client.get("/coding/suggestions/").status_code == 405


def test_pre_coding_a_scope_elsewhere_is_refused(
    network_model: SuggestionModel, coder: User, tree: dict[str, Territory], questions: Any
) -> None:
    elsewhere = MeetingFactory(group=GroupFactory(territory=tree["other_town"]))
    add_criteria(elsewhere, questions[0], ["Ailleurs"])
    client = client_for(coder)
    for scope, pk in [
        ("meeting", elsewhere.pk),
        ("group", elsewhere.group_id),
        ("territory", tree["other_town"].pk),
    ]:
        response = client.post("/coding/suggestions/", {"scope": scope, "scope_id": pk}, **JSON)
        assert response.status_code == 403, scope
    assert (
        client.post("/coding/suggestions/", {"scope": "meeting", "scope_id": 999999}).status_code
        == 404
    )
    assert not Suggestion.objects.exists()


@pytest.mark.parametrize(
    "who", ["network admin", "coordinator", "coder", "country admin", "no role", "anonymous"]
)
def test_the_models_page_is_for_network_administrators(
    who: str, people: dict[str, Any], grid: GridVersion, settings: Any
) -> None:
    settings.TASKS = DUMMY
    client = client_for(people[who])
    page = client.get("/coding/suggestion-models/")
    post = client.post("/coding/suggestion-models/", {"grid_version": grid.pk})
    if who == "network admin":
        assert page.status_code == 200
        assert post.status_code == 302
        assert SuggestionModel.objects.get().status == "pending"
    else:
        expected = 302 if who == "anonymous" else 403
        assert (page.status_code, post.status_code) == (expected, expected)
        assert not SuggestionModel.objects.exists()


# ---------------------------------------------------------------- commands


def _write(path: Path, rows: list[list[str]], delimiter: str) -> Path:
    with path.open("w", encoding="utf-8", newline="") as handle:
        csv.writer(handle, delimiter=delimiter).writerows(rows)
    return path


def test_evaluate_suggestions_on_a_tiny_corpus(tmp_path: Path) -> None:
    header = ["language", "question", "component", "sense", "group", "text"]
    rows = [header]
    for example in SMALL_CORPUS:
        rows.append([example.language, "q1", example.component, "", example.group, example.text])
    _write(tmp_path / "seed-tiny.tsv", rows, "\t")
    out = io.StringIO()
    arguments = ["--corpus", str(tmp_path), "--no-demo", "--no-grid", "--no-tune", "--folds", "2"]
    call_command("evaluate_suggestions", *arguments, stdout=out, stderr=io.StringIO())
    text = out.getvalue()
    assert "| split | language | texts | top-1 component | top-3 component" in text
    assert "| group | all |" in text
    assert "| cross-lingual | pt |" in text
    out = io.StringIO()
    call_command("evaluate_suggestions", *arguments, "--json", stdout=out)
    report = json.loads(out.getvalue())
    group, cross = report["splits"]
    assert group["overall"]["n"] == len(SMALL_CORPUS)
    assert set(cross["by_language"]) <= {"pt", "it", "es"}
    assert 0 <= cross["overall"]["top1_component"] <= cross["overall"]["top3_component"] <= 1
    with pytest.raises(CommandError, match="Unknown split"):
        call_command("evaluate_suggestions", *arguments, "--splits", "random")


@pytest.mark.parametrize(
    ("name", "delimiter", "columns"),
    [
        ("texts.csv", ",", ["id", "text", "lang", "question"]),
        ("texts.tsv", "\t", ["text"]),
        ("texts-semicolon.csv", ";", ["text", "question"]),
    ],
)
def test_suggest_codes_reads_csv_and_tsv(
    grid: GridVersion, tmp_path: Path, name: str, delimiter: str, columns: list[str]
) -> None:
    values = {
        "id": ["1", "2"],
        "text": ["Manger à sa faim", "Não tenho emprego"],
        "lang": ["fr", "pt"],
        "question": ["q1", "ill_being"],
    }
    rows = [columns] + [[values[c][i] for c in columns] for i in range(2)]
    source = _write(tmp_path / name, rows, delimiter)
    output = tmp_path / "out.txt"
    call_command("suggest_codes", str(source), "--output", str(output), stderr=io.StringIO())
    with output.open(encoding="utf-8", newline="") as handle:
        result = list(csv.DictReader(handle, delimiter=delimiter))
    assert len(result) == 2
    for row, text in zip(result, values["text"], strict=True):
        assert row["text"] == text
        codes = [row[f"component_{r}"] for r in (1, 2, 3)]
        confidences = [float(row[f"confidence_{r}"]) for r in (1, 2, 3)]
        assert len(set(codes)) == 3
        assert set(codes) <= set(SMALL_COMPONENTS)
        assert confidences == sorted(confidences, reverse=True)
    assert list(result[0])[: len(columns)] == columns
    # To standard output as well.
    out = io.StringIO()
    call_command("suggest_codes", str(source), stdout=out)
    assert (
        out.getvalue()
        .splitlines()[0]
        .endswith(
            delimiter.join(
                [
                    "component_1",
                    "confidence_1",
                    "component_2",
                    "confidence_2",
                    "component_3",
                    "confidence_3",
                ]
            )
        )
    )


def test_suggest_codes_needs_a_text_column(grid: GridVersion, tmp_path: Path) -> None:
    source = _write(tmp_path / "bad.csv", [["criterion", "lang"], ["Manger", "fr"]], ",")
    with pytest.raises(CommandError, match="no “text” column"):
        call_command("suggest_codes", str(source))


# ---------------------------------------------------------------- API


def _post(client: Client, payload: Any) -> Any:
    return client.post("/api/v1/suggestions", payload, content_type="application/json")


def test_api_suggestions(grid: GridVersion, network_model: SuggestionModel) -> None:
    response = _post(
        Client(),
        {
            "texts": [
                {"text": "Manger à sa faim", "lang": "fr", "question": "well_being"},
                {"text": "Não tenho emprego"},
                {"text": "Recycling at home", "lang": "en", "question": "q3"},
            ]
        },
    )
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["model"]["id"] == network_model.pk
    assert body["model"]["grid_version"] == grid.code
    first, second, third = body["results"]
    assert (second["lang"], second["question"], third["question"]) == (None, None, "action")
    for result in body["results"]:
        codes = [s["component"] for s in result["suggestions"]]
        assert len(codes) == 3 == len(set(codes))
        assert all(s["dimension"] == s["component"][0] for s in result["suggestions"])
        assert sum(s["confidence"] for s in result["suggestions"]) <= 1.0001
    assert "A01" in [s["component"] for s in first["suggestions"]]


def test_api_trains_a_model_when_there_is_none(grid: GridVersion) -> None:
    response = _post(Client(), {"texts": [{"text": "Un toit"}]})
    assert response.status_code == 200
    assert SuggestionModel.objects.get().is_current
    assert not Suggestion.objects.exists()  # the API stores nothing about the texts


@pytest.mark.parametrize(
    "payload",
    [
        {"texts": []},
        {"texts": [{"text": "x"}] * 1001},
        {"texts": [{"lang": "fr"}]},
        {"texts": [{"text": "   "}]},
        {"texts": [{"text": "Manger", "lang": "xx"}]},
        {"texts": [{"text": "Manger", "question": "q9"}]},
        {"texts": [{"text": "a\x00b"}]},
        {},
    ],
)
def test_api_suggestions_refuses_bad_input(grid: GridVersion, payload: Any) -> None:
    response = _post(Client(), payload)
    assert response.status_code == 422
    assert "detail" in response.json()
    assert not SuggestionModel.objects.exists()


def test_api_suggestions_accepts_1000_texts(grid: GridVersion, network_model: Any) -> None:
    response = _post(Client(), {"texts": [{"text": f"Avoir un travail {i}"} for i in range(1000)]})
    assert response.status_code == 200
    assert len(response.json()["results"]) == 1000


def test_api_suggestions_with_a_bad_token_is_401(grid: GridVersion) -> None:
    response = Client().post(
        "/api/v1/suggestions",
        {"texts": [{"text": "x"}]},
        content_type="application/json",
        HTTP_AUTHORIZATION="Bearer nope",
    )
    assert response.status_code == 401


def test_api_suggestions_is_documented(db: None) -> None:
    schema = Client().get("/api/v1/openapi.json").json()
    operation = schema["paths"]["/api/v1/suggestions"]["post"]
    assert set(operation["responses"]) >= {"200", "422"}
    assert "suggestions" in operation["tags"]


def test_a_failing_retrain_check_never_breaks_a_coding(
    settings: Any,
    criteria: list[Criterion],
    monkeypatch: pytest.MonkeyPatch,
    django_capture_on_commit_callbacks: Any,
) -> None:
    def broken(**kwargs: Any) -> None:
        raise RuntimeError("database hiccup")

    monkeypatch.setattr(training, "retrain_if_due", broken)
    with django_capture_on_commit_callbacks(execute=True):
        criterion_code_add(criterion=criteria[0], code="A01", user=None)
    assert current_codes(criteria[0]) == {"A01"}


def test_the_admin_can_ask_for_a_new_model(
    settings: Any, network_model: SuggestionModel, tree: dict[str, Territory]
) -> None:
    settings.TASKS = DUMMY
    admin_user = UserFactory(is_staff=True, is_superuser=True)
    response = client_for(admin_user).post(
        "/admin/coding/suggestionmodel/",
        {"action": "train_again", "_selected_action": [network_model.pk]},
    )
    assert response.status_code == 302
    new = SuggestionModel.objects.exclude(pk=network_model.pk).get()
    assert (new.status, new.requested_by, new.territory) == ("pending", admin_user, None)
