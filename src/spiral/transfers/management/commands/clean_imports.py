"""Delete the stored files of old refused, failed or abandoned imports (run it daily)."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandParser

from spiral.selfentry.ratelimit import rate_limits_purge
from spiral.transfers.services import import_files_clean


class Command(BaseCommand):
    help = (
        "Delete the files of imports refused, failed or left without a column mapping more than "
        "SPIRAL_IMPORT_RETENTION_DAYS days ago (the imports and their reports stay), and the "
        "counters of self-entry rate limits whose window is over. Run it once a day."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--dry-run", action="store_true", help="only say how many files would be deleted"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        days = settings.SPIRAL_IMPORT_RETENTION_DAYS
        count = import_files_clean(dry_run=options["dry_run"])
        if options["dry_run"]:
            self.stdout.write(f"{count} import file(s) older than {days} days would be deleted.")
            return
        purged = rate_limits_purge()
        self.stdout.write(
            f"{count} import file(s) older than {days} days deleted; "
            f"{purged} expired rate-limit counter(s) deleted."
        )
