"""Who calls the API: a bearer token, the browser's session, or nobody.

- ``Authorization: Bearer spiral_<prefix>_<secret>``: the token acts with its user's roles. An
  Authorization header that is not a valid, unrevoked token of an active user is refused with
  401 — a client that believes it is authenticated must not silently get the public view.
- No Authorization header, but a logged-in session (the site's own pages calling the API): the
  session's user, for safe methods only (GET, HEAD, OPTIONS). Writes will need a token, so a
  third-party page cannot act with a visitor's cookie.
- Neither: an anonymous caller, who sees public data only.

Endpoints ask the caller (``caller_of(request)``) what it may see; the caller asks the permission
predicates of ``spiral.core.permissions``. Per-token territory scopes and write access (a later
issue) belong in ``ApiCaller``: intersect what the user may do with what the token allows, and
the endpoints need no change."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.contrib.auth.models import AnonymousUser
from django.http import HttpRequest
from ninja.errors import AuthenticationError
from ninja.security import APIKeyCookie, HttpBearer

from spiral.accounts.models import ApiToken
from spiral.core.permissions import can_view_group, can_view_private_data, can_view_territory
from spiral.territories.models import Territory, TerritoryQuerySet
from spiral.territories.selectors import visible_territories

SAFE_METHODS = ("GET", "HEAD", "OPTIONS")


class InvalidToken(AuthenticationError):
    """An Authorization header was sent but names no usable token (answered with 401)."""

    def __init__(self) -> None:
        super().__init__(401, "Invalid or revoked API token.")


@dataclass(frozen=True)
class ApiCaller:
    """The user behind a request (anonymous or not) and the token used, if any.

    Always truthy, so django-ninja accepts it as an authentication result."""

    user: Any
    token: ApiToken | None = None
    via: str = "anonymous"  # "token", "session" or "anonymous"

    def __bool__(self) -> bool:
        return True

    def visible_territories(self) -> TerritoryQuerySet:
        return visible_territories(user=self.user)

    def can_view_territory(self, territory: Territory) -> bool:
        return can_view_territory(self.user, territory)

    def can_view_private_data(self, territory: Territory) -> bool:
        return can_view_private_data(self.user, territory)

    def can_view_group(self, group: Any) -> bool:
        return can_view_group(self.user, group)


class TokenAuth(HttpBearer):
    """``Authorization: Bearer <key>``; a key is created at /accounts/tokens/."""

    def __call__(self, request: HttpRequest) -> ApiCaller | None:
        header = request.headers.get(self.header)
        if header is None:
            return None  # no token: the session or anonymous access decide
        scheme, _space, key = header.partition(" ")
        if scheme.lower() != self.openapi_scheme:
            raise InvalidToken
        return self.authenticate(request, key.strip())

    def authenticate(self, request: HttpRequest, token: str) -> ApiCaller:
        api_token = ApiToken.objects.for_key(token)
        if api_token is None:
            raise InvalidToken
        api_token.touch()
        return ApiCaller(user=api_token.user, token=api_token, via="token")


class SessionAuth(APIKeyCookie):
    """The site's session cookie (same-site pages), for reading only."""

    param_name = settings.SESSION_COOKIE_NAME

    def __call__(self, request: HttpRequest) -> ApiCaller | None:
        if request.method not in SAFE_METHODS:
            return None  # writes will need a token, never a cookie
        return super().__call__(request)

    def authenticate(self, request: HttpRequest, key: str | None) -> ApiCaller | None:
        user = getattr(request, "user", None)
        if user is None or not user.is_authenticated:
            return None
        return ApiCaller(user=user, via="session")


def anonymous(request: HttpRequest) -> ApiCaller:
    """The last resort: no credentials, public data only."""
    return ApiCaller(user=AnonymousUser())


# Order matters: a token wins over a session; anonymous access comes last.
api_auth: list[Callable[[HttpRequest], ApiCaller | None]] = [TokenAuth(), SessionAuth(), anonymous]


def caller_of(request: HttpRequest) -> ApiCaller:
    """The caller django-ninja's authentication put on the request."""
    caller = getattr(request, "auth", None)
    return caller if isinstance(caller, ApiCaller) else ApiCaller(user=AnonymousUser())
