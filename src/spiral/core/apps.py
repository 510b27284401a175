from typing import Any

from django.apps import AppConfig
from django.db.models.signals import post_migrate
from django.utils.translation import gettext_lazy as _


def _load_reference_data(sender: AppConfig, using: str = "default", **kwargs: Any) -> None:
    from spiral.core.reference_data import sync_reference_data

    sync_reference_data()


class CoreConfig(AppConfig):
    name = "spiral.core"
    verbose_name = _("Core")

    def ready(self) -> None:
        # After every migrate (and every test-database flush), the shipped reference data —
        # grid, profiles, question sets, method steps — is there without a manual step.
        post_migrate.connect(
            _load_reference_data, sender=self, dispatch_uid="spiral_reference_data"
        )
