"""Abstract bases shared by every app."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from spiral.core.i18n import translated


class TimeStampedModel(models.Model):
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        abstract = True


class LabelledModel(models.Model):
    """A controlled-vocabulary entry with its label in every interface language."""

    label_fr = models.CharField(_("label (French)"), max_length=200)
    label_en = models.CharField(_("label (English)"), max_length=200)

    class Meta:
        abstract = True

    def __str__(self) -> str:
        return self.label

    @property
    def label(self) -> str:
        return translated(self, "label")
