"""Read the grid: versions, dimensions and components, and check a full code."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.shortcuts import get_object_or_404
from ninja import Path, Query, Router, Schema

from spiral.api.pagination import PageOut, PageQuery, page_of
from spiral.api.schemas import ERRORS, ERRORS_WITH_404
from spiral.grid.codes import CodeError, GridIndex
from spiral.grid.models import Component, Dimension, GridVersion

router = Router(tags=["grid"])

# The URL only matches slugs (anything else is not an API URL at all): say so in the document.
VERSION_CODE = Path(..., pattern=r"^[-a-zA-Z0-9_]+$", max_length=60, description="Version code.")


class GridVersionOut(Schema):
    code: str
    name_fr: str
    name_en: str
    is_default: bool


class GridComponentOut(Schema):
    code: str
    dimension: str
    label_fr: str
    label_en: str
    description_fr: str
    description_en: str
    status: str


class GridDimensionOut(Schema):
    code: str
    label_fr: str
    label_en: str
    status: str


class GridOut(Schema):
    version: GridVersionOut
    dimensions: list[GridDimensionOut]
    components: list[GridComponentOut]


class CodeCheckOut(Schema):
    valid: bool
    full_code: str | None = None
    component: str | None = None
    message: str | None = None


class GridVersionPageOut(PageOut):
    results: list[GridVersionOut]


@router.get("/versions", response={200: GridVersionPageOut, **ERRORS}, summary="Grid versions")
def grid_versions(request: HttpRequest, query: Query[PageQuery]) -> Any:
    return page_of(request, GridVersion.objects.all(), query, lambda version: version)


@router.get(
    "/versions/{slug:code}",
    response={200: GridOut, **ERRORS_WITH_404},
    summary="One grid version: dimensions and components",
)
def grid_version(request: HttpRequest, code: str = VERSION_CODE) -> Any:
    version = get_object_or_404(GridVersion, code=code)
    components = (
        Component.objects.filter(version=version).select_related("dimension").order_by("position")
    )
    return {
        "version": version,
        "dimensions": Dimension.objects.filter(version=version).order_by("position"),
        "components": [
            {
                **{
                    f: getattr(c, f)
                    for f in (
                        "code",
                        "label_fr",
                        "label_en",
                        "description_fr",
                        "description_en",
                        "status",
                    )
                },
                "dimension": c.dimension.code,
            }
            for c in components
        ],
    }


@router.get(
    "/versions/{slug:code}/check",
    response={200: CodeCheckOut, **ERRORS_WITH_404},
    summary="Check a full code against a grid version",
)
def grid_code_check(request: HttpRequest, value: str, code: str = VERSION_CODE) -> Any:
    version = get_object_or_404(GridVersion, code=code)
    try:
        resolved = GridIndex(version).resolve(value)
    except CodeError as error:
        return {"valid": False, "message": str(error)}
    return {"valid": True, "full_code": resolved.full_code, "component": resolved.component.code}
