from __future__ import annotations

from django.db import connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render

from spiral.consultations.selectors import groups_of_user
from spiral.territories.models import TerritoryKind
from spiral.territories.selectors import territories_of_user, visible_territories


def home(request: HttpRequest) -> HttpResponse:
    visible = visible_territories(user=request.user)
    context = {
        "networks": visible.filter(parent__isnull=True).order_by("name"),
        "countries": visible.filter(kind=TerritoryKind.COUNTRY).order_by("name"),
        "my_territories": territories_of_user(user=request.user)
        if request.user.is_authenticated
        else [],
        "my_groups": groups_of_user(user=request.user) if request.user.is_authenticated else [],
    }
    return render(request, "core/home.html", context)


def health(request: HttpRequest) -> JsonResponse:
    """Liveness and database check for load balancers and `make run`'s wait loop."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return JsonResponse({"status": "ok", "database": connection.vendor})
