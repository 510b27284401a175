"""A second coder codes a double-coding sample in a real browser, with the keyboard only, and
never sees the first codes."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import expect

from spiral.accounts.models import Role
from spiral.coding.models import Coding
from spiral.coding.selectors import CodingScope, ScopeKind
from spiral.coding.services import criterion_codes_add
from spiral.consultations.services import CriterionInput, criteria_add
from spiral.quality.models import SampleItem
from spiral.quality.services import double_coding_request_create
from tests.factories import (
    PASSWORD,
    GroupFactory,
    MeetingFactory,
    RoleFactory,
    TerritoryFactory,
    UserFactory,
)

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

TEXTS = ["Avoir un travail stable", "Être entouré de mes amis", "Un logement chaud"]
FIRST = ["A06", "D03", "A03"]


def wait_until_saved(page: Any) -> None:
    page.wait_for_function(
        "() => !document.querySelector('li.chip.pending')"
        " && !localStorage.getItem('spiral:double-coding:outbox')"
    )


def test_second_coder_codes_the_sample_blind(live_server: Any, new_context: Any) -> None:
    town = TerritoryFactory(name="Roncelières", kind="locality")
    first = UserFactory(username="ines")
    second = UserFactory(username="malo", display_name="Malo")
    for person in (first, second):
        RoleFactory(user=person, territory=town, role=Role.CODER)
    meeting = MeetingFactory(group=GroupFactory(territory=town, name="Jeunes"))
    question = meeting.question_set.questions.order_by("position").first()
    assert question is not None
    outcomes = criteria_add(
        meeting=meeting,
        question=question,
        inputs=[CriterionInput(text=t) for t in TEXTS],
        user=None,
    )
    criteria = [o.criterion for o in outcomes if o.criterion is not None]
    for criterion, code in zip(criteria, FIRST, strict=True):
        criterion_codes_add(criterion=criterion, codes=[code], user=first)
    dcr = double_coding_request_create(
        scope=CodingScope(kind=ScopeKind.TERRITORY, territory=town),
        share=100,
        second_coder=second,
        user=None,
        seed=1,
    )
    items = {item.criterion_id: item for item in SampleItem.objects.filter(request=dcr)}

    page = new_context().new_page()
    page.goto(f"{live_server.url}/accounts/login/")
    # Chromium applies autofocus after the load event: wait for it, then type.
    expect(page.locator("#id_username")).to_be_focused()
    page.keyboard.type("malo")
    page.keyboard.press("Tab")
    page.keyboard.type(PASSWORD)
    page.keyboard.press("Enter")
    page.wait_for_url(f"{live_server.url}/")

    page.goto(f"{live_server.url}/quality/requests/{dcr.pk}/code/")
    assert page.locator("#blind-progress").inner_text() == "0 / 3 done"
    assert page.locator("li.chip").count() == 0  # the first codes are not on the page
    first_box = f"code-{items[criteria[0].pk].pk}"
    assert page.evaluate("document.activeElement.id") == first_box

    page.keyboard.type("A06")
    page.keyboard.press("Enter")
    # Two codes on the second criterion: Shift+Enter stays on the row.
    page.keyboard.type("D03")
    page.keyboard.press("Shift+Enter")
    page.keyboard.type("A01")
    page.keyboard.press("Enter")
    # Words: the picker offers components, Enter takes the first, Enter again saves.
    page.keyboard.type("housing")
    page.locator(f"#item-{items[criteria[2].pk].pk} .picker li").first.wait_for()
    page.keyboard.press("Enter")
    page.keyboard.press("Enter")
    wait_until_saved(page)
    page.locator("#blind-progress", has_text="3 / 3 done").wait_for()

    # The last row keeps the focus (there is no next page); back up one row: Backspace in the
    # empty box takes the row's last code off.
    assert page.evaluate("document.activeElement.id") == f"code-{items[criteria[2].pk].pk}"
    page.keyboard.press("ArrowUp")
    assert page.evaluate("document.activeElement.id") == f"code-{items[criteria[1].pk].pk}"
    page.keyboard.press("Backspace")
    page.locator("#coding-status", has_text="A01 removed").wait_for()
    wait_until_saved(page)
    # A wrong code comes back in its box with the reason.
    page.keyboard.type("Z99")
    page.keyboard.press("Shift+Enter")
    page.locator(f"#code-error-{items[criteria[1].pk].pk}", has_text="Z").wait_for()

    second_codes = {
        item.criterion_id: item.second_codes for item in SampleItem.objects.filter(request=dcr)
    }
    assert second_codes == {
        criteria[0].pk: ["A06"],
        criteria[1].pk: ["D03"],
        criteria[2].pk: ["A03"],
    }
    # The criteria's own codings did not move.
    assert sorted(Coding.objects.current().values_list("full_code", flat=True)) == sorted(FIRST)
