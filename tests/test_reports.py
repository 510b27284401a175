"""PDF restitution reports: real PDFs whose text holds the criteria and figures, in the
participants' language, under the permissions and small-numbers rule of the synthesis pages."""

from __future__ import annotations

import datetime
import io
import re
from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client
from pypdf import PdfReader

from spiral.accounts.models import Role, User
from spiral.consultations.models import GroupProfile, HomogeneousGroup
from spiral.consultations.services import group_create, meeting_create
from spiral.reports.pdf import StaticFilesOnly, html_to_pdf, static_file_path
from spiral.reports.selectors import report_language
from spiral.territories.models import Territory
from tests.conftest import client_for
from tests.factories import add_items as add

pytestmark = pytest.mark.django_db

Tree = dict[str, Territory]


def pdf_text(response: Any) -> str:
    assert response.status_code == 200, response.status_code
    assert response["Content-Type"] == "application/pdf"
    assert response.content.startswith(b"%PDF-")
    reader = PdfReader(io.BytesIO(response.content))
    return "\n".join(page.extract_text() for page in reader.pages)


def pages(response: Any) -> int:
    return len(PdfReader(io.BytesIO(response.content)).pages)


def make_group(
    territory: Territory, name: str, *, size: int, language: str = "fr"
) -> HomogeneousGroup:
    return group_create(
        territory=territory,
        name=name,
        profile=GroupProfile.objects.get(code="young_people"),
        size=size,
        language=language,
        user=None,
    )


@pytest.fixture
def data(tree: Tree) -> dict[str, Any]:
    young = make_group(tree["neighbourhood"], "Jeunes des tilleuls", size=8)
    meeting = meeting_create(group=young, held_on=datetime.date(2026, 3, 10), user=None)
    add(meeting, "well_being", ("Avoir un travail", "A06", 3), ("Manger à sa faim", "A01", 2))
    add(meeting, "ill_being", ("La solitude", "D03", 1), ("Le bruit la nuit", "", 1))
    # A tiny group in another town: 3 participants, under the small-numbers threshold.
    tiny = make_group(tree["other_town"], "Petit groupe", size=3, language="en")
    tiny_meeting = meeting_create(group=tiny, held_on=datetime.date(2026, 4, 2), user=None)
    add(tiny_meeting, "well_being", ("Quiet streets", "A06", 1))
    return {"young": young, "meeting": meeting, "tiny": tiny}


# --- Group report -----------------------------------------------------------------------------


def test_group_report_lists_the_criteria_their_codes_and_the_synthesis_in_french(
    data: Any, facilitator: User
) -> None:
    group = data["young"]
    response = client_for(facilitator).get(f"/reports/groups/{group.pk}.pdf")

    text = pdf_text(response)
    for criterion in ("Avoir un travail", "Manger à sa faim", "La solitude", "Le bruit la nuit"):
        assert criterion in text
    assert "A06" in text
    assert "A01" in text
    assert "D03" in text
    assert "Synthèse de Jeunes des tilleuls" in text  # the group writes French: the report too
    assert "pas encore codé" in text  # the uncoded criterion says so
    assert "Page 1 / " in text
    assert response["Content-Disposition"].startswith(
        'inline; filename="report-jeunes-des-tilleuls'
    )


def test_group_report_follows_a_chosen_language_and_one_meeting(
    data: Any, facilitator: User
) -> None:
    group, meeting = data["young"], data["meeting"]
    response = client_for(facilitator).get(
        f"/reports/groups/{group.pk}.pdf", {"lang": "en", "meeting": meeting.pk}
    )
    text = pdf_text(response)
    assert "Synthesis of Jeunes des tilleuls" in text
    assert "Your criteria and how they were coded" in text
    assert "not coded yet" in text
    assert "4 criteria" in text
    assert "7 post-its" in text


def test_group_report_language_falls_back_when_unknown(data: Any, facilitator: User) -> None:
    response = client_for(facilitator).get(f"/reports/groups/{data['young'].pk}.pdf?lang=xx")
    assert "Synthèse de" in pdf_text(response)


def test_group_report_is_denied_to_anonymous_and_to_other_territories(
    data: Any, outsider: User
) -> None:
    url = f"/reports/groups/{data['young'].pk}.pdf"
    assert Client().get(url).status_code == 302  # to the log-in page
    assert client_for(outsider).get(url).status_code == 403
    assert client_for(outsider).get("/reports/groups/999999.pdf").status_code == 404


def test_group_report_allowed_to_the_groups_own_facilitator_without_role(
    data: Any, tree: Tree
) -> None:
    from tests.factories import UserFactory

    volunteer = UserFactory()
    data["young"].facilitators.add(volunteer)
    response = client_for(volunteer).get(f"/reports/groups/{data['young'].pk}.pdf")
    assert "Avoir un travail" in pdf_text(response)


def test_group_report_refuses_a_meeting_of_another_group(data: Any, facilitator: User) -> None:
    other = meeting_create(group=data["tiny"], held_on=datetime.date(2026, 5, 1), user=None)
    url = f"/reports/groups/{data['young'].pk}.pdf?meeting={other.pk}"
    assert client_for(facilitator).get(url).status_code == 404


# --- Territory report -------------------------------------------------------------------------


def test_territory_report_has_charts_and_counts(data: Any, tree: Tree) -> None:
    response = Client().get(f"/reports/territories/{tree['town'].slug}.pdf?lang=en")

    text = pdf_text(response)
    assert "Synthesis – Town" in text
    assert "4 criteria written by the groups of this territory and below" in text
    assert "from 7 post-its" in text
    assert "Criteria by dimension – Town" in text  # the SVG chart's title, drawn as text
    assert "Counts by dimension and component" in text
    assert "A06" in text
    assert pages(response) >= 2


def test_territory_report_follows_the_small_numbers_rule(
    data: Any, tree: Tree, user_with_role: Callable[..., User]
) -> None:
    url = f"/reports/territories/{tree['other_town'].slug}.pdf?lang=en"
    public = pdf_text(Client().get(url))
    assert "Too few participants" in public
    assert "Quiet streets" not in public
    assert "Counts by dimension and component" not in public

    observer = user_with_role(Role.OBSERVER, tree["other_town"])
    private = pdf_text(client_for(observer).get(url))
    assert "Too few participants" not in private
    assert "Counts by dimension and component" in private


def test_territory_report_of_a_private_territory_is_denied_then_allowed(
    data: Any, tree: Tree, coordinator: User, outsider: User
) -> None:
    town = tree["town"]
    town.is_public = False
    town.save()
    url = f"/reports/territories/{town.slug}.pdf"
    assert Client().get(url).status_code == 403
    assert client_for(outsider).get(url).status_code == 403
    assert "Synthèse – Town" in pdf_text(client_for(coordinator).get(url))  # town language: fr
    assert Client().get("/reports/territories/nowhere.pdf").status_code == 404


def test_territory_report_applies_the_pages_filters(data: Any, tree: Tree) -> None:
    url = f"/reports/territories/{tree['town'].slug}.pdf?lang=en&question=ill_being"
    text = pdf_text(Client().get(url))
    assert "2 criteria written by the groups" in text


def test_territory_report_section_slot_only_for_installed_apps(data: Any, tree: Tree) -> None:
    from spiral.reports.selectors import territory_sections

    # Indicators and actions give no section yet; carbon does.
    assert territory_sections({}) == ["carbon/_report_section.html"]


def test_territory_report_has_a_carbon_section_with_the_small_numbers_rule(
    data: Any, tree: Tree, user_with_role: Callable[..., User], settings: Any
) -> None:
    from tests.factories import CarbonCampaignFactory, carbon_result

    settings.SPIRAL_SMALL_NUMBERS_THRESHOLD = 5
    url = f"/reports/territories/{tree['town'].slug}.pdf?lang=en"
    assert "Carbon footprint" not in pdf_text(Client().get(url))  # no campaign: no section
    campaign = CarbonCampaignFactory(territory=tree["neighbourhood"])
    for km in (1000, 8000, 15000):
        carbon_result(campaign, {"car_km": km})
    public = pdf_text(Client().get(url))
    assert "3 questionnaires filled in the carbon campaigns" in public
    assert "Median footprint" not in public  # 3 < 5: the count only
    coordinator = user_with_role(Role.COORDINATOR, tree["town"])
    private = pdf_text(client_for(coordinator).get(url))
    assert "Median footprint" in private
    assert "The territory by category" in private  # the chart


# --- Comparison report ------------------------------------------------------------------------


def test_compare_report_puts_two_territories_side_by_side(
    data: Any, tree: Tree, user_with_role: Callable[..., User]
) -> None:
    observer = user_with_role(Role.OBSERVER, tree["region"])
    url = f"/reports/territories/{tree['town'].slug}/compare.pdf"
    text = pdf_text(client_for(observer).get(url, {"other": tree["other_town"].pk, "lang": "en"}))
    assert "Comparison of two syntheses" in text
    assert "A: Town" in text
    assert "B: Other town" in text
    assert "B − A (points)" in text
    french = pdf_text(client_for(observer).get(url, {"other": tree["other_town"].pk, "lang": "fr"}))
    # French typography: a no-break space before the colon (pdf text may give it as a space).
    assert re.search("A[\u00a0 ]: Town", french)
    assert "A: Town" not in french


def test_compare_report_hides_breakdown_of_small_scopes_publicly(data: Any, tree: Tree) -> None:
    url = f"/reports/territories/{tree['town'].slug}/compare.pdf"
    text = pdf_text(Client().get(url, {"other": tree["other_town"].pk, "lang": "en"}))
    assert "Too few participants" in text
    assert "B − A (points)" not in text


def test_compare_report_denied_for_a_private_territory(
    data: Any, tree: Tree, outsider: User
) -> None:
    town = tree["town"]
    town.is_public = False
    town.save()
    assert (
        client_for(outsider).get(f"/reports/territories/{town.slug}/compare.pdf").status_code == 403
    )


# --- Links and the PDF machinery --------------------------------------------------------------


def test_pages_link_to_their_reports(data: Any, tree: Tree, facilitator: User) -> None:
    client = client_for(facilitator)
    group = data["young"]
    assert (
        f"/reports/groups/{group.pk}.pdf" in client.get(group.get_absolute_url()).content.decode()
    )
    slug = tree["town"].slug
    assert (
        f"/reports/territories/{slug}.pdf"
        in client.get(f"/territories/{slug}/synthesis/").content.decode()
    )
    compare = client.get(f"/territories/{slug}/synthesis/compare/").content.decode()
    assert f"/reports/territories/{slug}/compare.pdf" in compare


def test_only_static_files_are_fetched() -> None:
    assert static_file_path("https://spiral.invalid/static/spiral/report.css") is not None
    assert static_file_path("https://spiral.invalid/static/../settings.py") is None
    assert static_file_path("https://example.org/static/spiral/report.css") is None
    assert static_file_path("file:///etc/passwd") is None
    assert static_file_path("https://spiral.invalid/media/x.png") is None


def test_a_report_never_fetches_outside_resources(monkeypatch: pytest.MonkeyPatch) -> None:
    asked: list[str] = []
    import spiral.reports.pdf as pdf_module

    original = pdf_module.static_file_path

    def spy(url: str) -> Any:
        asked.append(url)
        return original(url)

    monkeypatch.setattr(pdf_module, "static_file_path", spy)
    html = (
        '<html><head><link rel="stylesheet" href="/static/spiral/report.css"></head><body>'
        '<img src="http://127.0.0.1:9/x.png"><img src="file:///etc/hostname"><p>Hello</p></body></html>'
    )
    pdf = html_to_pdf(html)
    assert pdf.startswith(b"%PDF-")
    assert "Hello" in PdfReader(io.BytesIO(pdf)).pages[0].extract_text()
    assert "https://spiral.invalid/static/spiral/report.css" in asked
    assert len(asked) == 3  # every resource went through the fetcher, which refused two
    assert issubclass(StaticFilesOnly, Exception)


@pytest.mark.parametrize(
    ("asked", "default", "expected"),
    [("en", "fr", "en"), (None, "fr", "fr"), ("xx", "pt", "fr"), ("", "en", "en")],
)
def test_report_language(asked: str | None, default: str, expected: str, settings: Any) -> None:
    settings.LANGUAGE_CODE = "fr"
    assert report_language(asked, default) == expected


def test_long_report_prints_its_total_once_numbers_every_page_and_starts_with_the_colophon(
    tree: Tree,
) -> None:
    """A synthesis table running over pages: WeasyPrint repeated the table's foot (the grand
    total) at the bottom of every page, and the colophon spilled alone onto a last page."""
    group = make_group(tree["town"], "Grand groupe", size=12)
    meeting = meeting_create(group=group, held_on=datetime.date(2026, 5, 1), user=None)
    codes = [f"{d}0{n}" for d in "ABCDEF" for n in range(1, 6)]
    add(meeting, "well_being", *[(f"Critère {code}", code, 1) for code in codes])
    response = Client().get(f"/reports/territories/{tree['town'].slug}.pdf?lang=en")
    reader = PdfReader(io.BytesIO(response.content))
    texts = [page.extract_text() for page in reader.pages]
    assert len(texts) >= 3
    assert sum(text.count("All criteria") for text in texts) == 1
    assert "Made with Spiral" in texts[0]
    for number, text in enumerate(texts, start=1):
        assert f"Page {number} / {len(texts)}" in text
        assert text.strip() != f"Synthesis – Town Page {number} / {len(texts)}"  # no empty page
