from django.contrib import admin

from spiral.territories.models import CoordinationGroup, CoordinationMember, PhaseStep, Territory


@admin.register(Territory)
class TerritoryAdmin(admin.ModelAdmin):
    list_display = ["name", "kind", "parent", "country_code", "cycle", "phase", "is_public"]
    list_filter = ["kind", "is_public", "country_code"]
    search_fields = ["name", "slug"]
    prepopulated_fields = {"slug": ["name"]}
    autocomplete_fields = ["parent"]


class CoordinationMemberInline(admin.TabularInline):
    model = CoordinationMember
    extra = 0
    autocomplete_fields = ["user"]


@admin.register(CoordinationGroup)
class CoordinationGroupAdmin(admin.ModelAdmin):
    list_display = ["__str__", "territory", "established_on"]
    search_fields = ["name", "territory__name"]
    inlines = [CoordinationMemberInline]


@admin.register(PhaseStep)
class PhaseStepAdmin(admin.ModelAdmin):
    list_display = ["phase", "key", "label_fr", "label_en", "metric"]
    list_filter = ["phase"]
