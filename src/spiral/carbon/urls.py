from django.urls import path

from spiral.carbon import views

app_name = "carbon"

urlpatterns = [
    path("", views.home, name="home"),
    path("start/", views.start, name="start"),
    path("mine/", views.mine, name="mine"),
    path("r/<str:token>/", views.result_view, name="result"),
    path("r/<str:token>/redo/", views.result_redo, name="redo"),
    path("r/<str:token>/pledge/", views.result_pledge, name="pledge"),
    path("campaigns/<int:pk>/", views.campaign_view, name="campaign"),
    path("campaigns/<int:pk>/join/", views.campaign_join, name="join"),
    path("campaigns/<int:pk>/workshop/", views.campaign_workshop, name="workshop"),
    path("campaigns/<int:pk>/adopt/", views.campaign_adopt, name="adopt"),
    path("campaigns/<int:pk>/toggle/", views.campaign_toggle, name="toggle"),
    path("campaigns/<int:pk>/export.<str:fmt>", views.campaign_export, name="export"),
    path("territories/<slug:slug>/", views.territory_view, name="territory"),
    path("territories/<slug:slug>/campaigns/new/", views.campaign_new, name="campaign_new"),
    path("factors/", views.factor_sets, name="factor_sets"),
    path("factors/<int:pk>/", views.factor_set_view, name="factor_set"),
]
