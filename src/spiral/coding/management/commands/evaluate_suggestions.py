"""Evaluate the suggestion engine on the seed corpus, held-out groups and held-out languages."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from spiral.coding.suggest.corpus import CorpusError, load_demo_examples, load_seed_corpus
from spiral.coding.suggest.evaluation import SPLITS, evaluate, results_table
from spiral.grid.models import GridVersion


class Command(BaseCommand):
    help = (
        "Top-1 and top-3 accuracy of the code suggestions, at component and dimension level and "
        "per language: (a) by group (GroupKFold over the corpus's group column, languages "
        "pooled), (b) cross-lingual (trained on fr+en, tested on pt/it/es), optionally (c) by "
        "profile across languages. Extra training data (demo criteria, grid labels) is never "
        "tested. Hyper-parameters are tuned inside each training fold only."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--folds", type=int, default=5, help="Folds of the group splits.")
        parser.add_argument(
            "--splits",
            default="group,cross-lingual",
            help=f"Comma-separated, among {', '.join(SPLITS)}.",
        )
        parser.add_argument("--corpus", type=Path, help="Folder of seed-*.tsv files.")
        parser.add_argument(
            "--no-demo", action="store_true", help="Do not add the demo criteria to training."
        )
        parser.add_argument(
            "--no-grid", action="store_true", help="Do not add the grid's labels to training."
        )
        parser.add_argument(
            "--no-tune",
            action="store_true",
            help="Use the default weights instead of tuning them inside each training fold.",
        )
        parser.add_argument("--json", action="store_true", help="Print JSON instead of a table.")

    def handle(self, *args: Any, **options: Any) -> None:
        from spiral.coding.suggest.engine import MemoEncoder, default_encoder
        from spiral.coding.suggest.training import grid_examples, new_suggester

        splits = [s.strip() for s in options["splits"].split(",") if s.strip()]
        unknown = [s for s in splits if s not in SPLITS]
        if unknown:
            raise CommandError(f"Unknown split(s): {', '.join(unknown)}")
        try:
            corpus = load_seed_corpus(options["corpus"])
            extra = [] if options["no_demo"] else load_demo_examples()
        except CorpusError as error:
            raise CommandError(str(error)) from error
        if not corpus:
            raise CommandError("The corpus is empty: no seed-*.tsv file found.")
        version = GridVersion.objects.default()
        if not options["no_grid"] and version is not None:
            extra += grid_examples(version=version)
        encoder = MemoEncoder(default_encoder())
        tune = not options["no_tune"]
        verbose = not options["json"] and options["verbosity"] > 0

        def progress(message: str) -> None:
            if verbose:
                self.stderr.write(message)

        results = evaluate(
            corpus=corpus,
            extra_training=extra,
            make_suggester=lambda: new_suggester(encoder=encoder, tune=tune),
            folds=options["folds"],
            splits=splits,
            progress=progress,
        )
        setup: dict[str, Any] = {
            "corpus_texts": len(corpus),
            "corpus_groups": len({e.group for e in corpus}),
            "languages": sorted({e.language for e in corpus}),
            "components": len({e.component for e in corpus}),
            "extra_training_texts": len(extra),
            "extra_training": [
                name
                for name, used in (
                    ("demo criteria", not options["no_demo"]),
                    ("grid labels", not options["no_grid"]),
                )
                if used
            ],
            "tuned_inside_training_folds": tune,
        }
        if options["json"]:
            self.stdout.write(
                json.dumps(
                    {"setup": setup, "splits": [r.as_dict() for r in results]},
                    indent=2,
                    ensure_ascii=False,
                )
            )
            return
        self.stdout.write(
            f"Seed corpus: {setup['corpus_texts']} texts, {setup['corpus_groups']} groups, "
            f"{setup['components']} components, languages {', '.join(setup['languages'])}; "
            f"extra training only: {setup['extra_training_texts']} texts "
            f"({', '.join(setup['extra_training']) or 'none'}); "
            f"tuning inside training folds: {'yes' if tune else 'no'}."
        )
        for result in results:
            self.stdout.write(f"- {result.name}: {result.description} ({result.seconds:.0f} s)")
        self.stdout.write("")
        self.stdout.write(results_table(results))
