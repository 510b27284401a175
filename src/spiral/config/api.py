"""The REST API, /api/v1/ (django-ninja). Domain routers live in spiral.api.

Authentication (spiral.api.auth): a bearer token, else the site's session for reading, else
anonymous access to public data. Errors are ``{"detail": ...}`` (see spiral.api.schemas)."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from ninja import NinjaAPI

from spiral.api.auth import InvalidToken, api_auth
from spiral.api.consultations import router as consultations_router
from spiral.api.errors import install_error_handlers
from spiral.api.grid import router as grid_router
from spiral.api.suggestions import router as suggestions_router
from spiral.api.syntheses import router as syntheses_router
from spiral.api.territories import router as territories_router

DESCRIPTION = """Open API of the TOGETHER network's Spiral platform.

**Access.** Public territories and their figures need no account. Private territories need a
token: create one at /accounts/tokens/ and send `Authorization: Bearer spiral_…`; it acts with
the roles of its user. Pages of the site itself may also read with their session cookie. A
token that is invalid or revoked is refused (401); a private territory the caller may not see
answers 404, as if it did not exist.

**Small numbers.** Without the right to see a territory's private data, a scope with fewer
participants than the threshold gives totals only (no breakdown, no criteria texts), and shares
whose base is smaller than the threshold are null; `small_numbers` says what was withheld.

**Code suggestions.** `POST /api/v1/suggestions` gives the 3 most likely components of the
default grid for up to 1,000 texts, with a confidence; it needs no account and stores nothing.

**Writing.** Groups, meetings, criteria and codes are written with a token created with
write access; a token may also be limited to some territories (and everything below them).
Posting criteria is idempotent with a `client_token` per criterion.

**Lists** take `limit` and `offset` and answer `{"count", "limit", "offset", "next",
"previous", "results"}`.

**Errors.** `{"detail": "…", "code": "…"}` for 400, 401, 403, 404 and 409; for 422,
`{"detail": [{"loc": […], "msg": "…", "type": "…"}], "code": "validation_error"}`."""


class SpiralAPI(NinjaAPI):
    def get_openapi_schema(self, **kwargs: Any) -> Any:
        """Mark authentication optional: ``{}`` in an operation's security means anonymous."""
        schema = super().get_openapi_schema(**kwargs)
        for operations in schema.get("paths", {}).values():
            for operation in operations.values():
                security = operation.get("security")
                if security is not None and {} not in security:
                    security.append({})
        return schema


api = SpiralAPI(
    title="Spiral API",
    version="1",
    description=DESCRIPTION,
    urls_namespace="api",
    auth=api_auth,
)


@api.exception_handler(InvalidToken)
def invalid_token(request: HttpRequest, exc: InvalidToken) -> HttpResponse:
    response = api.create_response(request, {"detail": exc.message}, status=401)
    response["WWW-Authenticate"] = 'Bearer realm="api"'
    return response


@api.exception_handler(PermissionDenied)
def permission_denied(request: HttpRequest, exc: PermissionDenied) -> HttpResponse:
    return api.create_response(request, {"detail": str(exc) or "Forbidden"}, status=403)


api.add_router("/grid", grid_router)
api.add_router("/territories", territories_router)
api.add_router("", syntheses_router)
api.add_router("", suggestions_router)
api.add_router("/indicators", "spiral.indicators.api.router")
api.add_router("", "spiral.carbon.api.router")
install_error_handlers(api)  # {"detail", "code"} for every error; replaces the two above
api.add_router("", consultations_router)
