from typing import Any

from django.apps import AppConfig
from django.db.models.signals import post_migrate
from django.utils.translation import gettext_lazy as _


def _load_factor_sets(sender: AppConfig, using: str = "default", **kwargs: Any) -> None:
    from spiral.carbon.factorsets import factor_sets_sync

    factor_sets_sync()


class CarbonConfig(AppConfig):
    name = "spiral.carbon"
    verbose_name = _("Carbon footprint")

    def ready(self) -> None:
        # The shipped factor sets (data/carbon/factors/*.json) are in the database after every
        # migrate, like the other reference data; a version already loaded is never overwritten.
        post_migrate.connect(_load_factor_sets, sender=self, dispatch_uid="spiral_carbon_factors")
