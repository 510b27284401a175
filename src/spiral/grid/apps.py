from typing import Any

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


def _touch_version(sender: type, instance: Any, **kwargs: Any) -> None:
    """Any change to an entry moves its version's ``updated_at`` (the grid-structure cache key)."""
    from django.utils import timezone

    from spiral.grid.models import GridVersion

    GridVersion.objects.filter(pk=instance.version_id).update(updated_at=timezone.now())


class GridConfig(AppConfig):
    name = "spiral.grid"
    verbose_name = _("SPIRAL grid")

    def ready(self) -> None:
        from django.db.models.signals import post_delete, post_save

        from spiral.grid.models import (
            Beneficiary,
            Component,
            Dimension,
            ObjectDetail,
            SenseCategory,
            SenseReason,
        )

        for model in (Dimension, Component, ObjectDetail, SenseCategory, SenseReason, Beneficiary):
            post_save.connect(_touch_version, sender=model, dispatch_uid=f"touch-{model.__name__}")
            post_delete.connect(
                _touch_version, sender=model, dispatch_uid=f"touch-del-{model.__name__}"
            )
