from typing import Any

from django.core.management.base import BaseCommand

from spiral.syntheses.services import territory_stats_rebuild


class Command(BaseCommand):
    help = "Recompute the stored counts of every territory from the raw rows."

    def handle(self, *args: Any, **options: Any) -> None:
        count = territory_stats_rebuild()
        self.stdout.write(f"{count} territories recomputed.")
