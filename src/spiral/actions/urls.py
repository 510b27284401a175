from django.urls import path

from spiral.actions import views

app_name = "actions"

urlpatterns = [
    path("territories/<slug:slug>/", views.territory_actions, name="territory"),
    path("territories/<slug:slug>/new/", views.action_new, name="action_new"),
    path("territories/<slug:slug>/axes/new/", views.axis_new, name="axis_new"),
    path("territories/<slug:slug>/close-cycle/", views.cycle_close_view, name="cycle_close"),
    path("axes/<int:pk>/", views.axis_detail, name="axis"),
    path("axes/<int:pk>/edit/", views.axis_edit, name="axis_edit"),
    path("<int:pk>/", views.action_detail, name="action"),
    path("<int:pk>/edit/", views.action_edit, name="action_edit"),
    path("<int:pk>/decide/", views.action_decide_view, name="decide"),
    path("<int:pk>/commitments/", views.commitment_add_view, name="commitment_add"),
    path("<int:pk>/notes/", views.note_add_view, name="note_add"),
    path("<int:pk>/documents/", views.document_add_view, name="document_add"),
    path("<int:pk>/review/", views.action_review, name="review"),
    path("documents/<int:pk>/", views.document_download, name="document"),
    path("cycles/<int:pk>/", views.cycle_archive, name="cycle_archive"),
]
