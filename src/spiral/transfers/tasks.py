"""Background imports (django-tasks): large files are checked and saved by the task worker."""

from __future__ import annotations

from django_tasks import task


@task()
def import_job_task(job_id: int) -> dict[str, object]:
    """Run an import job that was too large to run during the request."""
    from spiral.transfers.models import ImportJob
    from spiral.transfers.services import import_job_run

    job = import_job_run(job=ImportJob.objects.get(pk=job_id))
    return {"job": job.pk, "status": job.status, "created": job.created_count}
