"""A coder accepts suggested codes in a real browser: "=" takes the first, a click another."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

from spiral.accounts.models import Role
from spiral.coding.models import Coding, CodingSource, Suggestion, SuggestionModel
from spiral.coding.suggest.engine import HybridSuggester
from spiral.coding.suggest.training import forget_loaded_suggesters
from spiral.consultations.services import CriterionInput, criteria_add
from spiral.grid.models import GridVersion
from tests.factories import (
    PASSWORD,
    GroupFactory,
    MeetingFactory,
    RoleFactory,
    TerritoryFactory,
    UserFactory,
)
from tests.test_suggestions import SMALL_CORPUS

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_coder_accepts_suggestions(
    live_server: Any, new_context: Any, settings: Any, tmp_path: Path
) -> None:
    settings.SPIRAL_SUGGESTION_MODELS_DIR = tmp_path
    settings.SPIRAL_SUGGESTION_MIN_CONFIDENCE = 0.0
    forget_loaded_suggesters()
    model = SuggestionModel.objects.create(
        grid_version=GridVersion.objects.get(is_default=True),
        status="ready",
        is_current=True,
        path="model.joblib",
    )
    HybridSuggester().fit(SMALL_CORPUS).save(tmp_path / model.path)

    town = TerritoryFactory(name="Roncelières", kind="locality")
    coder = UserFactory(username="ines", display_name="Inès")
    RoleFactory(user=coder, territory=town, role=Role.CODER)
    meeting = MeetingFactory(group=GroupFactory(territory=town, name="Jeunes"))
    question = meeting.question_set.questions.order_by("position").first()
    outcomes = criteria_add(
        meeting=meeting,
        question=question,
        inputs=[CriterionInput(text=t) for t in ["Manger à ma faim", "Avoir un travail"]],
        user=None,
    )
    first, second = [o.criterion for o in outcomes if o.criterion is not None]

    page = new_context().new_page()
    page.goto(f"{live_server.url}/accounts/login/")
    # Chromium applies autofocus after the load event: wait for it, then type.
    expect(page.locator("#id_username")).to_be_focused()
    page.keyboard.type("ines")
    page.keyboard.press("Tab")
    page.keyboard.type(PASSWORD)
    page.keyboard.press("Enter")
    page.wait_for_url(f"{live_server.url}/")
    page.goto(f"{live_server.url}/coding/meetings/{meeting.pk}/")

    chips = page.locator(f"#suggestions-{first.pk} button.suggestion")
    assert chips.count() == 3
    best = Suggestion.objects.get(criterion=first, rank=1).component.code
    assert chips.first.inner_text().startswith(best)
    assert not Coding.objects.exists()  # shown, not coded

    # The focus is in the first row's box: "=" accepts its first suggestion, then the next row.
    page.keyboard.press("=")
    page.locator(f"#codes-{first.pk} li.chip[data-code='{best}']").wait_for()
    assert page.evaluate("document.activeElement.id") == f"code-{second.pk}"
    assert page.locator(f"#suggestions-{first.pk} button.suggestion").count() == 0

    # A click accepts another one than the first.
    other = Suggestion.objects.get(criterion=second, rank=2).component.code
    page.locator(f"#suggestions-{second.pk} button.suggestion[data-code='{other}']").click()
    page.locator(f"#codes-{second.pk} li.chip[data-code='{other}']").wait_for()

    codings = {c.criterion_id: c for c in Coding.objects.current()}
    assert codings[first.pk].full_code == best
    assert codings[second.pk].full_code == other
    assert {c.source for c in codings.values()} == {CodingSource.SUGGESTION}
    assert {c.coded_by_id for c in codings.values()} == {coder.pk}
