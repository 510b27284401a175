from django.urls import path

from spiral.selfentry import views

app_name = "selfentry"

urlpatterns = [
    path("meetings/<int:pk>/selfentry/", views.projection, name="projection"),
    path("meetings/<int:pk>/selfentry/open/", views.open_view, name="open"),
    path("meetings/<int:pk>/selfentry/close/", views.close_view, name="close"),
    path("meetings/<int:pk>/selfentry/link/", views.restitution_toggle, name="restitution_toggle"),
    path("meetings/<int:pk>/wall/", views.wall, name="wall"),
    path("meetings/<int:pk>/wall/board/", views.wall_board, name="wall_board"),
    path("meetings/<int:pk>/wall/merge/", views.merge_view, name="merge"),
    path(
        "meetings/<int:pk>/wall/merges/<int:merge_pk>/undo/",
        views.merge_undo_view,
        name="merge_undo",
    ),
    path("meetings/<int:pk>/wall/validate/", views.validate_view, name="validate"),
    # Short public links: typed from a projected screen on a phone.
    path("s/", views.phone_start, name="phone_start"),
    path("s/<str:code>/", views.phone, name="phone"),
    path("s/<str:code>/postits/", views.phone_submit, name="phone_submit"),
    path("s/<str:code>/status/", views.phone_status, name="phone_status"),
    path("r/<str:token>/", views.restitution, name="restitution"),
]
