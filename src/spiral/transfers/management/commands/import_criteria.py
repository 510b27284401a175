"""Import criteria from a CSV, XLSX or paste file into a meeting, without the screens."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from spiral.accounts.models import User
from spiral.consultations.models import Meeting
from spiral.core.errors import ImportRejected
from spiral.transfers.fields import CRITERIA_FIELDS
from spiral.transfers.models import ImportKind, ImportStatus
from spiral.transfers.services import import_job_create, import_job_run, import_job_table


class Command(BaseCommand):
    help = (
        "Import criteria into a meeting, all or nothing: every bad line is printed with its "
        "reason and nothing is saved unless every line is right."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", type=Path)
        parser.add_argument("--meeting", type=int, required=True, help="id of the meeting")
        parser.add_argument("--question", default="", help="question code when no column says")
        parser.add_argument("--format", choices=["csv", "xlsx", "paste"], default="")
        parser.add_argument("--no-header", action="store_true", help="the first line is data")
        parser.add_argument(
            "--column",
            action="append",
            default=[],
            metavar="FIELD=COLUMN",
            help="which column holds a field (name or number from 1), e.g. text=Critère",
        )
        parser.add_argument("--user", default="", help="username recorded as the author")

    def handle(self, *args: Any, **options: Any) -> None:
        meeting = (
            Meeting.objects.select_related("group__territory").filter(pk=options["meeting"]).first()
        )
        if meeting is None:
            raise CommandError(f"No meeting {options['meeting']}.")
        user = None
        if options["user"]:
            user = User.objects.filter(username=options["user"]).first()
            if user is None:
                raise CommandError(f"No user {options['user']}.")
        path: Path = options["file"]
        try:
            job = import_job_create(
                kind=ImportKind.CRITERIA,
                user=user,
                filename=path.name,
                content=path.read_bytes(),
                territory=meeting.group.territory,
                meeting=meeting,
                file_format=options["format"],
            )
        except ImportRejected as rejected:
            raise CommandError(str(rejected)) from rejected
        job.has_header = not options["no_header"]
        columns = import_job_table(job=job).columns
        keys = {f.key for f in CRITERIA_FIELDS}
        for item in options["column"]:
            key, _sep, column = item.partition("=")
            if key not in keys:
                raise CommandError(f"Unknown field {key}: use one of {', '.join(sorted(keys))}.")
            if column.isdigit():
                job.mapping[key] = int(column) - 1
            elif column in columns:
                job.mapping[key] = columns.index(column)
            else:
                raise CommandError(f"No column {column!r}; the columns are {columns}.")
        job.options = {"question": options["question"]}
        job.save()
        job = import_job_run(job=job)
        if job.status != ImportStatus.DONE:
            for error in job.errors:
                self.stderr.write(f"line {error['line']}: {error['message']}")
            raise CommandError(f"Nothing was saved: {job.error_count} line(s) to correct.")
        self.stdout.write(f"{job.created_count} criteria imported into meeting {meeting.pk}.")
