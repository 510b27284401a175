from __future__ import annotations

from typing import Any

from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from spiral.accounts.forms import ProfileForm
from spiral.accounts.middleware import SESSION_LANGUAGE_KEY
from spiral.accounts.models import ApiToken, ApiTokenAccess, RoleAssignment
from spiral.core.http import AuthenticatedRequest
from spiral.territories.models import Territory
from spiral.territories.selectors import territories_of_user


@login_required
def profile(request: AuthenticatedRequest) -> HttpResponse:
    form = ProfileForm(request.POST or None, instance=request.user)
    if request.method == "POST" and form.is_valid():
        user = form.save()
        messages.success(request, _("Your profile was saved."))
        response = redirect("accounts:profile")
        if user.preferred_language:
            request.session[SESSION_LANGUAGE_KEY] = user.preferred_language
            translation.activate(user.preferred_language)
            response.set_cookie(
                settings.LANGUAGE_COOKIE_NAME,
                user.preferred_language,
                max_age=settings.LANGUAGE_COOKIE_AGE,
                samesite="Lax",
            )
        return response
    roles = (
        RoleAssignment.objects.filter(user=request.user)
        .select_related("territory")
        .order_by("territory__name")
    )
    return render(request, "accounts/profile.html", {"form": form, "roles": roles})


class ApiTokenForm(forms.Form):
    name = forms.CharField(
        label=gettext_lazy("Name"),
        max_length=100,
        help_text=gettext_lazy("What or who will use it, e.g. “open data export” or “town hall”."),
    )
    access = forms.ChoiceField(
        label=gettext_lazy("Access"),
        choices=ApiTokenAccess.choices,
        initial=ApiTokenAccess.READ,
        required=False,  # read only unless asked
        help_text=gettext_lazy(
            "Read only is enough to read syntheses and criteria; writing (groups, meetings, "
            "criteria, codes) needs read and write."
        ),
    )
    territories: forms.ModelMultipleChoiceField[Territory] = forms.ModelMultipleChoiceField(
        label=gettext_lazy("Limit to these territories"),
        queryset=Territory.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=gettext_lazy(
            "The token then works only there and below. None ticked: wherever you have a role."
        ),
    )

    def __init__(self, *args: Any, user: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Only where the user works: a scope elsewhere would give the token nothing.
        self.fields["territories"].queryset = territories_of_user(user=user)  # type: ignore[attr-defined]


@login_required
def api_tokens(request: AuthenticatedRequest) -> HttpResponse:
    """List the user's API tokens and create one; the full key is shown once, on creation."""
    form = ApiTokenForm(request.POST or None, user=request.user)
    new_key = ""
    if request.method == "POST" and form.is_valid():
        _token, new_key = ApiToken.objects.issue(
            user=request.user,
            name=form.cleaned_data["name"],
            access=form.cleaned_data["access"] or ApiTokenAccess.READ,
            territories=form.cleaned_data["territories"],
        )
        form = ApiTokenForm(user=request.user)
    tokens = ApiToken.objects.filter(user=request.user).prefetch_related("territories")
    response = render(
        request, "accounts/tokens.html", {"form": form, "tokens": tokens, "new_key": new_key}
    )
    # The key must not stay in a cache: this page is its only copy.
    response["Cache-Control"] = "no-store"
    return response


@login_required
@require_POST
def api_token_revoke(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    token = get_object_or_404(ApiToken, pk=pk, user=request.user)
    token.revoke()
    messages.success(request, _("The token “%(name)s” was revoked.") % {"name": token.name})
    return redirect("accounts:api_tokens")
