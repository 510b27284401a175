from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from spiral.carbon.models import Campaign, CollectiveAdoption, FactorSet, FootprintResult, Pledge
from spiral.carbon.permissions import can_manage_factor_sets


@admin.register(FactorSet)
class FactorSetAdmin(admin.ModelAdmin):
    """A version that computed results is frozen: change figures by saving a new version
    ("Save as new") with another version name."""

    list_display = ["country", "version", "is_current", "created_at"]
    list_filter = ["country", "is_current"]
    save_as = True

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return can_manage_factor_sets(request.user) and super().has_change_permission(request, obj)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return can_manage_factor_sets(request.user) and super().has_add_permission(request)

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        if obj is not None and obj.results.exists():
            return ["country", "version", "document"]
        return []


@admin.register(Campaign)
class CampaignAdmin(admin.ModelAdmin):
    list_display = ["name", "territory", "group", "country", "is_open"]
    raw_id_fields = ["territory", "group"]


@admin.register(FootprintResult)
class FootprintResultAdmin(admin.ModelAdmin):
    list_display = ["pk", "campaign", "total_kg", "created_at"]
    raw_id_fields = ["campaign", "territory", "user", "previous"]


admin.site.register(Pledge)
admin.site.register(CollectiveAdoption)
