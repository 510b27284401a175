"""Evaluation that cannot flatter: held-out groups, held-out languages, tuning inside training.

Two splits (and a stricter third one):

- ``group``: GroupKFold over the corpus's ``group`` column (the fictional group that wrote the
  text): no group is both in training and in test; all languages pooled.
- ``cross-lingual``: trained on French and English texts only, tested on Portuguese, Italian and
  Spanish ones.
- ``profile`` (stricter): GroupKFold over the group's *profile* across languages (``young`` holds
  out fr-young-1, en-young-1, pt-young-1... together), so that a post-it and its counterpart
  written for the same kind of group in another language are never on both sides.

Extra training data (the demo criteria, the grid's labels) is added to every training fold and
never tested; for the cross-lingual split only its French and English rows are used. When the
suggester tunes itself, it does so by cross-validation inside the training fold."""

from __future__ import annotations

import time
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from spiral.coding.suggest.corpus import Example
from spiral.coding.suggest.engine import Query, Suggester

SPLITS = ("group", "cross-lingual", "profile")
SOURCE_LANGUAGES = ("fr", "en")
TARGET_LANGUAGES = ("pt", "it", "es")


def dimension_of(component: str) -> str:
    """The dimension letter of a component code (A06 -> A)."""
    return component[:1]


@dataclass
class Tally:
    n: int = 0
    top1_component: int = 0
    top3_component: int = 0
    top1_dimension: int = 0
    top3_dimension: int = 0

    def add(
        self, truth: str, ranked_components: Sequence[str], ranked_dimensions: Sequence[str]
    ) -> None:
        dimension = dimension_of(truth)
        self.n += 1
        self.top1_component += int(list(ranked_components[:1]) == [truth])
        self.top3_component += int(truth in ranked_components[:3])
        self.top1_dimension += int(list(ranked_dimensions[:1]) == [dimension])
        self.top3_dimension += int(dimension in ranked_dimensions[:3])

    def rates(self) -> dict[str, float | int]:
        def rate(value: int) -> float:
            return round(value / self.n, 4) if self.n else 0.0

        return {
            "n": self.n,
            "top1_component": rate(self.top1_component),
            "top3_component": rate(self.top3_component),
            "top1_dimension": rate(self.top1_dimension),
            "top3_dimension": rate(self.top3_dimension),
        }


@dataclass
class SplitResult:
    name: str
    description: str
    folds: int
    overall: Tally = field(default_factory=Tally)
    by_language: dict[str, Tally] = field(default_factory=lambda: defaultdict(Tally))
    tuning: list[dict[str, Any]] = field(default_factory=list)
    seconds: float = 0.0

    def as_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "description": self.description,
            "folds": self.folds,
            "overall": self.overall.rates(),
            "by_language": {k: v.rates() for k, v in sorted(self.by_language.items())},
            "tuning": self.tuning,
            "seconds": round(self.seconds, 1),
        }


def _score(result: SplitResult, suggester: Suggester, test: Sequence[Example]) -> None:
    queries = [Query(e.text, e.language, e.question) for e in test]
    probabilities = suggester.predict_proba(queries)
    components = suggester.components
    dimensions = sorted({dimension_of(c) for c in components})
    dimension_index = np.searchsorted(dimensions, [dimension_of(c) for c in components])
    by_dimension = np.zeros((probabilities.shape[0], len(dimensions)))
    for column, d in enumerate(dimension_index):
        by_dimension[:, d] += probabilities[:, column]
    component_order = np.argsort(-probabilities, axis=1)[:, :3]
    dimension_order = np.argsort(-by_dimension, axis=1)[:, :3]
    for row, example in enumerate(test):
        ranked = [components[c] for c in component_order[row]]
        ranked_dimensions = [dimensions[d] for d in dimension_order[row]]
        result.overall.add(example.component, ranked, ranked_dimensions)
        result.by_language[example.language].add(example.component, ranked, ranked_dimensions)


def profile_of(group: str) -> str:
    """``fr-young-1`` -> ``young``: the kind of group, whatever its language and number."""
    parts = group.split("-")
    if len(parts) >= 3 and len(parts[0]) <= 3:
        return "-".join(parts[1:-1]) if parts[-1].isdigit() else "-".join(parts[1:])
    return group


def evaluate(
    *,
    corpus: Sequence[Example],
    extra_training: Sequence[Example] = (),
    make_suggester: Callable[[], Suggester],
    folds: int = 5,
    splits: Sequence[str] = ("group", "cross-lingual"),
    progress: Callable[[str], None] | None = None,
) -> list[SplitResult]:
    """Train and test ``make_suggester()`` on each split; returns one result per split."""
    from sklearn.model_selection import GroupKFold

    say = progress or (lambda _message: None)
    results = []
    for split in splits:
        started = time.perf_counter()
        if split in ("group", "profile"):
            keys = [e.group if split == "group" else profile_of(e.group) for e in corpus]
            n_splits = min(folds, len(set(keys)))
            result = SplitResult(
                name=split,
                description=(
                    f"GroupKFold ({n_splits} folds) over the {split} column"
                    if split == "group"
                    else f"GroupKFold ({n_splits} folds) over the group's profile, all languages"
                )
                + "; languages pooled",
                folds=n_splits,
            )
            indices = np.arange(len(corpus))
            for number, (train, test) in enumerate(
                GroupKFold(n_splits=n_splits).split(indices, groups=keys), start=1
            ):
                say(f"{split}: fold {number}/{n_splits}")
                training = [corpus[i] for i in train] + list(extra_training)
                suggester = make_suggester().fit(training)
                result.tuning.append(getattr(suggester, "tuning", {}))
                _score(result, suggester, [corpus[i] for i in test])
        elif split == "cross-lingual":
            result = SplitResult(
                name=split,
                description="trained on fr+en only, tested on pt, it, es",
                folds=1,
            )
            training = [e for e in corpus if e.language in SOURCE_LANGUAGES] + [
                e for e in extra_training if e.language in SOURCE_LANGUAGES
            ]
            test = [e for e in corpus if e.language in TARGET_LANGUAGES]
            say(f"{split}: {len(training)} training texts, {len(test)} test texts")
            if test and training:
                suggester = make_suggester().fit(training)
                result.tuning.append(getattr(suggester, "tuning", {}))
                _score(result, suggester, test)
        else:
            raise ValueError(f"unknown split {split!r}")
        result.seconds = time.perf_counter() - started
        results.append(result)
    return results


def results_table(results: Sequence[SplitResult]) -> str:
    """A Markdown table: one line per split and language."""
    lines = [
        "| split | language | texts | top-1 component | top-3 component "
        "| top-1 dimension | top-3 dimension |",
        "|---|---|---:|---:|---:|---:|---:|",
    ]
    for result in results:
        rows = [("all", result.overall), *sorted(result.by_language.items())]
        for language, tally in rows:
            r = tally.rates()
            lines.append(
                f"| {result.name} | {language} | {r['n']} | {r['top1_component']:.3f} "
                f"| {r['top3_component']:.3f} | {r['top1_dimension']:.3f} "
                f"| {r['top3_dimension']:.3f} |"
            )
    return "\n".join(lines)
