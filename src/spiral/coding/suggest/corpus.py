"""Training examples: the seed corpus written by the project, and the demo criteria.

Both are UTF-8 TSV files under ``src/spiral/data/`` (see ``data/corpus/README.md``)."""

from __future__ import annotations

import csv
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings

CORPUS_DIR = Path(settings.PACKAGE_DIR) / "data" / "corpus"
DEMO_CRITERIA = Path(settings.PACKAGE_DIR) / "data" / "demo" / "criteria.tsv"

# The short question codes of the data files and of the default question set, and the
# question kinds the models are trained with.
QUESTION_KINDS = ("well_being", "ill_being", "action", "other")
QUESTION_ALIASES = {"q1": "well_being", "q2": "ill_being", "q3": "action"}


def question_kind(value: str | None) -> str:
    """A question kind (``well_being``...) from a kind or a short code (``q1``); "" if unknown."""
    text = (value or "").strip().lower()
    text = QUESTION_ALIASES.get(text, text)
    return text if text in QUESTION_KINDS else ""


@dataclass(frozen=True)
class Example:
    """One coded text: what a suggester learns from."""

    text: str
    language: str
    question: str  # a question kind, or "" when unknown
    component: str
    group: str = ""  # who wrote it (seed corpus) or where it comes from; used to split
    weight: float = 1.0


class CorpusError(ValueError):
    """A corpus file that cannot be read; the message names the file and the line."""


def _read_tsv(path: Path, required: Iterable[str]) -> list[tuple[int, dict[str, str]]]:
    with path.open(encoding="utf-8", newline="") as handle:
        reader = csv.DictReader(handle, delimiter="\t", quoting=csv.QUOTE_NONE)
        missing = [name for name in required if name not in (reader.fieldnames or [])]
        if missing:
            raise CorpusError(f"{path.name}: missing column(s) {', '.join(missing)}")
        return [(number, row) for number, row in enumerate(reader, start=2)]


def load_seed_corpus(directory: Path | None = None) -> list[Example]:
    """Every row of every ``seed-*.tsv`` present, in file order (files sorted by name)."""
    directory = directory or CORPUS_DIR
    examples: list[Example] = []
    for path in sorted(directory.glob("seed-*.tsv")):
        columns = ("language", "question", "component", "group", "text")
        for number, row in _read_tsv(path, columns):
            text = (row.get("text") or "").strip()
            component = (row.get("component") or "").strip().upper()
            if not text and not component:
                continue  # a blank line
            if not text or not component:
                raise CorpusError(f"{path.name}, line {number}: text and component are required")
            examples.append(
                Example(
                    text=text,
                    language=(row.get("language") or "").strip().lower(),
                    question=question_kind(row.get("question")),
                    component=component,
                    group=(row.get("group") or "").strip() or f"{path.stem}-{number}",
                )
            )
    return examples


def demo_group(language: str, profiles: str) -> str:
    """The group a demo text is put in for a split: its language and first profile (the demo
    file names no writer, so this is the closest honest stand-in for "who wrote it")."""
    first = (profiles or "").split(",")[0].strip() or "anyone"
    return f"demo-{language}-{first}"


def load_demo_examples(path: Path | None = None) -> list[Example]:
    """The demo criteria (``data/demo/criteria.tsv``) as examples, grouped by language and
    profile."""
    path = path or DEMO_CRITERIA
    examples = []
    for number, row in _read_tsv(path, ("language", "question", "component", "text")):
        text = (row.get("text") or "").strip()
        component = (row.get("component") or "").strip().upper()
        if not text or not component:
            raise CorpusError(f"{path.name}, line {number}: text and component are required")
        language = (row.get("language") or "").strip().lower()
        examples.append(
            Example(
                text=text,
                language=language,
                question=question_kind(row.get("question")),
                component=component,
                group=demo_group(language, row.get("profiles") or ""),
            )
        )
    return examples
