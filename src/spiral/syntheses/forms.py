from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from spiral.consultations.models import GroupProfile, Meeting, QuestionKind
from spiral.core.languages import criterion_language_choices
from spiral.grid.models import GridVersion
from spiral.syntheses.selectors import SynthesisFilters
from spiral.territories.models import Territory


class SynthesisFilterForm(forms.Form):
    """The filters of a synthesis, read from the query string (an optional prefix for compare)."""

    question = forms.ChoiceField(label=_("Question"), required=False)
    profile = forms.ChoiceField(label=_("Group profile"), required=False)
    language = forms.ChoiceField(label=_("Language"), required=False)
    period_start = forms.CharField(
        label=_("From (month)"), required=False, widget=forms.DateInput(attrs={"type": "month"})
    )
    period_end = forms.CharField(
        label=_("To (month)"), required=False, widget=forms.DateInput(attrs={"type": "month"})
    )
    grid_version = forms.ChoiceField(label=_("Grid version"), required=False)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        everything = [("", _("all"))]
        self.fields["question"].choices = everything + list(QuestionKind.choices)  # type: ignore[attr-defined]
        self.fields["profile"].choices = everything + [  # type: ignore[attr-defined]
            (p.code, p.label) for p in GroupProfile.objects.order_by("position")
        ]
        self.fields["language"].choices = everything + criterion_language_choices()  # type: ignore[attr-defined]
        self.fields["grid_version"].choices = [("", _("the territory's own"))] + [  # type: ignore[attr-defined]
            (v.code, v.code) for v in GridVersion.objects.all()
        ]

    def filters(self) -> SynthesisFilters:
        """The valid filters (an invalid form gives no filter rather than an error page)."""
        if not self.is_valid():
            return SynthesisFilters()
        data = self.cleaned_data
        try:
            return SynthesisFilters(
                question_kind=data["question"],
                profile=data["profile"],
                language=data["language"],
                period_start=data["period_start"],
                period_end=data["period_end"],
                grid_version=data["grid_version"],
            )
        except ValueError:
            self.add_error(None, _("The period must be written as year and month, e.g. 2026-03."))
            return SynthesisFilters()

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        start, end = data.get("period_start"), data.get("period_end")
        if start and end and start > end:
            self.add_error("period_end", _("The end of the period comes before its start."))
        return data


class CompareForm(forms.Form):
    other: forms.ModelChoiceField[Territory] = forms.ModelChoiceField(
        label=_("Compare with"),
        queryset=Territory.objects.none(),
        required=False,
        help_text=_("Empty: the same territory, with the filters chosen for B."),
    )

    def __init__(self, *args: Any, territories: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["other"].queryset = territories  # type: ignore[attr-defined]


class ValidationForm(forms.Form):
    validated_on = forms.DateField(
        label=_("Validated on"),
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )
    validated_at = forms.ModelChoiceField(
        label=_("At the meeting"), queryset=Meeting.objects.none(), required=False
    )
    note = forms.CharField(
        label=_("What the group said (changes asked, things missing)"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
    )

    def __init__(self, *args: Any, meetings: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["validated_at"].queryset = meetings  # type: ignore[attr-defined]
