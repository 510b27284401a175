"""Admin of indicators and co-evaluations. Ratings and self-survey answers are read-only here:
they are counted as they were given (changing one would change results silently)."""

from __future__ import annotations

from typing import Any

from django.contrib import admin

from spiral.indicators.models import Evaluation, Indicator, Rating, ScaleLevel, SurveyResponse


class ScaleLevelInline(admin.TabularInline):
    model = ScaleLevel
    extra = 0
    fields = ["level", "text"]


@admin.register(Indicator)
class IndicatorAdmin(admin.ModelAdmin):
    list_display = ["title", "territory", "version", "is_shared", "created_at"]
    list_filter = ["is_shared"]
    search_fields = ["title", "question", "territory__name"]
    raw_id_fields = ["territory", "previous", "derived_from", "created_by"]
    filter_horizontal = ["components"]
    inlines = [ScaleLevelInline]


@admin.register(Evaluation)
class EvaluationAdmin(admin.ModelAdmin):
    list_display = ["title", "territory", "kind", "cycle", "held_on", "survey_open"]
    list_filter = ["kind", "survey_open"]
    search_fields = ["title", "territory__name"]
    raw_id_fields = ["territory", "baseline", "created_by"]
    filter_horizontal = ["indicators"]
    readonly_fields = ["survey_key"]


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request: Any) -> bool:
        return False

    def has_change_permission(self, request: Any, obj: Any = None) -> bool:
        return False


@admin.register(Rating)
class RatingAdmin(ReadOnlyAdmin):
    list_display = ["evaluation", "indicator", "level", "rater", "group", "profile", "created_at"]
    list_filter = ["rater", "level"]


@admin.register(SurveyResponse)
class SurveyResponseAdmin(ReadOnlyAdmin):
    list_display = ["evaluation", "profile", "submitted_at"]
    exclude = ["token_hash"]
