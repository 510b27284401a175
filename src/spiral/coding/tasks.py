"""Background tasks of the coding app (django-tasks): training suggestion models, pre-coding."""

from __future__ import annotations

from django_tasks import task

from spiral.coding.models import SuggestionModel


@task()
def suggestion_model_train_task(model_id: int) -> dict[str, object]:
    """Train a requested suggestion model and make it current."""
    from spiral.coding.suggest.training import suggestion_model_train

    model = SuggestionModel.objects.select_related("grid_version", "territory").get(pk=model_id)
    model = suggestion_model_train(model=model)
    return {"model": model.pk, "examples": model.examples, "metrics": model.metrics}


@task()
def suggestions_precode_task(scope_kind: str, scope_id: int) -> dict[str, int]:
    """Store suggestions for every criterion of a scope (never codings)."""
    from spiral.coding.suggest.services import scope_criteria, suggestions_precode

    outcome = suggestions_precode(criteria=scope_criteria(kind=scope_kind, pk=scope_id))
    return {"criteria": outcome.criteria, "computed": outcome.computed}
