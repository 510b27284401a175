from django.urls import path  # noqa: F401 - the coding screen's routes are added here

app_name = "coding"

urlpatterns: list = []
