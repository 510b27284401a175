"""Writing indicators, evaluations, ratings and self-survey answers."""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date

from django.core import signing
from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from spiral.accounts.models import User
from spiral.consultations.models import Criterion, GroupProfile, HomogeneousGroup
from spiral.core.text import is_plain_number
from spiral.grid.models import Component
from spiral.indicators.models import (
    LEVELS,
    Category,
    Evaluation,
    Indicator,
    IndicatorCriterion,
    RaterKind,
    Rating,
    ScaleLevel,
    SurveyResponse,
)
from spiral.territories.models import Territory

SURVEY_SALT = "spiral.indicators.survey"
# A survey page left open on a phone for a few weeks still submits.
SURVEY_TOKEN_MAX_AGE = 60 * 60 * 24 * 90
DONT_KNOW = "0"


class IndicatorError(Exception):
    """A write refused, with a message for people (already translated)."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@dataclass(frozen=True)
class LevelInput:
    text: str
    criterion_ids: Sequence[int] = ()


def _territory_criteria(territory: Territory, ids: Sequence[int]) -> list[Criterion]:
    """The criteria among ids that were written in the territory or below (others are refused)."""
    wanted = set(ids)
    found = list(Criterion.objects.in_subtree(territory.pk).filter(pk__in=wanted))
    if len(found) != len(wanted):
        raise IndicatorError(_("Some of the chosen criteria do not belong to this territory."))
    return found


def _write_scale(
    *,
    indicator: Indicator,
    sorted_criteria: Mapping[int, str],
    levels: Mapping[int, LevelInput],
) -> None:
    if set(levels) != set(LEVELS) or any(not levels[n].text.strip() for n in LEVELS):
        raise IndicatorError(_("Describe each of the five situations of the scale."))
    for category in sorted_criteria.values():
        if category not in Category.values:
            raise IndicatorError(_("Unknown category: %(category)s") % {"category": category})
    cited = {pk for one in levels.values() for pk in one.criterion_ids}
    _territory_criteria(indicator.territory, [*sorted_criteria, *cited])
    IndicatorCriterion.objects.bulk_create(
        IndicatorCriterion(indicator=indicator, criterion_id=pk, category=category)
        for pk, category in sorted_criteria.items()
    )
    for number in LEVELS:
        level = ScaleLevel.objects.create(
            indicator=indicator, level=number, text=levels[number].text.strip()
        )
        level.criteria.set(list(levels[number].criterion_ids))


@transaction.atomic
def indicator_create(
    *,
    territory: Territory,
    title: str,
    question: str,
    components: Sequence[Component],
    sorted_criteria: Mapping[int, str],
    levels: Mapping[int, LevelInput],
    user: User | None,
    is_shared: bool = False,
) -> Indicator:
    """A new indicator: criteria sorted into the 4 categories and a 5-level scale citing them."""
    if not title.strip() or not question.strip():
        raise IndicatorError(_("Give the indicator a title and a question."))
    indicator = Indicator.objects.create(
        territory=territory,
        title=title.strip(),
        question=question.strip(),
        is_shared=is_shared,
        created_by=user,
    )
    indicator.components.set(components)
    _write_scale(indicator=indicator, sorted_criteria=sorted_criteria, levels=levels)
    return indicator


def _is_rated(indicator: Indicator) -> bool:
    return Rating.objects.filter(indicator=indicator).exists()


@transaction.atomic
def indicator_revise(
    *,
    indicator: Indicator,
    title: str,
    question: str,
    sorted_criteria: Mapping[int, str],
    levels: Mapping[int, LevelInput],
    user: User | None,
    is_shared: bool,
) -> Indicator:
    """Change an indicator. Once rated, the change is a new version and the old one stays, so
    past results keep the wording people answered; otherwise it is changed in place."""
    indicator = Indicator.objects.select_for_update().get(pk=indicator.pk)
    if hasattr(indicator, "superseded_by"):
        raise IndicatorError(_("Only the latest version of an indicator can be changed."))
    if not title.strip() or not question.strip():
        raise IndicatorError(_("Give the indicator a title and a question."))
    if _is_rated(indicator):
        new = Indicator.objects.create(
            territory=indicator.territory,
            title=title.strip(),
            question=question.strip(),
            version=indicator.version + 1,
            previous=indicator,
            derived_from=indicator.derived_from,
            is_shared=is_shared,
            created_by=user,
        )
        new.components.set(indicator.components.all())
        _write_scale(indicator=new, sorted_criteria=sorted_criteria, levels=levels)
        return new
    indicator.title, indicator.question, indicator.is_shared = (
        title.strip(),
        question.strip(),
        is_shared,
    )
    indicator.save()
    indicator.sorted.all().delete()
    indicator.levels.all().delete()
    _write_scale(indicator=indicator, sorted_criteria=sorted_criteria, levels=levels)
    return indicator


@transaction.atomic
def indicator_reuse(*, source: Indicator, territory: Territory, user: User | None) -> Indicator:
    """Copy a shared indicator into another territory: the wording of its scale, not its
    criteria (they are the other territory's citizens' words); edit it with your own."""
    if source.territory_id == territory.pk:
        raise IndicatorError(_("This indicator already belongs to this territory."))
    copy = Indicator.objects.create(
        territory=territory,
        title=source.title,
        question=source.question,
        derived_from=source,
        created_by=user,
    )
    copy.components.set(source.components.all())
    for level in source.levels.all():
        ScaleLevel.objects.create(indicator=copy, level=level.level, text=level.text)
    return copy


def indicator_lineage_id(indicator: Indicator) -> int:
    """The id of the first version: two versions of one indicator compare with each other."""
    current: Indicator | None = indicator
    first = indicator
    while current is not None:
        first = current
        current = current.previous
    return first.pk


# --- evaluations ------------------------------------------------------------------------------


@transaction.atomic
def evaluation_create(
    *,
    territory: Territory,
    title: str,
    kind: str,
    held_on: date,
    indicators: Sequence[Indicator],
    user: User | None,
    baseline: Evaluation | None = None,
    survey_open: bool = False,
    ask_profile: bool = True,
) -> Evaluation:
    if not indicators:
        raise IndicatorError(_("Choose at least one indicator to evaluate."))
    if any(i.territory_id != territory.pk for i in indicators):
        raise IndicatorError(_("An evaluation rates the indicators of its own territory."))
    if baseline is not None and baseline.territory_id != territory.pk:
        raise IndicatorError(_("Compare with an evaluation of the same territory."))
    evaluation = Evaluation.objects.create(
        territory=territory,
        title=title.strip(),
        kind=kind,
        cycle=territory.cycle,
        held_on=held_on,
        baseline=baseline,
        survey_open=survey_open,
        ask_profile=ask_profile,
        created_by=user,
    )
    evaluation.indicators.set(indicators)
    return evaluation


def evaluation_survey_set_open(*, evaluation: Evaluation, is_open: bool) -> None:
    Evaluation.objects.filter(pk=evaluation.pk).update(survey_open=is_open)
    evaluation.survey_open = is_open


@transaction.atomic
def ratings_record(
    *,
    evaluation: Evaluation,
    levels: Mapping[int, int],
    rater: str,
    user: User | None,
    group: HomogeneousGroup | None = None,
    notes: Mapping[int, str] | None = None,
) -> list[Rating]:
    """The coordination group's or a homogeneous group's rating of the indicators, decided in a
    meeting: one level per indicator, replacing that rater's earlier rating of the same ones."""
    if rater == RaterKind.CITIZEN:
        raise ValueError("citizens answer through survey_submit")
    if rater == RaterKind.GROUP and (group is None or group.territory_id is None):
        raise IndicatorError(_("Choose the group whose rating this is."))
    if (
        group is not None
        and not group.territory.ancestor_links.filter(ancestor_id=evaluation.territory_id).exists()
    ):
        raise IndicatorError(_("This group does not belong to the evaluated territory."))
    allowed = set(evaluation.indicators.values_list("pk", flat=True))
    if not set(levels) <= allowed:
        raise IndicatorError(_("Some indicators are not part of this evaluation."))
    if any(level not in LEVELS for level in levels.values()):
        raise IndicatorError(_("A level goes from 1 to 5."))
    Rating.objects.filter(
        evaluation=evaluation,
        rater=rater,
        group=group if rater == RaterKind.GROUP else None,
        indicator_id__in=list(levels),
        response__isnull=True,
    ).delete()
    profile_id = group.profile_id if group is not None else None
    return Rating.objects.bulk_create(
        Rating(
            evaluation=evaluation,
            indicator_id=indicator_id,
            level=level,
            rater=rater,
            group=group if rater == RaterKind.GROUP else None,
            profile_id=profile_id,
            note=(notes or {}).get(indicator_id, ""),
            created_by=user,
        )
        for indicator_id, level in levels.items()
    )


# --- the self-survey --------------------------------------------------------------------------


def survey_token_issue(*, evaluation: Evaluation) -> str:
    """A signed one-time token for one browser: a random nonce, no identity."""
    return signing.dumps({"e": evaluation.pk, "n": secrets.token_urlsafe(18)}, salt=SURVEY_SALT)


def _token_hash(token: str, evaluation: Evaluation) -> str:
    """What the database keeps of a token: a hash, so rows cannot be linked back to a browser."""
    try:
        data = signing.loads(token, salt=SURVEY_SALT, max_age=SURVEY_TOKEN_MAX_AGE)
    except signing.SignatureExpired as error:
        raise SurveyRejected(
            {"": _("This form is too old. Reload the page and answer again.")}
        ) from error
    except signing.BadSignature as error:
        raise SurveyRejected(
            {"": _("This form was not issued by this survey. Reload the page and answer again.")}
        ) from error
    if not isinstance(data, dict) or data.get("e") != evaluation.pk or not data.get("n"):
        raise SurveyRejected(
            {"": _("This form belongs to another survey. Reload the page and answer again.")}
        )
    return hashlib.sha256(str(data["n"]).encode()).hexdigest()


@dataclass
class SurveyRejected(Exception):
    """Nothing was saved; errors by field name ("" for the whole form), already translated."""

    errors: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class SurveyOutcome:
    response: SurveyResponse
    created: bool  # False: this token had already answered; nothing was counted again


def survey_field(indicator_id: int | str) -> str:
    return f"indicator-{indicator_id}"


def survey_parse(
    *, evaluation: Evaluation, data: Mapping[str, str], indicator_ids: Sequence[int]
) -> tuple[dict[int, int], int | None]:
    """Check a submitted form against the survey: every indicator answered (a level or "I do
    not know"), nothing else; returns the levels by indicator id and the profile id."""
    errors: dict[str, str] = {}
    allowed = set(indicator_ids)
    for key in data:
        if key.startswith("indicator-"):
            raw = key.removeprefix("indicator-")
            if not is_plain_number(raw) or int(raw) not in allowed:
                errors[""] = _(
                    "The form names an indicator that is not part of this survey. "
                    "Reload the page and answer again."
                )
    levels: dict[int, int] = {}
    for indicator_id in indicator_ids:
        value = (data.get(survey_field(indicator_id)) or "").strip()
        if not value:
            errors[survey_field(indicator_id)] = _("Choose a situation, or “I do not know”.")
        elif value == DONT_KNOW:
            continue
        elif is_plain_number(value) and int(value) in LEVELS:
            levels[indicator_id] = int(value)
        else:
            errors[survey_field(indicator_id)] = _("Choose one of the five situations.")
    profile_id: int | None = None
    profile = (data.get("profile") or "").strip()
    if profile and evaluation.ask_profile:
        found = GroupProfile.objects.filter(code=profile, is_active=True).values_list(
            "pk", flat=True
        )
        if not found:
            errors["profile"] = _("Choose a profile from the list, or none.")
        else:
            profile_id = found[0]
    if errors:
        raise SurveyRejected(errors)
    return levels, profile_id


def survey_submit(
    *, evaluation: Evaluation, token: str, data: Mapping[str, str], indicator_ids: Sequence[int]
) -> SurveyOutcome:
    """Record one self-survey answer, all of it or nothing.

    Idempotent by token: a replayed or doubled submission finds the answer already saved and
    counts nothing again, even when two copies arrive at the same time."""
    if not evaluation.survey_open:
        raise SurveyRejected({"": _("This survey is closed. Thank you for your interest.")})
    token_hash = _token_hash(token, evaluation)
    existing = SurveyResponse.objects.filter(evaluation=evaluation, token_hash=token_hash).first()
    if existing is not None:
        return SurveyOutcome(response=existing, created=False)
    levels, profile_id = survey_parse(evaluation=evaluation, data=data, indicator_ids=indicator_ids)
    try:
        with transaction.atomic():
            response = SurveyResponse.objects.create(
                evaluation=evaluation, token_hash=token_hash, profile_id=profile_id
            )
            Rating.objects.bulk_create(
                Rating(
                    evaluation=evaluation,
                    indicator_id=indicator_id,
                    level=level,
                    rater=RaterKind.CITIZEN,
                    profile_id=profile_id,
                    response=response,
                )
                for indicator_id, level in levels.items()
            )
    except IntegrityError:
        # The same token arrived twice at once: the other copy was saved, this one counts nothing.
        return SurveyOutcome(
            response=SurveyResponse.objects.get(evaluation=evaluation, token_hash=token_hash),
            created=False,
        )
    return SurveyOutcome(response=response, created=True)
