from __future__ import annotations

import os
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from spiral.core.demo import load_demo_data
from spiral.territories.models import Territory

DEFAULT_DEMO_PASSWORD = "spiral-demo-2026"


class Command(BaseCommand):
    help = "Build the fictional demo network (territories, people, groups, 2,000+ criteria)."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument(
            "--if-empty", action="store_true", help="Do nothing if territories exist."
        )
        parser.add_argument("--allow-production", action="store_true")

    def handle(self, *args: Any, **options: Any) -> None:
        if settings.IS_PRODUCTION and not options["allow_production"]:
            raise CommandError("Refusing to load demo data with SPIRAL_ENV=production.")
        if Territory.objects.exists():
            if options["if_empty"]:
                self.stdout.write("The database already has territories: demo data not loaded.")
                return
            raise CommandError(
                "The database already has territories; load the demo into an empty database."
            )
        password = os.environ.get("SPIRAL_DEMO_PASSWORD", DEFAULT_DEMO_PASSWORD)
        summary = load_demo_data(password=password)
        self.stdout.write(
            self.style.SUCCESS(
                f"Demo network loaded: {summary.territories} territories, {summary.groups} groups, "
                f"{summary.meetings} meetings, {summary.criteria} criteria ({summary.coded} coded)."
            )
        )
        self.stdout.write(f"Demo accounts ({', '.join(summary.users)}), password: {password}")
