"""Imports waiting for a mapping, being checked or saved: the file, its mapping, the progress
row the browser polls and the line-by-line report."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class ImportKind(models.TextChoices):
    CRITERIA = "criteria", _("criteria")
    TERRITORIES = "territories", _("territories")
    GROUPS = "groups", _("homogeneous groups")


class ImportStatus(models.TextChoices):
    UPLOADED = "uploaded", _("waiting for the column mapping")
    QUEUED = "queued", _("waiting for the task worker")
    CHECKING = "checking", _("checking every line")
    SAVING = "saving", _("saving")
    REJECTED = "rejected", _("refused: nothing was saved")
    DONE = "done", _("saved")
    FAILED = "failed", _("failed")


class ImportJob(models.Model):
    """One uploaded file and what became of it. The content is kept until the import is done,
    so a refused file can be mapped again without uploading it twice, and at most
    SPIRAL_IMPORT_RETENTION_DAYS after a refused or abandoned import (``clean_imports``); the
    row itself, with its report, stays."""

    kind = models.CharField(_("kind"), max_length=20, choices=ImportKind.choices)
    status = models.CharField(
        _("status"), max_length=20, choices=ImportStatus.choices, default=ImportStatus.UPLOADED
    )
    # Where the rows go: a meeting, a group (meetings found or created by date) or a territory.
    territory = models.ForeignKey(
        "territories.Territory", on_delete=models.CASCADE, related_name="import_jobs"
    )
    group = models.ForeignKey(
        "consultations.HomogeneousGroup",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="import_jobs",
    )
    meeting = models.ForeignKey(
        "consultations.Meeting",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="import_jobs",
    )
    filename = models.CharField(_("file"), max_length=255)
    file_format = models.CharField(_("format"), max_length=10)
    content = models.BinaryField()
    has_header = models.BooleanField(_("the first line holds column names"), default=True)
    mapping = models.JSONField(default=dict, blank=True)
    options = models.JSONField(default=dict, blank=True)
    total_lines = models.PositiveIntegerField(default=0)
    processed_lines = models.PositiveIntegerField(default=0)
    created_count = models.PositiveIntegerField(default=0)
    errors = models.JSONField(default=list, blank=True)
    error_count = models.PositiveIntegerField(default=0)
    # Empty for imports run from the command line.
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="import_jobs",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    file_removed_at = models.DateTimeField(_("file deleted"), null=True, blank=True)

    class Meta:
        verbose_name = _("import")
        verbose_name_plural = _("imports")
        ordering = ["-created_at", "-pk"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} – {self.filename}"

    @property
    def percent(self) -> int:
        if not self.total_lines:
            return 0
        return min(100, round(100 * self.processed_lines / self.total_lines))

    @property
    def is_running(self) -> bool:
        return self.status in (ImportStatus.QUEUED, ImportStatus.CHECKING, ImportStatus.SAVING)
