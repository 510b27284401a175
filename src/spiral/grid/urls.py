from django.urls import path

from spiral.grid import views

app_name = "grid"

urlpatterns = [
    path("", views.grid_default, name="default"),
    path("import/", views.grid_import, name="import"),
    path("mappings/import/", views.mapping_import, name="mapping_import"),
    path("mappings/<int:pk>/apply/", views.mapping_apply, name="mapping_apply"),
    path("<slug:code>/", views.grid_browser, name="browser"),
    path("<slug:code>/check/", views.grid_code_check, name="check"),
    path("<slug:code>/export.csv", views.grid_export, name="export"),
]
