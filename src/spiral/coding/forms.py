"""Forms of the coding screen: the filters (GET) and the writes (one row, ticked rows)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from spiral.coding.selectors import CodingFilters, CodingOrder, CodingState, split_codes
from spiral.core.languages import language_name

BULK_LIMIT = 500


class CodingFilterForm(forms.Form):
    """The filters, kept in the address; a value that is not offered is ignored."""

    group = forms.TypedChoiceField(label=_("Group"), required=False, coerce=int, empty_value=None)
    question = forms.ChoiceField(label=_("Question"), required=False)
    profile = forms.ChoiceField(label=_("Profile"), required=False)
    language = forms.ChoiceField(label=_("Language"), required=False)
    state = forms.ChoiceField(
        label=_("Coding"),
        required=False,
        choices=[
            (CodingState.ALL, _("all criteria")),
            (CodingState.UNCODED, _("not coded")),
            (CodingState.CODED, _("coded")),
        ],
    )
    q = forms.CharField(label=_("Words"), required=False, max_length=200, strip=True)
    order = forms.ChoiceField(
        label=_("Order"),
        required=False,
        choices=[
            (CodingOrder.UNCODED_FIRST, _("not coded first")),
            (CodingOrder.POSITION, _("by group and position")),
        ],
    )

    def __init__(self, *args: Any, options: dict[str, Any], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        everything = [("", _("all"))]
        group_field = self.fields["group"]
        assert isinstance(group_field, forms.TypedChoiceField)
        groups = options["groups"]
        group_field.choices = everything + [
            (g.pk, f"{g.name} ({g.territory.name})") for g in groups
        ]
        if not groups:
            group_field.widget = forms.HiddenInput()
        question_field = self.fields["question"]
        assert isinstance(question_field, forms.ChoiceField)
        question_field.choices = everything + options["question_kinds"]
        profile_field = self.fields["profile"]
        assert isinstance(profile_field, forms.ChoiceField)
        profile_field.choices = everything + [(p.code, p.label) for p in options["profiles"]]
        language_field = self.fields["language"]
        assert isinstance(language_field, forms.ChoiceField)
        language_field.choices = everything + [
            (code, f"{language_name(code)} ({code})") for code in options["languages"]
        ]
        self.fields["q"].widget = forms.TextInput(
            attrs={"type": "search", "placeholder": _("words of the criterion"), "dir": "auto"}
        )

    def filters(self) -> CodingFilters:
        self.is_valid()
        data = getattr(self, "cleaned_data", {})
        return CodingFilters(
            group_id=data.get("group") or None,
            question_kind=data.get("question") or "",
            profile=data.get("profile") or "",
            language=data.get("language") or "",
            state=data.get("state") or CodingState.ALL,
            words=data.get("q") or "",
            order=data.get("order") or CodingOrder.UNCODED_FIRST,
        )


class CodeAddForm(forms.Form):
    """Codes typed in a row: one, or several separated by blanks or commas."""

    code = forms.CharField(label=_("Code"), max_length=300, required=False)

    def clean_code(self) -> list[str]:
        return split_codes(self.cleaned_data.get("code") or "")


class IdListField(forms.Field):
    widget = forms.MultipleHiddenInput

    def to_python(self, value: Any) -> list[int]:
        if not value:
            return []
        values = value if isinstance(value, list | tuple) else [value]
        try:
            ids = sorted({int(v) for v in values})
        except (TypeError, ValueError):
            raise ValidationError(_("The ticked rows could not be read."), code="invalid") from None
        if len(ids) > BULK_LIMIT:
            raise ValidationError(
                _("Tick at most %(limit)s criteria at a time.") % {"limit": BULK_LIMIT},
                code="too_many",
            )
        return ids


class BulkCodeForm(forms.Form):
    criteria = IdListField(label=_("Ticked criteria"), required=False)
    code = forms.CharField(label=_("Code for the ticked criteria"), max_length=60, required=False)
    replace = forms.BooleanField(label=_("Replace their codes"), required=False)

    def clean_criteria(self) -> list[int]:
        ids: list[int] = self.cleaned_data.get("criteria") or []
        if not ids:
            raise ValidationError(_("Tick at least one criterion."), code="empty")
        return ids

    def clean_code(self) -> str:
        return (self.cleaned_data.get("code") or "").strip()
