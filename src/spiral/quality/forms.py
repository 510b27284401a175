"""Forms of double coding: asking for it, and settling a disagreement."""

from __future__ import annotations

from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from spiral.accounts.models import User
from spiral.coding.selectors import CodingScope, ScopeKind, split_codes
from spiral.consultations.models import Meeting
from spiral.quality.models import Decision
from spiral.quality.selectors import second_coder_choices
from spiral.quality.services import SEED_LIMIT


class CoderChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: User) -> str:
        return f"{obj.shown_name} ({obj.username})"


class MeetingChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Meeting) -> str:
        return obj.held_on.isoformat() + (f" · {obj.place}" if obj.place else "")


class DoubleCodingRequestForm(forms.Form):
    share = forms.IntegerField(
        label=_("Share of the coded criteria to code again (%)"),
        min_value=1,
        max_value=100,
        initial=10,
        help_text=_("10 to 20 % is usual; at least one criterion is drawn."),
    )
    second_coder = CoderChoiceField(
        label=_("Second coder"),
        queryset=User.objects.none(),
        help_text=_(
            "Someone allowed to code here. The criteria they coded themselves are left out of "
            "the draw."
        ),
    )
    meeting = MeetingChoiceField(
        label=_("Only one meeting"),
        queryset=Meeting.objects.none(),
        required=False,
        empty_label=_("every meeting of the group"),
    )
    seed = forms.IntegerField(
        label=_("Random seed (optional)"),
        required=False,
        min_value=0,
        max_value=SEED_LIMIT - 1,
        help_text=_(
            "Leave empty for a new draw. The seed of an earlier request draws the same criteria "
            "again, as long as the coded criteria of the scope have not changed."
        ),
    )

    def __init__(self, *args: Any, scope: CodingScope, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.scope = scope
        coder_field = self.fields["second_coder"]
        assert isinstance(coder_field, CoderChoiceField)
        coder_field.queryset = second_coder_choices(territory=scope.territory)
        meeting_field = self.fields["meeting"]
        assert isinstance(meeting_field, MeetingChoiceField)
        if scope.kind == ScopeKind.GROUP and scope.group is not None:
            meeting_field.queryset = scope.group.meetings.order_by("-held_on", "-pk")
        else:
            del self.fields["meeting"]

    def chosen_scope(self) -> CodingScope:
        """The group's scope narrowed to one meeting when one was chosen."""
        meeting = self.cleaned_data.get("meeting")
        if meeting is None:
            return self.scope
        return CodingScope(
            kind=ScopeKind.MEETING,
            territory=self.scope.territory,
            group=self.scope.group,
            meeting=meeting,
        )


class SettleForm(forms.Form):
    decision = forms.ChoiceField(
        label=_("Decision"), choices=Decision.choices, required=False, widget=forms.RadioSelect
    )
    codes = forms.CharField(label=_("Other codes"), max_length=300, required=False)
    note = forms.CharField(label=_("Note"), max_length=2000, required=False, widget=forms.Textarea)

    def clean_codes(self) -> list[str]:
        return split_codes(self.cleaned_data.get("codes") or "")

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        codes = data.get("codes") or []
        decision = data.get("decision") or (Decision.OTHER if codes else "")
        if not decision:
            raise ValidationError(
                _("Choose the first coding, the second one, or type other codes."), code="empty"
            )
        if decision == Decision.OTHER and not codes:
            raise ValidationError(_("Type the codes to give the criterion."), code="no_codes")
        data["decision"] = decision
        return data
