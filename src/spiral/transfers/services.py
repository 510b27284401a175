"""Running an import job: read the stored file, check every line, save all or nothing, and
keep the progress row and the report up to date for the page that polls it."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from spiral.accounts.models import User
from spiral.consultations.models import HomogeneousGroup, Meeting
from spiral.core.errors import ImportRejected, LineError
from spiral.territories.models import Territory
from spiral.transfers.fields import mapping_guess
from spiral.transfers.importers import (
    CriteriaTarget,
    criteria_import_check,
    criteria_import_commit,
    groups_import_check,
    groups_import_commit,
    territories_import_check,
    territories_import_commit,
)
from spiral.transfers.models import ImportJob, ImportKind, ImportStatus
from spiral.transfers.readers import Table, detect_format, read_table, xlsx_row_count

logger = logging.getLogger(__name__)
# The report keeps this many bad lines; the count says how many there were in all.
REPORT_LIMIT = 1000


@transaction.atomic
def import_job_create(
    *,
    kind: str,
    user: User | None,
    filename: str,
    content: bytes,
    territory: Territory,
    group: HomogeneousGroup | None = None,
    meeting: Meeting | None = None,
    file_format: str = "",
) -> ImportJob:
    """Store an uploaded file and guess its column mapping (read errors raise ImportRejected)."""
    file_format = file_format or detect_format(filename, content)
    # A large workbook is slow to read: read its first rows (for the mapping) and take the count
    # it declares; the import itself reads it all once.
    declared = xlsx_row_count(content) if file_format == "xlsx" else None
    table = read_table(content, file_format=file_format, limit=100 if declared else None)
    job = ImportJob(
        kind=kind,
        territory=territory,
        group=group,
        meeting=meeting,
        filename=filename[:255],
        file_format=file_format,
        content=content,
        total_lines=max(declared - 1, 0) if declared else len(table.rows),
        created_by=user,
        mapping=mapping_guess(kind=kind, columns=table.columns),
    )
    job.save()
    # Every upload also deletes the files that outlived the retention, so storage stays bounded
    # even where no one scheduled clean_imports (one UPDATE of a small table).
    import_files_clean()
    return job


def import_job_table(*, job: ImportJob, limit: int | None = None) -> Table:
    """The job's file as a table; ``limit`` reads only the first rows (for the preview)."""
    return read_table(
        bytes(job.content), file_format=job.file_format, has_header=job.has_header, limit=limit
    )


@transaction.atomic
def import_job_configure(
    *, job: ImportJob, mapping: dict[str, int | None], has_header: bool, options: dict[str, str]
) -> ImportJob:
    if has_header != job.has_header:
        # The header line becomes data or the reverse; no need to read a large file again.
        job.total_lines += -1 if has_header else 1
    job.mapping = mapping
    job.has_header = has_header
    job.options = options
    job.status = ImportStatus.UPLOADED
    job.errors = []
    job.error_count = 0
    job.processed_lines = 0
    job.save()
    return job


def import_runs_in_background(job: ImportJob) -> bool:
    return job.total_lines > settings.SPIRAL_IMPORT_SYNC_LIMIT


def import_job_start(*, job: ImportJob) -> ImportJob:
    """Run a small import now; hand a large one to the task worker (the page polls progress)."""
    if not import_runs_in_background(job):
        return import_job_run(job=job)
    from spiral.transfers.tasks import import_job_task

    ImportJob.objects.filter(pk=job.pk).update(status=ImportStatus.QUEUED, processed_lines=0)
    job.refresh_from_db()
    transaction.on_commit(lambda: import_job_task.enqueue(job_id=job.pk))
    return job


def _progress(job: ImportJob) -> object:
    def report(done: int) -> None:
        # Outside the import's transaction, so the page polling the row sees it move.
        ImportJob.objects.filter(pk=job.pk).update(processed_lines=done)

    return report


def _finish(
    job: ImportJob,
    *,
    status: str,
    errors: list[LineError],
    created: int = 0,
    lines: int | None = None,
) -> None:
    job.status = status
    job.error_count = len(errors)
    job.errors = [
        {"line": e.line, "message": str(e.message), "content": e.content}
        for e in sorted(errors, key=lambda e: e.line)[:REPORT_LIMIT]
    ]
    job.created_count = created
    job.finished_at = timezone.now()
    if lines is not None:
        job.total_lines = lines
    job.processed_lines = job.total_lines if status == ImportStatus.DONE else job.processed_lines
    job.save()


def import_job_run(*, job: ImportJob) -> ImportJob:
    """Check every line, then save everything in one transaction or nothing at all."""
    job.status = ImportStatus.CHECKING
    job.save(update_fields=["status"])
    progress = _progress(job)
    try:
        table = import_job_table(job=job)
        mapping = {k: (int(v) if v is not None else None) for k, v in job.mapping.items()}
        user = job.created_by
        if job.kind == ImportKind.CRITERIA:
            target = CriteriaTarget(
                territory=job.territory,
                group=job.group,
                meeting=job.meeting,
                default_question=job.options.get("question", ""),
            )
            plan = criteria_import_check(
                table=table,
                mapping=mapping,
                target=target,
                progress=progress,  # type: ignore[arg-type]
            )
            if plan.errors:
                _finish(
                    job, status=ImportStatus.REJECTED, errors=plan.errors, lines=len(table.rows)
                )
                return job
            _set_status(job, ImportStatus.SAVING)
            created = criteria_import_commit(plan=plan, job_id=job.pk, user=user)
        elif job.kind == ImportKind.TERRITORIES:
            territories_plan = territories_import_check(
                table=table, mapping=mapping, root=job.territory
            )
            if territories_plan.errors:
                _finish(
                    job,
                    status=ImportStatus.REJECTED,
                    errors=territories_plan.errors,
                    lines=len(table.rows),
                )
                return job
            _set_status(job, ImportStatus.SAVING)
            created = territories_import_commit(plan=territories_plan, root=job.territory)
        else:
            groups_plan = groups_import_check(
                table=table, mapping=mapping, root=job.territory, user=user
            )
            if groups_plan.errors:
                _finish(
                    job,
                    status=ImportStatus.REJECTED,
                    errors=groups_plan.errors,
                    lines=len(table.rows),
                )
                return job
            _set_status(job, ImportStatus.SAVING)
            created = groups_import_commit(plan=groups_plan)
    except ImportRejected as rejected:
        _finish(job, status=ImportStatus.REJECTED, errors=rejected.errors)
        return job
    except Exception:
        logger.exception("import %s failed", job.pk)
        _finish(
            job,
            status=ImportStatus.FAILED,
            errors=[LineError(0, _("The import failed unexpectedly; nothing was saved."))],
        )
        return job
    _finish(job, status=ImportStatus.DONE, errors=[], created=created, lines=len(table.rows))
    # The file is no longer needed once its rows are in the database.
    ImportJob.objects.filter(pk=job.pk).update(content=b"", file_removed_at=timezone.now())
    return job


def import_files_clean(*, now: datetime | None = None, dry_run: bool = False) -> int:
    """Delete the stored files of imports refused, failed or left unmapped more than
    SPIRAL_IMPORT_RETENTION_DAYS ago (the rows and their reports stay); returns how many.

    A running import keeps its file whatever its age: the task worker may still need it."""
    now = now or timezone.now()
    cutoff = now - timedelta(days=settings.SPIRAL_IMPORT_RETENTION_DAYS)
    expired = (
        ImportJob.objects.filter(file_removed_at__isnull=True)
        .exclude(status__in=[ImportStatus.QUEUED, ImportStatus.CHECKING, ImportStatus.SAVING])
        .filter(Q(finished_at__lt=cutoff) | Q(finished_at__isnull=True, created_at__lt=cutoff))
    )
    if dry_run:
        return expired.count()
    return expired.update(content=b"", file_removed_at=now)


def _set_status(job: ImportJob, status: str) -> None:
    job.status = status
    ImportJob.objects.filter(pk=job.pk).update(status=status)
