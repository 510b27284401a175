from django.urls import path

from spiral.reports import views

app_name = "reports"

urlpatterns = [
    path("groups/<int:pk>.pdf", views.group_report_pdf, name="group"),
    path("territories/<slug:slug>.pdf", views.territory_report_pdf, name="territory"),
    path("territories/<slug:slug>/compare.pdf", views.compare_report_pdf, name="compare"),
]
