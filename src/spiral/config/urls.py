from django.contrib import admin
from django.urls import include, path
from django.views.generic import RedirectView

from spiral.config.api import api
from spiral.core import views as core_views

urlpatterns = [
    path("", core_views.home, name="home"),
    path("healthz", core_views.health, name="health"),
    path("favicon.ico", RedirectView.as_view(url="/static/spiral/favicon.svg", permanent=True)),
    path("accounts/", include("spiral.accounts.urls")),
    path("", include("spiral.syntheses.urls")),
    path("territories/", include("spiral.territories.urls")),
    path("grid/", include("spiral.grid.urls")),
    path("coding/", include("spiral.coding.urls")),
    path("quality/", include("spiral.quality.urls")),
    path("indicators/", include("spiral.indicators.urls")),
    path("actions/", include("spiral.actions.urls")),
    path("carbon/", include("spiral.carbon.urls")),
    path("transfers/", include("spiral.transfers.urls")),
    path("reports/", include("spiral.reports.urls")),
    path("", include("spiral.consultations.urls")),
    path("", include("spiral.selfentry.urls")),
    path("i18n/", include("django.conf.urls.i18n")),
    path("admin/", admin.site.urls),
    path("api/v1/", api.urls),
]
