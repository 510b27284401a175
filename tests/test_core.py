"""Core: permission predicates, criterion text, Markdown, security headers, reference data."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from django.contrib.auth.models import AnonymousUser
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection
from django.test import Client
from hypothesis import given
from hypothesis import strategies as st

from spiral.accounts.models import Role, User
from spiral.consultations.models import GroupProfile, Question, QuestionSet
from spiral.core.markdown import render_markdown
from spiral.core.permissions import (
    ROLE_CAPABILITIES,
    ROLES_GRANTABLE_BY_COORDINATOR,
    Capability,
    can_code,
    can_grant_role,
    can_manage_grid,
    can_manage_groups,
    can_manage_roles,
    can_manage_territory,
    can_transcribe,
    can_view_group,
    can_view_private_data,
    can_view_territory,
    capabilities_on,
    is_network_admin,
    require,
)
from spiral.core.reference_data import sync_reference_data
from spiral.core.text import CRITERION_MAX_LENGTH, clean_criterion_text
from spiral.grid.models import GridVersion
from spiral.territories.models import PhaseStep, Territory
from tests.conftest import client_for
from tests.factories import GroupFactory, RoleFactory, TerritoryFactory, UserFactory

Tree = dict[str, Territory]
MakeUser = Callable[..., User]

# A role held on the town covers the town and what lies below it, nothing else.
COVERED_BY_TOWN = {"town", "neighbourhood", "school"}
TREE_KEYS = ["network", "country", "region", "town", "other_town", "neighbourhood", "school"]


def _fresh(user: User) -> User:
    """The same account without the per-instance capability cache."""
    return User.objects.get(pk=user.pk)


# --- permissions: where a role applies -------------------------------------------------------


@pytest.mark.parametrize("role", list(Role))
@pytest.mark.parametrize("key", TREE_KEYS)
def test_role_applies_to_territory_and_descendants_only(
    tree: Tree, user_with_role: MakeUser, role: Role, key: str
) -> None:
    user = user_with_role(role, tree["town"])
    expected = ROLE_CAPABILITIES[role] if key in COVERED_BY_TOWN else frozenset()
    assert capabilities_on(user, tree[key].pk) == expected


@pytest.mark.parametrize("key", TREE_KEYS)
def test_private_territory_visible_only_under_a_role(
    tree: Tree, user_with_role: MakeUser, key: str
) -> None:
    Territory.objects.filter(pk=tree[key].pk).update(is_public=False)
    territory = Territory.objects.get(pk=tree[key].pk)
    observer = user_with_role(Role.OBSERVER, tree["town"])
    assert can_view_territory(observer, territory) is (key in COVERED_BY_TOWN)
    assert can_view_territory(AnonymousUser(), territory) is False


def test_public_territory_visible_to_anyone(tree: Tree) -> None:
    assert can_view_territory(AnonymousUser(), tree["town"]) is True
    assert can_view_private_data(AnonymousUser(), tree["town"]) is False


# --- permissions: what each role may do ------------------------------------------------------


def test_coordinator_manages_territory_and_roles(tree: Tree, coordinator: User) -> None:
    town = tree["town"]
    group = GroupFactory(territory=tree["neighbourhood"])
    assert can_manage_territory(coordinator, town)
    assert can_manage_roles(coordinator, town)
    assert can_manage_groups(coordinator, town)
    assert can_transcribe(coordinator, group)
    assert can_code(coordinator, town)
    assert can_view_private_data(coordinator, town)
    assert not can_manage_grid(coordinator)
    assert not can_manage_territory(coordinator, tree["region"])


def test_facilitator_transcribes_and_manages_groups_only(tree: Tree, facilitator: User) -> None:
    town = tree["town"]
    group = GroupFactory(territory=town)
    assert can_transcribe(facilitator, group)
    assert can_manage_groups(facilitator, town)
    assert can_view_private_data(facilitator, town)
    assert not can_manage_territory(facilitator, town)
    assert not can_manage_roles(facilitator, town)
    assert not can_code(facilitator, town)
    assert not can_manage_grid(facilitator)


def test_coder_codes_only(tree: Tree, user_with_role: MakeUser) -> None:
    coder = user_with_role(Role.CODER, tree["town"])
    town = tree["town"]
    group = GroupFactory(territory=town)
    assert can_code(coder, town)
    assert can_view_private_data(coder, town)
    assert not can_transcribe(coder, group)
    assert not can_manage_groups(coder, town)
    assert not can_manage_territory(coder, town)
    assert not can_manage_roles(coder, town)


def test_observer_only_views_private_data(tree: Tree, user_with_role: MakeUser) -> None:
    observer = user_with_role(Role.OBSERVER, tree["town"])
    town = tree["town"]
    group = GroupFactory(territory=town)
    assert can_view_private_data(observer, town)
    assert can_view_group(observer, group)
    assert capabilities_on(observer, town.pk) == {Capability.VIEW_PRIVATE}
    assert not can_transcribe(observer, group)
    assert not can_code(observer, town)
    assert not can_manage_groups(observer, town)
    assert not can_manage_territory(observer, town)


def test_roles_add_up(tree: Tree) -> None:
    user = UserFactory()
    RoleFactory(user=user, territory=tree["region"], role=Role.CODER)
    RoleFactory(user=user, territory=tree["town"], role=Role.FACILITATOR)
    assert capabilities_on(user, tree["school"].pk) == (
        ROLE_CAPABILITIES[Role.CODER] | ROLE_CAPABILITIES[Role.FACILITATOR]
    )
    assert capabilities_on(_fresh(user), tree["other_town"].pk) == ROLE_CAPABILITIES[Role.CODER]


def _everything_allowed(user: User, tree: Tree) -> None:
    group = GroupFactory(territory=tree["other_town"])
    for territory in tree.values():
        assert capabilities_on(user, territory.pk) == frozenset(Capability)
        assert can_manage_territory(user, territory)
        assert can_grant_role(user, territory, Role.NETWORK_ADMIN)
    assert can_transcribe(user, group)
    assert is_network_admin(user)
    assert can_manage_grid(user)


def test_network_admin_can_do_everything(tree: Tree, user_with_role: MakeUser) -> None:
    _everything_allowed(user_with_role(Role.NETWORK_ADMIN, tree["network"]), tree)


def test_superuser_can_do_everything_without_a_role(tree: Tree) -> None:
    _everything_allowed(UserFactory(is_superuser=True), tree)


def test_inactive_user_can_do_nothing(tree: Tree, user_with_role: MakeUser) -> None:
    user = user_with_role(Role.NETWORK_ADMIN, tree["network"])
    User.objects.filter(pk=user.pk).update(is_active=False, is_superuser=True)
    user = _fresh(user)
    group = GroupFactory(territory=tree["town"])
    group.facilitators.add(user)
    assert capabilities_on(user, tree["town"].pk) == frozenset()
    assert not is_network_admin(user)
    assert not can_transcribe(user, group)
    assert not can_manage_grid(user)
    assert not can_grant_role(user, tree["town"], Role.OBSERVER)


@pytest.mark.parametrize("user", [None, AnonymousUser()], ids=["none", "anonymous"])
def test_anonymous_can_do_nothing(tree: Tree, user: AnonymousUser | None) -> None:
    group = GroupFactory(territory=tree["town"])
    assert capabilities_on(user, tree["town"].pk) == frozenset()
    assert not is_network_admin(user)
    assert not can_transcribe(user, group)
    assert not can_view_group(user, group)
    assert not can_manage_grid(user)
    assert not can_grant_role(user, tree["town"], Role.OBSERVER)


def test_listed_facilitator_transcribes_without_a_role(tree: Tree) -> None:
    volunteer = UserFactory()
    group = GroupFactory(territory=tree["town"])
    other_group = GroupFactory(territory=tree["town"])
    group.facilitators.add(volunteer)
    assert can_transcribe(volunteer, group)
    assert can_view_group(volunteer, group)
    assert not can_transcribe(volunteer, other_group)
    assert not can_view_group(volunteer, other_group)
    assert not can_manage_groups(volunteer, tree["town"])
    assert not can_view_private_data(volunteer, tree["town"])


@pytest.mark.parametrize("role", ROLES_GRANTABLE_BY_COORDINATOR)
def test_coordinator_grants_roles_below_but_never_network_admin(
    tree: Tree, coordinator: User, role: Role
) -> None:
    assert can_grant_role(coordinator, tree["town"], role)
    assert can_grant_role(coordinator, tree["school"], role)
    assert not can_grant_role(coordinator, tree["region"], role)
    assert not can_grant_role(coordinator, tree["other_town"], role)
    assert not can_grant_role(coordinator, tree["town"], Role.NETWORK_ADMIN)


def test_facilitator_grants_nothing(tree: Tree, facilitator: User) -> None:
    for role in Role:
        assert not can_grant_role(facilitator, tree["town"], role)


def test_require_raises_permission_denied() -> None:
    require(True)
    with pytest.raises(PermissionDenied):
        require(False)


# --- criterion text --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("  Avoir un toit \n", "Avoir un toit"),
        ("\tÉcole, crèche, santé ", "École, crèche, santé"),
        ("Être ensemble 🌳🤝", "Être ensemble 🌳🤝"),
        (" الصحة الجيدة ", "الصحة الجيدة"),
        ("בריאות טובה", "בריאות טובה"),
        ("\u200fمرحبا\u200e avec \u202bميم\u202c", "\u200fمرحبا\u200e avec \u202bميم\u202c"),
        ("a  b   c", "a  b   c"),
        ("x" * CRITERION_MAX_LENGTH, "x" * CRITERION_MAX_LENGTH),
        ("  " + "y" * CRITERION_MAX_LENGTH + "  ", "y" * CRITERION_MAX_LENGTH),
    ],
    ids=[
        "outer-blanks",
        "accents",
        "emoji",
        "arabic",
        "hebrew",
        "bidi-marks",
        "inner-spaces",
        "at-limit",
        "at-limit-padded",
    ],
)
def test_criterion_text_kept_exactly(raw: str, expected: str) -> None:
    assert clean_criterion_text(raw) == expected


@pytest.mark.parametrize("raw", ["", " ", "\n\t  \r\n", "\u3000\u2003"])
def test_criterion_text_refuses_blank(raw: str) -> None:
    with pytest.raises(ValidationError) as error:
        clean_criterion_text(raw)
    assert error.value.code == "empty"
    assert error.value.messages == ["The criterion is empty."]


@pytest.mark.parametrize("length", [CRITERION_MAX_LENGTH + 1, 5000])
def test_criterion_text_refuses_too_long(length: int) -> None:
    with pytest.raises(ValidationError) as error:
        clean_criterion_text("z" * length)
    assert error.value.code == "too_long"
    assert error.value.messages == [
        f"The criterion is {length} characters long; the limit is {CRITERION_MAX_LENGTH}."
    ]


@pytest.mark.parametrize(
    ("char", "shown"), [("\x00", "U+0000"), ("\x1b", "U+001B"), ("\x07", "U+0007")]
)
def test_criterion_text_refuses_control_characters(char: str, shown: str) -> None:
    with pytest.raises(ValidationError) as error:
        clean_criterion_text(f"Vivre{char} ensemble")
    assert error.value.code == "control_character"
    assert error.value.messages == [
        f"The criterion contains an invisible control character ({shown})."
    ]


@given(
    st.text(
        alphabet=st.characters(exclude_categories=("Cc", "Cs")),
        max_size=CRITERION_MAX_LENGTH,
    ).filter(lambda s: s.strip())
)
def test_criterion_text_without_controls_comes_back_stripped(raw: str) -> None:
    assert clean_criterion_text(raw) == raw.strip()


@given(
    before=st.text(min_size=1).filter(lambda s: s.strip()),
    control=st.characters(categories=("Cc",)),
    after=st.text(),
)
def test_criterion_text_with_inner_control_is_refused(
    before: str, control: str, after: str
) -> None:
    # A control character with visible text on its left survives strip(), so it must be refused.
    raw = before.strip() + control + "x" + after
    within_limit = len(raw.strip()) <= CRITERION_MAX_LENGTH
    with pytest.raises(ValidationError) as error:
        clean_criterion_text(raw)
    assert error.value.code == ("control_character" if within_limit else "too_long")


# --- Markdown --------------------------------------------------------------------------------


def test_markdown_renders_bold_lists_and_links() -> None:
    html = render_markdown(
        "Une **maison commune**.\n\n- écoles\n- jardins\n\n[Le réseau](https://example.org/r)"
    )
    assert "<strong>maison commune</strong>" in html
    assert "<ul>" in html
    assert "<li>écoles</li>" in html
    assert "<li>jardins</li>" in html
    assert 'href="https://example.org/r"' in html
    assert ">Le réseau</a>" in html
    assert 'rel="noopener noreferrer nofollow"' in html


@pytest.mark.parametrize(
    ("source", "forbidden"),
    [
        ("Hello <script>alert('x')</script> world", ["<script", "alert("]),
        ('<img src="x.png" onerror="alert(1)">', ["onerror", "alert(", "<img"]),
        ('<a href="https://example.org" onclick="steal()">ok</a>', ["onclick", "steal("]),
        ("[click](javascript:alert(1))", ["javascript:", "alert("]),
        ('<a href="javascript:alert(1)">x</a>', ["javascript:"]),
        ("<iframe src='https://evil.example'></iframe>", ["<iframe", "evil.example"]),
    ],
    ids=["script", "onerror", "onclick", "md-js-link", "html-js-link", "iframe"],
)
def test_markdown_removes_active_content(source: str, forbidden: list[str]) -> None:
    html = render_markdown(source)
    for fragment in forbidden:
        assert fragment not in html


def test_markdown_of_nothing_is_empty() -> None:
    assert render_markdown("") == ""


# --- security headers, health, home ----------------------------------------------------------


def _directives(header: str) -> dict[str, list[str]]:
    parts = [part.strip().split() for part in header.split(";") if part.strip()]
    return {words[0]: words[1:] for words in parts}


@pytest.mark.django_db
@pytest.mark.parametrize("path", ["/", "/accounts/login/", "/healthz"])
def test_security_headers(path: str) -> None:
    response = Client().get(path)
    assert response.status_code == 200
    csp = _directives(response["Content-Security-Policy"])
    assert csp["default-src"] == ["'self'"]
    assert "'unsafe-inline'" not in csp["script-src"]
    assert "'unsafe-eval'" not in csp["script-src"]
    assert csp["frame-ancestors"] == ["'none'"]
    assert response["X-Frame-Options"] == "DENY"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Referrer-Policy"] == "same-origin"
    assert "camera=()" in response["Permissions-Policy"]
    assert "geolocation=()" in response["Permissions-Policy"]


@pytest.mark.django_db
def test_health_answers_json() -> None:
    response = Client().get("/healthz")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    assert response.json() == {"status": "ok", "database": connection.vendor}


def test_home_lists_public_countries_only_for_anonymous(tree: Tree) -> None:
    TerritoryFactory(name="Atlantis", kind="country", parent=tree["network"], is_public=False)
    response = Client().get("/")
    assert response.status_code == 200
    content = response.content.decode()
    assert "France" in content
    assert "Atlantis" not in content


def test_home_lists_private_country_for_user_with_role_on_it(
    tree: Tree, user_with_role: MakeUser
) -> None:
    atlantis = TerritoryFactory(
        name="Atlantis", kind="country", parent=tree["network"], is_public=False
    )
    member = user_with_role(Role.OBSERVER, atlantis)
    outsider = user_with_role(Role.COORDINATOR, tree["country"])
    assert "Atlantis" in client_for(member).get("/").content.decode()
    assert "Atlantis" not in client_for(outsider).get("/").content.decode()


def test_csrf_enforced_on_form_posts(tree: Tree, coordinator: User) -> None:
    client = Client(enforce_csrf_checks=True)
    client.force_login(coordinator)
    refused = client.post("/accounts/profile/", {"display_name": "Forged"})
    assert refused.status_code == 403
    coordinator.refresh_from_db()
    assert coordinator.display_name != "Forged"

    # The same post with the token from the page goes through: the 403 came from CSRF alone.
    client.get("/accounts/profile/")
    token = client.cookies["csrftoken"].value
    accepted = client.post(
        "/accounts/profile/",
        {"display_name": "Genuine", "email": coordinator.email, "csrfmiddlewaretoken": token},
    )
    assert accepted.status_code == 302
    coordinator.refresh_from_db()
    assert coordinator.display_name == "Genuine"


@pytest.mark.django_db
def test_csrf_enforced_on_login() -> None:
    response = Client(enforce_csrf_checks=True).post(
        "/accounts/login/", {"username": "someone", "password": "whatever-it-is"}
    )
    assert response.status_code == 403


# --- reference data --------------------------------------------------------------------------


def _reference_counts() -> dict[str, int]:
    return {
        "profiles": GroupProfile.objects.count(),
        "question_sets": QuestionSet.objects.count(),
        "questions": Question.objects.count(),
        "phase_steps": PhaseStep.objects.count(),
        "grid_versions": GridVersion.objects.count(),
    }


@pytest.mark.django_db
def test_reference_data_loaded_by_migrations() -> None:
    counts = _reference_counts()
    assert all(counts.values()), counts
    assert QuestionSet.objects.filter(is_default=True).count() == 1
    assert GridVersion.objects.filter(is_default=True).count() == 1


@pytest.mark.django_db
def test_sync_reference_data_is_idempotent() -> None:
    full = _reference_counts()
    GroupProfile.objects.order_by("position").last().delete()  # type: ignore[union-attr]
    PhaseStep.objects.get(key="p8-review").delete()
    QuestionSet.objects.filter(is_default=False).first().delete()  # type: ignore[union-attr]

    first = sync_reference_data()
    assert first["profiles"] == 1
    assert first["phase_steps"] == 1
    assert first["question_sets"] == 1
    assert _reference_counts() == full

    second = sync_reference_data()
    assert second == {"profiles": 0, "question_sets": 0, "phase_steps": 0, "grid_versions": 0}
    assert _reference_counts() == full


@pytest.mark.django_db
def test_sync_reference_data_keeps_edited_labels() -> None:
    profile = GroupProfile.objects.get(code="young_people")
    profile.label_en = "Youth (edited by the network)"
    profile.save()
    step = PhaseStep.objects.get(key="p1-groups")
    PhaseStep.objects.filter(pk=step.pk).update(label_en="Groups (edited)")

    sync_reference_data()

    assert GroupProfile.objects.get(code="young_people").label_en == "Youth (edited by the network)"
    assert PhaseStep.objects.get(key="p1-groups").label_en == "Groups (edited)"


def test_network_admin_role_below_the_root_is_not_network_wide(
    tree: dict[str, Territory], user_with_role: Callable[..., User]
) -> None:
    from spiral.accounts.models import Role
    from spiral.core.permissions import Capability, has_capability, is_network_admin

    country_admin = user_with_role(Role.NETWORK_ADMIN, tree["country"])
    assert not is_network_admin(country_admin)
    assert has_capability(country_admin, tree["town"].pk, Capability.MANAGE_TERRITORY)
    assert not has_capability(country_admin, tree["network"].pk, Capability.VIEW_PRIVATE)
    assert is_network_admin(user_with_role(Role.NETWORK_ADMIN, tree["network"]))


def test_favicon_is_served_from_static(client: Client) -> None:
    response = client.get("/favicon.ico")
    assert response.status_code == 301
    assert response["Location"] == "/static/spiral/favicon.svg"


def test_control_character_class_is_exactly_unicode_category_cc() -> None:
    """clean_criterion_text refuses by a regular expression: it must match the category Cc,
    every code point checked (the category is closed: no new Cc in future Unicode versions)."""
    import sys
    import unicodedata

    from spiral.core.text import CONTROL_CHARACTER

    for code in range(sys.maxunicode + 1):
        char = chr(code)
        assert (unicodedata.category(char) == "Cc") == bool(CONTROL_CHARACTER.match(char)), code


def test_every_date_input_is_given_an_iso_value_whatever_the_language() -> None:
    """A browser's date picker shows only YYYY-MM-DD: a French 26/11/2026 leaves it empty and
    the form cannot be sent again (found on the co-evaluation forms, then checked everywhere)."""
    import datetime

    from django import forms
    from django.utils import translation

    from spiral.consultations.forms import MeetingForm
    from spiral.syntheses.forms import ValidationForm
    from spiral.territories.forms import PhaseStepRecordForm

    day = datetime.date(2026, 11, 26)
    for form_class, field in (
        (MeetingForm, "held_on"),
        (ValidationForm, "validated_on"),
        (PhaseStepRecordForm, "done_on"),
    ):
        widget = form_class.base_fields[field].widget
        assert isinstance(widget, forms.DateInput)
        for language in ("fr", "en"):
            with translation.override(language):
                assert widget.format_value(day) == "2026-11-26", (form_class, language)


@given(text=st.text(max_size=6))
def test_is_plain_number_accepts_exactly_what_int_reads_as_ascii_digits(text: str) -> None:
    from spiral.core.text import is_plain_number

    assert is_plain_number(text) == (text != "" and all(c in "0123456789" for c in text))


@pytest.mark.parametrize("odd", ["²", "①", "١٢"])
def test_odd_digits_in_a_query_are_not_a_server_error(
    odd: str, meeting: object, facilitator: User
) -> None:
    """str.isdigit() accepts these, int() refuses them: the pages used to answer 500."""
    from spiral.coding.selectors import parse_cursor

    group = meeting.group  # type: ignore[attr-defined]
    client = client_for(facilitator)
    export = client.get(f"/transfers/groups/{group.pk}/synthesis.csv?meeting={odd}")
    assert export.status_code == 200
    report = client.get(f"/reports/groups/{group.pk}.pdf?meeting={odd}")
    assert report.status_code == 200
    assert parse_cursor(f"{odd}-1-1-1-1", "") is None  # a cursor of the five keyset fields
