from __future__ import annotations

from typing import Any, cast

from django import forms
from django.utils.translation import gettext_lazy as _

from spiral.accounts.models import Role, User
from spiral.core.languages import criterion_language_choices
from spiral.core.permissions import can_grant_role
from spiral.territories.method import CYCLE_LABELS, phase_texts
from spiral.territories.models import CoordinationMember, Territory


def cycle_choices() -> list[tuple[int, str]]:
    return [(cycle, str(label)) for cycle, label in CYCLE_LABELS.items()]


def phase_choices() -> list[tuple[int, str]]:
    return [(phase, f"{phase}. {label}") for phase, (label, _description) in phase_texts().items()]


class TerritoryForm(forms.ModelForm):
    language = forms.ChoiceField(label=_("Working language"), choices=criterion_language_choices)
    cycle = forms.TypedChoiceField(label=_("Current cycle"), coerce=int, choices=cycle_choices)
    phase = forms.TypedChoiceField(label=_("Current phase"), coerce=int, choices=phase_choices)

    class Meta:
        model = Territory
        fields = [
            "name",
            "kind",
            "actor_type",
            "country_code",
            "language",
            "description",
            "is_public",
            "grid_version",
            "cycle",
            "phase",
        ]
        widgets = {"description": forms.Textarea(attrs={"rows": 8})}

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("kind") == "collective_actor" and not data.get("actor_type"):
            self.add_error("actor_type", _("Say what kind of collective actor this is."))
        if data.get("kind") != "collective_actor":
            data["actor_type"] = ""
        return data


class TerritoryCreateForm(TerritoryForm):
    cycle = None  # type: ignore[assignment]
    phase = None  # type: ignore[assignment]

    class Meta(TerritoryForm.Meta):
        fields = [
            "name",
            "kind",
            "actor_type",
            "country_code",
            "language",
            "description",
            "is_public",
        ]


class CyclePhaseForm(forms.ModelForm):
    cycle = forms.TypedChoiceField(label=_("Current cycle"), coerce=int, choices=cycle_choices)
    phase = forms.TypedChoiceField(label=_("Current phase"), coerce=int, choices=phase_choices)

    class Meta:
        model = Territory
        fields = ["cycle", "phase"]


class CoordinationMemberForm(forms.ModelForm):
    class Meta:
        model = CoordinationMember
        fields = ["display_name", "organisation", "sector", "role_label", "show_publicly"]


class PhaseStepRecordForm(forms.Form):
    done_on = forms.DateField(
        label=_("Done on"), widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
    )
    note = forms.CharField(
        label=_("Note"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )


class RoleGrantForm(forms.Form):
    user = forms.CharField(label=_("User name or e-mail address"))
    role = forms.ChoiceField(label=_("Role"), choices=Role.choices)

    def __init__(self, *args: Any, granter: Any, territory: Territory, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.granter = granter
        self.territory = territory
        role_field = cast(forms.ChoiceField, self.fields["role"])
        role_field.choices = [
            (value, label)
            for value, label in Role.choices
            if can_grant_role(granter, territory, value)
        ]

    def clean_user(self) -> User:
        value = self.cleaned_data["user"].strip()
        lookup = {"email__iexact": value} if "@" in value else {"username": value}
        user = User.objects.filter(**lookup).order_by("pk").first()
        if user is None:
            raise forms.ValidationError(_("No account has this user name or e-mail address."))
        return user
