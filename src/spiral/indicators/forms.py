"""Forms of indicators and evaluations. The scale builder's fields depend on the criteria shown,
so it is parsed by ``scale_from_post`` rather than a static Form."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from spiral.consultations.models import HomogeneousGroup
from spiral.core.text import is_plain_number
from spiral.indicators.models import LEVELS, Category, Evaluation, EvaluationKind, Indicator
from spiral.indicators.services import LevelInput


class IndicatorHeadForm(forms.Form):
    title = forms.CharField(label=_("Title"), max_length=200)
    question = forms.CharField(
        label=_("Question of the self-survey"),
        max_length=400,
        help_text=_("One question summing up the criteria, e.g. “Can you find work here?”"),
    )
    is_shared = forms.BooleanField(
        label=_("Share with the other territories of the network"), required=False
    )


def _ints(values: Sequence[str]) -> list[int]:
    return [int(v) for v in values if is_plain_number(v)]


def scale_from_post(
    data: Any, criterion_ids: Sequence[int]
) -> tuple[dict[int, str], dict[int, LevelInput]]:
    """The categories chosen for the criteria shown, and the 5 levels with the criteria cited."""
    allowed = set(criterion_ids)
    sorted_criteria = {
        pk: data.get(f"category-{pk}")
        for pk in criterion_ids
        if data.get(f"category-{pk}") in Category.values
    }
    levels = {
        n: LevelInput(
            text=data.get(f"level-{n}", ""),
            criterion_ids=[
                pk for pk in _ints(data.getlist(f"level-{n}-criteria")) if pk in allowed
            ],
        )
        for n in LEVELS
    }
    return sorted_criteria, levels


def scale_initial(indicator: Indicator) -> tuple[dict[int, str], dict[int, LevelInput]]:
    sorted_criteria = {row.criterion_id: row.category for row in indicator.sorted.all()}
    levels = {
        level.level: LevelInput(text=level.text, criterion_ids=[c.pk for c in level.criteria.all()])
        for level in indicator.levels.all()
    }
    return sorted_criteria, levels


class EvaluationForm(forms.Form):
    title = forms.CharField(label=_("Title"), max_length=200)
    kind = forms.ChoiceField(label=_("Kind"), choices=EvaluationKind.choices)
    held_on = forms.DateField(
        label=_("Date"),
        # ISO whatever the language: a French-formatted value leaves a date input empty.
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )
    indicators = forms.ModelMultipleChoiceField(
        label=_("Indicators"),
        queryset=Indicator.objects.none(),
        widget=forms.CheckboxSelectMultiple,
    )
    baseline = forms.ModelChoiceField(
        label=_("Compare with"),
        queryset=Evaluation.objects.none(),
        required=False,
        help_text=_("An earlier evaluation, to see where the situation moved."),
    )
    survey_open = forms.BooleanField(label=_("Open the self-survey now"), required=False)
    ask_profile = forms.BooleanField(
        label=_("Ask respondents for their profile (optional for them)"),
        required=False,
        initial=True,
    )

    def __init__(self, *args: Any, territory: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["indicators"].queryset = Indicator.objects.of_territory(territory.pk).current()  # type: ignore[attr-defined]
        self.fields["baseline"].queryset = Evaluation.objects.of_territory(  # type: ignore[attr-defined]
            territory.pk
        )


class RatingForm(forms.Form):
    """Who rates: the coordination group, or one homogeneous group of the territory."""

    rater = forms.ChoiceField(label=_("Rated by"))

    def __init__(self, *args: Any, groups: Sequence[HomogeneousGroup], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.groups = {str(g.pk): g for g in groups}
        self.fields["rater"].choices = [  # type: ignore[attr-defined]
            ("coordination", _("The coordination group")),
            *((f"group-{g.pk}", g.name) for g in groups),
        ]


def levels_from_post(data: Mapping[str, Any], indicator_ids: Sequence[int]) -> dict[int, int]:
    """Levels chosen per indicator in a rating form (unanswered ones are left out)."""
    levels = {}
    for pk in indicator_ids:
        value = str(data.get(f"indicator-{pk}") or "")
        if is_plain_number(value) and int(value) in LEVELS:
            levels[pk] = int(value)
    return levels
