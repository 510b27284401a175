from django.urls import path

from spiral.indicators import views

app_name = "indicators"

urlpatterns = [
    path("territories/<slug:slug>/", views.territory_indicators, name="territory"),
    path("territories/<slug:slug>/new/", views.indicator_new, name="indicator_new"),
    path("territories/<slug:slug>/evaluations/new/", views.evaluation_new, name="evaluation_new"),
    path("shared/", views.indicator_library, name="library"),
    path("<int:pk>/", views.indicator_detail, name="indicator"),
    path("<int:pk>/edit/", views.indicator_edit, name="indicator_edit"),
    path("<int:pk>/reuse/", views.indicator_reuse_view, name="indicator_reuse"),
    path("evaluations/<int:pk>/", views.evaluation_detail, name="evaluation"),
    path("evaluations/<int:pk>/compare/", views.evaluation_compare, name="compare"),
    path(
        "evaluations/<int:pk>/results.<str:fmt>",
        views.evaluation_export,
        name="export",
    ),
    path("evaluations/<int:pk>/rate/", views.evaluation_rate, name="rate"),
    path("evaluations/<int:pk>/survey/", views.evaluation_survey_toggle, name="survey_toggle"),
    path("evaluations/<int:pk>/qr.svg", views.evaluation_qr, name="qr"),
    path("s/<str:key>/", views.survey, name="survey"),
    path("s/<str:key>/thanks/", views.survey_thanks, name="survey_thanks"),
]
