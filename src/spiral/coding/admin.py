from typing import Any

from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy, ngettext

from spiral.coding.models import Coding, SuggestionModel
from spiral.core.permissions import is_network_admin


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


@admin.register(SuggestionModel)
class SuggestionModelAdmin(admin.ModelAdmin):
    """Models are trained by the task worker; the admin can only ask for a new one."""

    list_display = [
        "pk",
        "grid_version",
        "territory",
        "status",
        "is_current",
        "examples",
        "coded_examples",
        "created_at",
        "trained_at",
    ]
    list_filter = ["status", "is_current", "grid_version"]
    actions = ["train_again"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    @admin.action(
        description=gettext_lazy("Train a new model of the same grid version and territory")
    )
    def train_again(self, request: HttpRequest, queryset: QuerySet[SuggestionModel]) -> None:
        from spiral.coding.suggest.training import suggestion_model_request, training_in_progress

        if not is_network_admin(request.user):
            raise PermissionDenied
        requested = 0
        firsts: dict[tuple[int, int | None], SuggestionModel] = {}
        for model in queryset.select_related("grid_version", "territory"):
            firsts.setdefault((model.grid_version_id, model.territory_id), model)
        for (version_id, territory_id), model in firsts.items():
            if training_in_progress(version_id=version_id, territory_id=territory_id):
                continue
            suggestion_model_request(
                version=model.grid_version,
                territory=model.territory,
                user=request.user,  # type: ignore[arg-type]
            )
            requested += 1
        self.message_user(
            request,
            ngettext(
                "%(count)s model will be trained in the background.",
                "%(count)s models will be trained in the background.",
                requested,
            )
            % {"count": requested},
        )
