from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from spiral.quality.models import Adjudication, DoubleCodingRequest


class _ReadOnly(admin.ModelAdmin):
    """Requests, samples and decisions are made on their screens, which keep them consistent."""

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(DoubleCodingRequest)
class DoubleCodingRequestAdmin(_ReadOnly):
    list_display = ["territory", "group", "meeting", "share", "second_coder", "status"]
    list_filter = ["status"]


@admin.register(Adjudication)
class AdjudicationAdmin(_ReadOnly):
    list_display = ["item", "decision", "applied", "decided_by", "decided_at"]
    list_filter = ["decision"]
