from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SelfEntryConfig(AppConfig):
    name = "spiral.selfentry"
    label = "selfentry"
    verbose_name = _("Self-entry by participants")
