"""From criteria to action in a real browser: a coordinator builds an indicator from coded
criteria, three citizens answer its self-survey on phones (three browser contexts), the
distribution and the radar show, an action is linked to the indicator, its ex-post
co-evaluation is recorded and the before/after comparison shows where the situation moved."""

from __future__ import annotations

from typing import Any

import pytest

from spiral.accounts.models import Role
from spiral.actions.models import Action
from spiral.coding.services import criterion_codes_add
from spiral.consultations.services import CriterionInput, criteria_add
from spiral.grid.models import Component
from spiral.indicators.models import Evaluation, Indicator, Rating, SurveyResponse
from tests.factories import (
    PASSWORD,
    GroupFactory,
    MeetingFactory,
    RoleFactory,
    TerritoryFactory,
    UserFactory,
)

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

TEXTS = ["Avoir un travail stable", "Trouver un emploi près de chez moi", "Un salaire qui suffit"]
PHONE = {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True}


def log_in(page: Any, base: str, username: str) -> None:
    page.goto(f"{base}/accounts/login/")
    page.fill("main input[name=username]", username)
    page.fill("main input[name=password]", PASSWORD)
    page.click("main button[type=submit]")
    page.wait_for_url(f"{base}/")


def test_from_criteria_to_action(live_server: Any, new_context: Any) -> None:
    base = live_server.url
    town = TerritoryFactory(name="Roncelières", kind="locality", slug="roncelieres")
    RoleFactory(user=UserFactory(username="coord"), territory=town, role=Role.COORDINATOR)
    meeting = MeetingFactory(group=GroupFactory(territory=town, name="Jeunes"))
    question = meeting.question_set.questions.order_by("position").first()
    assert question is not None
    outcomes = criteria_add(
        meeting=meeting,
        question=question,
        inputs=[CriterionInput(text=t) for t in TEXTS],
        user=None,
    )
    for outcome in outcomes:
        assert outcome.criterion is not None
        criterion_codes_add(criterion=outcome.criterion, codes=["A06"], user=None)
    component = Component.objects.get(code="A06", version_id=town.effective_grid_version_id())

    # 1. The coordinator builds the indicator from the criteria coded in A06.
    coordinator = new_context().new_page()
    log_in(coordinator, base, "coord")
    coordinator.goto(f"{base}/indicators/territories/roncelieres/new/")
    coordinator.check(f"input[name=components][value='{component.pk}']")
    coordinator.click("#components-form button[type=submit]")
    for text in TEXTS:
        assert coordinator.locator("table.criteria-sort td", has_text=text).is_visible()
    coordinator.fill("input[name=title]", "Travail")
    coordinator.fill("input[name=question]", "Pouvez-vous trouver un travail ici ?")
    selects = coordinator.locator("select[name^=category-]")
    for index, category in enumerate(["possibility", "attainment", "quality"]):
        selects.nth(index).select_option(category)
    wording = [
        "Aucun emploi",
        "Des emplois loin",
        "Un emploi précaire",
        "Un emploi stable",
        "Un emploi choisi",
    ]
    for level, text in enumerate(wording, start=1):
        coordinator.fill(f"#level-{level}", text)
    coordinator.locator("fieldset.scale-level").nth(3).locator("summary").click()
    coordinator.locator("input[name=level-4-criteria]").first.check()
    coordinator.click("form.indicator-builder button[type=submit]")
    coordinator.wait_for_url(f"{base}/indicators/*/")
    indicator = Indicator.objects.get(title="Travail")
    assert indicator.sorted.count() == 3
    assert indicator.levels.get(level=4).criteria.count() == 1

    # 2. An ex-ante co-evaluation with its self-survey open.
    coordinator.goto(f"{base}/indicators/territories/roncelieres/evaluations/new/")
    coordinator.fill("input[name=title]", "Situation 2026")
    coordinator.check(f"input[name=indicators][value='{indicator.pk}']")
    coordinator.check("input[name=survey_open]")
    coordinator.click("form.stacked button[type=submit]")
    coordinator.wait_for_url(f"{base}/indicators/evaluations/*/")
    survey_url = coordinator.locator("#survey-link").get_attribute("href")
    assert survey_url
    coordinator.wait_for_function("document.querySelector('img.qr').complete")
    assert coordinator.locator("img.qr").evaluate("img => img.naturalWidth") > 0

    # 3. Three citizens answer on phones, from three separate browsers; one sends twice.
    for level in ("2", "2", "4"):
        phone = new_context(**PHONE).new_page()
        phone.goto(survey_url)
        phone.check(f"input[name=indicator-{indicator.pk}][value='{level}']")
        phone.click("#survey-form button[type=submit]")
        phone.wait_for_selector("#survey-done")
        phone.go_back()
        phone.goto(survey_url)  # the same browser again: already answered
        phone.wait_for_selector("#survey-again")
    evaluation = Evaluation.objects.get(title="Situation 2026")
    assert SurveyResponse.objects.filter(evaluation=evaluation).count() == 3

    # 4. The distribution, the median and the radar.
    coordinator.goto(f"{base}/indicators/evaluations/{evaluation.pk}/")
    table = coordinator.locator(f"#indicator-{indicator.pk} table.distribution")
    assert table.locator("tr[data-level='2'] td").first.inner_text() == "2"
    assert table.locator("tr[data-level='4'] td").first.inner_text() == "1"
    assert table.locator("td.total").inner_text() == "3"
    assert table.locator("td.median").inner_text() == "2"
    assert coordinator.locator("#radar-chart svg").count() == 1
    assert coordinator.locator("#distribution-chart svg").count() == 1

    # 5. An action linked to the indicator.
    coordinator.goto(f"{base}/indicators/{indicator.pk}/")
    coordinator.click("text=New action for this indicator")
    coordinator.fill("input[name=title]", "Forum de l'emploi local")
    coordinator.fill("textarea[name=objectives]", "Rapprocher employeurs et jeunes")
    assert coordinator.locator(f"input[name=indicators][value='{indicator.pk}']").is_checked()
    # Only an action under way can be evaluated ex-post (a candidate changed nothing yet).
    coordinator.select_option("select[name=status]", "in_progress")
    coordinator.click("form.stacked button[type=submit]")
    coordinator.wait_for_url(f"{base}/actions/*/")
    action = Action.objects.get(title="Forum de l'emploi local")
    assert list(action.indicators.all()) == [indicator]

    # 6. Its ex-post co-evaluation, then the before/after comparison.
    coordinator.click("text=Ex-post co-evaluation")
    coordinator.fill("textarea[name=what_changed]", "Douze jeunes ont trouvé un stage")
    coordinator.fill("textarea[name=according_to]", "Les jeunes et la mission locale")
    coordinator.check(f"input[name=indicator-{indicator.pk}][value='4']")
    coordinator.click("form.stacked button[type=submit]")
    coordinator.wait_for_url(f"{base}/indicators/evaluations/*/compare/")
    row = coordinator.locator("#comparison-table tbody tr").first
    assert "Travail" in row.inner_text()
    assert row.locator("td.change").inner_text().startswith("▲ +2")
    assert coordinator.locator("#compare-radar svg .series-before").count() == 1
    assert coordinator.locator("#compare-radar svg .series-after").count() == 1
    assert Rating.objects.filter(evaluation__kind="ex_post").count() == 1
