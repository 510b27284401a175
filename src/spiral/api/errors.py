"""One error envelope for the whole API: ``{"detail": ..., "code": ...}``.

``detail`` is a sentence (for 422: the list of problems, each with ``loc``, ``msg`` and
``type``); ``code`` is a stable word a program can test (``not_found``, ``forbidden``...),
so clients never parse sentences."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError, ValidationError

from spiral.api.auth import ApiCaller, InvalidToken
from spiral.territories.models import Territory

CODES = {
    400: "bad_request",
    401: "not_authenticated",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    422: "validation_error",
}


class ApiError(HttpError):
    """An error answered with the envelope, with a code more precise than the status's own."""

    def __init__(self, status_code: int, message: str, *, code: str | None = None) -> None:
        super().__init__(status_code, message)
        self.code = code or CODES.get(status_code, "error")


def require_write(caller: ApiCaller) -> None:
    """Writing needs a read/write token: 401 without one, 403 with a read-only one."""
    if caller.token is None:
        raise ApiError(
            401, "Writing needs an API token with write access.", code="not_authenticated"
        )
    if not caller.can_write:
        raise ApiError(403, "This API token is read-only.", code="read_only_token")


def forbidden(message: str = "You may not do this here.") -> ApiError:
    return ApiError(403, message, code="forbidden")


def territory_to_manage_groups(caller: ApiCaller, territory_id: int, *, refusal: str) -> Territory:
    """The territory a write creates groups (or campaigns) in: a write token, a territory the
    caller can see (404 otherwise, so ids are not probed) and the right to manage its groups."""
    require_write(caller)
    territory = Territory.objects.filter(pk=territory_id).first()
    if territory is None or not caller.can_view_territory(territory):
        raise Http404("no such territory")
    if not caller.can_manage_groups(territory):
        raise forbidden(refusal)
    return territory


def install_error_handlers(api: NinjaAPI) -> None:
    """Answer every error of the API with the envelope."""

    def respond(request: HttpRequest, status: int, detail: Any, code: str) -> HttpResponse:
        return api.create_response(request, {"detail": detail, "code": code}, status=status)

    def not_found(request: HttpRequest, exc: Exception) -> HttpResponse:
        return respond(request, 404, "Not Found", "not_found")

    def http_error(request: HttpRequest, exc: Exception) -> HttpResponse:
        assert isinstance(exc, HttpError)
        code = getattr(exc, "code", None) or CODES.get(exc.status_code, "error")
        return respond(request, exc.status_code, str(exc), code)

    def invalid_token(request: HttpRequest, exc: Exception) -> HttpResponse:
        response = respond(request, 401, getattr(exc, "message", str(exc)), "invalid_token")
        response["WWW-Authenticate"] = 'Bearer realm="api"'
        return response

    def authentication(request: HttpRequest, exc: Exception) -> HttpResponse:
        return respond(request, 401, "Authentication required.", "not_authenticated")

    def validation(request: HttpRequest, exc: Exception) -> HttpResponse:
        assert isinstance(exc, ValidationError)
        return respond(request, 422, exc.errors, "validation_error")

    def permission_denied(request: HttpRequest, exc: Exception) -> HttpResponse:
        return respond(request, 403, str(exc) or "Forbidden", "forbidden")

    handlers: list[tuple[type[Exception], Any]] = [
        (Http404, not_found),
        (HttpError, http_error),
        (AuthenticationError, authentication),
        (InvalidToken, invalid_token),
        (ValidationError, validation),
        (PermissionDenied, permission_denied),
    ]
    for exception, handler in handlers:
        api.add_exception_handler(exception, handler)
