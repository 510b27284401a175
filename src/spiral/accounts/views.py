from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils import translation
from django.utils.translation import gettext as _

from spiral.accounts.forms import ProfileForm
from spiral.accounts.middleware import SESSION_LANGUAGE_KEY
from spiral.accounts.models import RoleAssignment
from spiral.core.http import AuthenticatedRequest


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
