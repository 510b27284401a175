"""Training suggestion models from the seed corpus and the network's codings, and finding the
model a criterion's territory uses.

Training data for a grid version: the seed corpus and the demo criteria (written by the
project), the grid's own component labels, and every current coding (not superseded) of an alive
criterion in that version. A territory's own model weighs the codings of its subtree three times.
Models are files under ``SPIRAL_SUGGESTION_MODELS_DIR``, loaded once per process."""

from __future__ import annotations

import datetime
import logging
import threading
import time
import traceback
from collections import OrderedDict
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.db import transaction
from django.db.models import Max
from django.utils import timezone

from spiral.coding.models import Coding, SuggestionModel, SuggestionModelStatus
from spiral.coding.suggest.corpus import Example, load_demo_examples, load_seed_corpus
from spiral.grid.models import Component, GridVersion
from spiral.territories.models import Territory

if TYPE_CHECKING:
    from spiral.accounts.models import User
    from spiral.coding.suggest.engine import HybridSuggester

logger = logging.getLogger(__name__)

# Codings of the territory's own subtree count this many times in a territory's model.
TERRITORY_WEIGHT = 3.0
# Share of the groups held out to measure a new model before it is trained on everything.
HELD_OUT_SHARE = 0.2
# A training request older than this that never finished no longer blocks a new one.
STALE_AFTER_SECONDS = 2 * 60 * 60


def models_dir() -> Path:
    return Path(settings.SPIRAL_SUGGESTION_MODELS_DIR)


# ---------------------------------------------------------------- training examples


def grid_examples(*, version: GridVersion) -> list[Example]:
    """Each component's French and English labels, as two short examples."""
    examples = []
    for component in Component.objects.filter(version=version).order_by("position"):
        for language in ("fr", "en"):
            label = getattr(component, f"label_{language}")
            if label:
                examples.append(
                    Example(
                        text=label,
                        language=language,
                        question="",
                        component=component.code,
                        group="grid",
                    )
                )
    return examples


def base_examples(*, version: GridVersion) -> list[Example]:
    """What every model of a version learns from before any coding: the seed corpus, the demo
    criteria and the grid's labels, keeping only the codes the version has."""
    codes = set(Component.objects.filter(version=version).values_list("code", flat=True))
    examples = [*load_seed_corpus(), *load_demo_examples(), *grid_examples(version=version)]
    return [e for e in examples if e.component in codes]


def coding_examples(
    *, version: GridVersion, territory: Territory | None = None
) -> tuple[list[Example], int]:
    """Every current coding of an alive criterion in the version, and the newest coding id."""
    last_coding_id = Coding.objects.aggregate(last=Max("pk"))["last"] or 0
    rows = (
        Coding.objects.current()
        .filter(
            component__version=version,
            criterion__deleted_at__isnull=True,
            pk__lte=last_coding_id,
        )
        .values_list(
            "criterion__text",
            "criterion__language",
            "criterion__question__kind",
            "component__code",
            "criterion__group_id",
            "criterion__territory_id",
        )
    )
    local: set[int] = set()
    if territory is not None:
        local = set(
            Territory.objects.filter(ancestor_links__ancestor_id=territory.pk).values_list(
                "pk", flat=True
            )
        )
    examples = [
        Example(
            text=text,
            language=language,
            question=kind,
            component=code,
            group=f"group-{group_id}",
            weight=TERRITORY_WEIGHT if territory_id in local else 1.0,
        )
        for text, language, kind, code, group_id, territory_id in rows.iterator(chunk_size=5000)
    ]
    return examples, last_coding_id


# ---------------------------------------------------------------- training


def new_suggester(**kwargs: Any) -> HybridSuggester:
    from spiral.coding.suggest.engine import HybridSuggester

    return HybridSuggester(**kwargs)


def held_out_metrics(examples: list[Example], *, encoder: Any) -> dict[str, Any]:
    """Train on 80 % of the groups and measure on the other 20 % (a quick check of each new
    model; ``manage.py evaluate_suggestions`` is the thorough evaluation)."""
    from sklearn.model_selection import GroupShuffleSplit

    from spiral.coding.suggest.evaluation import SplitResult, _score

    candidates = [i for i, e in enumerate(examples) if e.group != "grid"]
    always = [i for i, e in enumerate(examples) if e.group == "grid"]
    groups = [examples[i].group or f"row-{i}" for i in candidates]
    if len(set(groups)) < 5:
        return {}
    splitter = GroupShuffleSplit(n_splits=1, test_size=HELD_OUT_SHARE, random_state=0)
    train, test = next(splitter.split(candidates, groups=groups))
    training = [examples[candidates[i]] for i in train] + [examples[i] for i in always]
    tested = [examples[candidates[i]] for i in test]
    started = time.perf_counter()
    suggester = new_suggester(encoder=encoder).fit(training)
    result = SplitResult(
        name="held-out groups",
        description=f"{HELD_OUT_SHARE:.0%} of the groups held out (GroupShuffleSplit)",
        folds=1,
    )
    _score(result, suggester, tested)
    metrics = result.as_dict()
    metrics["seconds"] = round(time.perf_counter() - started, 1)
    metrics["training_examples"] = len(training)
    return metrics


def suggestion_model_train(
    *, model: SuggestionModel, evaluate: bool = True, extra: Iterable[Example] = ()
) -> SuggestionModel:
    """Train the model row's suggester, save its file and make it current; the previous current
    model of the same grid version and territory stays, no longer current. On failure the row
    is marked failed with the error, and the exception is raised again."""
    from spiral.coding.suggest.engine import ENGINE_NAME, MemoEncoder, default_encoder

    started = time.perf_counter()
    SuggestionModel.objects.filter(pk=model.pk).update(status=SuggestionModelStatus.TRAINING)
    try:
        version = model.grid_version
        codings, last_coding_id = coding_examples(version=version, territory=model.territory)
        examples = [*base_examples(version=version), *codings, *extra]
        encoder = MemoEncoder(default_encoder())
        metrics = held_out_metrics(examples, encoder=encoder) if evaluate else {}
        suggester = new_suggester(encoder=encoder).fit(examples)
        path = models_dir() / f"suggestion-model-{model.pk}.joblib"
        suggester.save(path)
    except Exception:
        SuggestionModel.objects.filter(pk=model.pk).update(
            status=SuggestionModelStatus.FAILED, error=traceback.format_exc()[-4000:]
        )
        raise
    with transaction.atomic():
        SuggestionModel.objects.filter(
            grid_version=model.grid_version, territory=model.territory, is_current=True
        ).exclude(pk=model.pk).update(is_current=False)
        model.status = SuggestionModelStatus.READY
        model.is_current = True
        model.engine = ENGINE_NAME
        model.examples = len(examples)
        model.coded_examples = len(codings)
        model.last_coding_id = last_coding_id
        model.metrics = metrics
        model.path = path.name
        model.error = ""
        model.trained_at = timezone.now()
        model.training_seconds = round(time.perf_counter() - started, 1)
        model.save()
    return model


def suggestion_model_create(
    *,
    version: GridVersion,
    territory: Territory | None = None,
    user: User | None = None,
    automatic: bool = False,
) -> SuggestionModel:
    """A model row waiting to be trained."""
    return SuggestionModel.objects.create(
        grid_version=version,
        territory=territory,
        requested_by=user,
        automatic=automatic,
        status=SuggestionModelStatus.PENDING,
    )


def suggestion_model_request(
    *,
    version: GridVersion,
    territory: Territory | None = None,
    user: User | None = None,
    automatic: bool = False,
) -> SuggestionModel:
    """Ask the task worker to train a new model (enqueued once the transaction commits)."""
    from spiral.coding.tasks import suggestion_model_train_task

    model = suggestion_model_create(
        version=version, territory=territory, user=user, automatic=automatic
    )
    transaction.on_commit(lambda: suggestion_model_train_task.enqueue(model_id=model.pk))
    return model


def training_in_progress(*, version_id: int, territory_id: int | None = None) -> bool:
    """A model of this version and territory is waiting for the worker or training."""
    recent = timezone.now() - datetime.timedelta(seconds=STALE_AFTER_SECONDS)
    models = SuggestionModel.objects.filter(grid_version_id=version_id)
    if territory_id is None:
        models = models.filter(territory__isnull=True)
    else:
        models = models.filter(territory_id=territory_id)
    return models.filter(
        status__in=[SuggestionModelStatus.PENDING, SuggestionModelStatus.TRAINING],
        created_at__gte=recent,
    ).exists()


def retrain_if_due(*, version_ids: Iterable[int]) -> list[SuggestionModel]:
    """Request a new network model for each grid version that received
    ``SPIRAL_RETRAIN_AFTER_CODINGS`` codings since its current model (a bounded index scan)."""
    every = settings.SPIRAL_RETRAIN_AFTER_CODINGS
    requested: list[SuggestionModel] = []
    if every <= 0:
        return requested
    for version_id in sorted(set(version_ids)):
        if training_in_progress(version_id=version_id):
            continue
        current = current_model(version_id=version_id)
        since = current.last_coding_id if current else 0
        nth = (
            Coding.objects.filter(pk__gt=since, component__version_id=version_id)
            .order_by("pk")
            .values_list("pk", flat=True)[every - 1 : every]
        )
        if nth.exists():
            version = GridVersion.objects.get(pk=version_id)
            requested.append(suggestion_model_request(version=version, automatic=True))
    return requested


def _check_retrain(version_ids: list[int]) -> None:
    try:
        with transaction.atomic():
            retrain_if_due(version_ids=version_ids)
    except Exception:  # the coding is saved: a failed check must not turn it into an error
        logger.exception("Checking whether suggestion models are due for retraining failed")


def schedule_retrain_check(*, version_ids: Iterable[int]) -> None:
    """After the coding write commits, check (cheaply) whether a retraining is due."""
    ids = sorted({pk for pk in version_ids if pk})
    if ids:
        transaction.on_commit(lambda: _check_retrain(ids))


# ---------------------------------------------------------------- which model, loaded once


def current_model(*, version_id: int, territory_id: int | None = None) -> SuggestionModel | None:
    """The model a territory uses: its own or its nearest ancestor's, else the network's."""
    ready = SuggestionModel.objects.filter(
        grid_version_id=version_id, is_current=True, status=SuggestionModelStatus.READY
    )
    if territory_id is not None:
        own = (
            ready.filter(territory__descendant_links__territory_id=territory_id)
            .order_by("territory__descendant_links__depth")
            .first()
        )
        if own is not None:
            return own
    return ready.filter(territory__isnull=True).order_by("-pk").first()


_bootstrap_lock = threading.Lock()


def network_model(*, version: GridVersion) -> SuggestionModel:
    """The current network model of a version; when there is none yet, one is trained right
    away (synchronously, a few seconds) from the seed corpus and the codings, and stored."""
    model = current_model(version_id=version.pk)
    if model is not None:
        return model
    with _bootstrap_lock:
        model = current_model(version_id=version.pk)
        if model is None:
            model = suggestion_model_create(version=version, automatic=True)
            model = suggestion_model_train(model=model, evaluate=False)
    return model


_LOADED: OrderedDict[int, HybridSuggester] = OrderedDict()
_LOADED_LIMIT = 4
_load_lock = threading.Lock()


def loaded_suggester(model: SuggestionModel) -> HybridSuggester:
    """The model's fitted suggester, read from its file once per process (keyed by model id)."""
    from spiral.coding.suggest.engine import HybridSuggester

    with _load_lock:
        if model.pk in _LOADED:
            _LOADED.move_to_end(model.pk)
            return _LOADED[model.pk]
    suggester = HybridSuggester.load(models_dir() / model.path)
    with _load_lock:
        _LOADED[model.pk] = suggester
        while len(_LOADED) > _LOADED_LIMIT:
            _LOADED.popitem(last=False)
    return suggester


def forget_loaded_suggesters() -> None:
    """Empty the per-process cache (tests)."""
    with _load_lock:
        _LOADED.clear()
