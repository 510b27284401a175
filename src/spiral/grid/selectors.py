"""Reading the grid for the browser (determination key)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.core.cache import cache
from django.db.models import Prefetch

from spiral.grid.models import (
    Beneficiary,
    Component,
    Dimension,
    GridVersion,
    ObjectDetail,
    SenseCategory,
    SenseReason,
)


@dataclass(frozen=True)
class GridView:
    version: GridVersion
    dimensions: list[Any]  # Dimension rows annotated with shown_components
    sense_categories: list[SenseCategory]
    beneficiaries: list[Beneficiary]
    query: str
    match_count: int
    flagged_count: int


def grid_for_browser(*, version: GridVersion, query: str = "") -> GridView:
    """Dimensions with their components (and details), filtered by code or words if asked."""
    components = Component.objects.filter(version=version).order_by("position")
    if query:
        components = components.search(query)
    details = ObjectDetail.objects.filter(version=version).order_by("position")
    dimensions = list(
        Dimension.objects.filter(version=version)
        .order_by("position")
        .prefetch_related(
            Prefetch(
                "components",
                queryset=components.prefetch_related(Prefetch("object_details", queryset=details)),
                to_attr="shown_components",
            )
        )
    )
    if query:
        dimensions = [d for d in dimensions if d.shown_components]
    match_count = sum(len(d.shown_components) for d in dimensions)
    flagged = sum(1 for d in dimensions for c in d.shown_components if c.is_flagged)
    categories = list(
        SenseCategory.objects.filter(version=version)
        .order_by("position")
        .prefetch_related(Prefetch("reasons", queryset=SenseReason.objects.order_by("position")))
    )
    return GridView(
        version=version,
        dimensions=dimensions,
        sense_categories=categories,
        beneficiaries=list(Beneficiary.objects.filter(version=version).order_by("position")),
        query=query,
        match_count=match_count,
        flagged_count=flagged,
    )


@dataclass(frozen=True)
class GridStructure:
    """A version's dimensions, each with its components, in order (for syntheses)."""

    dimensions: list[tuple[Dimension, list[Component]]]


def grid_structure(*, version: GridVersion) -> GridStructure:
    """The version's dimensions and components, cached per process.

    The cache key carries the version's ``updated_at``, which every change to one of its entries
    moves (see spiral.grid.apps), so an edited label is seen by every process at once."""
    key = f"spiral:grid-structure:{version.pk}:{version.updated_at.timestamp()}"
    structure = cache.get(key)
    if structure is None:
        components: dict[int, list[Component]] = {}
        for component in Component.objects.filter(version=version).order_by("position"):
            components.setdefault(component.dimension_id, []).append(component)
        structure = GridStructure(
            dimensions=[
                (dimension, components.get(dimension.pk, []))
                for dimension in Dimension.objects.filter(version=version).order_by("position")
            ]
        )
        cache.set(key, structure, timeout=3600)
    return structure
