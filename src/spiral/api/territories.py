"""Read the territory tree: what the caller may see, each territory with its subtree's figures.

A private territory the caller may not see answers 404, as if it did not exist."""

from __future__ import annotations

from typing import Any

from django.http import Http404, HttpRequest
from ninja import Field, Query, Router, Schema

from spiral.api.auth import caller_of
from spiral.api.pagination import PageOut, PageQuery, page_of
from spiral.api.schemas import ERRORS, ERRORS_WITH_404
from spiral.territories.models import Territory, TerritoryKind
from spiral.territories.selectors import TerritoryCounts, subtree_counts

router = Router(tags=["territories"])

MAX_ID = 2**63 - 1  # larger numbers overflow the databases' integers


class TerritoryFiguresOut(Schema):
    """Figures of the territory and everything below it (stored, exact)."""

    groups: int
    meetings: int
    criteria: int
    expressions: int
    coded_criteria: int


class TerritoryOut(Schema):
    id: int
    parent_id: int | None
    name: str
    slug: str
    kind: str
    actor_type: str
    country_code: str
    language: str
    is_public: bool
    cycle: int
    phase: int
    depth: int = Field(description="0 for a root of the tree (the network).")
    figures: TerritoryFiguresOut


class TerritoryPageOut(PageOut):
    results: list[TerritoryOut]


class TerritoryListQuery(PageQuery):
    parent: int | None = Field(
        None, ge=1, le=MAX_ID, description="Only the territories just below this one."
    )
    kind: TerritoryKind | None = Field(None, description="Only the territories of this kind.")


def _territory_out(territory: Territory, counts: TerritoryCounts) -> dict[str, Any]:
    return {
        "id": territory.pk,
        "parent_id": territory.parent_id,
        "name": territory.name,
        "slug": territory.slug,
        "kind": territory.kind,
        "actor_type": territory.actor_type,
        "country_code": territory.country_code,
        "language": territory.language,
        "is_public": territory.is_public,
        "cycle": territory.cycle,
        "phase": territory.phase,
        "depth": territory.tree_depth,
        "figures": {
            "groups": counts.groups,
            "meetings": counts.meetings,
            "criteria": counts.criteria,
            "expressions": counts.expressions,
            "coded_criteria": counts.coded_criteria,
        },
    }


def _territories_out(territories: list[Territory]) -> list[dict[str, Any]]:
    counts = subtree_counts(territory_ids=[t.pk for t in territories])
    return [_territory_out(t, counts[t.pk]) for t in territories]


@router.get("", response={200: TerritoryPageOut, **ERRORS}, summary="The territory tree")
def territory_list(request: HttpRequest, query: Query[TerritoryListQuery]) -> Any:
    """The territories the caller may see (public ones, and those below a role of the token's
    user), in tree order, each with the figures of its subtree."""
    visible = caller_of(request).visible_territories()
    territories = Territory.objects.with_tree_fields().filter(pk__in=visible.values("pk"))
    if query.parent is not None:
        territories = territories.filter(parent_id=query.parent)
    if query.kind:
        territories = territories.filter(kind=query.kind)
    return page_of(request, territories, query, out_all=_territories_out)


@router.get("/{territory_id}", response={200: TerritoryOut, **ERRORS_WITH_404})
def territory_detail(request: HttpRequest, territory_id: int) -> Any:
    """One territory with the figures of its subtree (404 if the caller may not see it)."""
    territory = Territory.objects.with_tree_fields().filter(pk=territory_id).first()
    if territory is None or not caller_of(request).can_view_territory(territory):
        raise Http404("no such territory")
    counts = subtree_counts(territory_ids=[territory.pk])
    return _territory_out(territory, counts[territory.pk])
