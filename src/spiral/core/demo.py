"""Build the demo network from the fictional data shipped in data/demo/ (see its README)."""

from __future__ import annotations

import csv
import random
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

from django.conf import settings
from django.db import transaction

from spiral.accounts.models import Role, User
from spiral.accounts.services import role_grant, user_create
from spiral.consultations.models import GroupProfile, HomogeneousGroup, QuestionSet
from spiral.consultations.services import CriterionInput, criteria_add, group_create, meeting_create
from spiral.grid.codes import GridIndex
from spiral.grid.models import GridVersion
from spiral.territories.models import Territory
from spiral.territories.services import coordination_member_add, territory_create

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
