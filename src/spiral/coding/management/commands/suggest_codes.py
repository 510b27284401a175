"""Suggest components for the texts of a CSV or TSV file."""

from __future__ import annotations

import csv
import io
import sys
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from spiral.coding.suggest.corpus import question_kind
from spiral.grid.models import GridVersion

OUTPUT_COLUMNS = [f"{name}_{rank}" for rank in (1, 2, 3) for name in ("component", "confidence")]


def read_table(path: Path) -> tuple[list[dict[str, str]], list[str], str]:
    """Rows, header and delimiter of a CSV (comma or semicolon) or TSV file."""
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as error:
        raise CommandError(f"{path}: cannot be read as UTF-8 text ({error})") from error
    first_line = text.split("\n", 1)[0]
    if path.suffix.lower() in (".tsv", ".tab") or "\t" in first_line:
        delimiter = "\t"
    elif first_line.count(";") > first_line.count(","):
        delimiter = ";"
    else:
        delimiter = ","
    reader = csv.DictReader(io.StringIO(text, newline=""), delimiter=delimiter)
    header = [name.strip() for name in (reader.fieldnames or [])]
    reader.fieldnames = header
    if "text" not in header:
        raise CommandError(
            f"{path}: no “text” column (columns found: {', '.join(header) or 'none'}). "
            "The file needs a header line with a “text” column, and may have “lang” and "
            "“question” columns."
        )
    return [dict(row) for row in reader], header, delimiter


class Command(BaseCommand):
    help = (
        "Read a CSV or TSV file with a “text” column (optional “lang” and “question” columns) "
        "and write the same rows with the 3 most likely components of the default grid and their "
        "confidences. Uses the network's current suggestion model; when there is none, one is "
        "trained from the seed corpus first and stored."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", type=Path)
        parser.add_argument("--output", type=Path, help="Write here instead of standard output.")

    def handle(self, *args: Any, **options: Any) -> None:
        from spiral.coding.suggest.engine import Query
        from spiral.coding.suggest.training import loaded_suggester, network_model

        rows, header, delimiter = read_table(options["file"])
        version = GridVersion.objects.default()
        if version is None:
            raise CommandError("No default grid version is loaded.")
        model = network_model(version=version)
        suggester = loaded_suggester(model)
        language_column = next((c for c in ("lang", "language") if c in header), "")
        queries = [
            Query(
                text=(row.get("text") or "").strip(),
                language=(row.get(language_column) or "").strip().lower(),
                question=question_kind(row.get("question")),
            )
            for row in rows
        ]
        ranked = suggester.predict(queries, k=3) if queries else []
        out_header = header + [c for c in OUTPUT_COLUMNS if c not in header]
        handle = (
            options["output"].open("w", encoding="utf-8", newline="")
            if options["output"]
            else io.StringIO()
        )
        try:
            writer = csv.DictWriter(
                handle, fieldnames=out_header, delimiter=delimiter, lineterminator="\n"
            )
            writer.writeheader()
            for row, query, suggestions in zip(rows, queries, ranked, strict=True):
                if not query.text:
                    suggestions = []  # nothing to suggest from an empty cell
                for rank in (1, 2, 3):
                    suggestion = suggestions[rank - 1] if len(suggestions) >= rank else None
                    row[f"component_{rank}"] = suggestion.component if suggestion else ""
                    row[f"confidence_{rank}"] = f"{suggestion.confidence:.4f}" if suggestion else ""
                writer.writerow({k: row.get(k, "") for k in out_header})
        finally:
            if options["output"]:
                handle.close()
        if options["output"]:
            self.stderr.write(
                f"{len(rows)} rows written to {options['output']} (model #{model.pk})."
            )
        else:
            assert isinstance(handle, io.StringIO)
            self.stdout.write(handle.getvalue(), ending="")
            sys.stdout.flush()
