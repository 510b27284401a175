"""Suggestions for criteria: computed in batches, stored per criterion and model, accepted by a
person. A suggestion is never a coding: only ``suggestion_accept`` turns one into a coding."""

from __future__ import annotations

import hashlib
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from django.conf import settings
from django.db import transaction
from django.db.models import QuerySet
from django.utils.translation import gettext as _

from spiral.accounts.models import User
from spiral.coding.models import CodingSource, Suggestion, SuggestionModel
from spiral.coding.selectors import GridsByTerritory, territory_version_ids
from spiral.coding.services import CodingChange, criterion_codes_add
from spiral.coding.suggest.training import current_model, loaded_suggester, network_model
from spiral.consultations.models import Criterion, HomogeneousGroup, Meeting
from spiral.grid.codes import CodeError
from spiral.grid.models import Component, GridVersion
from spiral.territories.models import Territory

TOP = 3


def input_key(*, text: str, language: str, question: str) -> str:
    """What a suggestion was computed from: a corrected text gets new suggestions."""
    digest = hashlib.blake2b(digest_size=16)
    digest.update("\x1f".join([text.strip(), language, question]).encode("utf-8"))
    return digest.hexdigest()


def criterion_input_key(criterion: Criterion) -> str:
    return input_key(
        text=criterion.text, language=criterion.language, question=criterion.question.kind
    )


class ModelsByTerritory:
    """The suggestion model each territory uses (its own, an ancestor's or the network's, for
    its grid version), each looked up once."""

    def __init__(self, *, bootstrap: bool = False) -> None:
        self.bootstrap = bootstrap
        self._versions: dict[int, int | None] = {}
        self._models: dict[int, SuggestionModel | None] = {}

    def preload(self, territory_ids: Iterable[int]) -> None:
        missing = {pk for pk in territory_ids if pk not in self._versions}
        if missing:
            self._versions.update(territory_version_ids(territory_ids=missing))

    def for_territory(self, territory_id: int) -> SuggestionModel | None:
        if territory_id not in self._models:
            if territory_id not in self._versions:
                self._versions.update(territory_version_ids(territory_ids=[territory_id]))
            version_id = self._versions.get(territory_id)
            model = None
            if version_id is not None:
                model = current_model(version_id=version_id, territory_id=territory_id)
                if model is None and self.bootstrap:
                    network_model(version=GridVersion.objects.get(pk=version_id))
                    model = current_model(version_id=version_id, territory_id=territory_id)
            self._models[territory_id] = model
        return self._models[territory_id]


@dataclass(frozen=True)
class FillOutcome:
    suggestions: dict[int, list[Suggestion]]
    computed: int


def _compute(model: SuggestionModel, criteria: Sequence[Criterion]) -> list[Suggestion]:
    from spiral.coding.suggest.engine import Query

    suggester = loaded_suggester(model)
    components = {c.code: c for c in Component.objects.filter(version_id=model.grid_version_id)}
    ranked = suggester.predict(
        [Query(c.text, c.language, c.question.kind) for c in criteria], k=TOP
    )
    rows = []
    for criterion, suggestions in zip(criteria, ranked, strict=True):
        key = criterion_input_key(criterion)
        kept = [s for s in suggestions if s.component in components]
        for rank, suggestion in enumerate(kept, start=1):
            rows.append(
                Suggestion(
                    criterion_id=criterion.pk,
                    model=model,
                    rank=rank,
                    component=components[suggestion.component],
                    confidence=round(suggestion.confidence, 4),
                    input_key=key,
                )
            )
    return rows


@transaction.atomic
def suggestions_fill(
    *,
    criteria: Sequence[Criterion],
    models: ModelsByTerritory | None = None,
    compute: bool = True,
) -> FillOutcome:
    """The stored suggestions of each criterion (by the model its territory uses), computing
    and storing the missing or outdated ones in one batch per model."""
    models = models or ModelsByTerritory()
    models.preload(c.territory_id for c in criteria)
    by_model: dict[int, list[Criterion]] = defaultdict(list)
    model_of: dict[int, SuggestionModel] = {}
    for criterion in criteria:
        model = models.for_territory(criterion.territory_id)
        if model is not None:
            by_model[model.pk].append(criterion)
            model_of[model.pk] = model
    found: dict[int, list[Suggestion]] = defaultdict(list)
    computed = 0
    for model_id, group in by_model.items():
        stored = (
            Suggestion.objects.filter(model_id=model_id, criterion__in=[c.pk for c in group])
            .select_related("component")
            .order_by("criterion_id", "rank")
        )
        existing: dict[int, list[Suggestion]] = defaultdict(list)
        for suggestion in stored:
            existing[suggestion.criterion_id].append(suggestion)
        missing = []
        for criterion in group:
            rows = existing.get(criterion.pk, [])
            if rows and rows[0].input_key == criterion_input_key(criterion):
                found[criterion.pk] = rows
            else:
                missing.append(criterion)
        if missing and compute:
            Suggestion.objects.filter(
                model_id=model_id, criterion__in=[c.pk for c in missing]
            ).delete()
            new_rows = Suggestion.objects.bulk_create(
                _compute(model_of[model_id], missing), batch_size=500, ignore_conflicts=True
            )
            computed += len(missing)
            for row in new_rows:
                found[row.criterion_id].append(row)
    return FillOutcome(suggestions=dict(found), computed=computed)


@dataclass(frozen=True)
class PrecodeOutcome:
    criteria: int  # criteria of the scope
    computed: int  # whose suggestions were computed now (the others were stored already)
    without_model: int  # in a territory with no grid version to suggest from


def suggestions_precode(*, criteria: QuerySet[Criterion], chunk: int = 1000) -> PrecodeOutcome:
    """Batch pre-coding: store the suggestions of every criterion given (a page, a meeting, a
    scope). Writes suggestions only, never codings; a person accepts them one by one. When no
    model exists yet for the grid version, one is trained first from the seed corpus."""
    models = ModelsByTerritory(bootstrap=True)
    total = computed = without_model = 0
    ids = list(criteria.order_by("pk").values_list("pk", flat=True))
    for start in range(0, len(ids), chunk):
        rows = list(
            Criterion.objects.filter(pk__in=ids[start : start + chunk])
            .select_related("question")
            .order_by("pk")
        )
        outcome = suggestions_fill(criteria=rows, models=models)
        total += len(rows)
        computed += outcome.computed
        without_model += sum(1 for c in rows if models.for_territory(c.territory_id) is None)
    return PrecodeOutcome(criteria=total, computed=computed, without_model=without_model)


def scope_criteria(*, kind: str, pk: int) -> QuerySet[Criterion]:
    """The criteria of a coding scope named by kind and id (for the background task)."""
    if kind == "meeting":
        return Criterion.objects.filter(meeting_id=pk)
    if kind == "group":
        return Criterion.objects.filter(group_id=pk)
    if kind == "territory":
        return Criterion.objects.in_subtree(pk)
    raise ValueError(f"unknown scope kind {kind!r}")


def scope_territory(*, kind: str, pk: int) -> Territory:
    """The territory whose coding permission applies to a scope."""
    if kind == "meeting":
        return Meeting.objects.select_related("group__territory").get(pk=pk).group.territory
    if kind == "group":
        return HomogeneousGroup.objects.select_related("territory").get(pk=pk).territory
    return Territory.objects.get(pk=pk)


class SuggestionNotOffered(CodeError):
    """Accepting a component that was not suggested for the criterion."""


@transaction.atomic
def suggestion_accept(
    *,
    criterion: Criterion,
    component: str,
    user: User | None,
    grids: GridsByTerritory | None = None,
) -> CodingChange:
    """Give the criterion a component that was suggested for it: a coding with source
    "suggestion", written by the ordinary coding service (history, figures)."""
    offered = Suggestion.objects.filter(criterion=criterion, component__code=component).exists()
    if not offered:
        raise SuggestionNotOffered(
            _("%(code)s was not suggested for this criterion.") % {"code": component}
        )
    return criterion_codes_add(
        criterion=criterion,
        codes=[component],
        user=user,
        source=CodingSource.SUGGESTION,
        grids=grids,
    )


@dataclass(frozen=True)
class ShownSuggestion:
    """A suggestion as the coding screen shows it."""

    code: str
    label: str
    confidence: float
    confident: bool

    @property
    def percent(self) -> int:
        return round(self.confidence * 100)


def shown_suggestions(
    suggestions: dict[int, list[Suggestion]], *, codings: dict[int, list[str]] | None = None
) -> dict[int, list[ShownSuggestion]]:
    """What the screen shows: suggestions above the minimum confidence, greyed below the
    "confident" threshold, without the components a criterion already has."""
    minimum = settings.SPIRAL_SUGGESTION_MIN_CONFIDENCE
    confident = settings.SPIRAL_SUGGESTION_CONFIDENT
    codings = codings or {}
    shown: dict[int, list[ShownSuggestion]] = {}
    for criterion_id, rows in suggestions.items():
        has = set(codings.get(criterion_id, []))
        shown[criterion_id] = [
            ShownSuggestion(
                code=row.component.code,
                label=row.component.label,
                confidence=row.confidence,
                confident=row.confidence >= confident,
            )
            for row in sorted(rows, key=lambda r: r.rank)
            if row.confidence >= minimum and row.component.code not in has
        ]
    return shown


def page_suggestions(rows: list[Criterion]) -> dict[int, list[ShownSuggestion]]:
    """Suggestions for the uncoded rows of a coding page, computed in one batch when the
    territory has a model (stored, so the next view of the page only reads them)."""
    uncoded = [row for row in rows if not getattr(row, "current_codings", None)]
    if not uncoded:
        return {}
    stored = suggestions_fill(criteria=uncoded, models=ModelsByTerritory()).suggestions
    return dict(shown_suggestions(stored))
