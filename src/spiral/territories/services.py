"""Writing territories, their coordination groups and their phase records."""

from __future__ import annotations

from datetime import date
from typing import Any

from django.db import transaction
from django.utils.text import slugify

from spiral.accounts.models import User
from spiral.territories.models import (
    CoordinationGroup,
    CoordinationMember,
    PhaseStep,
    PhaseStepRecord,
    Territory,
)


def unique_territory_slug(name: str, *, exclude_pk: int | None = None) -> str:
    base = slugify(name)[:100] or "territory"
    slug, counter = base, 2
    taken = Territory.objects.exclude(pk=exclude_pk) if exclude_pk else Territory.objects.all()
    while taken.filter(slug=slug).exists():
        slug = f"{base}-{counter}"
        counter += 1
    return slug


@transaction.atomic
def territory_create(*, parent: Territory | None, name: str, kind: str, **fields: Any) -> Territory:
    """Create a territory below a parent; its closure rows and coordination group come with it."""
    fields.setdefault("language", parent.language if parent else "fr")
    if parent is not None and not fields.get("country_code"):
        fields["country_code"] = parent.country_code
    territory = Territory.objects.create(
        parent=parent, name=name.strip(), kind=kind, slug=unique_territory_slug(name), **fields
    )
    CoordinationGroup.objects.create(territory=territory)
    return territory


@transaction.atomic
def territory_update(*, territory: Territory, **fields: Any) -> Territory:
    for name, value in fields.items():
        setattr(territory, name, value)
    territory.full_clean()
    territory.save()
    return territory


def coordination_group_of(territory: Territory) -> CoordinationGroup:
    group, _created = CoordinationGroup.objects.get_or_create(territory=territory)
    return group


@transaction.atomic
def coordination_member_add(
    *,
    territory: Territory,
    display_name: str,
    sector: str,
    organisation: str = "",
    role_label: str = "",
    show_publicly: bool = False,
    user: User | None = None,
) -> CoordinationMember:
    return CoordinationMember.objects.create(
        group=coordination_group_of(territory),
        display_name=display_name.strip(),
        sector=sector,
        organisation=organisation,
        role_label=role_label,
        show_publicly=show_publicly,
        user=user,
    )


@transaction.atomic
def phase_step_record(
    *, territory: Territory, step: PhaseStep, done_on: date, note: str, user: User | None
) -> PhaseStepRecord:
    record, _created = PhaseStepRecord.objects.update_or_create(
        territory=territory,
        cycle=territory.cycle,
        step=step,
        defaults={"done_on": done_on, "note": note, "recorded_by": user},
    )
    return record


@transaction.atomic
def phase_step_unrecord(*, territory: Territory, step: PhaseStep) -> None:
    PhaseStepRecord.objects.filter(territory=territory, cycle=territory.cycle, step=step).delete()
