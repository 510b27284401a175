"""Use the interface language a signed-in user chose, unless they switched it in this browser."""

from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse

SESSION_LANGUAGE_KEY = "preferred_language"


def preferred_language_middleware(
    get_response: Callable[[HttpRequest], HttpResponse],
) -> Callable[[HttpRequest], HttpResponse]:
    def middleware(request: HttpRequest) -> HttpResponse:
        # Runs after the session and before LocaleMiddleware. The language cookie (set by the
        # switcher) wins; otherwise the preference stored at login is used as if it were the cookie.
        if settings.LANGUAGE_COOKIE_NAME not in request.COOKIES:
            preferred = request.session.get(SESSION_LANGUAGE_KEY)
            if preferred:
                request.COOKIES[settings.LANGUAGE_COOKIE_NAME] = str(preferred)
        return get_response(request)

    return middleware
