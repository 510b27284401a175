"""Writing axes, actions, decisions, commitments, follow-up, ex-post reviews and cycle closings."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date
from typing import Any

from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.utils.translation import gettext as _

from spiral.accounts.models import User
from spiral.actions.models import (
    OPEN_STATUSES,
    Action,
    ActionDocument,
    ActionReview,
    ActionStatus,
    CandidateScore,
    Commitment,
    CycleArchive,
    ProgressNote,
    StrategicAxis,
)
from spiral.indicators.models import Evaluation, EvaluationKind, Indicator, RaterKind
from spiral.indicators.services import IndicatorError, evaluation_create, ratings_record
from spiral.territories.models import Territory

MAX_DOCUMENT_BYTES = 20 * 1024 * 1024


class ActionError(Exception):
    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@transaction.atomic
def axis_create(
    *, territory: Territory, title: str, description: str = "", comparison_criteria: str = ""
) -> StrategicAxis:
    return StrategicAxis.objects.create(
        territory=territory,
        cycle=territory.cycle,
        title=title.strip(),
        description=description,
        comparison_criteria=comparison_criteria,
    )


@transaction.atomic
def axis_update(
    *, axis: StrategicAxis, title: str, description: str = "", comparison_criteria: str = ""
) -> StrategicAxis:
    """Change an axis. Scores are kept by criterion wording: a criterion renamed or removed
    loses its scores (they no longer say what they scored), the others keep theirs."""
    axis.title, axis.description, axis.comparison_criteria = (
        title.strip(),
        description,
        comparison_criteria,
    )
    axis.save()
    CandidateScore.objects.filter(action__axis=axis).exclude(
        criterion__in=axis.criteria_list()
    ).delete()
    return axis


@transaction.atomic
def action_save(
    *,
    territory: Territory,
    fields: Mapping[str, Any],
    indicators: Sequence[Indicator],
    user: User | None,
    action: Action | None = None,
) -> Action:
    """Create or change an action; its indicators must be the territory's own."""
    if any(i.territory_id != territory.pk for i in indicators):
        raise ActionError(_("An action answers the indicators of its own territory."))
    axis = fields.get("axis")
    if axis is not None and axis.territory_id != territory.pk:
        raise ActionError(_("This strategic axis belongs to another territory."))
    if action is None:
        action = Action(territory=territory, cycle=territory.cycle, created_by=user)
    for name, value in fields.items():
        setattr(action, name, value)
    action.save()
    action.indicators.set(indicators)
    return action


@transaction.atomic
def candidate_scores_record(*, action: Action, scores: Mapping[str, int]) -> None:
    """Scores (0 to 3) of a candidate on its axis' comparison criteria; replaces earlier ones."""
    allowed = set(action.axis.criteria_list()) if action.axis else set()
    if not set(scores) <= allowed:
        raise ActionError(_("Score the candidate on the criteria of its axis only."))
    if any(not 0 <= s <= 3 for s in scores.values()):
        raise ActionError(_("A score goes from 0 to 3."))
    CandidateScore.objects.filter(action=action, criterion__in=list(scores)).delete()
    CandidateScore.objects.bulk_create(
        CandidateScore(action=action, criterion=c, score=s) for c, s in scores.items()
    )


@transaction.atomic
def action_decide(
    *,
    action: Action,
    decided_on: date,
    note: str,
    commitments: Sequence[tuple[str, str, str]],
    is_pilot: bool,
) -> Action:
    """Record the decision and who committed to what (actor, sector, commitment)."""
    if action.status not in (ActionStatus.CANDIDATE, ActionStatus.DECIDED):
        raise ActionError(_("This action was already decided and started."))
    action.status = ActionStatus.DECIDED
    action.decided_on = decided_on
    action.decision_note = note
    action.is_pilot = is_pilot
    action.save()
    for actor, sector, what in commitments:
        commitment_add(action=action, actor=actor, sector=sector, commitment=what)
    return action


def commitment_add(*, action: Action, actor: str, sector: str, commitment: str) -> Commitment:
    if not actor.strip() or not commitment.strip():
        raise ActionError(_("Name the actor and what they commit to."))
    return Commitment.objects.create(
        action=action, actor=actor.strip(), sector=sector, commitment=commitment.strip()
    )


@transaction.atomic
def progress_note_add(
    *, action: Action, text: str, written_on: date, user: User | None, status: str = ""
) -> ProgressNote:
    if not text.strip():
        raise ActionError(_("Write what happened."))
    if status and status in ActionStatus.values and status != action.status:
        Action.objects.filter(pk=action.pk).update(status=status)
        action.status = status
    return ProgressNote.objects.create(
        action=action, text=text.strip(), written_on=written_on, author=user
    )


def document_add(
    *, action: Action, file: UploadedFile, caption: str, user: User | None
) -> ActionDocument:
    if file.size is not None and file.size > MAX_DOCUMENT_BYTES:
        raise ActionError(_("The file is larger than 20 MB."))
    document = ActionDocument(action=action, file=file, caption=caption, uploaded_by=user)
    document.full_clean()
    document.save()
    return document


@transaction.atomic
def action_review_record(
    *,
    action: Action,
    held_on: date,
    what_changed: str,
    according_to: str,
    lessons: str,
    levels: Mapping[int, int],
    user: User | None,
) -> ActionReview:
    """The ex-post co-evaluation meeting of an action: an ex-post evaluation on the action's
    indicators (rated by the coordination group), compared with the latest earlier evaluation
    of those indicators, and what changed, according to whom, and the lessons."""
    if action.status == ActionStatus.CANDIDATE:
        raise ActionError(_("Decide the action before evaluating what it changed."))
    if not what_changed.strip():
        raise ActionError(_("Write what changed for well-being."))
    indicators = list(action.indicators.all())
    evaluation: Evaluation | None = None
    if indicators:
        from spiral.indicators.selectors import indicator_versions

        # An evaluation of an earlier version of the same indicators is a valid "before".
        lineage = {v.pk for i in indicators for v in indicator_versions(indicator=i)}
        baseline = (
            Evaluation.objects.of_territory(action.territory_id)
            .filter(indicators__in=lineage, held_on__lte=held_on)
            .order_by("-held_on", "-pk")
            .first()
        )
        try:
            evaluation = evaluation_create(
                territory=action.territory,
                title=_("Ex-post co-evaluation – %(action)s") % {"action": action.title},
                kind=EvaluationKind.EX_POST,
                held_on=held_on,
                indicators=indicators,
                baseline=baseline,
                user=user,
            )
            if levels:
                ratings_record(
                    evaluation=evaluation,
                    levels=levels,
                    rater=RaterKind.COORDINATION,
                    user=user,
                )
        except IndicatorError as exc:
            raise ActionError(exc.message) from exc
    return ActionReview.objects.create(
        action=action,
        evaluation=evaluation,
        held_on=held_on,
        what_changed=what_changed.strip(),
        according_to=according_to.strip(),
        lessons=lessons.strip(),
        created_by=user,
    )


def _snapshot(territory: Territory) -> dict[str, Any]:
    """What the territory had at the end of the cycle, as plain data (kept as it was)."""
    from spiral.indicators.selectors import evaluation_results

    evaluations = []
    for evaluation in Evaluation.objects.of_territory(territory.pk).filter(cycle=territory.cycle):
        results = evaluation_results(evaluation=evaluation, show_small=True)
        evaluations.append(
            {
                "id": evaluation.pk,
                "title": evaluation.title,
                "kind": evaluation.kind,
                "held_on": evaluation.held_on.isoformat(),
                "respondents": results.respondents,
                "indicators": [
                    {
                        "id": r.indicator.pk,
                        "title": r.indicator.title,
                        "counts": r.all.counts,
                        "median": r.all.median,
                    }
                    for r in results.indicators
                ],
            }
        )
    actions = [
        {
            "id": a.pk,
            "title": a.title,
            "status": a.status,
            "is_pilot": a.is_pilot,
            "commitments": [
                {"actor": c.actor, "sector": c.sector, "commitment": c.commitment}
                for c in a.commitments.all()
            ],
        }
        for a in Action.objects.of_territory(territory.pk)
        .filter(cycle=territory.cycle)
        .prefetch_related("commitments")
    ]
    return {
        "cycle": territory.cycle,
        "phase": territory.phase,
        "indicators": list(
            Indicator.objects.of_territory(territory.pk).current().values("id", "title", "version")
        ),
        "evaluations": evaluations,
        "actions": actions,
        "axes": list(
            StrategicAxis.objects.filter(territory=territory, cycle=territory.cycle).values(
                "id", "title"
            )
        ),
    }


@transaction.atomic
def cycle_close(
    *, territory: Territory, lessons: str, carry_over_ids: Sequence[int], user: User | None
) -> CycleArchive:
    """Archive the cycle as it is and open the next: phase 1, the open actions chosen carried
    over (indicators belong to the territory and stay; evaluations stay for comparison)."""
    territory = Territory.objects.select_for_update().get(pk=territory.pk)
    archive = CycleArchive.objects.create(
        territory=territory,
        cycle=territory.cycle,
        closed_by=user,
        lessons=lessons,
        snapshot=_snapshot(territory),
    )
    next_cycle = min(territory.cycle + 1, 3)
    Action.objects.filter(
        territory=territory, pk__in=list(carry_over_ids), status__in=OPEN_STATUSES
    ).update(cycle=next_cycle)
    StrategicAxis.objects.filter(
        territory=territory, actions__pk__in=list(carry_over_ids)
    ).distinct().update(cycle=next_cycle)
    Territory.objects.filter(pk=territory.pk).update(cycle=next_cycle, phase=1)
    return archive
