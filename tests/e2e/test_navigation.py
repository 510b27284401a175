"""The top menu on a phone and on a desktop, in English and French, signed in or not."""

from __future__ import annotations

import itertools
from typing import Any

import pytest

from tests.factories import PASSWORD, UserFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

PHONE = {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True}
DESKTOP = {"viewport": {"width": 1280, "height": 800}}


def _rows(page: Any, selector: str) -> int:
    """How many lines the elements matching ``selector`` are laid out on (vertical centres more
    than 8 px apart: items of one flex line are centred but not of the same height)."""
    centres = sorted(
        page.evaluate(
            f"[...document.querySelectorAll({selector!r})]"
            ".map(e => {const r = e.getBoundingClientRect(); return r.top + r.height / 2})"
        )
    )
    return 1 + sum(1 for a, b in itertools.pairwise(centres) if b - a > 8)


def _top(page: Any, selector: str) -> float:
    return float(page.evaluate(f"document.querySelector({selector!r}).getBoundingClientRect().top"))


@pytest.mark.parametrize("locale", ["en-GB", "fr-FR"])
def test_menu_is_compact_on_a_phone(live_server: Any, new_context: Any, locale: str) -> None:
    page = new_context(locale=locale, **PHONE).new_page()
    page.goto(f"{live_server.url}/territories/")
    # Brand and language switch on the first line, every link on one line below (the links were
    # squeezed between them one per line: three lines in English).
    assert _rows(page, ".site-nav ul > li") == 1
    assert abs(_top(page, ".site-nav .brand") - _top(page, ".language-switch")) < 12
    assert _top(page, ".site-nav ul") > _top(page, ".language-switch")
    assert page.evaluate("document.querySelector('.site-header').offsetHeight") < 90
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    # Keyboard order follows the source: brand, links, then the language switch.
    page.keyboard.press("Tab")  # skip link
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.className") == "brand"
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.closest('ul') !== null")


def test_menu_signed_in_on_a_phone_and_on_one_line_on_a_desktop(
    live_server: Any, new_context: Any
) -> None:
    user = UserFactory(display_name="Siobhán Walsh-Fitzgerald")
    context = new_context(**PHONE)
    page = context.new_page()
    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("input[name=username]", user.username)
    page.fill("input[name=password]", PASSWORD)
    page.locator("main button[type=submit]").first.click()
    page.wait_for_load_state()
    page.goto(f"{live_server.url}/territories/")
    assert page.get_by_role("button", name="Log out").is_visible()
    assert _rows(page, ".site-nav ul > li") <= 2
    assert page.evaluate("document.documentElement.scrollWidth") <= 390

    page.set_viewport_size(DESKTOP["viewport"])
    assert _rows(page, ".site-nav > *") == 1
    assert _rows(page, ".site-nav ul > li") == 1
