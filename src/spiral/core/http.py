"""Request types for views: what middleware adds, and the user behind @login_required."""

from __future__ import annotations

from django.http import HttpRequest
from django_htmx.middleware import HtmxDetails

from spiral.accounts.models import User


class SpiralRequest(HttpRequest):
    htmx: HtmxDetails


class AuthenticatedRequest(SpiralRequest):
    user: User
