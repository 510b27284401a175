"""Self-entry in a real browser: a facilitator opens writing on phones; two phones write six
post-its each, one of them offline for part of the time and one losing a server answer; every
post-it reaches the wall exactly once, then the facilitator merges two and the group validates."""

from __future__ import annotations

import threading
from typing import Any

import pytest
from django.core.handlers.wsgi import WSGIHandler
from django.db import connection
from playwright.sync_api import expect

from spiral.accounts.models import Role
from spiral.consultations.models import Criterion
from spiral.selfentry.models import PostIt, SelfEntrySession
from spiral.syntheses.models import GroupSynthesisValidation
from tests.factories import (
    PASSWORD,
    GroupFactory,
    MeetingFactory,
    RoleFactory,
    TerritoryFactory,
    UserFactory,
)

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

PHONE = {"viewport": {"width": 360, "height": 740}, "is_mobile": True, "has_touch": True}
ALICE = [
    ["Avoir un travail", "Voir mes petits-enfants"],
    ["Le bruit la nuit", "Être seule le dimanche"],
    ["J'aide ma voisine", "Je trie mes déchets"],
]
BRUNO = [
    ["avoir un travail", "Un logement chaud 🏠"],
    ["Les bus trop rares", "Ne pas pouvoir payer le chauffage"],
    ["Je fais du bénévolat", "Je prête mes outils"],
]


@pytest.fixture
def one_request_at_a_time_on_memory_sqlite(monkeypatch: pytest.MonkeyPatch) -> None:
    """The live server shares one in-memory SQLite connection between its request threads,
    which cannot run two transactions at once ("table is locked"); on that test database only,
    requests are served one at a time. PostgreSQL and file SQLite (real servers) stay parallel;
    tests/bench/selfentry.py sends concurrent phones to a real server."""
    if connection.vendor != "sqlite" or not connection.is_in_memory_db():
        return
    lock = threading.Lock()
    original = WSGIHandler.__call__

    def serialised(self: WSGIHandler, environ: Any, start_response: Any) -> Any:
        with lock:
            return original(self, environ, start_response)

    monkeypatch.setattr(WSGIHandler, "__call__", serialised)


def write(page: Any, texts: list[str]) -> None:
    section = page.locator("section.phone-question:not([hidden])")
    for text in texts:
        section.get_by_label("One idea").fill(text)
        section.get_by_role("button", name="Add this post-it").click()
        section.locator("li.my-postit", has_text=text).wait_for()


def next_question(page: Any) -> None:
    page.locator("section.phone-question:not([hidden])").get_by_role(
        "button", name="Next question"
    ).click()


@pytest.mark.usefixtures("one_request_at_a_time_on_memory_sqlite")
def test_two_phones_one_offline_every_postit_once(live_server: Any, new_context: Any) -> None:
    town = TerritoryFactory(name="Roncelières", kind="locality")
    facilitator = UserFactory(username="karim", display_name="Karim")
    RoleFactory(user=facilitator, territory=town, role=Role.FACILITATOR)
    group = GroupFactory(territory=town, name="Aînés du centre", size=9)
    meeting = MeetingFactory(group=group)

    desk = new_context()
    page = desk.new_page()
    page.goto(f"{live_server.url}/accounts/login/")
    # Chromium applies autofocus after the load event: wait for it, then type.
    expect(page.locator("#id_username")).to_be_focused()
    page.keyboard.type("karim")
    page.keyboard.press("Tab")
    page.keyboard.type(PASSWORD)
    page.keyboard.press("Enter")
    page.wait_for_url(f"{live_server.url}/")
    page.goto(f"{live_server.url}{meeting.get_absolute_url()}")
    page.get_by_role("link", name="Writing on phones").click()
    page.get_by_role("button", name="Open writing on phones").click()
    code = page.locator("[data-code]").inner_text()
    assert page.locator("svg.qr").count() == 1
    phone_url = page.locator("[data-phone-link]").get_attribute("href")
    assert phone_url is not None
    assert phone_url.endswith(f"/s/{code}/")
    wall = desk.new_page()
    wall.goto(f"{live_server.url}/meetings/{meeting.pk}/wall/")

    # Alice's phone loses the server's answer to its first send: the post-it was saved but
    # the phone does not know, and sends it again.
    alice_context = new_context(**PHONE)
    alice = alice_context.new_page()
    lost = {"done": False}

    def lose_first_answer(route: Any) -> None:
        if lost["done"]:
            route.continue_()
            return
        lost["done"] = True
        route.fetch()  # reaches the server, which saves the post-it
        route.abort("connectionreset")

    alice.route("**/postits/", lose_first_answer)
    alice.goto(phone_url)
    bruno_context = new_context(**PHONE)
    bruno = bruno_context.new_page()
    bruno.goto(phone_url)
    expect(bruno.locator("[data-net-status]")).to_have_text("Connected")

    write(alice, ALICE[0])
    write(bruno, BRUNO[0][:1])
    # Bruno's network drops: he goes on writing, his post-its wait on the phone.
    bruno_context.set_offline(True)
    write(bruno, BRUNO[0][1:])
    next_question(alice)
    write(alice, ALICE[1])
    next_question(bruno)
    write(bruno, BRUNO[1])
    expect(bruno.locator("[data-net-status]")).to_contain_text("No connection")
    expect(bruno.locator("[data-net-status]")).to_contain_text("3 post-its waiting")
    assert Criterion.objects.filter(meeting=meeting).count() <= 5
    next_question(alice)
    write(alice, ALICE[2])
    bruno_context.set_offline(False)
    next_question(bruno)
    write(bruno, BRUNO[2])

    for phone in (alice, bruno):
        expect(phone.locator("[data-net-status]")).to_have_text(
            "Everything is on the wall.", timeout=30_000
        )
        expect(phone.locator("li.my-postit.sent")).to_have_count(6)
    assert lost["done"]

    everything = [text for question in ALICE + BRUNO for text in question]
    postits = wall.locator("li.postit")
    expect(postits).to_have_count(12, timeout=15_000)
    for text in everything:
        expect(wall.locator("li.postit").get_by_text(text, exact=True)).to_have_count(1)
    criteria = Criterion.objects.filter(meeting=meeting)
    assert sorted(criteria.values_list("text", flat=True)) == sorted(everything)
    assert sum(criteria.values_list("expressions", flat=True)) == 12
    assert PostIt.objects.filter(session__meeting=meeting).count() == 12
    assert PostIt.objects.values("participant").distinct().count() == 2

    # The same idea on two phones: merged on the wall into one criterion of two expressions.
    wall.get_by_label("Avoir un travail", exact=True).check()
    wall.get_by_label("avoir un travail", exact=True).check()
    wall.locator("section.wall-column").first.get_by_role(
        "button", name="Merge the identical post-its ticked"
    ).click()
    expect(wall.locator("li.postit")).to_have_count(11)
    expect(wall.locator("li.postit", has_text="Avoir un travail")).to_contain_text("×2")
    assert (
        sum(Criterion.objects.filter(meeting=meeting).values_list("expressions", flat=True)) == 12
    )

    wall.get_by_role("button", name="The group validates these criteria").click()
    expect(wall.locator(".messages")).to_contain_text("validation was recorded")
    assert GroupSynthesisValidation.objects.filter(group=group, synthesis_of=meeting).count() == 1
    assert not SelfEntrySession.objects.get(meeting=meeting).is_open

    # Writing is closed: a late post-it stays on the phone, with a clear message.
    bruno.get_by_role("button", name="Next question").first.wait_for(state="hidden")
    write_late = bruno.locator("section.phone-question:not([hidden])")
    write_late.get_by_label("One idea").fill("Trop tard")
    write_late.get_by_role("button", name="Add this post-it").click()
    expect(bruno.locator("[data-closed]")).to_be_visible(timeout=10_000)
    expect(bruno.locator("[data-closed]")).to_contain_text("Writing is closed")
    expect(bruno.locator("li.my-postit.pending", has_text="Trop tard")).to_have_count(1)
    assert not Criterion.all_objects.filter(meeting=meeting, text="Trop tard").exists()
    assert Criterion.all_objects.filter(meeting=meeting).count() == 12
