from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

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
from spiral.grid.services import grid_version_make_default


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
    readonly_fields = ["is_default"]
    actions = ["make_default"]

    @admin.action(description=_("Make the selected version the network's default"))
    def make_default(self, request: HttpRequest, queryset: QuerySet[GridVersion]) -> None:
        if queryset.count() != 1:
            self.message_user(request, _("Choose exactly one version."), level=messages.ERROR)
            return
        version = grid_version_make_default(version=queryset.get())
        self.message_user(
            request, _("“%(name)s” is now the default version.") % {"name": version.name}
        )


for model in (Dimension, Component, ObjectDetail, SenseCategory, SenseReason, Beneficiary):
    admin.site.register(model, EntryAdmin)


class GridMappingRowInline(admin.TabularInline):
    model = GridMappingRow
    extra = 0


@admin.register(GridMapping)
class GridMappingAdmin(admin.ModelAdmin):
    list_display = ["source", "target", "note"]
    inlines = [GridMappingRowInline]
