from __future__ import annotations

from django import forms
from django.core.files.uploadedfile import UploadedFile
from django.utils.translation import gettext_lazy as _

from spiral.grid.models import GridVersion
from spiral.territories.models import Territory

MAX_UPLOAD_BYTES = 5 * 1024 * 1024


def read_uploaded_text(upload: UploadedFile) -> str:
    data = upload.read()
    for encoding in ("utf-8-sig", "cp1252"):
        try:
            return str(data.decode(encoding))
        except UnicodeDecodeError:
            continue
    raise forms.ValidationError(_("The file is neither UTF-8 nor Windows-1252 text."))


class GridImportForm(forms.Form):
    code = forms.SlugField(label=_("Code of the new version"), max_length=60)
    name_fr = forms.CharField(label=_("Name (French)"), max_length=200)
    name_en = forms.CharField(label=_("Name (English)"), max_length=200)
    description_fr = forms.CharField(
        label=_("Description (French)"), required=False, widget=forms.Textarea(attrs={"rows": 3})
    )
    description_en = forms.CharField(
        label=_("Description (English)"), required=False, widget=forms.Textarea(attrs={"rows": 3})
    )
    file = forms.FileField(label=_("CSV file"))

    def clean_code(self) -> str:
        code = str(self.cleaned_data["code"])
        if GridVersion.objects.filter(code=code).exists():
            raise forms.ValidationError(_("A grid version with this code already exists."))
        return code

    def clean_file(self) -> str:
        upload = self.cleaned_data["file"]
        if upload.size > MAX_UPLOAD_BYTES:
            raise forms.ValidationError(_("The file is larger than 5 MB."))
        return read_uploaded_text(upload)


class MappingImportForm(forms.Form):
    source = forms.ModelChoiceField(label=_("From version"), queryset=GridVersion.objects.all())
    target = forms.ModelChoiceField(label=_("To version"), queryset=GridVersion.objects.all())
    note = forms.CharField(label=_("Note"), required=False)
    file = forms.FileField(label=_("CSV file (source_code, target_code)"))

    def clean_file(self) -> str:
        upload = self.cleaned_data["file"]
        if upload.size > MAX_UPLOAD_BYTES:
            raise forms.ValidationError(_("The file is larger than 5 MB."))
        return read_uploaded_text(upload)

    def clean(self) -> dict[str, object]:
        data = super().clean() or {}
        if data.get("source") and data.get("source") == data.get("target"):
            raise forms.ValidationError(_("Choose two different versions."))
        return data


class MappingApplyForm(forms.Form):
    territory: forms.ModelChoiceField[Territory] = forms.ModelChoiceField(
        label=_("Territory"),
        queryset=Territory.objects.order_by("name"),
        help_text=_("Its criteria and those of every territory below it are recoded."),
    )
