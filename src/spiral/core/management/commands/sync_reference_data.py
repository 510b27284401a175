from typing import Any

from django.core.management.base import BaseCommand

from spiral.core.reference_data import sync_reference_data


class Command(BaseCommand):
    help = "Create the missing shipped reference data (grid, profiles, questions, method steps)."

    def handle(self, *args: Any, **options: Any) -> None:
        created = sync_reference_data()
        for name, count in created.items():
            self.stdout.write(f"{name}: {count} created")
