"""Stored import files are deleted SPIRAL_IMPORT_RETENTION_DAYS after a refused, failed or
abandoned import: by ``manage.py clean_imports``, and by every new upload."""

from __future__ import annotations

import io
from datetime import timedelta
from typing import Any

import pytest
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone

from spiral.accounts.models import User
from spiral.consultations.models import Meeting
from spiral.transfers.models import ImportJob, ImportKind, ImportStatus
from spiral.transfers.services import import_files_clean, import_job_create, import_job_run
from tests.conftest import client_for
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

GOOD = b"texte;nombre;question\nDu travail;2;q1\n"
BAD = b"texte;nombre;question\n;2;q1\n"


def _job(meeting: Meeting, user: User, content: bytes, *, run: bool = True) -> ImportJob:
    job = import_job_create(
        kind=ImportKind.CRITERIA,
        user=user,
        filename="f.csv",
        content=content,
        territory=meeting.group.territory,
        meeting=meeting,
    )
    return import_job_run(job=job) if run else job


def _age(job: ImportJob, days: int) -> None:
    then = timezone.now() - timedelta(days=days)
    ImportJob.objects.filter(pk=job.pk).update(
        created_at=then, finished_at=then if job.finished_at else None
    )


def _has_file(job: ImportJob) -> bool:
    job.refresh_from_db()
    return bool(bytes(job.content)) and job.file_removed_at is None


def test_old_refused_and_abandoned_files_go_recent_and_running_ones_stay(
    meeting: Meeting, facilitator: User
) -> None:
    old_refused = _job(meeting, facilitator, BAD)
    assert old_refused.status == ImportStatus.REJECTED
    recent_refused = _job(meeting, facilitator, BAD)
    abandoned = _job(meeting, facilitator, GOOD, run=False)
    running = _job(meeting, facilitator, GOOD, run=False)
    ImportJob.objects.filter(pk=running.pk).update(status=ImportStatus.CHECKING)
    _age(old_refused, 31)
    _age(recent_refused, 29)
    _age(abandoned, 40)
    _age(running, 40)
    assert import_files_clean(dry_run=True) == 2
    assert _has_file(old_refused)
    assert import_files_clean() == 2
    assert not _has_file(old_refused)
    assert not _has_file(abandoned)
    assert _has_file(recent_refused)
    assert _has_file(running)
    # The report stays with the row.
    old_refused.refresh_from_db()
    assert old_refused.error_count == 1
    assert old_refused.errors
    # Nothing left to delete: a second run changes nothing.
    assert import_files_clean() == 0


def test_a_saved_import_drops_its_file_at_once(meeting: Meeting, facilitator: User) -> None:
    job = _job(meeting, facilitator, GOOD)
    assert job.status == ImportStatus.DONE
    assert not _has_file(job)


def test_retention_follows_the_setting(meeting: Meeting, facilitator: User, settings: Any) -> None:
    settings.SPIRAL_IMPORT_RETENTION_DAYS = 3
    job = _job(meeting, facilitator, BAD)
    _age(job, 2)
    assert import_files_clean() == 0
    _age(job, 4)
    assert import_files_clean() == 1


def test_command_reports_and_dry_run_keeps(meeting: Meeting, facilitator: User) -> None:
    job = _job(meeting, facilitator, BAD)
    _age(job, 60)
    out = io.StringIO()
    call_command("clean_imports", "--dry-run", stdout=out)
    assert out.getvalue().startswith("1 import file(s) older than 30 days would be deleted")
    assert _has_file(job)
    out = io.StringIO()
    call_command("clean_imports", stdout=out)
    assert out.getvalue().startswith("1 import file(s) older than 30 days deleted")
    assert not _has_file(job)


def test_a_new_upload_deletes_expired_files(meeting: Meeting, facilitator: User) -> None:
    old = _job(meeting, facilitator, BAD)
    _age(old, 31)
    _job(meeting, facilitator, GOOD, run=False)
    assert not _has_file(old)


def test_job_page_after_the_file_was_deleted(meeting: Meeting, facilitator: User) -> None:
    refused = _job(meeting, facilitator, BAD)
    abandoned = _job(meeting, facilitator, GOOD, run=False)
    _age(refused, 31)
    _age(abandoned, 31)
    import_files_clean()
    client = client_for(facilitator)
    page = client.get(reverse("transfers:job", kwargs={"pk": refused.pk}))
    assert page.status_code == 200
    assert "was deleted after 30 days; the report stays" in page.content.decode()
    page = client.get(reverse("transfers:job", kwargs={"pk": abandoned.pk}))
    assert page.status_code == 200
    body = page.content.decode()
    assert "was never imported and was deleted after 30 days" in body
    assert reverse("transfers:job_replace", kwargs={"pk": abandoned.pk}) in body
    # Someone without a role on the territory still cannot see it.
    stranger = client_for(UserFactory())
    assert stranger.get(reverse("transfers:job", kwargs={"pk": abandoned.pk})).status_code in (
        403,
        404,
    )
