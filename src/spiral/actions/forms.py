"""Forms of axes, actions, decisions, follow-up, reviews and cycle closing."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from spiral.actions.models import Action, ActionStatus, StrategicAxis
from spiral.indicators.models import Indicator
from spiral.territories.models import Sector

# A date input sends and reads ISO dates whatever the interface language (French formats
# would leave the field empty and block the form).
DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


class AxisForm(forms.ModelForm):
    class Meta:
        model = StrategicAxis
        fields = ["title", "description", "comparison_criteria"]
        widgets = {"description": forms.Textarea(attrs={"rows": 2})}


class ActionForm(forms.ModelForm):
    indicators = forms.ModelMultipleChoiceField(
        label=_("Indicators it answers"),
        queryset=Indicator.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )

    class Meta:
        model = Action
        fields = [
            "title",
            "axis",
            "objectives",
            "description",
            "status",
            "is_pilot",
            "starts_on",
            "ends_on",
        ]
        widgets = {
            "objectives": forms.Textarea(attrs={"rows": 3}),
            "description": forms.Textarea(attrs={"rows": 3}),
            "starts_on": DATE,
            "ends_on": DATE,
        }

    def __init__(self, *args: Any, territory: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["indicators"].queryset = Indicator.objects.of_territory(  # type: ignore[attr-defined]
            territory.pk
        ).current()
        self.fields["axis"].queryset = StrategicAxis.objects.filter(  # type: ignore[attr-defined]
            territory=territory
        )


class DecisionForm(forms.Form):
    decided_on = forms.DateField(label=_("Decided on"), widget=DATE)
    note = forms.CharField(
        label=_("Decision"), widget=forms.Textarea(attrs={"rows": 2}), required=False
    )
    is_pilot = forms.BooleanField(label=_("Demonstrative (pilot) action"), required=False)
    actor = forms.CharField(label=_("Actor who commits"), max_length=200, required=False)
    sector = forms.ChoiceField(label=_("Sector"), choices=Sector.choices, required=False)
    commitment = forms.CharField(label=_("Commits to"), max_length=1000, required=False)


class CommitmentForm(forms.Form):
    actor = forms.CharField(label=_("Actor"), max_length=200)
    sector = forms.ChoiceField(label=_("Sector"), choices=Sector.choices)
    commitment = forms.CharField(label=_("Commits to"), widget=forms.Textarea(attrs={"rows": 2}))


class NoteForm(forms.Form):
    written_on = forms.DateField(label=_("Date"), widget=DATE)
    text = forms.CharField(label=_("What happened"), widget=forms.Textarea(attrs={"rows": 3}))
    status = forms.ChoiceField(
        label=_("Status"), choices=[("", _("unchanged")), *ActionStatus.choices], required=False
    )


class DocumentForm(forms.Form):
    file = forms.FileField(label=_("Document or photo"))
    caption = forms.CharField(label=_("Caption"), max_length=200, required=False)


class ReviewForm(forms.Form):
    held_on = forms.DateField(label=_("Date of the co-evaluation meeting"), widget=DATE)
    what_changed = forms.CharField(
        label=_("What changed for well-being"), widget=forms.Textarea(attrs={"rows": 3})
    )
    according_to = forms.CharField(
        label=_("According to whom"), widget=forms.Textarea(attrs={"rows": 2}), required=False
    )
    lessons = forms.CharField(
        label=_("Lessons"), widget=forms.Textarea(attrs={"rows": 2}), required=False
    )


class CycleCloseForm(forms.Form):
    lessons = forms.CharField(
        label=_("Lessons of the cycle"), widget=forms.Textarea(attrs={"rows": 4}), required=False
    )
    carry_over = forms.ModelMultipleChoiceField(
        label=_("Open actions carried over into the next cycle"),
        queryset=Action.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    confirm = forms.BooleanField(label=_("I confirm: close this cycle and open the next one"))

    def __init__(self, *args: Any, territory: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["carry_over"].queryset = Action.objects.of_territory(  # type: ignore[attr-defined]
            territory.pk
        ).filter(status__in=[ActionStatus.DECIDED, ActionStatus.IN_PROGRESS])
