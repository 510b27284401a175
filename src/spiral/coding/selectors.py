"""Reading criteria for the coding screen: scopes, filters, keyset pages, the picker's choices."""

from __future__ import annotations

import re
import unicodedata
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from django.db.models import (
    Case,
    Exists,
    F,
    IntegerField,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
    Value,
    When,
)
from django.urls import reverse
from django.utils.translation import gettext as _

from spiral.coding.models import Coding
from spiral.consultations.models import (
    Criterion,
    GroupProfile,
    HomogeneousGroup,
    Meeting,
    QuestionKind,
)
from spiral.core.text import is_plain_number
from spiral.grid.codes import CodeError, GridIndex
from spiral.grid.models import Component, GridVersion
from spiral.syntheses.selectors import SynthesisFilters
from spiral.territories.models import Territory

PAGE_SIZE = 50
MAX_WORDS = 8


class ScopeKind:
    TERRITORY = "territory"
    GROUP = "group"
    MEETING = "meeting"


@dataclass(frozen=True)
class CodingScope:
    """What the coding screen shows: a territory and everything below it, a group or a meeting.

    ``territory`` is the territory whose permission applies (the group's for groups and
    meetings)."""

    kind: str
    territory: Territory
    group: HomogeneousGroup | None = None
    meeting: Meeting | None = None

    def criteria(self) -> QuerySet[Criterion]:
        if self.meeting is not None:
            return Criterion.objects.filter(meeting=self.meeting)
        if self.group is not None:
            return Criterion.objects.filter(group=self.group)
        return Criterion.objects.in_subtree(self.territory.pk)

    @property
    def pk(self) -> int:
        """The id of the meeting, group or territory the scope is."""
        if self.meeting is not None:
            return self.meeting.pk
        if self.group is not None:
            return self.group.pk
        return self.territory.pk

    @property
    def label(self) -> str:
        if self.meeting is not None:
            return str(self.meeting)
        if self.group is not None:
            return self.group.name
        return self.territory.name

    @property
    def url(self) -> str:
        if self.meeting is not None:
            return reverse("coding:meeting", kwargs={"pk": self.meeting.pk})
        if self.group is not None:
            return reverse("coding:group", kwargs={"pk": self.group.pk})
        return reverse("coding:territory", kwargs={"slug": self.territory.slug})


class CodingState:
    ALL = ""
    UNCODED = "uncoded"
    CODED = "coded"


class CodingOrder:
    UNCODED_FIRST = "uncoded"
    POSITION = "position"


@dataclass(frozen=True)
class CodingFilters:
    """Filters of the coding screen; empty values mean "all"."""

    group_id: int | None = None
    question_kind: str = ""
    profile: str = ""
    language: str = ""
    state: str = CodingState.ALL
    words: str = ""
    order: str = CodingOrder.UNCODED_FIRST


@dataclass(frozen=True)
class CodingCounts:
    criteria: int
    uncoded: int

    @property
    def coded(self) -> int:
        return self.criteria - self.uncoded


def current_codings_exist() -> Exists:
    return Exists(Coding.objects.filter(criterion_id=OuterRef("pk"), superseded_at__isnull=True))


# Every Latin letter with its accented forms, so that "ete" finds "été" and "Etre" finds "Être".
_LETTER_VARIANTS: dict[str, set[str]] = defaultdict(set)
for _code_point in range(0xC0, 0x250):
    _char = chr(_code_point)
    _base = unicodedata.normalize("NFD", _char)[0]
    if _base.isascii() and _base.isalpha():
        _LETTER_VARIANTS[_base.lower()].update({_char, _char.lower(), _char.upper()})


def _letter_class(char: str) -> str:
    base = unicodedata.normalize("NFD", char)[0].lower()
    variants = {char, char.lower(), char.upper(), base, base.upper()}
    if base.isascii():
        variants |= _LETTER_VARIANTS.get(base, set())
    # One-character case changes only: "ß".upper() is "SS", which a class cannot hold.
    return "[" + "".join(sorted(v for v in variants if len(v) == 1)) + "]"


def word_pattern(word: str) -> str:
    """A regular expression matching the word whatever its case and accents.

    Written in the subset shared by Python's ``re`` (SQLite's REGEXP) and PostgreSQL's ``~``."""
    parts = []
    for char in word:
        if char.isalpha():
            parts.append(_letter_class(char))
        elif char.isascii() and not char.isalnum():
            parts.append("\\" + char)
        else:
            parts.append(char)
    return "".join(parts)


def words_of(text: str) -> list[str]:
    return [word[:100] for word in text.split()][:MAX_WORDS]


def criteria_matching_words(criteria: QuerySet[Criterion], words: str) -> QuerySet[Criterion]:
    """Criteria whose text contains every word, ignoring case and accents."""
    for word in words_of(words):
        criteria = criteria.filter(text__regex=word_pattern(word))
    return criteria


def criteria_for_coding(*, scope: CodingScope, filters: CodingFilters) -> QuerySet[Criterion]:
    """The scope's criteria matching the filters, with ``coded_rank`` (0 uncoded, 1 coded)."""
    criteria = SynthesisFilters(
        question_kind=filters.question_kind, profile=filters.profile, language=filters.language
    ).apply_to_criteria(scope.criteria())
    if filters.group_id is not None:
        criteria = criteria.filter(group_id=filters.group_id)
    if filters.words.strip():
        criteria = criteria_matching_words(criteria, filters.words)
    criteria = criteria.annotate(
        coded_rank=Case(
            When(current_codings_exist(), then=Value(1)),
            default=Value(0),
            output_field=IntegerField(),
        ),
        question_position=F("question__position"),
    )
    if filters.state == CodingState.UNCODED:
        criteria = criteria.filter(coded_rank=0)
    elif filters.state == CodingState.CODED:
        criteria = criteria.filter(coded_rank=1)
    return criteria


def coding_counts(*, criteria: QuerySet[Criterion]) -> CodingCounts:
    """How many criteria match, and how many of them have no current coding."""
    return CodingCounts(
        criteria=criteria.count(), uncoded=criteria.filter(~current_codings_exist()).count()
    )


def sort_fields(order: str) -> list[str]:
    """The keyset: every field is an integer and the last one (pk) makes it unique."""
    stable = ["group_id", "meeting_id", "question_position", "position", "pk"]
    return ["coded_rank", *stable] if order == CodingOrder.UNCODED_FIRST else stable


def cursor_of(row: Criterion, order: str) -> str:
    return "-".join(str(int(getattr(row, name))) for name in sort_fields(order))


def parse_cursor(value: str | None, order: str) -> list[int] | None:
    """The values of a cursor written by cursor_of, or None if it is not one."""
    if not value:
        return None
    parts = value.split("-")
    if len(parts) != len(sort_fields(order)) or not all(is_plain_number(p) for p in parts):
        return None
    return [int(p) for p in parts]


def _beyond(fields: list[str], values: list[int], lookup: str) -> Q:
    """Rows after (``gt``) or before (``lt``) the cursor in the keyset order."""
    condition = Q(pk__in=[])
    for index, name in enumerate(fields):
        step = Q(**{f"{name}__{lookup}": values[index]})
        for previous, value in zip(fields[:index], values[:index], strict=True):
            step &= Q(**{previous: value})
        condition |= step
    return condition


@dataclass
class CodingPage:
    rows: list[Criterion]
    next_cursor: str | None
    previous_cursor: str | None
    is_first: bool = True  # reached without a cursor: "first page" is this one

    @property
    def has_next(self) -> bool:
        return self.next_cursor is not None

    @property
    def has_previous(self) -> bool:
        return self.previous_cursor is not None


def coding_codings_prefetch() -> Prefetch:
    return Prefetch(
        "codings",
        queryset=Coding.objects.current()
        .select_related("component", "coded_by")
        .order_by("created_at", "pk"),
        to_attr="current_codings",
    )


def coding_page(
    *,
    criteria: QuerySet[Criterion],
    order: str,
    after: str | None = None,
    before: str | None = None,
    size: int = PAGE_SIZE,
) -> CodingPage:
    """One page of criteria in keyset order: rows coded meanwhile never push others off a page.

    With offsets, coding the 50 rows of the first page (uncoded first) would move them to the
    end and the second page would skip 50 uncoded criteria; a cursor continues after the last
    row that was shown."""
    fields = sort_fields(order)
    after_values = parse_cursor(after, order)
    before_values = None if after_values else parse_cursor(before, order)
    rows_query = criteria.select_related("question", "group__territory", "meeting")
    rows_query = rows_query.prefetch_related(coding_codings_prefetch())
    if before_values is not None:
        query = rows_query.filter(_beyond(fields, before_values, "lt"))
        rows = list(query.order_by(*[f"-{name}" for name in fields])[: size + 1])
        more_before: bool | None = len(rows) > size
        rows = list(reversed(rows[:size]))
        more_after = None
    else:
        query = rows_query
        if after_values is not None:
            query = query.filter(_beyond(fields, after_values, "gt"))
        rows = list(query.order_by(*fields)[: size + 1])
        more_after = len(rows) > size
        rows = rows[:size]
        more_before = None if after_values is not None else False
    if not rows:
        if after_values is not None or before_values is not None:
            # A stale link (the rows around it were coded or deleted): start again.
            return coding_page(criteria=criteria, order=order, size=size)
        return CodingPage(rows=[], next_cursor=None, previous_cursor=None)
    if more_before is None:
        first = [int(getattr(rows[0], name)) for name in fields]
        more_before = criteria.filter(_beyond(fields, first, "lt")).exists()
    if more_after is None:
        last = [int(getattr(rows[-1], name)) for name in fields]
        more_after = criteria.filter(_beyond(fields, last, "gt")).exists()
    return CodingPage(
        rows=rows,
        next_cursor=cursor_of(rows[-1], order) if more_after else None,
        previous_cursor=cursor_of(rows[0], order) if more_before else None,
        is_first=after_values is None and before_values is None,
    )


def territory_version_ids(*, territory_ids: Iterable[int]) -> dict[int, int | None]:
    """Each territory's effective grid version (its own, an ancestor's or the default)."""
    return {pk: t.effective_grid_version_id() for pk, t in _territories(territory_ids).items()}


def _territories(ids: Iterable[int]) -> dict[int, Territory]:
    return {t.pk: t for t in Territory.objects.filter(pk__in=set(ids))}


def scope_version_ids(*, territory: Territory) -> list[int]:
    """The grid versions used in a territory's subtree: its own and those chosen below it."""
    own = territory.effective_grid_version_id()
    below = (
        Territory.objects.filter(
            ancestor_links__ancestor_id=territory.pk, grid_version__isnull=False
        )
        .exclude(pk=territory.pk)
        .values_list("grid_version_id", flat=True)
        .distinct()
    )
    ids = [own] if own else []
    ids += [pk for pk in below if pk not in ids]
    return ids


def component_choices(*, version_ids: Sequence[int]) -> list[dict[str, str]]:
    """The components offered by the type-ahead picker (code, label in both languages,
    description); codes present in several versions are listed once."""
    components = Component.objects.filter(version_id__in=version_ids).order_by("position", "code")
    order = {pk: index for index, pk in enumerate(version_ids)}
    seen: set[str] = set()
    choices = []
    for c in sorted(components, key=lambda c: order.get(c.version_id, 0)):
        if c.code in seen:
            continue
        seen.add(c.code)
        choices.append(
            {
                "code": c.code,
                "label": c.label,
                "other_label": c.label_en if c.label == c.label_fr else c.label_fr,
                "description": c.description,
            }
        )
    return choices


def scope_filter_options(*, scope: CodingScope) -> dict[str, Any]:
    """Values offered by the filter form of a scope."""
    groups: list[HomogeneousGroup] = []
    if scope.kind == ScopeKind.TERRITORY:
        groups = list(
            HomogeneousGroup.objects.in_subtree(scope.territory.pk)
            .select_related("territory")
            .order_by("territory__name", "name")
        )
    languages = list(
        scope.criteria().order_by("language").values_list("language", flat=True).distinct()
    )
    return {
        "groups": groups,
        "question_kinds": list(QuestionKind.choices),
        "profiles": list(GroupProfile.objects.all()),
        "languages": languages,
    }


class GridsByTerritory:
    """The grid index each territory codes with, each version loaded once."""

    def __init__(self) -> None:
        self._versions: dict[int, int | None] = {}
        self._indexes: dict[int, GridIndex] = {}

    def preload(self, territory_ids: Iterable[int]) -> None:
        missing = [pk for pk in set(territory_ids) if pk not in self._versions]
        self._versions.update(territory_version_ids(territory_ids=missing))

    def for_territory(self, territory_id: int) -> GridIndex:
        if territory_id not in self._versions:
            self.preload([territory_id])
        version_id = self._versions.get(territory_id)
        if version_id is None:
            raise CodeError(_("No grid version is available to check this code."))
        if version_id not in self._indexes:
            self._indexes[version_id] = GridIndex(GridVersion.objects.get(pk=version_id))
        return self._indexes[version_id]


def current_codings_of(*, criterion_ids: Iterable[int]) -> dict[int, list[Coding]]:
    """Current codings per criterion, with their component and coder, oldest first."""
    result: dict[int, list[Coding]] = defaultdict(list)
    codings = (
        Coding.objects.current()
        .filter(criterion_id__in=list(criterion_ids))
        .select_related("component", "coded_by")
        .order_by("created_at", "pk")
    )
    for coding in codings:
        result[coding.criterion_id].append(coding)
    return result


_CODE_SEPARATORS = re.compile(r"[\s,;]+")


def split_codes(text: str) -> list[str]:
    """Several codes typed in one box, separated by blanks, commas or semicolons."""
    return [part for part in _CODE_SEPARATORS.split(text or "") if part]
