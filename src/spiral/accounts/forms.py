from __future__ import annotations

from django import forms

from spiral.accounts.models import User


class ProfileForm(forms.ModelForm):
    class Meta:
        model = User
        fields = ["display_name", "first_name", "last_name", "email", "preferred_language"]
