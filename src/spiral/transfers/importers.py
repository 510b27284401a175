"""Checking and saving imports, all or nothing: every line is checked first (with the same
rules as the transcription screen), the report lists every bad line, and only a clean file is
written, in one transaction, with bulk inserts and one refresh of the figures at the end."""

from __future__ import annotations

import datetime
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.db import transaction
from django.utils.text import slugify
from django.utils.translation import gettext as _

from spiral.accounts.models import User
from spiral.coding.models import CodingSource
from spiral.consultations.models import (
    GroupProfile,
    HomogeneousGroup,
    Meeting,
    Question,
    QuestionSet,
)

# The transcription screen's own validation, so an imported line is accepted or refused for
# exactly the same reasons as a typed one, and the one bulk write path of criteria.
from spiral.consultations.services import (
    CriteriaRejected,
    CriterionDraft,
    CriterionInput,
    criteria_bulk_create,
    criterion_input_check,
)
from spiral.core.errors import ImportRejected, LineError
from spiral.core.languages import CRITERION_LANGUAGE_CODES
from spiral.core.text import is_plain_number
from spiral.grid.codes import CodeError, GridIndex, ResolvedCode
from spiral.grid.models import GridVersion
from spiral.syntheses.services import GroupFacts, figures_change
from spiral.territories.models import CoordinationGroup, Territory, TerritoryKind
from spiral.territories.services import unique_territory_slug
from spiral.transfers.readers import Table

BATCH = 2000
Progress = Callable[[int], None]
DATE_FORMATS = ("%Y-%m-%d", "%d/%m/%Y", "%d.%m.%Y", "%d-%m-%Y", "%Y/%m/%d")
TRUE_WORDS = {"1", "yes", "y", "true", "oui", "o", "vrai", "x"}
COUNT_RE = re.compile(r"\d+(\.0+)?")
FALSE_WORDS = {"0", "no", "n", "false", "non", "faux"}


def _no_progress(_done: int) -> None:
    return None


def _cell(cells: list[str], mapping: dict[str, int | None], key: str) -> str:
    index = mapping.get(key)
    if index is None or index >= len(cells):
        return ""
    return cells[index].strip()


def _raw(cells: list[str]) -> str:
    return " | ".join(cells)[:300]


def parse_date(text: str) -> datetime.date | None:
    for pattern in DATE_FORMATS:
        try:
            return datetime.datetime.strptime(text.strip()[:10], pattern).date()
        except ValueError:
            continue
    return None


# --- Criteria ------------------------------------------------------------------------------


@dataclass(frozen=True)
class CriteriaTarget:
    """Where the criteria go: one meeting, a group (meetings by date) or a territory's groups."""

    territory: Territory
    group: HomogeneousGroup | None = None
    meeting: Meeting | None = None
    default_question: str = ""  # question code used when no column says which


@dataclass
class CriterionRow:
    line: int
    meeting_key: tuple[int, datetime.date] | int  # a meeting id, or (group id, date) to create
    question: Question
    text: str
    language: str
    expressions: int
    code: ResolvedCode | None


@dataclass
class CriteriaPlan:
    rows: list[CriterionRow] = field(default_factory=list)
    errors: list[LineError] = field(default_factory=list)
    new_meetings: dict[tuple[int, datetime.date], HomogeneousGroup] = field(default_factory=dict)


class _Questions:
    """The questions of each question set, found by code, kind, number or label."""

    def __init__(self) -> None:
        self._by_set: dict[int, dict[str, Question]] = {}

    def lookup(self, question_set_id: int, value: str) -> Question | None:
        if question_set_id not in self._by_set:
            index: dict[str, Question] = {}
            questions = Question.objects.filter(question_set_id=question_set_id)
            for number, q in enumerate(questions.order_by("position"), start=1):
                for key in (
                    q.code,
                    q.kind,
                    str(number),
                    f"q{number}",
                    q.short_label_fr,
                    q.short_label_en,
                    q.text_fr,
                    q.text_en,
                ):
                    index.setdefault(key.strip().casefold(), q)
            self._by_set[question_set_id] = index
        return self._by_set[question_set_id].get(value.strip().casefold())

    def choices(self, question_set_id: int) -> str:
        self.lookup(question_set_id, "")
        codes = Question.objects.filter(question_set_id=question_set_id).order_by("position")
        return ", ".join(codes.values_list("code", flat=True))


class _RememberingGrid(GridIndex):
    """A GridIndex that resolves each distinct code once: a file of 100,000 lines uses a few
    dozen codes, each checked (and refused with the same message) exactly as the first time."""

    def __init__(self, index: GridIndex) -> None:
        self.__dict__.update(index.__dict__)
        self._seen: dict[str, ResolvedCode | CodeError] = {}

    def resolve(self, raw: str) -> ResolvedCode:
        if raw not in self._seen:
            try:
                self._seen[raw] = super().resolve(raw)
            except CodeError as error:
                self._seen[raw] = error
        outcome = self._seen[raw]
        if isinstance(outcome, CodeError):
            raise outcome
        return outcome


def _grid_for(
    territory_id: int, cache: dict[tuple[str, int], GridIndex | None]
) -> GridIndex | None:
    """The grid a territory codes with, loaded once per version for the whole file."""
    if ("territory", territory_id) not in cache:
        version_id = Territory.objects.get(pk=territory_id).effective_grid_version_id()
        if version_id and ("version", version_id) not in cache:
            cache[("version", version_id)] = _RememberingGrid(
                GridIndex(GridVersion.objects.get(pk=version_id))
            )
        cache[("territory", territory_id)] = cache[("version", version_id)] if version_id else None
    return cache[("territory", territory_id)]


def criteria_import_check(
    *,
    table: Table,
    mapping: dict[str, int | None],
    target: CriteriaTarget,
    progress: Progress = _no_progress,
) -> CriteriaPlan:
    """Check every line; the plan holds either the rows to save or every line's errors."""
    plan = CriteriaPlan(errors=list(table.errors))
    refused = {e.line for e in table.errors}
    if mapping.get("text") is None:
        plan.errors.append(LineError(0, _("Choose the column that holds the criterion.")))
        return plan
    if target.meeting is None and mapping.get("meeting_date") is None:
        plan.errors.append(LineError(0, _("Choose the column that holds the meeting date.")))
        return plan
    if target.meeting is None and target.group is None and mapping.get("group") is None:
        plan.errors.append(LineError(0, _("Choose the column that names the group.")))
        return plan
    if mapping.get("question") is None and not target.default_question:
        plan.errors.append(LineError(0, _("Choose the question the criteria answer.")))
        return plan

    questions = _Questions()
    grids: dict[tuple[str, int], GridIndex | None] = {}
    default_set = QuestionSet.objects.filter(is_default=True).first()
    groups_by_name: dict[str, HomogeneousGroup] = {}
    if target.meeting is None and target.group is None:
        for candidate in HomogeneousGroup.objects.in_subtree(target.territory.pk):
            groups_by_name.setdefault(candidate.name.strip().casefold(), candidate)
            groups_by_name.setdefault(str(candidate.pk), candidate)
    existing_meetings: dict[tuple[int, datetime.date], Meeting] = {}
    pending_meetings: dict[tuple[int, datetime.date], Meeting] = {}
    group_ids = [target.group.pk] if target.group else [g.pk for g in set(groups_by_name.values())]
    if target.meeting is None:
        for known in Meeting.objects.filter(group_id__in=group_ids).order_by("pk"):
            existing_meetings.setdefault((known.group_id, known.held_on), known)

    for done, (line, cells) in enumerate(table.rows, start=1):
        if done % BATCH == 0:
            progress(done)
        if line in refused:
            continue
        problems: list[str] = []
        # Which meeting the line goes to.
        meeting: Meeting | None = target.meeting
        group: HomogeneousGroup | None = target.group or (meeting.group if meeting else None)
        meeting_key: Any = meeting.pk if meeting else None
        if group is None:
            name = _cell(cells, mapping, "group")
            group = groups_by_name.get(name.casefold().lstrip("#"))
            if group is None:
                problems.append(
                    _("No group “%(name)s” in this territory.") % {"name": name}
                    if name
                    else _("The group is missing.")
                )
        if meeting is None and group is not None:
            raw_date = _cell(cells, mapping, "meeting_date")
            held_on = parse_date(raw_date)
            if held_on is None:
                problems.append(
                    _("“%(value)s” is not a date: write it 2026-10-31 or 31/10/2026.")
                    % {"value": raw_date}
                )
            else:
                meeting_key = (group.pk, held_on)
                meeting = existing_meetings.get(meeting_key)
                if meeting is None:
                    if default_set is None:
                        problems.append(_("No default question set to create the meeting."))
                    elif meeting_key in pending_meetings:
                        meeting = pending_meetings[meeting_key]
                    else:
                        # Not saved yet: it is created with the criteria, if every line is right.
                        plan.new_meetings[meeting_key] = group
                        meeting = pending_meetings[meeting_key] = Meeting(
                            group=group,
                            held_on=held_on,
                            question_set=default_set,
                            language=group.language,
                        )
                else:
                    meeting_key = meeting.pk
        # The question.
        question = None
        if meeting is not None:
            raw_question = _cell(cells, mapping, "question") or target.default_question
            question = questions.lookup(meeting.question_set_id, raw_question)
            if question is None:
                problems.append(
                    _("Unknown question “%(value)s”: use one of %(choices)s.")
                    % {"value": raw_question, "choices": questions.choices(meeting.question_set_id)}
                )
        # The count.
        raw_count = _cell(cells, mapping, "count") or "1"
        try:
            expressions = int(float(raw_count)) if COUNT_RE.fullmatch(raw_count) else 0
        except ValueError:
            expressions = 0
        if expressions < 1:
            problems.append(
                _("“%(count)s” is not a number of expressions: write a whole number from 1.")
                % {"count": raw_count}
            )
            expressions = 1
        # Text, language and code, checked as the transcription screen checks them.
        item = CriterionInput(
            text=_cell(cells, mapping, "text"),
            expressions=expressions,
            language=_cell(cells, mapping, "language"),
            code=_cell(cells, mapping, "code"),
        )
        text, resolved, language = "", None, item.language
        if meeting is not None and group is not None:
            grid = _grid_for(group.territory_id, grids) if item.code else None
            check = criterion_input_check(item, meeting=meeting, grid=grid)
            problems.extend(check.errors.values())
            text, resolved, language = check.text, check.code, check.language
        if problems:
            plan.errors.append(LineError(line, " ".join(problems), _raw(cells)))
            continue
        if question is None or meeting_key is None:  # unreachable: both are set when no problem
            continue
        plan.rows.append(
            CriterionRow(line, meeting_key, question, text, language, expressions, resolved)
        )
    progress(len(table.rows))
    return plan


def import_token(job_id: int, line: int) -> str:
    return f"import-{job_id}-{line}"


@transaction.atomic
def criteria_import_commit(*, plan: CriteriaPlan, job_id: int, user: User | None) -> int:
    """Write a clean plan in one transaction; returns the number of criteria saved.

    Each row carries a client token made from the import and the line, so running the same
    import twice (a retried task) finds its rows instead of adding them again."""
    if plan.errors:
        raise ValueError("a plan with errors is never written")
    if not plan.rows:
        return 0
    default_set = QuestionSet.objects.get(is_default=True) if plan.new_meetings else None
    meetings: dict[Any, Meeting] = {
        # Not saved: criteria_bulk_create creates them with the criteria.
        key: Meeting(group=group, held_on=key[1], question_set=default_set, language=group.language)
        for key, group in sorted(plan.new_meetings.items(), key=lambda item: item[0])
    }
    ids = {r.meeting_key for r in plan.rows if isinstance(r.meeting_key, int)}
    meetings.update(Meeting.objects.in_bulk(ids))
    try:
        outcomes = criteria_bulk_create(
            drafts=[
                CriterionDraft(
                    meeting=meetings[row.meeting_key],
                    question=row.question,
                    text=row.text,
                    expressions=row.expressions,
                    language=row.language,
                    codes=(row.code,) if row.code is not None else (),
                    client_token=import_token(job_id, row.line),
                )
                for row in plan.rows
            ],
            user=user,
            source=CodingSource.IMPORT,
        )
    except CriteriaRejected as rejected:  # the check refused these already; kept as a guard
        raise ImportRejected(
            [
                LineError(plan.rows[index].line, " ".join(errors.values()))
                for index, errors in sorted(rejected.errors.items())
            ]
        ) from rejected
    return sum(1 for outcome in outcomes if outcome.created)


# --- Territories ---------------------------------------------------------------------------


@dataclass
class TerritoryRow:
    line: int
    code: str
    parent_code: str  # a code of the file, or "" for the import's territory
    parent_id: int | None  # an existing territory
    name: str
    kind: str
    country_code: str
    language: str
    is_public: bool


@dataclass
class TerritoriesPlan:
    rows: list[TerritoryRow] = field(default_factory=list)
    errors: list[LineError] = field(default_factory=list)


def _kind(value: str) -> str | None:
    wanted = value.strip().casefold()
    for kind_value, label in TerritoryKind.choices:
        if wanted in (kind_value, str(label).casefold(), kind_value.replace("_", " ")):
            return str(kind_value)
    return None


def _flag(value: str, default: bool) -> bool | None:
    wanted = value.strip().casefold()
    if not wanted:
        return default
    if wanted in TRUE_WORDS:
        return True
    if wanted in FALSE_WORDS:
        return False
    return None


def territories_import_check(
    *, table: Table, mapping: dict[str, int | None], root: Territory
) -> TerritoriesPlan:
    """Check a tree of territories to create below ``root``: each row names its parent by the
    code of another row, or by the short name (slug) of a territory already below ``root``."""
    plan = TerritoriesPlan()
    existing = dict(Territory.objects.subtree_of(root).values_list("slug", "pk"))
    codes: dict[str, int] = {}
    for line, cells in table.rows:
        path = [p.strip() for p in _cell(cells, mapping, "path").split("/") if p.strip()]
        code = _cell(cells, mapping, "code") or (path[-1] if path else "")
        if code:
            codes.setdefault(code.casefold(), line)
    for line, cells in table.rows:
        problems: list[str] = []
        path = [p.strip() for p in _cell(cells, mapping, "path").split("/") if p.strip()]
        code = _cell(cells, mapping, "code") or (path[-1] if path else "")
        parent = _cell(cells, mapping, "parent") or (path[-2] if len(path) > 1 else "")
        name = _cell(cells, mapping, "name")
        if not code:
            code = f"line-{line}"
        elif codes.get(code.casefold()) != line:
            problems.append(_("The code “%(code)s” is used by another line.") % {"code": code})
        if not name:
            problems.append(_("The name is missing."))
        kind = _kind(_cell(cells, mapping, "kind"))
        if kind is None:
            problems.append(
                _("Unknown kind “%(value)s”: use %(choices)s.")
                % {
                    "value": _cell(cells, mapping, "kind"),
                    "choices": ", ".join(TerritoryKind.values),
                }
            )
        parent_id = None
        if parent and parent.casefold() not in codes:
            parent_id = existing.get(parent) or existing.get(slugify(parent))
            if parent_id is None:
                problems.append(
                    _(
                        "The parent “%(code)s” is neither a line of the file nor a territory below "
                        "%(root)s."
                    )
                    % {"code": parent, "root": root.name}
                )
        country = _cell(cells, mapping, "country_code").upper()
        if country and not re.fullmatch(r"[A-Z]{2}", country):
            problems.append(_("The country code must have two letters, such as FR."))
        language = _cell(cells, mapping, "language")
        if language and language not in CRITERION_LANGUAGE_CODES:
            problems.append(_("Unknown language code “%(code)s”.") % {"code": language})
        is_public = _flag(_cell(cells, mapping, "is_public"), True)
        if is_public is None:
            problems.append(_("Write yes or no in the public column."))
        if problems:
            plan.errors.append(LineError(line, " ".join(problems), _raw(cells)))
            continue
        plan.rows.append(
            TerritoryRow(
                line,
                code,
                parent if parent_id is None else "",
                parent_id,
                name,
                kind or "",
                country,
                language,
                bool(is_public),
            )
        )
    if not plan.errors:
        _check_cycles(plan)
    return plan


def _check_cycles(plan: TerritoriesPlan) -> None:
    by_code = {row.code.casefold(): row for row in plan.rows}
    for row in plan.rows:
        seen = {row.code.casefold()}
        node = row
        while node.parent_code:
            parent = by_code.get(node.parent_code.casefold())
            if parent is None:
                break
            if parent.code.casefold() in seen:
                plan.errors.append(
                    LineError(row.line, _("The parents of this line form a loop."), row.code)
                )
                break
            seen.add(parent.code.casefold())
            node = parent


@transaction.atomic
def territories_import_commit(*, plan: TerritoriesPlan, root: Territory) -> int:
    """Create the territories parents first; each gets its closure rows and coordination group."""
    if plan.errors:
        raise ValueError("a plan with errors is never written")
    created: dict[str, Territory] = {}
    pending = list(plan.rows)
    while pending:
        ready = [r for r in pending if not r.parent_code or r.parent_code.casefold() in created]
        for row in ready:
            parent = (
                created[row.parent_code.casefold()]
                if row.parent_code
                else Territory.objects.get(pk=row.parent_id or root.pk)
            )
            slug = slugify(row.code)[:100]
            if not slug or slug.startswith("line-") or Territory.objects.filter(slug=slug).exists():
                slug = unique_territory_slug(row.name)
            territory = Territory.objects.create(
                parent=parent,
                name=row.name,
                slug=slug,
                kind=row.kind,
                country_code=row.country_code or parent.country_code,
                language=row.language or parent.language,
                is_public=row.is_public,
            )
            CoordinationGroup.objects.create(territory=territory)
            created[row.code.casefold()] = territory
        pending = [r for r in pending if r not in ready]
    return len(created)


# --- Homogeneous groups --------------------------------------------------------------------


@dataclass
class GroupsPlan:
    groups: list[HomogeneousGroup] = field(default_factory=list)
    lines: list[int] = field(default_factory=list)
    errors: list[LineError] = field(default_factory=list)


def groups_import_check(
    *, table: Table, mapping: dict[str, int | None], root: Territory, user: User | None
) -> GroupsPlan:
    """Check groups to create in ``root`` or the territories below it (named by short name or
    name); a group whose name already exists in its territory is refused, so a file imported
    twice does not double the groups."""
    plan = GroupsPlan()
    territories: dict[str, Territory] = {}
    for territory in Territory.objects.subtree_of(root):
        territories.setdefault(territory.slug.casefold(), territory)
        territories.setdefault(territory.name.strip().casefold(), territory)
    profiles: dict[str, GroupProfile] = {}
    for known in GroupProfile.objects.all():
        for key in (known.code, known.label_fr, known.label_en):
            if key:
                profiles.setdefault(key.strip().casefold(), known)
    taken = {
        (t, n.casefold())
        for t, n in HomogeneousGroup.objects.in_subtree(root.pk).values_list("territory_id", "name")
    }
    for line, cells in table.rows:
        problems: list[str] = []
        territory_name = _cell(cells, mapping, "territory")
        territory = territories.get(territory_name.casefold()) if territory_name else root
        if territory is None:
            problems.append(
                _("No territory “%(name)s” below %(root)s.")
                % {"name": territory_name, "root": root.name}
            )
        name = _cell(cells, mapping, "name")
        if not name:
            problems.append(_("The name is missing."))
        elif territory is not None and (territory.pk, name.casefold()) in taken:
            problems.append(
                _("A group “%(name)s” already exists in %(territory)s.")
                % {"name": name, "territory": territory.name}
            )
        profile_name = _cell(cells, mapping, "profile")
        profile = profiles.get(profile_name.casefold())
        if profile is None:
            problems.append(_("Unknown profile “%(value)s”.") % {"value": profile_name})
        raw_size = _cell(cells, mapping, "size")
        size = int(raw_size) if is_plain_number(raw_size) else None
        if raw_size and (size is None or not 1 <= size <= 1000):
            problems.append(_("“%(value)s” is not a number of participants.") % {"value": raw_size})
        language = _cell(cells, mapping, "language")
        if language and language not in CRITERION_LANGUAGE_CODES:
            problems.append(_("Unknown language code “%(code)s”.") % {"code": language})
        if problems or territory is None or profile is None:
            plan.errors.append(LineError(line, " ".join(problems), _raw(cells)))
            continue
        taken.add((territory.pk, name.casefold()))
        plan.lines.append(line)
        plan.groups.append(
            HomogeneousGroup(
                territory=territory,
                name=name,
                profile=profile,
                size=size,
                language=language or territory.language,
                description=_cell(cells, mapping, "description"),
                created_by=user,
            )
        )
    return plan


@transaction.atomic
def groups_import_commit(*, plan: GroupsPlan) -> int:
    if plan.errors:
        raise ValueError("a plan with errors is never written")
    created = HomogeneousGroup.objects.bulk_create(plan.groups, batch_size=BATCH)
    # New groups change the counts by themselves alone: no recount of their territories.
    figures_change(
        groups_added=[
            GroupFacts(g.territory_id, g.profile.code, g.size, g.is_archived) for g in created
        ]
    )
    return len(created)
