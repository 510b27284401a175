"""Schemas shared by the API routers: errors, and the filters of a synthesis.

Every error answers ``{"detail": ..., "code": ...}`` (spiral.api.errors): a sentence for 400,
401, 403, 404 and 409, and for 422 the list django-ninja gives for malformed parameters
(``loc``, ``msg``, ``type``); the endpoints' own checks (an unknown profile or grid version...)
use the same list, so a client reads one format."""

from __future__ import annotations

from typing import Any

from ninja import Schema
from ninja.errors import ValidationError
from pydantic import Field, field_validator

from spiral.consultations.models import GroupProfile, QuestionKind
from spiral.core.languages import CRITERION_LANGUAGE_CODES
from spiral.syntheses.selectors import MONTH_RE, SynthesisFilters


class ErrorOut(Schema):
    detail: str = Field(examples=["Not Found"])
    code: str = Field(
        examples=["not_found"],
        description="A stable word for programs: bad_request, not_authenticated, "
        "invalid_token, forbidden, read_only_token, not_found, conflict, validation_error.",
    )


class ValidationErrorItem(Schema):
    type: str
    loc: list[str | int] = Field(examples=[["query", "period_start"]])
    msg: str
    ctx: dict[str, Any] | None = None


class ValidationErrorOut(Schema):
    detail: list[ValidationErrorItem]
    code: str = Field(examples=["validation_error"])


# The error responses every endpoint may give, for the OpenAPI document.
ERRORS: dict[int, Any] = {401: ErrorOut, 422: ValidationErrorOut}
ERRORS_WITH_404: dict[int, Any] = {**ERRORS, 404: ErrorOut}
# Writes may also be refused (403: no right, or a read-only token) or conflict (409).
WRITE_ERRORS: dict[int, Any] = {**ERRORS_WITH_404, 403: ErrorOut, 409: ErrorOut}


def invalid(field: str, message: str, *, location: str = "query") -> ValidationError:
    """A 422 answer about one parameter, in django-ninja's own format."""
    return ValidationError([{"type": "value_error", "loc": [location, field], "msg": message}])


def printable(value: str | None) -> str | None:
    """Refuse control characters (PostgreSQL cannot even compare a text holding NUL)."""
    if value and any(ord(c) < 32 or ord(c) == 127 for c in value):
        raise ValueError("must not contain control characters")
    return value or None


def printable_text(value: str | None) -> str | None:
    """Like ``printable`` for free text: line breaks and tabs are allowed, the value is kept."""
    if value and any((ord(c) < 32 and c not in "\n\r\t") or ord(c) == 127 for c in value):
        raise ValueError("must not contain control characters")
    return value


MONTH_HELP = "Month written YYYY-MM, inclusive (e.g. 2026-03)."


class SynthesisQuery(Schema):
    """The filters of a synthesis (all optional; empty means "all")."""

    question: QuestionKind | None = Field(None, description="Only the criteria of this question.")
    profile: str | None = Field(
        None,
        max_length=40,
        description="Only the groups of this profile (a code of the profile list).",
    )
    language: str | None = Field(
        None, max_length=8, description="Only the criteria written in this language."
    )
    period_start: str | None = Field(
        None, description=MONTH_HELP, json_schema_extra={"pattern": MONTH_RE.pattern}
    )
    period_end: str | None = Field(
        None, description=MONTH_HELP, json_schema_extra={"pattern": MONTH_RE.pattern}
    )
    grid_version: str | None = Field(
        None,
        max_length=60,
        description="Code of a grid version; default: the territory's own version.",
    )

    @field_validator("profile", "grid_version")
    @classmethod
    def _printable(cls, value: str | None) -> str | None:
        return printable(value)

    @field_validator("period_start", "period_end")
    @classmethod
    def _month(cls, value: str | None) -> str | None:
        if value and not MONTH_RE.match(value):
            raise ValueError("must be a month written YYYY-MM, e.g. 2026-03")
        return value or None

    @field_validator("language")
    @classmethod
    def _language(cls, value: str | None) -> str | None:
        if value and value not in CRITERION_LANGUAGE_CODES:
            raise ValueError(
                "unknown language code; expected one of " + ", ".join(CRITERION_LANGUAGE_CODES)
            )
        return value or None

    def to_filters(self) -> SynthesisFilters:
        """The selector's filters; raises a 422 for a reversed period or an unknown profile."""
        if self.period_start and self.period_end and self.period_start > self.period_end:
            raise invalid("period_end", "period_end comes before period_start")
        if self.profile and not GroupProfile.objects.filter(code=self.profile).exists():
            raise invalid("profile", f"unknown group profile {self.profile!r}")
        try:
            return SynthesisFilters(
                question_kind=self.question.value if self.question else "",
                profile=self.profile or "",
                language=self.language or "",
                period_start=self.period_start or "",
                period_end=self.period_end or "",
                grid_version=self.grid_version or "",
            )
        except ValueError as error:  # the selector's own checks, should the two ever differ
            raise invalid("filters", str(error)) from error


class FiltersOut(Schema):
    """The filters applied, as understood (null: not filtered)."""

    question: str | None
    profile: str | None
    language: str | None
    period_start: str | None
    period_end: str | None
    grid_version: str | None


def filters_out(filters: SynthesisFilters) -> dict[str, str | None]:
    return {
        "question": filters.question_kind or None,
        "profile": filters.profile or None,
        "language": filters.language or None,
        "period_start": filters.period_start or None,
        "period_end": filters.period_end or None,
        "grid_version": filters.grid_version or None,
    }


class SmallNumbersOut(Schema):
    """The small-numbers rule: what was withheld from this caller, and why."""

    threshold: int = Field(description="Fewest participants a public breakdown may show.")
    hidden: bool = Field(
        description="True: the breakdown (dimensions, components) and criteria texts are "
        "withheld because the scope has fewer participants than the threshold."
    )
    shares_omitted: bool = Field(
        description="True: some shares are null because their base counts fewer criteria "
        "than the threshold (counts are given instead)."
    )
    reason: str | None = Field(description="Why something was withheld, in words.")
