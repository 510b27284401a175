"""Admin of strategic axes, actions and closed cycles (archives are read-only)."""

from __future__ import annotations

from typing import Any

from django.contrib import admin

from spiral.actions.models import Action, Commitment, CycleArchive, ProgressNote, StrategicAxis


class CommitmentInline(admin.TabularInline):
    model = Commitment
    extra = 0


class ProgressNoteInline(admin.TabularInline):
    model = ProgressNote
    extra = 0
    raw_id_fields = ["author"]


@admin.register(StrategicAxis)
class StrategicAxisAdmin(admin.ModelAdmin):
    list_display = ["title", "territory", "cycle"]
    search_fields = ["title", "territory__name"]
    raw_id_fields = ["territory"]


@admin.register(Action)
class ActionAdmin(admin.ModelAdmin):
    list_display = ["title", "territory", "cycle", "status", "is_pilot", "starts_on", "ends_on"]
    list_filter = ["status", "is_pilot"]
    search_fields = ["title", "territory__name"]
    raw_id_fields = ["territory", "axis", "created_by", "criteria"]
    filter_horizontal = ["indicators"]
    inlines = [CommitmentInline, ProgressNoteInline]


@admin.register(CycleArchive)
class CycleArchiveAdmin(admin.ModelAdmin):
    list_display = ["territory", "cycle", "closed_at", "closed_by"]

    def has_add_permission(self, request: Any) -> bool:
        return False

    def has_change_permission(self, request: Any, obj: Any = None) -> bool:
        return False
