from django.urls import path

from spiral.consultations import views

app_name = "consultations"

urlpatterns = [
    path("groups/<int:pk>/", views.group_detail, name="group"),
    path("groups/<int:pk>/edit/", views.group_edit, name="group_edit"),
    path("groups/<int:pk>/meetings/new/", views.meeting_new, name="meeting_new"),
    path("meetings/<int:pk>/", views.meeting_detail, name="meeting"),
    path("meetings/<int:pk>/edit/", views.meeting_edit, name="meeting_edit"),
    path("meetings/<int:pk>/transcribe/", views.transcribe, name="transcribe"),
    path("meetings/<int:pk>/criteria/", views.criterion_add, name="criterion_add"),
    path("meetings/<int:pk>/criteria/paste/", views.criteria_paste, name="criteria_paste"),
    path("criteria/<int:pk>/edit/", views.criterion_edit, name="criterion_edit"),
    path("criteria/<int:pk>/row/", views.criterion_row, name="criterion_row"),
    path("criteria/<int:pk>/delete/", views.criterion_remove, name="criterion_delete"),
    path("criteria/<int:pk>/restore/", views.criterion_undelete, name="criterion_restore"),
    path("criteria/<int:pk>/history/", views.criterion_history_view, name="criterion_history"),
]
