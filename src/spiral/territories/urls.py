from django.urls import path

from spiral.consultations import views as consultation_views
from spiral.territories import views

app_name = "territories"

urlpatterns = [
    path("", views.territory_index, name="index"),
    path("<slug:slug>/", views.territory_detail, name="detail"),
    path("<slug:slug>/dashboard/", views.territory_dashboard, name="dashboard"),
    path("<slug:slug>/dashboard/cycle/", views.territory_cycle_phase, name="cycle_phase"),
    path("<slug:slug>/steps/<slug:key>/", views.territory_step, name="step"),
    path("<slug:slug>/edit/", views.territory_edit, name="edit"),
    path("<slug:slug>/new/", views.territory_new, name="new"),
    path("<slug:slug>/coordination/", views.coordination, name="coordination"),
    path("<slug:slug>/coordination/<int:pk>/", views.coordination_member_edit, name="member_edit"),
    path("<slug:slug>/roles/", views.roles, name="roles"),
    path("<slug:slug>/roles/<int:pk>/remove/", views.role_remove, name="role_remove"),
    path("<slug:slug>/groups/new/", consultation_views.group_new, name="group_new"),
]
