"""Accounts: logging in and out, lockout, password reset, profile and interface language."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.conf import settings as django_settings
from django.core import mail
from django.test import Client

from spiral.accounts.models import Role, User
from spiral.accounts.services import role_grant, role_revoke, user_create
from spiral.territories.models import Territory
from tests.conftest import client_for
from tests.factories import PASSWORD, UserFactory

LOGIN = "/accounts/login/"
LOGOUT = "/accounts/logout/"
PROFILE = "/accounts/profile/"
RESET = "/accounts/password/reset/"
NEW_PASSWORD = "plum-orchard-evening-9341"


@pytest.fixture
def user(db: None) -> User:
    return UserFactory(username="martine", email="martine.sorel@example.org")


@pytest.fixture
def locmem_mail(settings: Any) -> None:
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"


def _logged_in_id(client: Client) -> str | None:
    return client.session.get("_auth_user_id")


def _html_lang(response: Any) -> str:
    match = re.search(r'<html lang="([^"]+)"', response.content.decode())
    assert match, "no <html lang> in the page"
    return match.group(1)


def _without_csrf_tokens(response: Any) -> str:
    # Each page carries its own masked CSRF token (64 letters and digits); the rest must match.
    return re.sub(r"[A-Za-z0-9]{64}", "TOKEN", response.content.decode())


# --- log in, log out -------------------------------------------------------------------------


@pytest.mark.django_db
def test_login_page_answers() -> None:
    response = Client().get(LOGIN)
    assert response.status_code == 200
    assert 'name="username"' in response.content.decode()


@pytest.mark.parametrize(
    "identifier",
    ["martine", "martine.sorel@example.org", "Martine.Sorel@Example.org"],
    ids=["username", "email", "email-other-case"],
)
def test_login_with_username_or_email(user: User, identifier: str) -> None:
    client = Client()
    response = client.post(LOGIN, {"username": identifier, "password": PASSWORD})
    assert response.status_code == 302
    assert response["Location"] == "/"
    assert _logged_in_id(client) == str(user.pk)


def test_login_follows_next(user: User) -> None:
    client = Client()
    response = client.post(
        LOGIN, {"username": "martine", "password": PASSWORD, "next": "/accounts/profile/"}
    )
    assert response["Location"] == "/accounts/profile/"


def test_login_with_wrong_password_shows_the_error(user: User) -> None:
    client = Client()
    response = client.post(LOGIN, {"username": "martine", "password": "not-the-password"})
    assert response.status_code == 200
    assert "did not match" in response.content.decode()
    assert _logged_in_id(client) is None


def test_login_of_inactive_user_refused(user: User) -> None:
    User.objects.filter(pk=user.pk).update(is_active=False)
    client = Client()
    response = client.post(LOGIN, {"username": "martine", "password": PASSWORD})
    assert response.status_code == 200
    assert _logged_in_id(client) is None


def test_lockout_after_too_many_failures(user: User) -> None:
    assert django_settings.AXES_FAILURE_LIMIT == 5
    client = Client()
    for _attempt in range(django_settings.AXES_FAILURE_LIMIT - 1):
        response = client.post(LOGIN, {"username": "martine", "password": "wrong-guess"})
        assert response.status_code == 200
    # The fifth failure reaches the limit and is answered with the lockout page (axes: 429).
    response = client.post(LOGIN, {"username": "martine", "password": "wrong-guess"})
    assert response.status_code == 429
    response = client.post(LOGIN, {"username": "martine", "password": PASSWORD})
    assert response.status_code == 429
    assert "Too many attempts" in response.content.decode()
    assert _logged_in_id(client) is None
    # The lock is on this account from this address: someone else still logs in.
    other = UserFactory()
    other_client = Client()
    response = other_client.post(LOGIN, {"username": other.username, "password": PASSWORD})
    assert response.status_code == 302
    assert _logged_in_id(other_client) == str(other.pk)


def test_success_before_the_limit_resets_the_failures(user: User) -> None:
    client = Client()
    for _attempt in range(django_settings.AXES_FAILURE_LIMIT - 1):
        client.post(LOGIN, {"username": "martine", "password": "wrong-guess"})
    assert client.post(LOGIN, {"username": "martine", "password": PASSWORD}).status_code == 302
    client.post(LOGOUT)
    response = client.post(LOGIN, {"username": "martine", "password": "wrong-guess"})
    assert response.status_code == 200


def test_logout_by_post(user: User) -> None:
    client = client_for(user)
    response = client.post(LOGOUT)
    assert response.status_code == 302
    assert response["Location"] == "/"
    assert _logged_in_id(client) is None


def test_logout_by_get_is_refused(user: User) -> None:
    client = client_for(user)
    assert client.get(LOGOUT).status_code == 405
    assert _logged_in_id(client) == str(user.pk)


# --- password reset --------------------------------------------------------------------------


def test_password_reset_by_email(user: User, locmem_mail: None) -> None:
    client = Client()
    response = client.post(RESET, {"email": "martine.sorel@example.org"})
    assert response.status_code == 302
    assert response["Location"] == "/accounts/password/reset/sent/"
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == ["martine.sorel@example.org"]
    match = re.search(r"http://testserver(/accounts/password/reset/[^/\s]+/[^/\s]+/)", message.body)
    assert match, message.body

    confirm = client.get(match.group(1), follow=True)
    assert confirm.status_code == 200
    assert confirm.context["validlink"] is True
    set_password_url = confirm.redirect_chain[-1][0]
    done = client.post(
        set_password_url, {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD}
    )
    assert done.status_code == 302
    assert done["Location"] == "/accounts/password/reset/complete/"

    fresh = Client()
    assert fresh.post(LOGIN, {"username": "martine", "password": PASSWORD}).status_code == 200
    assert _logged_in_id(fresh) is None
    assert fresh.post(LOGIN, {"username": "martine", "password": NEW_PASSWORD}).status_code == 302
    assert _logged_in_id(fresh) == str(user.pk)

    # The link works once only.
    again = Client().get(match.group(1), follow=True)
    assert again.context["validlink"] is False


def test_password_reset_with_forged_token_is_refused(user: User, locmem_mail: None) -> None:
    Client().post(RESET, {"email": user.email})
    match = re.search(r"/accounts/password/reset/([^/\s]+)/[^/\s]+/", mail.outbox[0].body)
    assert match
    response = Client().get(f"/accounts/password/reset/{match.group(1)}/abc-0123456789abcdef/")
    assert response.status_code == 200
    assert response.context["validlink"] is False
    assert "no longer valid" in response.content.decode()


def test_password_reset_for_unknown_address_reveals_nothing(user: User, locmem_mail: None) -> None:
    known = Client().post(RESET, {"email": user.email}, follow=True)
    mail.outbox.clear()
    unknown = Client().post(RESET, {"email": "nobody@example.org"}, follow=True)
    assert mail.outbox == []
    assert unknown.status_code == known.status_code == 200
    assert unknown.redirect_chain == known.redirect_chain
    assert _without_csrf_tokens(unknown) == _without_csrf_tokens(known)


# --- profile and language --------------------------------------------------------------------


@pytest.mark.django_db
def test_profile_requires_login() -> None:
    response = Client().get(PROFILE)
    assert response.status_code == 302
    assert response["Location"] == f"{LOGIN}?next={PROFILE}"


def test_profile_post_requires_login(user: User) -> None:
    response = Client().post(PROFILE, {"display_name": "Intruder", "preferred_language": "fr"})
    assert response.status_code == 302
    assert response["Location"].startswith(LOGIN)
    user.refresh_from_db()
    assert user.display_name != "Intruder"


def test_profile_page_shows_roles(user: User, tree: dict[str, Territory]) -> None:
    role_grant(user=user, territory=tree["town"], role=Role.FACILITATOR, granted_by=None)
    response = client_for(user).get(PROFILE)
    assert response.status_code == 200
    content = response.content.decode()
    assert "Facilitator" in content
    assert tree["town"].get_absolute_url() in content


def test_profile_changes_name_and_language(user: User) -> None:
    client = client_for(user)
    response = client.post(
        PROFILE,
        {
            "display_name": "Martine S.",
            "email": user.email,
            "preferred_language": "fr",
        },
    )
    assert response.status_code == 302
    assert response["Location"] == PROFILE
    user.refresh_from_db()
    assert user.display_name == "Martine S."
    assert user.preferred_language == "fr"
    assert _html_lang(client.get(PROFILE)) == "fr"


def test_profile_refuses_unknown_language(user: User) -> None:
    response = client_for(user).post(
        PROFILE, {"display_name": "Martine S.", "email": user.email, "preferred_language": "xx"}
    )
    assert response.status_code == 200
    assert response.context["form"].errors["preferred_language"]
    user.refresh_from_db()
    assert user.preferred_language == ""


def test_preferred_language_applies_at_next_login(user: User) -> None:
    client_for(user).post(
        PROFILE, {"display_name": "Martine", "email": user.email, "preferred_language": "fr"}
    )
    browser = Client()
    assert _html_lang(browser.get("/")) == "en"
    browser.post(LOGIN, {"username": "martine", "password": PASSWORD})
    assert _html_lang(browser.get("/")) == "fr"


def test_no_preferred_language_keeps_default(user: User) -> None:
    browser = Client()
    browser.post(LOGIN, {"username": "martine", "password": PASSWORD})
    assert _html_lang(browser.get("/")) == "en"


@pytest.mark.django_db
def test_language_switcher() -> None:
    browser = Client()
    response = browser.post("/i18n/setlang/", {"language": "fr", "next": "/"})
    assert response.status_code == 302
    assert _html_lang(browser.get("/")) == "fr"
    browser.post("/i18n/setlang/", {"language": "en", "next": "/"})
    assert _html_lang(browser.get("/")) == "en"


@pytest.mark.django_db
def test_language_switcher_ignores_unknown_language() -> None:
    browser = Client()
    browser.post("/i18n/setlang/", {"language": "xx", "next": "/"})
    assert _html_lang(browser.get("/")) == "en"


def test_switcher_wins_over_preferred_language(user: User) -> None:
    User.objects.filter(pk=user.pk).update(preferred_language="fr")
    browser = Client()
    browser.post(LOGIN, {"username": "martine", "password": PASSWORD})
    assert _html_lang(browser.get("/")) == "fr"
    browser.post("/i18n/setlang/", {"language": "en", "next": "/"})
    assert _html_lang(browser.get("/")) == "en"


@pytest.mark.django_db
def test_accept_language_header_selects_french() -> None:
    assert _html_lang(Client().get("/", HTTP_ACCEPT_LANGUAGE="fr")) == "fr"


# --- services --------------------------------------------------------------------------------


@pytest.mark.django_db
def test_user_create_sets_password_and_language() -> None:
    created = user_create(
        username="karim", email="karim@example.org", password=PASSWORD, language="fr"
    )
    assert created.check_password(PASSWORD)
    assert created.preferred_language == "fr"
    assert created.shown_name == "karim"


def test_role_grant_is_idempotent_and_revocable(user: User, tree: dict[str, Territory]) -> None:
    first = role_grant(user=user, territory=tree["town"], role=Role.CODER, granted_by=None)
    second = role_grant(user=user, territory=tree["town"], role=Role.CODER, granted_by=None)
    assert first.pk == second.pk
    assert user.role_assignments.count() == 1
    role_revoke(assignment=first)
    assert user.role_assignments.count() == 0
