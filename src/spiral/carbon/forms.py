"""Forms of the carbon module. The questionnaire form is built from the question definitions."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.formats import number_format
from django.utils.translation import gettext_lazy as _

from spiral.carbon.models import FactorSet
from spiral.carbon.questions import DONT_KNOW, QUESTIONS, STEPS, UNIT_LABELS, Question
from spiral.consultations.models import HomogeneousGroup


def country_choices() -> list[tuple[str, str]]:
    return [(fs.country, fs.name) for fs in FactorSet.objects.current().order_by("country")]


class QuestionnaireForm(forms.Form):
    """Every field optional: an empty field or "I don't know" takes the national average."""

    def __init__(self, *args: Any, defaults: dict[str, Any] | None = None, **kwargs: Any):
        super().__init__(*args, **kwargs)
        defaults = defaults or {}
        for question in QUESTIONS:
            self.fields[question.key] = self._field(question, defaults.get(question.key))
        self.fields["client_token"] = forms.CharField(
            required=False, max_length=64, widget=forms.HiddenInput
        )

    @staticmethod
    def _field(question: Question, default: Any) -> forms.Field:
        help_parts = [str(question.help)] if question.help else []
        if default not in (None, "", DONT_KNOW):
            if question.kind == "choice":
                shown = dict(question.choices).get(default, default)
            else:
                unit = UNIT_LABELS.get(question.unit, question.unit)
                number = float(default)
                # 11849 km, not "11 849,0 km"; 1.6 people keeps its decimal.
                value: float | int = int(number) if number.is_integer() else number
                shown = f"{number_format(value, use_l10n=True, force_grouping=True)} {unit}"
            help_parts.append(str(_("Average: %(value)s")) % {"value": shown})
        help_text = " ".join(help_parts)
        if question.kind == "choice":
            return forms.ChoiceField(
                label=str(question.label),
                required=False,
                choices=[(DONT_KNOW, _("I don't know")), *question.choices],
                initial=DONT_KNOW,
                help_text=help_text,
            )
        return forms.FloatField(
            label=str(question.label),
            required=False,
            min_value=question.minimum,
            max_value=question.maximum,
            help_text=help_text,
            widget=forms.NumberInput(
                attrs={
                    "inputmode": "decimal",
                    "step": "any",
                    "placeholder": str(_("I don't know")),
                }
            ),
        )

    def steps(self) -> list[tuple[str, str, list[forms.BoundField]]]:
        return [
            (code, str(label), [self[q.key] for q in QUESTIONS if q.step == code])
            for code, label in STEPS
        ]

    def answers(self) -> dict[str, Any]:
        data = self.cleaned_data
        return {
            q.key: data[q.key] for q in QUESTIONS if data.get(q.key) not in (None, "", DONT_KNOW)
        }


class CountryForm(forms.Form):
    country = forms.ChoiceField(label=_("Your country"), choices=())

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["country"].choices = country_choices()  # type: ignore[attr-defined]


class CampaignForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=200)
    country = forms.ChoiceField(label=_("Country of the factors"), choices=())
    group = forms.ModelChoiceField(
        label=_("Homogeneous group"),
        queryset=HomogeneousGroup.objects.none(),
        required=False,
        help_text=_("Empty for a campaign of the whole territory."),
    )
    description = forms.CharField(label=_("Description"), widget=forms.Textarea, required=False)

    def __init__(self, *args: Any, territory: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["country"].choices = country_choices()  # type: ignore[attr-defined]
        self.fields["country"].initial = territory_country(territory)
        self.fields["group"].queryset = (  # type: ignore[attr-defined]
            HomogeneousGroup.objects.active().in_subtree(territory.pk)
        )


def territory_country(territory: Any) -> str:
    """The country code of the territory or of its nearest ancestor that has one."""
    from spiral.territories.models import Territory

    code = (
        Territory.objects.filter(descendant_links__territory=territory)
        .exclude(country_code="")
        .order_by("descendant_links__depth")
        .values_list("country_code", flat=True)
        .first()
    )
    return code or "FR"


class AdoptForm(forms.Form):
    action = forms.CharField(max_length=60)
    note = forms.CharField(label=_("Who does what"), required=False, widget=forms.Textarea)


class FactorChangeForm(forms.Form):
    version = forms.CharField(label=_("New version"), max_length=40)
    key = forms.CharField(label=_("Factor or default"), max_length=60)
    value = forms.CharField(label=_("New value"), max_length=60)
    source = forms.CharField(label=_("Source (address)"), max_length=500)
    note = forms.CharField(label=_("What changed and why"), required=False, widget=forms.Textarea)
