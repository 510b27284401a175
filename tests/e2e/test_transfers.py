"""Importing a file of criteria in a real browser: upload, column mapping, the report of the
bad lines (nothing saved), the corrected file, everything saved; then the open-data package."""

from __future__ import annotations

import datetime
import zipfile
from typing import Any

import pytest
from playwright.sync_api import expect

from spiral.accounts.models import Role
from spiral.consultations.models import Criterion
from tests.factories import (
    PASSWORD,
    GroupFactory,
    MeetingFactory,
    RoleFactory,
    TerritoryFactory,
    UserFactory,
)

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def criteria_csv(bad: bool) -> bytes:
    lines = ["Critère;Nombre;Composante;Question"]
    for number in range(1, 41):
        lines.append(
            f"Critère {number};{1 + number % 3};{'A06' if number % 2 else ''};q{1 + number % 3}"
        )
    if bad:
        lines[5] = ";1;A01;q1"  # empty criterion, file line 6
        lines[12] = "Critère 12;plusieurs;A01;q2"  # not a count, file line 13
        lines[30] = "Critère 30;1;Z99;q3"  # no such component, file line 31
    return ("\n".join(lines) + "\n").encode("utf-8")


def test_upload_mapping_errors_then_corrected_commit(live_server: Any, new_context: Any) -> None:
    town = TerritoryFactory(name="Roncelières", kind="locality")
    group = GroupFactory(territory=town, name="Jeunes du quartier")
    meeting = MeetingFactory(group=group, held_on=datetime.date(2026, 11, 20))
    facilitator = UserFactory(username="karim", display_name="Karim")
    RoleFactory(user=facilitator, territory=town, role=Role.FACILITATOR)

    page = new_context().new_page()
    page.goto(f"{live_server.url}/accounts/login/")
    # Chromium applies autofocus after the load event: wait for it, then type.
    expect(page.locator("#id_username")).to_be_focused()
    page.keyboard.type("karim")
    page.keyboard.press("Tab")
    page.keyboard.type(PASSWORD)
    page.keyboard.press("Enter")
    page.wait_for_url(f"{live_server.url}/")

    page.goto(f"{live_server.url}/meetings/{meeting.pk}/")
    page.get_by_role("link", name="Import criteria from a file").click()
    page.get_by_label("File").set_input_files(
        files=[{"name": "criteres.csv", "mimeType": "text/csv", "buffer": criteria_csv(True)}]
    )
    page.get_by_role("button", name="Next: choose the columns").click()

    # The preview and the mapping guessed from the French headers.
    page.get_by_role("heading", name="First lines of the file").wait_for()
    assert page.locator(".import-preview tbody tr").count() == 10
    assert page.get_by_label("Criterion (text)").input_value() == "0"
    assert page.get_by_label("Number of expressions").input_value() == "1"
    assert page.get_by_label("Component or full code").input_value() == "2"
    assert page.get_by_label("Question", exact=True).input_value() == "3"
    page.get_by_role("button", name="Check every line and import").click()

    report = page.locator(".import-errors tbody tr")
    report.first.wait_for()
    assert page.get_by_text("Nothing was saved.").is_visible()
    assert report.count() == 3
    lines = [report.nth(i).locator("td").first.inner_text() for i in range(3)]
    assert lines == ["6", "13", "31"]
    assert "plusieurs" in report.nth(1).inner_text()
    assert "Z99" in report.nth(2).inner_text()
    assert Criterion.objects.count() == 0

    # The corrected file has the same columns: the kept mapping is used, checked and imported
    # at once.
    page.locator(".replace-file").get_by_label("File").set_input_files(
        files=[{"name": "criteres.csv", "mimeType": "text/csv", "buffer": criteria_csv(False)}]
    )
    page.get_by_role("button", name="Send the corrected file").click()
    page.get_by_text("40 lines saved.").wait_for()
    assert Criterion.objects.filter(meeting=meeting).count() == 40

    page.get_by_role("link", name="See them").click()
    page.wait_for_url(f"**/meetings/{meeting.pk}/")
    assert page.get_by_text("Critère 40", exact=True).is_visible()

    # The open-data package of the territory, from its imports and exports page.
    page.goto(f"{live_server.url}/territories/{town.slug}/")
    page.get_by_role("link", name="Imports and exports").click()
    with page.expect_download() as download:
        page.get_by_role("link", name="Open-data package (.zip)").click()
    archive = zipfile.ZipFile(download.value.path())
    assert "datapackage.json" in archive.namelist()
    assert archive.read("criteria.csv").decode().count("\n") == 41
