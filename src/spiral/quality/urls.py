from django.urls import path

from spiral.quality import views

app_name = "quality"

urlpatterns = [
    path("territories/<slug:slug>/", views.territory_requests, name="territory"),
    path("territories/<slug:slug>/new/", views.request_new_territory, name="new_territory"),
    path("groups/<int:pk>/new/", views.request_new_group, name="new_group"),
    path("requests/<int:pk>/", views.request_detail, name="request"),
    path("requests/<int:pk>/status/", views.request_status, name="request_status"),
    path("requests/<int:pk>/code/", views.blind_screen, name="blind"),
    path("requests/<int:pk>/disagreements/", views.disagreements, name="disagreements"),
    path("items/<int:pk>/codes/", views.item_codes_add, name="item_codes_add"),
    path("items/<int:pk>/codes/remove/", views.item_code_remove, name="item_code_remove"),
    path("items/<int:pk>/settle/", views.item_settle, name="item_settle"),
]
