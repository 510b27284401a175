"""Write the open-data package of a territory (and everything below it) to a zip file."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from spiral.territories.models import Territory
from spiral.transfers.package import package_build


class Command(BaseCommand):
    help = "Export the open-data package of a territory (CSV + datapackage.json + codebook)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("out", type=Path)
        parser.add_argument("--territory", type=int, required=True, help="id of the territory")
        parser.add_argument(
            "--full",
            action="store_true",
            help="for the territory's team: private territories, group names and small groups' "
            "profiles included (never people's names or accounts)",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        territory = Territory.objects.filter(pk=options["territory"]).first()
        if territory is None:
            raise CommandError(f"No territory {options['territory']}.")
        content, report = package_build(territory=territory, public=not options["full"])
        options["out"].write_bytes(content)
        counts = ", ".join(f"{v} {k}" for k, v in report.counts.items())
        self.stdout.write(f"{options['out']}: {counts}.")
        if report.suppressed_profiles or report.private_territories_left_out:
            self.stdout.write(
                f"Small-numbers rule: {report.suppressed_profiles} group profile(s) left empty, "
                f"{report.private_territories_left_out} private territory(ies) left out."
            )
