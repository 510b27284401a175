"""The demo network `make run` loads: believable, complete, and consistent."""

from __future__ import annotations

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import Client
from django.urls import reverse

from spiral.accounts.models import User
from spiral.actions.models import Action, ActionStatus, CycleArchive, StrategicAxis
from spiral.coding.models import Coding
from spiral.consultations.models import Criterion, HomogeneousGroup
from spiral.indicators.models import (
    Category,
    Evaluation,
    EvaluationKind,
    Indicator,
    IndicatorCriterion,
    RaterKind,
    Rating,
)
from spiral.indicators.selectors import evaluation_results
from spiral.territories.models import Territory, TerritoryKind
from spiral.territories.selectors import territory_counts, territory_counts_from_rows

pytestmark = pytest.mark.django_db


def test_demo_network_is_loaded_once() -> None:
    call_command("load_demo_data", "--if-empty")
    assert Territory.objects.filter(kind=TerritoryKind.COUNTRY).count() >= 3
    assert (
        Territory.objects.exclude(kind__in=[TerritoryKind.NETWORK, TerritoryKind.COUNTRY]).count()
        >= 12
    )
    assert HomogeneousGroup.objects.count() >= 40
    assert HomogeneousGroup.objects.values("profile").distinct().count() >= 10
    criteria = Criterion.objects.count()
    assert criteria >= 2000
    assert set(Criterion.objects.values_list("language", flat=True).distinct()) == {
        "fr",
        "en",
        "pt",
    }
    coded = Criterion.objects.coded().count()
    assert 0.7 * criteria < coded < criteria
    assert Coding.objects.filter(component__code="A01").exists()
    network = Territory.objects.get(kind=TerritoryKind.NETWORK)
    assert territory_counts(territory=network) == territory_counts_from_rows(territory=network)
    assert User.objects.filter(username="animateur").exists()
    # Loading again does nothing with --if-empty, and refuses without it.
    call_command("load_demo_data", "--if-empty")
    assert Criterion.objects.count() == criteria
    with pytest.raises(CommandError):
        call_command("load_demo_data")
    anonymous = Client()
    for territory in Territory.objects.filter(is_public=True)[:10]:
        assert anonymous.get(territory.get_absolute_url()).status_code == 200
    _check_roncelieres_cycles()


def _check_roncelieres_cycles() -> None:
    """Roncelières shows phases 3 to 8: a closed first cycle and a second one under way."""
    town = Territory.objects.get(slug="roncelieres")
    assert (town.cycle, town.phase) == (2, 6)  # where territories.tsv puts it
    indicators = list(Indicator.objects.of_territory(town.pk))
    assert 3 <= len(indicators) <= 4
    for indicator in indicators:
        assert indicator.levels.count() == 5
        assert indicator.components.exists()
        assert indicator.sorted.exists()
    # The criteria sorted are the town's own (the service refuses others), in all 4 categories.
    assert set(
        IndicatorCriterion.objects.filter(indicator__territory=town).values_list(
            "category", flat=True
        )
    ) == set(Category.values)
    archive = CycleArchive.objects.get(territory=town)
    assert archive.cycle == 1
    assert {a["status"] for a in archive.snapshot["actions"]} >= {"done", "in_progress"}
    first, ex_post, second = Evaluation.objects.of_territory(town.pk).order_by("held_on")
    assert (first.cycle, first.kind) == (1, EvaluationKind.EX_ANTE)
    assert (ex_post.cycle, ex_post.kind, ex_post.baseline) == (1, EvaluationKind.EX_POST, first)
    assert (second.cycle, second.kind, second.baseline) == (2, EvaluationKind.EX_ANTE, first)
    assert ex_post.action_reviews.exists()
    medians = []
    for evaluation in (first, second):
        assert not evaluation.survey_open
        assert 25 <= evaluation.responses.count() <= 35
        assert Rating.objects.filter(evaluation=evaluation, rater=RaterKind.COORDINATION).count()
        results = evaluation_results(evaluation=evaluation, show_small=True)
        food = next(r for r in results.indicators if r.indicator.title == "Se nourrir correctement")
        citizens = food.by_rater[RaterKind.CITIZEN]
        # Every answer counted once: some said "I do not know", none was counted twice.
        assert 0 < citizens.total <= evaluation.responses.count()
        medians.append(citizens.median)
    # The grocery of the first cycle shows in the citizens' answers of the second.
    before, after = medians
    assert before is not None
    assert after is not None
    assert before < after
    axes = StrategicAxis.objects.filter(territory=town, cycle=2)
    assert axes.count() == 2
    current = Action.objects.of_territory(town.pk).filter(cycle=2)
    assert current.filter(is_pilot=True, status=ActionStatus.IN_PROGRESS).exists()
    assert current.filter(status=ActionStatus.CANDIDATE, scores__isnull=False).exists()
    assert all(a.commitments.exists() and a.notes.exists() for a in current.planned())
    coordinator = Client()
    coordinator.force_login(User.objects.get(username="coordinatrice"))
    for url in (
        reverse("indicators:territory", kwargs={"slug": town.slug}),
        reverse("actions:territory", kwargs={"slug": town.slug}),
        reverse("indicators:evaluation", kwargs={"pk": second.pk}),
        reverse("indicators:compare", kwargs={"pk": second.pk}),
        reverse("actions:axis", kwargs={"pk": axes[0].pk}),
        reverse("actions:cycle_archive", kwargs={"pk": archive.pk}),
    ):
        assert coordinator.get(url).status_code == 200, url
    page = coordinator.get(reverse("actions:territory", kwargs={"slug": town.slug})).content
    assert "Jardins partagés".encode() in page
