"""What goes into each report, read through the syntheses' own selectors (same figures, same
small-numbers rule as the pages)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.apps import apps
from django.conf import settings
from django.template import TemplateDoesNotExist
from django.template.loader import get_template

from spiral.consultations.models import Criterion, HomogeneousGroup, Meeting
from spiral.consultations.selectors import current_codings_prefetch
from spiral.core.permissions import can_view_private_data
from spiral.syntheses.charts import comparison_bars, dimension_bars, dimension_radar
from spiral.syntheses.selectors import (
    Synthesis,
    SynthesisFilters,
    group_synthesis,
    meeting_synthesis,
    territory_synthesis,
)
from spiral.territories.models import Territory

# Apps of later issues that may add a section to a territory's report, by providing the
# template "<label>/_report_section.html" (it receives the report's context). Nothing is
# imported from them: the section appears only when the app is installed.
TERRITORY_SECTION_APPS = ("indicators", "actions", "carbon")


def report_language(requested: str | None, default: str | None) -> str:
    """The report's language: the one asked for (?lang=), else the participants' or the
    territory's, else the site's default; always one the interface is translated into."""
    codes = [code for code, _name in settings.LANGUAGES]
    for candidate in (requested, default, settings.LANGUAGE_CODE):
        if candidate and candidate in codes:
            return candidate
    return codes[0]


def synthesis_hidden(*, user: Any, territory: Territory, synthesis: Synthesis) -> bool:
    """The small-numbers rule of the synthesis pages: no public breakdown that isolates fewer
    participants than the threshold."""
    return synthesis.below_small_numbers_threshold and not can_view_private_data(user, territory)


def shares_shown(synthesis: Synthesis) -> bool:
    """On a tiny base a percentage misleads: counts only (as on the pages)."""
    return synthesis.total.criteria >= settings.SPIRAL_MIN_BASE_FOR_SHARES


@dataclass
class CodedCriterion:
    criterion: Criterion
    codes: list[Any] = field(default_factory=list)  # current codings, with their component


@dataclass
class QuestionCriteria:
    label: str
    text: str
    criteria: list[CodedCriterion]


def group_report(*, group: HomogeneousGroup, meeting: Meeting | None = None) -> dict[str, Any]:
    """A group's report: its synthesis, and each of its criteria with how it was coded."""
    synthesis = meeting_synthesis(meeting=meeting) if meeting else group_synthesis(group=group)
    criteria = Criterion.objects.filter(group=group)
    if meeting is not None:
        criteria = criteria.filter(meeting=meeting)
    by_question: dict[int, QuestionCriteria] = {}
    by_component: dict[int, list[Criterion]] = {}
    for criterion in (
        criteria.select_related("question")
        .prefetch_related(current_codings_prefetch())
        .order_by("question__position", "question_id", "-expressions", "position", "pk")
    ):
        codings = list(criterion.current_codings)  # type: ignore[attr-defined]  # prefetch
        question = criterion.question
        entry = by_question.setdefault(
            question.pk,
            QuestionCriteria(label=question.short_label, text=question.text, criteria=[]),
        )
        entry.criteria.append(CodedCriterion(criterion=criterion, codes=codings))
        for coding in codings:
            by_component.setdefault(coding.component_id, []).append(criterion)
    return {
        "group": group,
        "meeting": meeting,
        "synthesis": synthesis,
        "questions": list(by_question.values()),
        "criteria_by_component": by_component,
        "bars": dimension_bars(synthesis) if synthesis.total.criteria else None,
        "uncoded": sum(1 for q in by_question.values() for c in q.criteria if not c.codes),
    }


def territory_sections(context: dict[str, Any]) -> list[str]:
    """Templates of the extra sections (indicators, actions) that installed apps provide."""
    names = []
    for label in TERRITORY_SECTION_APPS:
        if not apps.is_installed(f"spiral.{label}"):
            continue
        name = f"{label}/_report_section.html"
        try:
            get_template(name)
        except TemplateDoesNotExist:
            continue
        names.append(name)
    return names


def territory_report(
    *, territory: Territory, filters: SynthesisFilters, user: Any
) -> dict[str, Any]:
    """A territory's report: its synthesis with charts and counts, as its page shows them."""
    synthesis = territory_synthesis(territory=territory, filters=filters)
    hidden = synthesis_hidden(user=user, territory=territory, synthesis=synthesis)
    drawn = not hidden and synthesis.total.criteria
    context: dict[str, Any] = {
        "territory": territory,
        "synthesis": synthesis,
        "hidden": hidden,
        "shares": shares_shown(synthesis),
        "bars": dimension_bars(synthesis) if drawn else None,
        "radar": dimension_radar(synthesis) if drawn else None,
    }
    context["sections"] = territory_sections(context)
    return context


@dataclass(frozen=True)
class ComparisonRow:
    a: Any
    b: Any
    share_a: float
    share_b: float

    @property
    def gap(self) -> float:
        return 100 * (self.share_b - self.share_a)


def comparison_report(
    *,
    territory: Territory,
    other: Territory,
    filters_a: SynthesisFilters,
    filters_b: SynthesisFilters,
    label: Callable[[Synthesis, str], str],
    user: Any,
) -> dict[str, Any]:
    """Two syntheses side by side, under the rule of the compare page."""
    if not filters_b.grid_version and other != territory:
        # Compare on one grid: B is read with A's version unless asked otherwise.
        filters_b = SynthesisFilters(
            **{**filters_b.__dict__, "grid_version": filters_a.grid_version}
        )
    a = territory_synthesis(territory=territory, filters=filters_a)
    b = territory_synthesis(territory=other, filters=filters_b)
    hidden = synthesis_hidden(user=user, territory=territory, synthesis=a) or synthesis_hidden(
        user=user, territory=other, synthesis=b
    )
    same_version = a.version == b.version
    label_a, label_b = label(a, "A"), label(b, "B")
    rows: list[ComparisonRow] = []
    if not hidden and same_version:
        base_a, base_b = a.total.criteria or 1, b.total.criteria or 1
        rows = [
            ComparisonRow(
                a=dim_a,
                b=dim_b,
                share_a=dim_a.total.criteria / base_a,
                share_b=dim_b.total.criteria / base_b,
            )
            for dim_a, dim_b in zip(a.dimensions, b.dimensions, strict=False)
        ]
    return {
        "territory": territory,
        "other": other,
        "a": a,
        "b": b,
        "label_a": label_a,
        "label_b": label_b,
        "hidden": hidden,
        "same_version": same_version,
        "rows": rows,
        "chart": comparison_bars(a, b, label_a, label_b) if rows else None,
    }
