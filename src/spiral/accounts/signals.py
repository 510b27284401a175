from __future__ import annotations

from typing import Any

from django.http import HttpRequest

from spiral.accounts.middleware import SESSION_LANGUAGE_KEY


def remember_preferred_language(
    sender: Any, request: HttpRequest, user: Any, **kwargs: Any
) -> None:
    if getattr(user, "preferred_language", "") and hasattr(request, "session"):
        request.session[SESSION_LANGUAGE_KEY] = user.preferred_language
