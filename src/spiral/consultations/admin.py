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
    list_display = ["name", "territory", "profile", "size", "is_archived"]
    list_filter = ["profile", "is_archived"]
    search_fields = ["name", "territory__name"]
    autocomplete_fields = ["territory", "facilitators"]


@admin.register(Meeting)
class MeetingAdmin(admin.ModelAdmin):
    list_display = ["group", "held_on", "question_set", "language"]
    search_fields = ["group__name"]
    autocomplete_fields = ["group"]


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
