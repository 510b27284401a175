"""Syntheses of a territory (and everything below it) or a group, and the criteria behind them.

The small-numbers rule: a caller without the right to see the territory's private data gets no
breakdown (dimensions, components) and no criteria texts when the scope counts fewer participants
than ``SPIRAL_SMALL_NUMBERS_THRESHOLD`` — only totals, with ``small_numbers.hidden`` saying so —
and no share (null) whose base counts fewer criteria than the threshold."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http import Http404, HttpRequest
from django.utils.translation import gettext as _
from ninja import Field, Query, Router, Schema
from pydantic import field_validator

from spiral.api.auth import ApiCaller, caller_of
from spiral.api.pagination import PageOut, PageQuery, page_envelope, page_of
from spiral.api.schemas import (
    ERRORS_WITH_404,
    FiltersOut,
    SmallNumbersOut,
    SynthesisQuery,
    filters_out,
    invalid,
    printable,
)
from spiral.consultations.models import Criterion, HomogeneousGroup
from spiral.consultations.selectors import current_codings_prefetch
from spiral.grid.models import Component, Dimension, GridVersion
from spiral.syntheses.selectors import (
    Figure,
    ItemLine,
    Synthesis,
    SynthesisFilters,
    criteria_behind,
    group_synthesis,
    scope_criteria,
    scope_participants,
    territory_synthesis,
)
from spiral.territories.models import Territory
from spiral.territories.selectors import territory_counts

router = Router(tags=["syntheses"])


# --- Schemas -------------------------------------------------------------------------------


class FigureOut(Schema):
    criteria: int
    expressions: int


class ShareFigureOut(FigureOut):
    share: float | None = Field(
        description="Share of the scope's criteria of the same question (of all criteria for a "
        "total), from 0 to 1; null when the base is empty or too small to be shown."
    )


class QuestionTotalsOut(Schema):
    kind: str
    label: str
    criteria: int
    expressions: int
    coded_criteria: int
    coded_expressions: int


class ComponentOut(Schema):
    id: int
    code: str
    label: str
    provisional: bool = Field(description="Entry inferred or written by the project.")
    total: ShareFigureOut
    by_question: dict[str, ShareFigureOut] = Field(description="Keyed by question kind.")


class DimensionOut(ComponentOut):
    components: list[ComponentOut]


class ScopeOut(Schema):
    type: str = Field(description='"territory" or "group".')
    id: int
    name: str
    territory_id: int


class GridVersionRefOut(Schema):
    code: str
    name: str


class SynthesisOut(Schema):
    scope: ScopeOut
    filters: FiltersOut
    grid_version: GridVersionRefOut
    source: str = Field(description='"stored" (precomputed figures) or "rows" (raw rows).')
    participants: int = Field(description="People in the scope's active groups.")
    small_numbers: SmallNumbersOut
    total: FigureOut = Field(description="Every criterion, coded or not.")
    coded: FigureOut = Field(description="Criteria coded in this grid version.")
    uncoded_criteria: int
    questions: list[QuestionTotalsOut]
    dimensions: list[DimensionOut] = Field(
        description="Empty when small_numbers.hidden. A criterion coded in several components "
        "counts once in each, and once per dimension."
    )


class CriteriaQuery(SynthesisQuery, PageQuery):
    component: str | None = Field(
        None, max_length=20, description="Only the criteria coded in this component (e.g. A06)."
    )
    dimension: str | None = Field(
        None, max_length=20, description="Only the criteria coded in this dimension (e.g. A)."
    )
    q: str | None = Field(
        None, max_length=200, description="Words that must all appear in the text."
    )

    @field_validator("component", "dimension", "q")
    @classmethod
    def _printable_text(cls, value: str | None) -> str | None:
        return printable(value)


class CriterionOut(Schema):
    id: int
    text: str
    language: str
    expressions: int
    question: str = Field(description="Question kind.")
    group_name: str
    group_profile: str = Field(description="Code of the group's profile.")
    territory_id: int
    meeting_date: str
    codes: list[str] = Field(description="Current full codes, e.g. A01-11/P15/k.")


class CriteriaPageOut(PageOut):
    count: int = Field(description="Criteria matching the filters; 0 when small_numbers.hidden.")
    small_numbers: SmallNumbersOut
    results: list[CriterionOut]


# --- Helpers -------------------------------------------------------------------------------


class _Rule:
    """The small-numbers rule applied to one caller and one scope."""

    def __init__(self, *, participants: int, private: bool) -> None:
        self.threshold = settings.SPIRAL_SMALL_NUMBERS_THRESHOLD
        self.private = private
        self.hidden = not private and participants < self.threshold
        self.shares_omitted = False

    def share(self, synthesis: Synthesis, figure: Figure, kind: str = "") -> float | None:
        base = synthesis.totals.get(kind, Figure()) if kind else synthesis.total
        if not self.private and 0 < base.criteria < self.threshold:
            self.shares_omitted = True
            return None
        return synthesis.share(figure, kind)

    def out(self) -> dict[str, Any]:
        reason = None
        if self.hidden:
            reason = _("Fewer than %(threshold)s participants: only totals are shown publicly.") % {
                "threshold": self.threshold
            }
        elif self.shares_omitted:
            reason = _("Bases of fewer than %(threshold)s criteria: counts without shares.") % {
                "threshold": self.threshold
            }
        return {
            "threshold": self.threshold,
            "hidden": self.hidden,
            "shares_omitted": self.shares_omitted,
            "reason": reason,
        }


def _item_out(synthesis: Synthesis, line: ItemLine, rule: _Rule) -> dict[str, Any]:
    def figure_out(figure: Figure, kind: str = "") -> dict[str, Any]:
        return {
            "criteria": figure.criteria,
            "expressions": figure.expressions,
            "share": rule.share(synthesis, figure, kind),
        }

    return {
        "id": line.item_id,
        "code": line.code,
        "label": line.label,
        "provisional": line.flagged,
        "total": figure_out(line.total),
        "by_question": {kind: figure_out(line.figure(kind), kind) for kind, _l in synthesis.kinds},
    }


def _synthesis_out(synthesis: Synthesis, scope: dict[str, Any], rule: _Rule) -> dict[str, Any]:
    dimensions = []
    if not rule.hidden:
        for dimension in synthesis.dimensions:
            out = _item_out(synthesis, dimension, rule)
            out["components"] = [_item_out(synthesis, c, rule) for c in dimension.components]
            dimensions.append(out)
    questions = []
    for kind, label in synthesis.kinds:
        total, coded = synthesis.totals.get(kind, Figure()), synthesis.coded.get(kind, Figure())
        questions.append(
            {
                "kind": kind,
                "label": label,
                "criteria": total.criteria,
                "expressions": total.expressions,
                "coded_criteria": coded.criteria,
                "coded_expressions": coded.expressions,
            }
        )
    total, coded = synthesis.total, synthesis.coded_total
    return {
        "scope": scope,
        "filters": filters_out(synthesis.filters),
        "grid_version": {"code": synthesis.version.code, "name": synthesis.version.name},
        "source": synthesis.source,
        "participants": synthesis.participants,
        "small_numbers": rule.out(),
        "total": {"criteria": total.criteria, "expressions": total.expressions},
        "coded": {"criteria": coded.criteria, "expressions": coded.expressions},
        "uncoded_criteria": synthesis.uncoded_criteria,
        "questions": questions,
        "dimensions": dimensions,
    }


def _visible_territory(caller: ApiCaller, territory_id: int) -> Territory:
    territory = Territory.objects.filter(pk=territory_id).first()
    if territory is None or not caller.can_view_territory(territory):
        raise Http404("no such territory")
    return territory


def _unknown_grid_version(filters: SynthesisFilters) -> Exception:
    return invalid("grid_version", f"unknown grid version {filters.grid_version!r}")


def _grid_item(
    query: CriteriaQuery, filters: SynthesisFilters, territory: Territory
) -> tuple[Component | None, Dimension | None]:
    if not query.component and not query.dimension and not filters.grid_version:
        return None, None
    if filters.grid_version:
        version = GridVersion.objects.filter(code=filters.grid_version).first()
    else:
        version = GridVersion.objects.filter(pk=territory.effective_grid_version_id() or 0).first()
    if version is None:
        raise _unknown_grid_version(filters)
    component = dimension = None
    if query.component:
        component = Component.objects.filter(version=version, code=query.component.upper()).first()
        if component is None:
            raise invalid("component", f"no component {query.component!r} in {version.code}")
    if query.dimension:
        dimension = Dimension.objects.filter(version=version, code=query.dimension.upper()).first()
        if dimension is None:
            raise invalid("dimension", f"no dimension {query.dimension!r} in {version.code}")
    return component, dimension


def _criterion_out(criterion: Criterion) -> dict[str, Any]:
    return {
        "id": criterion.pk,
        "text": criterion.text,
        "language": criterion.language,
        "expressions": criterion.expressions,
        "question": criterion.question.kind,
        "group_name": criterion.group.name,
        "group_profile": criterion.group.profile.code,
        "territory_id": criterion.territory_id,
        "meeting_date": criterion.meeting.held_on.isoformat(),
        "codes": [coding.full_code for coding in criterion.current_codings],  # type: ignore[attr-defined]
    }


# --- Endpoints -----------------------------------------------------------------------------


@router.get(
    "/territories/{territory_id}/synthesis",
    response={200: SynthesisOut, **ERRORS_WITH_404},
    summary="Synthesis of a territory and everything below it",
)
def territory_synthesis_read(
    request: HttpRequest, territory_id: int, query: Query[SynthesisQuery]
) -> Any:
    """Criteria and expressions by dimension and component of the grid, split by question."""
    caller = caller_of(request)
    territory = _visible_territory(caller, territory_id)
    filters = query.to_filters()
    try:
        synthesis = territory_synthesis(territory=territory, filters=filters)
    except GridVersion.DoesNotExist:
        if filters.grid_version:
            raise _unknown_grid_version(filters) from None
        raise
    rule = _Rule(
        participants=synthesis.participants, private=caller.can_view_private_data(territory)
    )
    scope = {"type": "territory", "id": territory.pk, "name": territory.name}
    return _synthesis_out(synthesis, {**scope, "territory_id": territory.pk}, rule)


@router.get(
    "/groups/{group_id}/synthesis",
    response={200: SynthesisOut, **ERRORS_WITH_404},
    summary="Synthesis of one homogeneous group",
)
def group_synthesis_read(request: HttpRequest, group_id: int, query: Query[SynthesisQuery]) -> Any:
    """A group's synthesis: private data, for people with a role on its territory and for the
    group's facilitators (404 for anyone else)."""
    caller = caller_of(request)
    group = HomogeneousGroup.objects.select_related("territory").filter(pk=group_id).first()
    if group is None or not caller.can_view_group(group):
        raise Http404("no such group")
    filters = query.to_filters()
    try:
        synthesis = group_synthesis(group=group, filters=filters)
    except GridVersion.DoesNotExist:
        if filters.grid_version:
            raise _unknown_grid_version(filters) from None
        raise
    rule = _Rule(participants=synthesis.participants, private=True)
    scope = {"type": "group", "id": group.pk, "name": group.name}
    return _synthesis_out(synthesis, {**scope, "territory_id": group.territory_id}, rule)


@router.get(
    "/territories/{territory_id}/criteria",
    response={200: CriteriaPageOut, **ERRORS_WITH_404},
    summary="Criteria of a territory and everything below it",
)
def territory_criteria(request: HttpRequest, territory_id: int, query: Query[CriteriaQuery]) -> Any:
    """The criteria behind a synthesis, page by page, in the order they were saved."""
    caller = caller_of(request)
    territory = _visible_territory(caller, territory_id)
    filters = query.to_filters()
    component, dimension = _grid_item(query, filters, territory)
    private = caller.can_view_private_data(territory)
    rule = _Rule(
        participants=scope_participants(territory=territory, profile=filters.profile),
        private=private,
    )
    if rule.hidden:
        return {
            **page_envelope(request, query, count=0),
            "small_numbers": rule.out(),
            "results": [],
        }

    criteria = scope_criteria(territory=territory, filters=filters)
    if not private:
        # Criteria written in a private territory below stay private.
        criteria = criteria.filter(territory__in=caller.visible_territories())
    if component or dimension:
        criteria = criteria_behind(criteria=criteria, component=component, dimension=dimension)
    words = (query.q or "").split()
    for word in words:
        criteria = criteria.filter(text__icontains=word)
    count = None
    if filters == SynthesisFilters(grid_version=filters.grid_version) and not (
        component or dimension or words
    ):
        count = _stored_count(territory, private=private)
    rows = (
        criteria.select_related("group__profile", "question", "meeting")
        .prefetch_related(current_codings_prefetch())
        .order_by("pk")
    )
    page = page_of(request, rows, query, _criterion_out, count=count)
    return {**page, "small_numbers": rule.out()}


def _stored_count(territory: Territory, *, private: bool) -> int | None:
    """The stored count of every criterion of the subtree (not a count of millions of rows),
    when the caller may see them all; None otherwise."""
    if not private and Territory.objects.subtree_of(territory).filter(is_public=False).exists():
        return None
    return territory_counts(territory=territory).criteria
