"""The facilitator's first meeting, in a real browser, keyboard first."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import expect

from spiral.accounts.models import Role
from spiral.consultations.models import Criterion, HomogeneousGroup
from tests.factories import PASSWORD, RoleFactory, TerritoryFactory, UserFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

TYPED = {
    1: [
        ("Avoir un travail stable", "2", "A06"),
        ("Être entouré de mes amis", "", "D03"),
        ("Un logement chaud", "", "housing"),
        ("Manger à ma faim 🍞", "3", "A01"),
    ],
    2: [
        ("Le bruit la nuit", "", "B01"),
        ("Être seul le dimanche", "4", ""),
        ("Ne pas pouvoir payer le chauffage", "", "A03"),
    ],
    3: [
        ("Je fais du bénévolat", "", "H01"),
        ("J'aide ma voisine", "2", ""),
        ("Je trie mes déchets", "", ""),
    ],
}
PASTED = (
    "2;Voir la mer;A07\n1;Avoir du temps pour moi\ndeux;Se sentir utile;H01\n"
    "1;Des transports qui passent;A08\n3;La santé;F01"
)


def type_criterion(page: Any, text: str, expressions: str, code: str) -> None:
    """Keyboard only: the criterion box has the focus; Tab moves to the count, then the code."""
    page.keyboard.type(text)
    if expressions or code:
        page.keyboard.press("Tab")
        if expressions:
            page.keyboard.type(expressions)  # tabbing into the field selects its "1"
        page.keyboard.press("Tab")
        if code:
            page.keyboard.type(code)
            if not code[0].isupper():
                # Words, not a code: Enter takes the first component offered, Enter again saves.
                page.locator("[role=tabpanel]:not([hidden]) .entry .picker li").first.wait_for()
                page.keyboard.press("Enter")
    page.keyboard.press("Enter")


def test_facilitator_first_meeting(live_server: Any, new_context: Any) -> None:
    town = TerritoryFactory(name="Roncelières", kind="locality")
    facilitator = UserFactory(username="karim", display_name="Karim")
    RoleFactory(user=facilitator, territory=town, role=Role.FACILITATOR)

    context = new_context(permissions=["clipboard-read", "clipboard-write"])
    page = context.new_page()
    page.goto(f"{live_server.url}/accounts/login/")
    # Chromium applies autofocus after the load event: wait for it, then type.
    expect(page.locator("#id_username")).to_be_focused()
    page.keyboard.type("karim")
    page.keyboard.press("Tab")
    page.keyboard.type(PASSWORD)
    page.keyboard.press("Enter")
    page.wait_for_url(f"{live_server.url}/")

    page.goto(f"{live_server.url}/territories/{town.slug}/")
    page.get_by_role("link", name="New group").click()
    page.get_by_label("Name", exact=True).fill("Jeunes du quartier")
    page.get_by_label("Profile").select_option(label="Young people")
    page.get_by_label("Number of participants").fill("9")
    page.get_by_label("Karim").check()
    page.get_by_role("button", name="Save").click()
    page.get_by_role("link", name="New meeting").click()
    page.get_by_label("Date").fill("2026-11-20")
    page.get_by_role("button", name="Create and start typing").click()
    page.wait_for_url("**/transcribe/")

    for shortcut, lines in TYPED.items():
        page.keyboard.press(f"Alt+{shortcut}")
        panel = page.locator("[role=tabpanel]:not([hidden])")
        for text, expressions, code in lines:
            type_criterion(page, text, expressions, code)
        # Every typed line is saved by the server (pending rows turn into real rows).
        panel.locator("tr.criterion-row:not(.pending)").nth(len(lines) - 1).wait_for()
        assert panel.locator("tr.pending").count() == 0
    assert Criterion.objects.count() == 10

    # A paste of five lines into the criterion box of the first question; one is malformed.
    page.keyboard.press("Alt+1")
    page.evaluate("text => navigator.clipboard.writeText(text)", PASTED)
    page.keyboard.press("Control+V")
    page.keyboard.press("Enter")  # the "Add these lines" button has the focus
    panel = page.locator("[role=tabpanel]:not([hidden])")
    errors = panel.locator(".paste-errors li")
    errors.first.wait_for()
    assert errors.count() == 1
    assert "deux" in errors.first.inner_text()
    textarea = panel.locator("details.paste textarea")
    assert textarea.input_value() == "deux;Se sentir utile;H01"
    assert Criterion.objects.count() == 14

    # Fix the line where it stayed, and send it again from the keyboard.
    page.keyboard.press("Control+A")
    page.keyboard.type("2;Se sentir utile;H01")
    page.keyboard.press("Control+Enter")
    panel.locator("tr.criterion-row td.text", has_text="Se sentir utile").wait_for()
    assert panel.locator(".paste-errors li").count() == 0

    page.reload()
    counts = [
        int(page.locator(f"[data-count-for='{tab}']").inner_text())
        for tab in page.locator("[role=tab]").evaluate_all(
            "tabs => tabs.map(t => t.dataset.question)"
        )
    ]
    assert counts == [9, 3, 3]
    assert Criterion.objects.count() == 15
    assert HomogeneousGroup.objects.get().facilitators.get() == facilitator
    saved = {
        c.text: (c.expressions, [k.full_code for k in c.codings.all()])
        for c in Criterion.objects.all()
    }
    assert saved["Manger à ma faim 🍞"] == (3, ["A01"])
    assert saved["Se sentir utile"] == (2, ["H01"])
    assert saved["Avoir du temps pour moi"] == (1, [])
    assert saved["Un logement chaud"] == (1, ["A03"])
