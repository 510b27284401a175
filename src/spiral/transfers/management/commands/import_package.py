"""Load an open-data package made by export_package (or the screens), all or nothing."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from spiral.core.errors import ImportRejected
from spiral.territories.models import Territory
from spiral.transfers.package import package_import


class Command(BaseCommand):
    help = "Import an open-data package (.zip): territories, groups, meetings, criteria, codes."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", type=Path)
        parser.add_argument("--parent", default="", help="short name of the territory above it")

    def handle(self, *args: Any, **options: Any) -> None:
        parent = None
        if options["parent"]:
            parent = Territory.objects.filter(slug=options["parent"]).first()
            if parent is None:
                raise CommandError(f"No territory {options['parent']}.")
        try:
            counts = package_import(content=options["file"].read_bytes(), parent=parent)
        except ImportRejected as rejected:
            for error in rejected.errors:
                self.stderr.write(f"line {error.line}: {error.message}")
            raise CommandError("Nothing was imported.") from rejected
        self.stdout.write("Imported: " + ", ".join(f"{v} {k}" for k, v in counts.items()) + ".")
