from django.urls import path

from spiral.coding import views
from spiral.coding.suggest import views as suggestion_views

app_name = "coding"

urlpatterns = [
    path("territories/<slug:slug>/", views.coding_territory, name="territory"),
    path("groups/<int:pk>/", views.coding_group, name="group"),
    path("meetings/<int:pk>/", views.coding_meeting, name="meeting"),
    path("criteria/<int:pk>/codes/", views.code_add, name="code_add"),
    path(
        "criteria/<int:pk>/codes/<int:coding_pk>/remove/",
        views.code_remove,
        name="code_remove",
    ),
    path("bulk/", views.code_bulk, name="bulk"),
    path(
        "criteria/<int:pk>/suggestions/accept/",
        suggestion_views.suggestion_accept_view,
        name="suggestion_accept",
    ),
    path("suggestions/", suggestion_views.suggestions_precode_view, name="precode"),
    path("suggestion-models/", suggestion_views.suggestion_models_view, name="suggestion_models"),
]
