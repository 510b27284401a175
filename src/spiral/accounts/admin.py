from django.contrib import admin
from django.contrib.auth.admin import UserAdmin
from django.utils.translation import gettext_lazy as _

from spiral.accounts.models import RoleAssignment, User


class RoleAssignmentInline(admin.TabularInline):
    model = RoleAssignment
    fk_name = "user"
    extra = 0
    autocomplete_fields = ["territory"]
    exclude = ["granted_by"]


@admin.register(User)
class SpiralUserAdmin(UserAdmin):
    fieldsets = (
        *(UserAdmin.fieldsets or ()),
        (_("Spiral"), {"fields": ("display_name", "preferred_language")}),
    )
    inlines = [RoleAssignmentInline]
    list_display = ["username", "email", "display_name", "is_staff", "is_active"]


@admin.register(RoleAssignment)
class RoleAssignmentAdmin(admin.ModelAdmin):
    list_display = ["user", "role", "territory", "created_at"]
    list_filter = ["role"]
    search_fields = ["user__username", "user__email", "territory__name"]
    autocomplete_fields = ["user", "territory"]
