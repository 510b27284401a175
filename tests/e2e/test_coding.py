"""A coder codes a territory's criteria in a real browser, with the keyboard only."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import expect

from spiral.accounts.models import Role
from spiral.coding.models import Coding
from spiral.consultations.models import Criterion
from spiral.consultations.services import CriterionInput, criteria_add
from tests.factories import (
    PASSWORD,
    GroupFactory,
    MeetingFactory,
    RoleFactory,
    TerritoryFactory,
    UserFactory,
)

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

TEXTS = [
    "Avoir un travail stable",
    "Être entouré de mes amis",
    "Le bruit la nuit",
    "Être en bonne santé",
    "Donner du pain à mes enfants",
    "Un logement chaud",
    "Payer les factures et être juste",
    "Je fais du bénévolat",
    "Ne pas être stressé",
    "Être écouté par la mairie",
    "La solidarité entre voisins",
    "Des voisins qui s'entraident",
]


def wait_until_saved(page: Any) -> None:
    page.wait_for_function(
        "() => !document.querySelector('li.chip.pending')"
        " && !localStorage.getItem('spiral:coding:outbox')"
    )


def type_code(page: Any, code: str, key: str = "Enter") -> None:
    page.keyboard.type(code)
    page.keyboard.press(key)


def test_coder_codes_a_territory_with_the_keyboard(live_server: Any, new_context: Any) -> None:
    town = TerritoryFactory(name="Roncelières", kind="locality")
    coder = UserFactory(username="ines", display_name="Inès")
    RoleFactory(user=coder, territory=town, role=Role.CODER)
    meeting = MeetingFactory(group=GroupFactory(territory=town, name="Jeunes"))
    questions = list(meeting.question_set.questions.order_by("position"))
    criteria: list[Criterion] = []
    for question, texts in [(questions[0], TEXTS[:6]), (questions[1], TEXTS[6:10])]:
        outcomes = criteria_add(
            meeting=meeting,
            question=question,
            inputs=[CriterionInput(text=t) for t in texts],
            user=None,
        )
        criteria += [o.criterion for o in outcomes if o.criterion is not None]
    outcomes = criteria_add(
        meeting=meeting,
        question=questions[2],
        inputs=[CriterionInput(text=t) for t in TEXTS[10:]],
        user=None,
    )
    criteria += [o.criterion for o in outcomes if o.criterion is not None]
    assert len(criteria) == 12

    page = new_context().new_page()
    page.goto(f"{live_server.url}/accounts/login/")
    # Chromium applies autofocus after the load event: wait for it, then type.
    expect(page.locator("#id_username")).to_be_focused()
    page.keyboard.type("ines")
    page.keyboard.press("Tab")
    page.keyboard.type(PASSWORD)
    page.keyboard.press("Enter")
    page.wait_for_url(f"{live_server.url}/")

    page.goto(f"{live_server.url}/coding/territories/{town.slug}/")
    assert "12 criteria" in page.locator("#coding-summary").inner_text()
    assert "12 not coded" in page.locator("#coding-summary").inner_text()
    # The focus starts in the first row's code box.
    assert page.evaluate("document.activeElement.id") == f"code-{criteria[0].pk}"

    for code in ["A06", "D03", "B01", "F01", "A01-11/P15/k"]:
        type_code(page, code)
    # Words: the picker offers components, Enter takes the first, Enter again saves.
    page.keyboard.type("housing")
    page.locator(f"#criterion-{criteria[5].pk} .picker li").first.wait_for()
    page.keyboard.press("Enter")
    page.keyboard.press("Enter")
    # Two codes on one criterion: Shift+Enter stays on the row.
    type_code(page, "A10", "Shift+Enter")
    type_code(page, "E01")
    for code in ["H02", "G02", "C04"]:
        type_code(page, code)
    wait_until_saved(page)

    # Back to the last row coded: Backspace removes its code, Ctrl+Z puts it back.
    page.keyboard.press("ArrowUp")
    assert page.evaluate("document.activeElement.id") == f"code-{criteria[9].pk}"
    page.keyboard.press("Backspace")
    page.locator("#coding-status", has_text="C04 removed").wait_for()
    wait_until_saved(page)
    assert not Coding.objects.current().filter(criterion=criteria[9]).exists()
    page.keyboard.press("Control+z")
    page.locator(f"#codes-{criteria[9].pk} li.chip[data-code='C04']").wait_for()
    wait_until_saved(page)

    # Tick the last two rows with Space, and give them one code at once.
    page.keyboard.press("ArrowDown")
    page.keyboard.press("Space")
    page.keyboard.press("ArrowDown")
    page.keyboard.press("Space")
    assert page.locator("input.row-tick:checked").count() == 2
    page.keyboard.press("Alt+b")
    assert page.evaluate("document.activeElement.id") == "bulk-code"
    type_code(page, "E03")
    page.locator("#coding-status", has_text="2 criteria coded E03.").wait_for()
    assert page.locator("input.row-tick:checked").count() == 0
    wait_until_saved(page)
    page.locator("#coding-summary", has_text="0 not coded").wait_for()

    expected = [
        {"A06"},
        {"D03"},
        {"B01"},
        {"F01"},
        {"A01-11/P15/k"},
        {"A03"},
        {"A10", "E01"},
        {"H02"},
        {"G02"},
        {"C04"},
        {"E03"},
        {"E03"},
    ]
    saved = [
        set(Coding.objects.current().filter(criterion=c).values_list("full_code", flat=True))
        for c in criteria
    ]
    assert saved == expected
    assert not Coding.objects.exclude(coded_by=coder).exists()
    # The removal stays in the history.
    assert Coding.objects.filter(criterion=criteria[9], superseded_at__isnull=False).count() == 1

    # After a reload, every chip comes from the server, with who coded it and when.
    page.reload()
    chip = page.locator(f"#codes-{criteria[0].pk} li.chip").first
    assert "coded by Inès" in (chip.get_attribute("title") or "")

    # The filters narrow the list in place and stay in the address.
    page.locator("#coding-q").fill("voisins")
    page.wait_for_url("**q=voisins**")
    page.locator("#coding-summary", has_text="2 criteria").wait_for()
    assert page.locator("tr.coding-row").count() == 2
    page.locator("#coding-state").select_option("uncoded")
    page.locator("#coding-results", has_text="No criterion matches these filters.").wait_for()

    # The territory's synthesis counts them, in the table and in the chart.
    response = page.goto(f"{live_server.url}/territories/{town.slug}/synthesis/")
    assert response is not None
    assert response.status == 200
    # A: A06, A01-11/P15/k, A03 and A10 (with E01); E: E01, E03 twice.
    expected_by_dimension = {"A": 4, "B": 1, "C": 1, "D": 1, "E": 3, "F": 1, "G": 1, "H": 1}
    for code, count in expected_by_dimension.items():
        total = page.locator(f"tr.dimension-row[data-code='{code}'] td:last-child strong")
        assert total.inner_text() == str(count), code
    segments = page.locator("figure.chart svg rect.segment title").all_text_contents()
    charted: dict[str, int] = {}
    for tip in segments:
        charted[tip[0]] = charted.get(tip[0], 0) + int(tip.rsplit(":", 1)[1])
    assert charted == expected_by_dimension
