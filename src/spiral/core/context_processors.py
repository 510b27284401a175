from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http import HttpRequest


def spiral(request: HttpRequest) -> dict[str, Any]:
    return {"SITE_NAME": settings.SPIRAL_SITE_NAME, "SPIRAL_DEBUG": settings.DEBUG}
