from django.contrib import admin

from spiral.selfentry.models import CriterionMerge, GroupRestitution, SelfEntrySession


@admin.register(SelfEntrySession)
class SelfEntrySessionAdmin(admin.ModelAdmin):
    list_display = ["code", "meeting", "opened_at", "closed_at"]
    list_select_related = ["meeting__group"]
    raw_id_fields = ["meeting", "opened_by", "closed_by"]
    search_fields = ["code"]


@admin.register(CriterionMerge)
class CriterionMergeAdmin(admin.ModelAdmin):
    list_display = ["target", "added_expressions", "merged_at", "undone_at"]
    raw_id_fields = ["meeting", "target", "merged", "merged_by", "undone_by"]


@admin.register(GroupRestitution)
class GroupRestitutionAdmin(admin.ModelAdmin):
    list_display = ["group", "is_enabled", "created_at"]
    raw_id_fields = ["group"]
