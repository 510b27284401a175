from __future__ import annotations

from typing import Any

from django import forms
from django.conf import settings
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from spiral.transfers.fields import FIELDS_BY_KIND
from spiral.transfers.readers import Table

FORMAT_CHOICES = [
    ("", gettext_lazy("Recognise it")),
    ("csv", gettext_lazy("CSV (any separator)")),
    ("xlsx", gettext_lazy("Excel workbook (.xlsx)")),
    ("paste", gettext_lazy("Wikispiral lines: count;criterion;component")),
]


class UploadForm(forms.Form):
    file = forms.FileField(
        label=gettext_lazy("File"),
        required=False,
        help_text=gettext_lazy("CSV, XLSX or a text file of count;criterion;component lines."),
    )
    pasted = forms.CharField(
        label=gettext_lazy("Or paste lines"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 6, "spellcheck": "false"}),
        help_text=gettext_lazy("One criterion per line: 2;Having a stable job;A06"),
    )
    file_format = forms.ChoiceField(
        label=gettext_lazy("Format"), choices=FORMAT_CHOICES, required=False
    )

    def __init__(self, *args: Any, allow_paste: bool = True, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if not allow_paste:
            del self.fields["pasted"]
            self.fields["file_format"] = forms.ChoiceField(
                label=gettext_lazy("Format"), choices=FORMAT_CHOICES[:3], required=False
            )

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        upload = data.get("file")
        pasted = (data.get("pasted") or "").strip()
        if not upload and not pasted:
            raise forms.ValidationError(_("Choose a file or paste lines."))
        if upload and upload.size > settings.SPIRAL_IMPORT_MAX_BYTES:
            raise forms.ValidationError(
                _("The file is larger than %(size)s MB.")
                % {"size": settings.SPIRAL_IMPORT_MAX_BYTES // (1024 * 1024)}
            )
        if upload:
            data["filename"], data["content"] = upload.name, upload.read()
        else:
            data["filename"], data["content"] = "pasted.txt", pasted.encode("utf-8")
            data["file_format"] = data.get("file_format") or "paste"
        return data


class MappingForm(forms.Form):
    """One choice per target field: which column of the file holds it."""

    has_header = forms.BooleanField(
        label=gettext_lazy("The first line holds column names"), required=False
    )

    def __init__(
        self,
        *args: Any,
        kind: str,
        table: Table,
        questions: list[tuple[str, str]] | None = None,
        hide: tuple[str, ...] = (),
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.kind = kind
        samples = table.rows[0][1] if table.rows else []
        choices: list[tuple[str, str]] = [("", _("— not in the file —"))]
        for index, name in enumerate(table.columns):
            sample = samples[index] if index < len(samples) else ""
            label = f"{name} ({sample[:30]}…)" if sample else name
            choices.append((str(index), label))
        self.target_keys: list[str] = []
        for target in FIELDS_BY_KIND[kind]:
            if target.key in hide:
                continue
            self.target_keys.append(target.key)
            self.fields[f"map_{target.key}"] = forms.ChoiceField(
                label=str(target.label), choices=choices, required=target.required
            )
        if questions is not None:
            self.fields["question"] = forms.ChoiceField(
                label=gettext_lazy("Question, when no column says which"),
                choices=[("", "—"), *questions],
                required=False,
            )

    def mapping(self) -> dict[str, int | None]:
        return {
            key: (int(value) if (value := self.cleaned_data.get(f"map_{key}")) else None)
            for key in self.target_keys
        }


class PackageImportForm(forms.Form):
    file = forms.FileField(label=gettext_lazy("Open-data package (.zip)"))
    parent = forms.SlugField(
        label=gettext_lazy("Place it below the territory (short name)"),
        required=False,
        help_text=gettext_lazy("Empty: the package's territory becomes a new root."),
    )
