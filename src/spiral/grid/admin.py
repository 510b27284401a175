from django.contrib import admin

from spiral.grid.models import (
    Beneficiary,
    Component,
    Dimension,
    GridMapping,
    GridMappingRow,
    GridVersion,
    ObjectDetail,
    SenseCategory,
    SenseReason,
)


class EntryAdmin(admin.ModelAdmin):
    """Network admins correct labels and descriptions here; codes stay as imported."""

    list_display = ["code", "label_fr", "label_en", "status", "version"]
    list_filter = ["version", "status"]
    search_fields = ["code", "label_fr", "label_en", "description_fr", "description_en"]
    list_editable = ["label_fr", "label_en"]
    readonly_fields = ["version", "code"]


@admin.register(GridVersion)
class GridVersionAdmin(admin.ModelAdmin):
    list_display = ["code", "name_fr", "name_en", "is_default"]


for model in (Dimension, Component, ObjectDetail, SenseCategory, SenseReason, Beneficiary):
    admin.site.register(model, EntryAdmin)


class GridMappingRowInline(admin.TabularInline):
    model = GridMappingRow
    extra = 0


@admin.register(GridMapping)
class GridMappingAdmin(admin.ModelAdmin):
    list_display = ["source", "target", "note"]
    inlines = [GridMappingRowInline]
