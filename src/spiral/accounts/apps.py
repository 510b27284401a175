from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AccountsConfig(AppConfig):
    name = "spiral.accounts"
    verbose_name = _("Accounts and roles")

    def ready(self) -> None:
        from django.contrib.auth.signals import user_logged_in

        from spiral.accounts.signals import remember_preferred_language

        user_logged_in.connect(
            remember_preferred_language, dispatch_uid="spiral_preferred_language"
        )
