from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from spiral.coding.models import Coding


@admin.register(Coding)
class CodingAdmin(admin.ModelAdmin):
    list_display = ["criterion", "full_code", "source", "coded_by", "created_at", "superseded_at"]
    list_filter = ["source"]
    search_fields = ["full_code", "criterion__text"]
    raw_id_fields = ["criterion"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # codings are made on the screens, which keep history and figures

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
