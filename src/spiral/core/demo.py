"""Build the demo network from the fictional data shipped in data/demo/ (see its README)."""

from __future__ import annotations

import csv
import json
import random
import re
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import translation

from spiral.accounts.models import Role, User
from spiral.accounts.services import role_grant, user_create
from spiral.actions.models import Action
from spiral.actions.services import (
    action_decide,
    action_review_record,
    action_save,
    axis_create,
    candidate_scores_record,
    cycle_close,
    progress_note_add,
)
from spiral.coding.models import Coding
from spiral.consultations.models import Criterion, GroupProfile, HomogeneousGroup, QuestionSet
from spiral.consultations.services import CriterionInput, criteria_add, group_create, meeting_create
from spiral.grid.codes import GridIndex
from spiral.grid.models import Component, GridVersion
from spiral.indicators.models import Category, Evaluation, EvaluationKind, Indicator, RaterKind
from spiral.indicators.services import (
    DONT_KNOW,
    LevelInput,
    evaluation_create,
    evaluation_survey_set_open,
    indicator_create,
    ratings_record,
    survey_field,
    survey_submit,
    survey_token_issue,
)
from spiral.territories.models import Territory
from spiral.territories.services import (
    coordination_member_add,
    territory_create,
    territory_update,
)

DEMO_DIR = Path(settings.PACKAGE_DIR) / "data" / "demo"
DEMO_SEED = 2026
# About one criterion in seven is left uncoded so the coding step has work to show.
UNCODED_SHARE = 0.14
DEMO_USERS = (
    # username, display name, role, territory key, language
    ("admin", "Admin (demo)", Role.NETWORK_ADMIN, "network", "fr"),
    ("coordinatrice", "Martine Sorel (demo)", Role.COORDINATOR, "fr-ge-roncelieres", "fr"),
    ("animateur", "Karim Belhadj (demo)", Role.FACILITATOR, "fr-ge-roncelieres", "fr"),
    ("codeuse", "Inês Duarte (demo)", Role.CODER, "pt", "pt"),
    ("facilitator", "Siobhán Walsh (demo)", Role.FACILITATOR, "ie-mun-ballykillen", "en"),
    ("observer", "Researcher (demo)", Role.OBSERVER, "network", "en"),
)


@dataclass(frozen=True)
class DemoSummary:
    territories: int
    groups: int
    meetings: int
    criteria: int
    coded: int
    users: list[str]


def _tsv(name: str) -> list[dict[str, str]]:
    with (DEMO_DIR / name).open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle, delimiter="\t"))


def _markdown(text: str) -> str:
    return text.replace("\\n", "\n")


@transaction.atomic
def load_demo_data(*, password: str) -> DemoSummary:
    """Create the demo territories, people, groups, meetings and criteria (most of them coded)."""
    rng = random.Random(DEMO_SEED)
    territories: dict[str, Territory] = {}
    for row in _tsv("territories.tsv"):
        language = row["language"]
        description = row.get(f"description_{language}") or row["description_fr"]
        territory = territory_create(
            parent=territories.get(row["parent_key"]),
            name=row["name"],
            kind=row["kind"],
            actor_type=row["actor_type"],
            country_code=row["country_code"],
            language=language,
            cycle=int(row["cycle"]),
            phase=int(row["phase"]),
            is_public=row["is_public"] == "yes",
            description=_markdown(description),
        )
        territories[row["key"]] = territory

    for row in _tsv("coordination.tsv"):
        territory = territories[row["territory_key"]]
        coordination_member_add(
            territory=territory,
            display_name=row["display_name"],
            organisation=row["organisation"],
            sector=row["sector"],
            role_label=row[f"role_label_{'en' if territory.language == 'en' else 'fr'}"],
            show_publicly=row["show_publicly"] == "yes",
        )

    users: dict[str, User] = {}
    for username, display_name, role, key, language in DEMO_USERS:
        user = user_create(
            username=username,
            email=f"{username}@demo.invalid",
            password=password,
            display_name=display_name,
            language=language if language in ("fr", "en") else "",
        )
        if role == Role.NETWORK_ADMIN:
            user.is_staff = user.is_superuser = True
            user.save(update_fields=["is_staff", "is_superuser"])
        role_grant(user=user, territory=territories[key], role=role, granted_by=None)
        users[username] = user

    profiles = {p.code: p for p in GroupProfile.objects.all()}
    groups: list[HomogeneousGroup] = []
    for row in _tsv("groups.tsv"):
        territory = territories[row["territory_key"]]
        facilitators = []
        if territory.slug.startswith("roncelieres"):
            facilitators = [users["animateur"]]
        elif territory.language == "en" and territory.kind != "collective_actor":
            facilitators = [users["facilitator"]]
        groups.append(
            group_create(
                territory=territory,
                name=row["name"],
                profile=profiles[row["profile"]],
                size=int(row["size"]),
                language=row["language"],
                facilitators=facilitators,
                user=None,
            )
        )

    corpus: dict[str, list[dict[str, str]]] = defaultdict(list)
    for row in _tsv("criteria.tsv"):
        corpus[row["language"]].append(row)

    grid = GridIndex(GridVersion.objects.get(is_default=True))
    question_set = QuestionSet.objects.get(is_default=True)
    questions = {q.code: q for q in question_set.questions.all()}
    meetings = criteria = coded = 0
    today = date(2026, 11, 1)
    for group in groups:
        texts = corpus[group.language]
        suited = [
            t for t in texts if not t["profiles"] or group.profile.code in t["profiles"].split(",")
        ]
        sample = rng.sample(suited, k=min(len(suited), rng.randint(26, 44)))
        meeting_count = 2 if rng.random() < 0.3 else 1
        for index in range(meeting_count):
            held_on = today - timedelta(days=rng.randint(20, 700))
            meeting = meeting_create(
                group=group, held_on=held_on, question_set=question_set, user=None
            )
            meetings += 1
            part = sample[index::meeting_count]
            by_question: dict[str, list[CriterionInput]] = defaultdict(list)
            for item in part:
                keep_code = rng.random() >= UNCODED_SHARE
                by_question[item["question"]].append(
                    CriterionInput(
                        text=item["text"],
                        expressions=rng.choices([1, 2, 3, 4, 5, 7], weights=[50, 20, 12, 8, 6, 4])[
                            0
                        ],
                        language=group.language,
                        code=item["component"] if keep_code else "",
                    )
                )
            for code, inputs in by_question.items():
                outcomes = criteria_add(
                    meeting=meeting, question=questions[code], inputs=inputs, user=None, grid=grid
                )
                criteria += sum(1 for o in outcomes if o.created)
                coded += sum(
                    1 for o, i in zip(outcomes, inputs, strict=True) if o.created and i.code
                )
    # Texts the services write themselves (an ex-post evaluation's title) in the town's language.
    with translation.override("fr"):
        load_roncelieres_cycles(territory=territories["fr-ge-roncelieres"], users=users)
    from spiral.carbon.demo import load_carbon_demo

    load_carbon_demo(territories=territories, groups=groups, users=users)
    return DemoSummary(
        territories=len(territories),
        groups=len(groups),
        meetings=meetings,
        criteria=criteria,
        coded=coded,
        users=[u for u, *_rest in DEMO_USERS],
    )


# --- Roncelières: a closed first cycle and a second one under way (phases 3 to 8) -----------

CYCLES_SEED = 2028


def _day(text: str) -> date:
    return date.fromisoformat(text)


def _sort_criteria(rows: list[tuple[int, str, str]], rules: list[list[str]]) -> dict[int, str]:
    """Each criterion into one of the 4 categories, the way a coordination group would: by the
    indicator's own word rules, else ill-being (q2) as a missing possibility, what citizens do
    themselves (q3) as sustainability and well-being (q1) as something attained."""
    sorted_criteria: dict[int, str] = {}
    for pk, text, question in rows:
        category = next(
            (c for pattern, c in rules if re.search(pattern, text, re.IGNORECASE)), None
        )
        if category is None:
            category = {"q2": Category.POSSIBILITY, "q3": Category.SUSTAINABILITY}.get(
                question, Category.ATTAINMENT
            )
        sorted_criteria[pk] = category
    return sorted_criteria


def _demo_indicator(
    *, territory: Territory, spec: dict[str, Any], grid: GridVersion, user: User
) -> Indicator:
    """An indicator built from the territory's criteria coded in its components: the scale's
    low levels cite ill-being criteria (q2), the high ones well-being criteria (q1)."""
    rows = list(
        Coding.objects.filter(
            superseded_at__isnull=True,
            component__version=grid,
            component__code__in=spec["components"],
            criterion__in=Criterion.objects.in_subtree(territory.pk),
        )
        .order_by("criterion_id")
        .values_list("criterion_id", "criterion__text", "criterion__question__code")
        .distinct()
    )
    ill = [pk for pk, _text, q in rows if q == "q2"]
    well = [pk for pk, _text, q in rows if q == "q1"]
    acts = [pk for pk, _text, q in rows if q == "q3"]
    cited = {1: ill[0:2], 2: ill[2:4], 3: well[4:5] + acts[0:1], 4: well[2:4], 5: well[0:2]}
    return indicator_create(
        territory=territory,
        title=spec["title"],
        question=spec["question"],
        components=list(Component.objects.filter(version=grid, code__in=spec["components"])),
        sorted_criteria=_sort_criteria(rows, spec["categories"]),
        levels={
            n: LevelInput(text=text, criterion_ids=cited[n])
            for n, text in enumerate(spec["levels"], start=1)
        },
        user=user,
    )


def _demo_evaluation(
    *,
    territory: Territory,
    spec: dict[str, Any],
    indicators: dict[str, Indicator],
    profiles: list[str],
    baseline: Evaluation | None,
    user: User,
    rng: random.Random,
) -> Evaluation:
    """An ex-ante co-evaluation: the coordination group's levels and a self-survey whose
    anonymous answers go through the same service as a citizen's phone."""
    evaluation = evaluation_create(
        territory=territory,
        title=spec["title"],
        kind=EvaluationKind.EX_ANTE,
        held_on=_day(spec["held_on"]),
        indicators=list(indicators.values()),
        baseline=baseline,
        survey_open=True,
        user=user,
    )
    ratings_record(
        evaluation=evaluation,
        levels={indicators[k].pk: level for k, level in spec["coordination"].items()},
        notes={indicators[k].pk: note for k, note in spec["coordination_notes"].items()},
        rater=RaterKind.COORDINATION,
        user=user,
    )
    ids = [i.pk for i in indicators.values()]
    for _answer in range(spec["survey_answers"]):
        data = {"profile": rng.choice(profiles) if rng.random() < 0.7 else ""}
        for key, indicator in indicators.items():
            if rng.random() < 0.07:
                data[survey_field(indicator.pk)] = DONT_KNOW
                continue
            level = round(rng.gauss(spec["survey_means"][key], 0.9))
            data[survey_field(indicator.pk)] = str(min(5, max(1, level)))
        survey_submit(
            evaluation=evaluation,
            token=survey_token_issue(evaluation=evaluation),
            data=data,
            indicator_ids=ids,
        )
    evaluation_survey_set_open(evaluation=evaluation, is_open=False)
    return evaluation


def _demo_actions(
    *,
    territory: Territory,
    cycle: int,
    story: dict[str, Any],
    indicators: dict[str, Indicator],
    users: dict[str, User],
) -> dict[str, Action]:
    """The cycle's axes, its candidates scored on the axis' criteria, the decisions with their
    commitments, then the follow-up notes that move each action's status."""
    axes = {
        spec["key"]: axis_create(
            territory=territory,
            title=spec["title"],
            description=spec["description"],
            comparison_criteria="\n".join(spec["comparison_criteria"]),
        )
        for spec in story["axes"]
        if spec["cycle"] == cycle
    }
    actions: dict[str, Action] = {}
    for spec in story["actions"]:
        if spec["cycle"] != cycle:
            continue
        action = action_save(
            territory=territory,
            fields={
                "axis": axes[spec["axis"]],
                "title": spec["title"],
                "objectives": spec["objectives"],
                "starts_on": _day(spec["decision"]["on"]) if "decision" in spec else None,
            },
            indicators=[indicators[k] for k in spec["indicators"]],
            user=users["coordinatrice"],
        )
        candidate_scores_record(action=action, scores=spec["scores"])
        decision = spec.get("decision")
        if decision:
            action_decide(
                action=action,
                decided_on=_day(decision["on"]),
                note=decision["note"],
                commitments=[tuple(c) for c in decision["commitments"]],
                is_pilot=decision["pilot"],
            )
        for written_on, status, text in spec.get("notes", []):
            progress_note_add(
                action=action,
                text=text,
                written_on=_day(written_on),
                status=status,
                user=users["animateur"],
            )
        review = spec.get("review")
        if review:
            action_review_record(
                action=action,
                held_on=_day(review["on"]),
                what_changed=review["what_changed"],
                according_to=review["according_to"],
                lessons=review["lessons"],
                levels={indicators[k].pk: level for k, level in review["levels"].items()},
                user=users["coordinatrice"],
            )
        actions[spec["key"]] = action
    return actions


def load_roncelieres_cycles(*, territory: Territory, users: dict[str, User]) -> None:
    """Roncelières' history, so phases 3 to 8 have something to show: indicators from its
    coded criteria, the first cycle (ex-ante with a self-survey, a pilot action, its ex-post
    review) closed through the real service, then the second cycle acting on its plan."""
    story = json.loads((DEMO_DIR / "roncelieres.json").read_text(encoding="utf-8"))
    rng = random.Random(CYCLES_SEED)
    coordinator = users["coordinatrice"]
    grid = GridVersion.objects.get(is_default=True)
    final_cycle, final_phase = territory.cycle, territory.phase
    # The tree file gives where Roncelières stands today; its history starts in cycle 1.
    territory = territory_update(territory=territory, cycle=1, phase=4)
    indicators = {
        spec["key"]: _demo_indicator(territory=territory, spec=spec, grid=grid, user=coordinator)
        for spec in story["indicators"]
    }
    first = _demo_evaluation(
        territory=territory,
        spec=story["evaluations"]["1"],
        indicators=indicators,
        profiles=story["survey_profiles"],
        baseline=None,
        user=coordinator,
        rng=rng,
    )
    actions = _demo_actions(
        territory=territory, cycle=1, story=story, indicators=indicators, users=users
    )
    cycle_close(
        territory=territory,
        lessons=story["close"]["lessons"],
        carry_over_ids=[actions[k].pk for k in story["close"]["carry_over"]],
        user=coordinator,
    )
    territory.refresh_from_db()
    # The second cycle is read against the first cycle's ex-ante rather than its ex-post (which
    # rated only the pilot action's indicator): same indicators, same kinds of raters, so the
    # before-and-after page shows every indicator moving.
    _demo_evaluation(
        territory=territory,
        spec=story["evaluations"]["2"],
        indicators=indicators,
        profiles=story["survey_profiles"],
        baseline=first,
        user=coordinator,
        rng=rng,
    )
    _demo_actions(territory=territory, cycle=2, story=story, indicators=indicators, users=users)
    territory_update(territory=territory, cycle=final_cycle, phase=final_phase)
