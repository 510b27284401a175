"""Train a suggestion model now, in this process (the page and the automatic retraining use the
task worker instead)."""

from __future__ import annotations

import json
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from spiral.grid.models import GridVersion
from spiral.territories.models import Territory


class Command(BaseCommand):
    help = (
        "Train a new suggestion model of a grid version (default: the default version) for the "
        "network or one territory, measure it on held-out groups, and make it current."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--grid-version", help="Code of the grid version.")
        parser.add_argument("--territory", help="Slug of a territory, for its own model.")
        parser.add_argument(
            "--no-evaluate", action="store_true", help="Skip the held-out measurement."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        from spiral.coding.suggest.training import suggestion_model_create, suggestion_model_train

        code = options["grid_version"]
        version = (
            GridVersion.objects.filter(code=code).first() if code else GridVersion.objects.default()
        )
        if version is None:
            raise CommandError("No such grid version.")
        territory = None
        if options["territory"]:
            territory = Territory.objects.filter(slug=options["territory"]).first()
            if territory is None:
                raise CommandError(f"No territory with the slug {options['territory']!r}.")
        model = suggestion_model_create(version=version, territory=territory)
        model = suggestion_model_train(model=model, evaluate=not options["no_evaluate"])
        self.stdout.write(
            f"Model #{model.pk} is current: {model.examples} examples "
            f"({model.coded_examples} from codings), {model.training_seconds} s."
        )
        if model.metrics:
            self.stdout.write(json.dumps(model.metrics.get("overall", {})))
