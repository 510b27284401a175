from __future__ import annotations

from typing import Any, cast

from django import forms
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from spiral.accounts.models import Role, User
from spiral.consultations.models import (
    GroupProfile,
    HomogeneousGroup,
    Meeting,
    Question,
    QuestionSet,
)
from spiral.core.languages import criterion_language_choices
from spiral.territories.models import Territory


def facilitator_candidates(territory: Territory) -> Any:
    """People holding a facilitator or coordinator role on the territory or above it (network
    administrators are left out: they would crowd every list)."""
    return (
        User.objects.filter(
            Q(role_assignments__territory__descendant_links__territory=territory),
            Q(role_assignments__role__in=[Role.FACILITATOR, Role.COORDINATOR]),
        )
        .distinct()
        .order_by("display_name", "username")
    )


def _shown_name(user: User) -> str:
    return user.shown_name


class GroupForm(forms.ModelForm):
    language = forms.ChoiceField(label=_("Language"), choices=criterion_language_choices)

    class Meta:
        model = HomogeneousGroup
        fields = ["name", "profile", "size", "language", "description", "facilitators"]
        widgets = {
            "description": forms.Textarea(attrs={"rows": 3}),
            "facilitators": forms.CheckboxSelectMultiple,
            "size": forms.NumberInput(attrs={"min": 1, "max": 500}),
        }

    def __init__(self, *args: Any, territory: Territory, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        cast(forms.ModelChoiceField, self.fields["profile"]).queryset = GroupProfile.objects.filter(
            is_active=True
        )
        candidates = facilitator_candidates(territory)
        if self.instance.pk:
            candidates = User.objects.filter(
                Q(pk__in=candidates.values("pk"))
                | Q(pk__in=self.instance.facilitators.values("pk"))
            ).order_by("display_name", "username")
        facilitators = cast(forms.ModelMultipleChoiceField, self.fields["facilitators"])
        facilitators.queryset = candidates
        facilitators.label_from_instance = _shown_name  # type: ignore[method-assign,assignment]
        if not self.instance.pk:
            self.initial.setdefault("language", territory.language)


class MeetingForm(forms.ModelForm):
    language = forms.ChoiceField(
        label=_("Language of the meeting"), choices=criterion_language_choices
    )

    class Meta:
        model = Meeting
        fields = ["held_on", "question_set", "language", "place", "notes"]
        widgets = {
            "held_on": forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
            "notes": forms.Textarea(attrs={"rows": 3}),
        }

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        cast(
            forms.ModelChoiceField, self.fields["question_set"]
        ).queryset = QuestionSet.objects.all()
        default = QuestionSet.objects.filter(is_default=True).first()
        if default and not self.instance.pk:
            self.initial.setdefault("question_set", default.pk)


class CriterionEditForm(forms.Form):
    text = forms.CharField(label=_("Criterion"), strip=False, widget=forms.TextInput)
    expressions = forms.IntegerField(label=_("Expressions"), min_value=1, max_value=100_000)
    code = forms.CharField(label=_("Component"), required=False)
    language = forms.ChoiceField(label=_("Language"), choices=criterion_language_choices)
    question = forms.ModelChoiceField(label=_("Question"), queryset=Question.objects.none())

    def __init__(self, *args: Any, meeting: Meeting, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        question = cast(forms.ModelChoiceField, self.fields["question"])
        question.queryset = meeting.question_set.questions.all()
        question.empty_label = None
