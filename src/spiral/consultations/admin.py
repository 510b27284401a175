from typing import Any

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest

from spiral.consultations.models import (
    Criterion,
    CriterionRevision,
    GroupProfile,
    HomogeneousGroup,
    Meeting,
    Question,
    QuestionSet,
)
from spiral.consultations.services import group_move
from spiral.syntheses.services import territory_stats_refresh


@admin.register(GroupProfile)
class GroupProfileAdmin(admin.ModelAdmin):
    list_display = ["code", "label_fr", "label_en", "position", "is_active"]
    list_editable = ["label_fr", "label_en", "position", "is_active"]


class QuestionInline(admin.TabularInline):
    model = Question
    extra = 0


@admin.register(QuestionSet)
class QuestionSetAdmin(admin.ModelAdmin):
    list_display = ["code", "name_fr", "name_en", "is_default"]
    inlines = [QuestionInline]


@admin.register(HomogeneousGroup)
class HomogeneousGroupAdmin(admin.ModelAdmin):
    """Saves go through the services so criteria follow a moved group and figures stay exact."""

    list_display = ["name", "territory", "profile", "size", "is_archived"]
    list_filter = ["profile", "is_archived"]
    search_fields = ["name", "territory__name"]
    autocomplete_fields = ["territory", "facilitators"]

    def save_model(
        self, request: HttpRequest, obj: HomogeneousGroup, form: Any, change: bool
    ) -> None:
        previous = (
            HomogeneousGroup.objects.filter(pk=obj.pk)
            .values_list("territory_id", flat=True)
            .first()
        )
        if change and previous and previous != obj.territory_id:
            territory = obj.territory
            obj.territory_id = previous
            super().save_model(request, obj, form, change)
            group_move(group=obj, territory=territory)
        else:
            super().save_model(request, obj, form, change)
        territory_stats_refresh(territory_ids=[obj.territory_id])

    def delete_model(self, request: HttpRequest, obj: HomogeneousGroup) -> None:
        territory_id = obj.territory_id
        super().delete_model(request, obj)
        territory_stats_refresh(territory_ids=[territory_id])


@admin.register(Meeting)
class MeetingAdmin(admin.ModelAdmin):
    list_display = ["group", "held_on", "question_set", "language"]
    search_fields = ["group__name"]
    autocomplete_fields = ["group"]

    def get_readonly_fields(self, request: HttpRequest, obj: Meeting | None = None) -> list[str]:
        # Criteria carry their meeting's group and territory: a meeting does not change group.
        return ["group", "question_set"] if obj is not None else []

    def save_model(self, request: HttpRequest, obj: Meeting, form: Any, change: bool) -> None:
        super().save_model(request, obj, form, change)
        territory_stats_refresh(territory_ids=[obj.group.territory_id])


class CriterionRevisionInline(admin.TabularInline):
    model = CriterionRevision
    extra = 0
    can_delete = False
    readonly_fields = [
        "action",
        "text",
        "language",
        "expressions",
        "question",
        "changed_by",
        "changed_at",
    ]


@admin.register(Criterion)
class CriterionAdmin(admin.ModelAdmin):
    """Read-only here: criteria are written through the transcription screen, with history."""

    list_display = ["text", "expressions", "language", "question", "group", "deleted_at"]
    list_filter = ["language", "question__kind"]
    search_fields = ["text"]
    inlines = [CriterionRevisionInline]

    def get_queryset(self, request: HttpRequest) -> QuerySet[Criterion]:
        return Criterion.all_objects.select_related("question", "group")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
