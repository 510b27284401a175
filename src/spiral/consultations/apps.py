from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ConsultationsConfig(AppConfig):
    name = "spiral.consultations"
    verbose_name = _("Groups, meetings and criteria")
