"""Who calls the API: a bearer token, the browser's session, or nobody.

- ``Authorization: Bearer spiral_<prefix>_<secret>``: the token acts with its user's roles. An
  Authorization header that is not a valid, unrevoked token of an active user is refused with
  401 — a client that believes it is authenticated must not silently get the public view.
- No Authorization header, but a logged-in session (the site's own pages calling the API): the
  session's user, for safe methods only (GET, HEAD, OPTIONS). Writes will need a token, so a
  third-party page cannot act with a visitor's cookie.
- Neither: an anonymous caller, who sees public data only.

Endpoints ask the caller (``caller_of(request)``) what it may see and do; the caller asks the
permission predicates of ``spiral.core.permissions`` and narrows them by the token's scope: a
token limited to some territories has its user's rights there and below only (elsewhere it
sees what anybody sees: public data), and only a read/write token may write."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.contrib.auth.models import AnonymousUser
from django.db.models import Q
from django.http import HttpRequest
from ninja.errors import AuthenticationError
from ninja.security import APIKeyCookie, HttpBearer

from spiral.accounts.models import ApiToken
from spiral.core.permissions import (
    can_code,
    can_manage_groups,
    can_transcribe,
    can_view_group,
    can_view_private_data,
    can_view_territory,
)
from spiral.territories.models import Territory, TerritoryLink, TerritoryQuerySet
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

    @property
    def scope_ids(self) -> list[int]:
        """The territories a scoped token is limited to (empty: not limited)."""
        if self.token is None or getattr(self.token, "scope_size", None) == 0:
            return []
        cached = self.__dict__.get("_scope_ids")
        if cached is None:
            cached = list(self.token.territories.values_list("pk", flat=True))
            object.__setattr__(self, "_scope_ids", cached)  # frozen dataclass: a cache only
        return cached

    def in_scope(self, territory_id: int) -> bool:
        """The territory is within the token's scope (always true without a scoped token)."""
        scope = self.scope_ids
        if not scope:
            return True
        return TerritoryLink.objects.filter(
            territory_id=territory_id, ancestor_id__in=scope
        ).exists()

    @property
    def is_authenticated(self) -> bool:
        return bool(getattr(self.user, "is_authenticated", False))

    @property
    def can_write(self) -> bool:
        """Writes need a read/write token (never a session cookie)."""
        return self.token is not None and self.token.can_write

    def visible_territories(self) -> TerritoryQuerySet:
        visible = visible_territories(user=self.user)
        if not self.scope_ids:
            return visible
        return visible.filter(
            Q(is_public=True) | Q(ancestor_links__ancestor_id__in=self.scope_ids)
        ).distinct()

    def can_view_territory(self, territory: Territory) -> bool:
        return bool(territory.is_public) or (
            self.in_scope(territory.pk) and can_view_territory(self.user, territory)
        )

    def can_view_private_data(self, territory: Territory) -> bool:
        return self.in_scope(territory.pk) and can_view_private_data(self.user, territory)

    def can_view_group(self, group: Any) -> bool:
        return self.in_scope(group.territory_id) and can_view_group(self.user, group)

    def can_manage_groups(self, territory: Territory) -> bool:
        return self.in_scope(territory.pk) and can_manage_groups(self.user, territory)

    def can_transcribe(self, group: Any) -> bool:
        return self.in_scope(group.territory_id) and can_transcribe(self.user, group)

    def can_code(self, territory: Territory) -> bool:
        return self.in_scope(territory.pk) and can_code(self.user, territory)


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
