"""Full SPIRAL codes, ``OBJECT/SENSE/BENEFICIARY`` such as ``A01-11/P15/k``: parsing and validation.

The object is a dimension letter, two digits for the component and an optional object detail;
the sense is a category letter (R, P, O, Q, S) optionally followed by a two-digit reason (``P15``)
or written ``P--``; the beneficiary is a lower-case letter. A truncated code means the more general
meaning: ``A`` alone is the dimension in general, i.e. its ``A00`` component.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from django.utils.translation import gettext as _

from spiral.grid.models import (
    Beneficiary,
    Component,
    Dimension,
    GridVersion,
    ObjectDetail,
    SenseCategory,
    SenseReason,
)

OBJECT_RE = re.compile(r"^(?P<dimension>[A-Za-z])(?:(?P<number>\d{2})(?:-(?P<detail>\d{1,3}))?)?$")
SENSE_RE = re.compile(r"^(?P<category>[A-Za-z])(?:(?P<reason>\d{2})|--)?$")
BENEFICIARY_RE = re.compile(r"^[A-Za-z]{1,3}$")


class CodeError(ValueError):
    """A code that cannot be read or does not exist in the grid; the message is for people."""


@dataclass(frozen=True)
class ParsedCode:
    dimension: str
    component: str | None
    object_detail: str | None
    sense_category: str | None
    sense_reason: str | None
    beneficiary: str | None

    def __str__(self) -> str:
        text = self.object_detail or self.component or self.dimension
        sense = self.sense_reason or (f"{self.sense_category}--" if self.sense_category else "")
        if sense or self.beneficiary:
            text += f"/{sense}"
        if self.beneficiary:
            text += f"/{self.beneficiary}"
        return text


def parse_full_code(raw: str) -> ParsedCode:
    """Read a full code's syntax, without looking at the grid."""
    text = (raw or "").strip()
    if not text:
        raise CodeError(_("Type a code, for example A01 or A01-11/P15/k."))
    parts = text.split("/")
    if len(parts) > 3:
        raise CodeError(
            _("A full code has at most three parts separated by “/”: object, sense, beneficiary.")
        )
    object_part = parts[0].strip()
    sense_part = parts[1].strip() if len(parts) > 1 else ""
    beneficiary_part = parts[2].strip() if len(parts) > 2 else ""

    object_match = OBJECT_RE.match(object_part)
    if not object_match:
        raise CodeError(
            _(
                "“%(part)s” is not an object code: write a dimension letter, two digits for the "
                "component (A01) and, if needed, a hyphen and a detail number (A01-11)."
            )
            % {"part": object_part}
        )
    dimension = object_match["dimension"].upper()
    component = f"{dimension}{object_match['number']}" if object_match["number"] else None
    detail = f"{component}-{object_match['detail']}" if object_match["detail"] else None

    category = reason = None
    if sense_part:
        sense_match = SENSE_RE.match(sense_part)
        if not sense_match:
            raise CodeError(
                _(
                    "“%(part)s” is not a sense code: write a category letter (R, P, O, Q or S), "
                    "optionally followed by two digits (P15)."
                )
                % {"part": sense_part}
            )
        category = sense_match["category"].upper()
        reason = f"{category}{sense_match['reason']}" if sense_match["reason"] else None

    beneficiary = None
    if beneficiary_part:
        if not BENEFICIARY_RE.match(beneficiary_part):
            raise CodeError(
                _("“%(part)s” is not a beneficiary code: write a lower-case letter, such as k.")
                % {"part": beneficiary_part}
            )
        beneficiary = beneficiary_part.lower()
    return ParsedCode(dimension, component, detail, category, reason, beneficiary)


@dataclass(frozen=True)
class ResolvedCode:
    """A full code whose every part exists in a grid version."""

    parsed: ParsedCode
    dimension: Dimension
    component: Component
    object_detail: ObjectDetail | None
    sense_category: SenseCategory | None
    sense_reason: SenseReason | None
    beneficiary: Beneficiary | None

    @property
    def full_code(self) -> str:
        parsed = self.parsed
        # A bare dimension resolves to its "in general" component: store that explicitly.
        if parsed.component is None:
            parsed = ParsedCode(
                parsed.dimension,
                self.component.code,
                None,
                parsed.sense_category,
                parsed.sense_reason,
                parsed.beneficiary,
            )
        return str(parsed)


class GridIndex:
    """All entries of one grid version in memory (a few hundred rows), for fast validation."""

    def __init__(self, version: GridVersion) -> None:
        self.version = version
        self.dimensions = {d.code: d for d in Dimension.objects.filter(version=version)}
        self.components = {
            c.code: c for c in Component.objects.filter(version=version).select_related("dimension")
        }
        self.object_details = {o.code: o for o in ObjectDetail.objects.filter(version=version)}
        self.sense_categories = {s.code: s for s in SenseCategory.objects.filter(version=version)}
        self.sense_reasons = {s.code: s for s in SenseReason.objects.filter(version=version)}
        self.beneficiaries = {b.code: b for b in Beneficiary.objects.filter(version=version)}

    def resolve(self, raw: str) -> ResolvedCode:
        """Parse and check a code against this version; raise CodeError with a clear message."""
        parsed = parse_full_code(raw)
        grid = self.version.code
        dimension = self.dimensions.get(parsed.dimension)
        if dimension is None:
            if parsed.component:
                raise CodeError(
                    _(
                        "Component “%(code)s” does not exist: there is no dimension "
                        "“%(letter)s” in the grid “%(grid)s”."
                    )
                    % {"code": parsed.component, "letter": parsed.dimension, "grid": grid}
                )
            raise CodeError(
                _("Dimension “%(code)s” does not exist in the grid “%(grid)s”.")
                % {"code": parsed.dimension, "grid": grid}
            )
        component_code = parsed.component or f"{parsed.dimension}00"
        component = self.components.get(component_code)
        if component is None:
            raise CodeError(
                _("Component “%(code)s” does not exist in the grid “%(grid)s”.")
                % {"code": component_code, "grid": grid}
            )
        detail = None
        if parsed.object_detail:
            detail = self.object_details.get(parsed.object_detail)
            if detail is None:
                raise CodeError(
                    _("Object detail “%(code)s” does not exist in the grid “%(grid)s”.")
                    % {"code": parsed.object_detail, "grid": grid}
                )
        category = reason = None
        if parsed.sense_category:
            category = self.sense_categories.get(parsed.sense_category)
            if category is None:
                raise CodeError(
                    _("Sense category “%(code)s” does not exist; use R, P, O, Q or S.")
                    % {"code": parsed.sense_category}
                )
        if parsed.sense_reason:
            reason = self.sense_reasons.get(parsed.sense_reason)
            if reason is None:
                raise CodeError(
                    _("Sense code “%(code)s” does not exist in the grid “%(grid)s”.")
                    % {"code": parsed.sense_reason, "grid": grid}
                )
        beneficiary = None
        if parsed.beneficiary:
            beneficiary = self.beneficiaries.get(parsed.beneficiary)
            if beneficiary is None:
                raise CodeError(
                    _("Beneficiary “%(code)s” does not exist in the grid “%(grid)s”.")
                    % {"code": parsed.beneficiary, "grid": grid}
                )
        return ResolvedCode(parsed, dimension, component, detail, category, reason, beneficiary)

    def looks_like_code(self, text: str) -> bool:
        try:
            parse_full_code(text)
        except CodeError:
            return False
        return True
