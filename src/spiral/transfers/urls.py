from django.urls import path

from spiral.transfers import views

app_name = "transfers"

urlpatterns = [
    path("meetings/<int:pk>/import/", views.meeting_import, name="meeting_import"),
    path("groups/<int:pk>/import/", views.group_import, name="group_import"),
    path("territories/<slug:slug>/", views.territory_transfers, name="territory"),
    path(
        "territories/<slug:slug>/import/<str:kind>/",
        views.territory_import,
        name="territory_import",
    ),
    path(
        "territories/<slug:slug>/export/<str:what>.<str:fmt>",
        views.territory_list_export,
        name="territory_export",
    ),
    path("territories/<slug:slug>/package.zip", views.territory_package, name="package"),
    path(
        "groups/<int:pk>/synthesis.<str:fmt>",
        views.group_synthesis_export,
        name="group_synthesis_export",
    ),
    path("grid/<slug:code>/codebook.qdc", views.grid_codebook, name="codebook"),
    path("imports/<int:pk>/", views.job_detail, name="job"),
    path("imports/<int:pk>/replace/", views.job_replace, name="job_replace"),
    path("imports/<int:pk>/progress/", views.job_progress, name="job_progress"),
    path("imports/<int:pk>/report.csv", views.job_report, name="job_report"),
    path("package/import/", views.package_upload, name="package_import"),
]
