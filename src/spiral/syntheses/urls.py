from django.urls import path

from spiral.syntheses import views

app_name = "syntheses"

urlpatterns = [
    path("territories/<slug:slug>/synthesis/", views.territory_synthesis_view, name="territory"),
    path(
        "territories/<slug:slug>/synthesis/export.<str:fmt>",
        views.territory_synthesis_export,
        name="territory_export",
    ),
    path(
        "territories/<slug:slug>/synthesis/components/<str:code>/",
        views.component_criteria_view,
        name="component_criteria",
    ),
    path("territories/<slug:slug>/synthesis/compare/", views.compare_view, name="compare"),
    path("groups/<int:pk>/synthesis/", views.group_synthesis_view, name="group"),
]
