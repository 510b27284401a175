"""Who may import and export what, composed from the shared predicates of core.permissions."""

from __future__ import annotations

from typing import Any

from spiral.core.permissions import (
    Capability,
    can_manage_groups,
    can_manage_territory,
    can_transcribe,
    has_capability,
)
from spiral.transfers.models import ImportJob, ImportKind


def can_import_criteria_into_territory(user: Any, territory: Any) -> bool:
    """Criteria for any group of the territory: transcribing there, not only for one group."""
    return has_capability(user, territory.pk, Capability.TRANSCRIBE)


def can_use_import(user: Any, job: ImportJob) -> bool:
    """An import is seen and run by the person who uploaded it, while they keep the right."""
    if user is None or not user.is_authenticated or job.created_by_id != user.pk:
        return False
    if job.kind == ImportKind.TERRITORIES:
        return can_manage_territory(user, job.territory)
    if job.kind == ImportKind.GROUPS:
        return can_manage_groups(user, job.territory)
    if job.meeting is not None:
        return can_transcribe(user, job.meeting.group)
    if job.group is not None:
        return can_transcribe(user, job.group)
    return can_import_criteria_into_territory(user, job.territory)
