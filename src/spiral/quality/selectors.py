"""Reading double coding: the population a sample is drawn from, progress, agreement figures,
the disagreements to settle, and the agreement line of a territory's synthesis."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from django.db.models import Count, Exists, OuterRef, Q, QuerySet
from django.utils.translation import gettext as _

from spiral.accounts.models import RoleAssignment, User
from spiral.coding.models import Coding
from spiral.coding.selectors import CodingScope, ScopeKind, current_codings_exist
from spiral.consultations.models import Criterion
from spiral.core.permissions import ROLE_CAPABILITIES, Capability
from spiral.grid.models import Component, Dimension
from spiral.quality.agreement import (
    AgreementFigures,
    CodedPair,
    LabelAgreement,
    Level,
    agreement_figures,
    at_level,
    component_of,
)
from spiral.quality.models import (
    DoubleCodingRequest,
    RequestStatus,
    SampleItem,
    SampleItemQuerySet,
)
from spiral.territories.models import Territory

CODE_ROLES = sorted(role for role, caps in ROLE_CAPABILITIES.items() if Capability.CODE in caps)


def request_scope(*, request: DoubleCodingRequest) -> CodingScope:
    """The scope a request was drawn from, as the coding screen knows it."""
    if request.meeting is not None:
        kind = ScopeKind.MEETING
    elif request.group is not None:
        kind = ScopeKind.GROUP
    else:
        kind = ScopeKind.TERRITORY
    return CodingScope(
        kind=kind, territory=request.territory, group=request.group, meeting=request.meeting
    )


def sample_population(*, scope: CodingScope, second_coder: User) -> QuerySet[Criterion]:
    """The scope's coded criteria, except those the second coder gave a code to themselves."""
    own = Coding.objects.current().filter(criterion_id=OuterRef("pk"), coded_by=second_coder)
    return scope.criteria().filter(current_codings_exist(), ~Exists(own))


def coded_count(*, scope: CodingScope) -> int:
    """How many criteria of the scope carry a code."""
    return scope.criteria().filter(current_codings_exist()).count()


def second_coder_choices(*, territory: Territory) -> QuerySet[User]:
    """Active people holding a role that may code on the territory (or above it)."""
    roles = RoleAssignment.objects.covering(territory.pk).filter(role__in=CODE_ROLES)
    return (
        User.objects.filter(is_active=True, pk__in=roles.values("user_id"))
        .order_by("display_name", "username")
        .distinct()
    )


def _with_progress(requests: QuerySet[DoubleCodingRequest]) -> QuerySet[DoubleCodingRequest]:
    alive = Q(items__criterion__deleted_at__isnull=True)
    return requests.select_related(
        "territory", "group", "meeting__group", "second_coder", "requested_by"
    ).annotate(
        item_count=Count("items", filter=alive),
        done_count=Count("items", filter=alive & Q(items__second_coded_at__isnull=False)),
    )


def requests_in_territory(*, territory: Territory) -> QuerySet[DoubleCodingRequest]:
    """Requests of the territory and of every territory below it, newest first, with
    ``item_count`` and ``done_count``."""
    return _with_progress(
        DoubleCodingRequest.objects.filter(territory__ancestor_links__ancestor_id=territory.pk)
    ).order_by("-requested_at", "-pk")


def open_assignments(
    *, user: User, territory: Territory | None = None
) -> QuerySet[DoubleCodingRequest]:
    """Open requests this user is the second coder of (below ``territory`` if given)."""
    requests = DoubleCodingRequest.objects.filter(second_coder=user, status=RequestStatus.OPEN)
    if territory is not None:
        requests = requests.filter(territory__ancestor_links__ancestor_id=territory.pk)
    return _with_progress(requests).order_by("requested_at", "pk")


@dataclass(frozen=True)
class Progress:
    done: int
    total: int

    @property
    def complete(self) -> bool:
        return self.total > 0 and self.done >= self.total


def request_items(*, request: DoubleCodingRequest) -> SampleItemQuerySet:
    """The sample, in the order the blind screen shows it (deleted criteria left out)."""
    return SampleItem.objects.filter(request=request).alive().order_by("position", "pk")


def request_progress(*, request: DoubleCodingRequest) -> Progress:
    items = request_items(request=request)
    return Progress(done=items.done().count(), total=items.count())


def coded_pairs(items: Iterable[SampleItem]) -> list[CodedPair]:
    """Each item as the agreement module reads it: the first codes and the second ones (None
    while the second coder has not coded it)."""
    return [CodedPair(first=item.first_code_set, second=item.second_code_set) for item in items]


# ---------------------------------------------------------------- reports


@dataclass(frozen=True)
class LabelRow:
    agreement: LabelAgreement
    label: str  # the component's or dimension's name in the active language


@dataclass(frozen=True)
class PairRow:
    """Agreement of two people over the items one coded first and the other second."""

    first: str
    second: str
    figures: AgreementFigures


@dataclass
class AgreementReport:
    request: DoubleCodingRequest
    progress: Progress
    levels: list[AgreementFigures]  # full codes, components, dimensions
    components: list[LabelRow]
    dimensions: list[LabelRow]
    pairs: list[PairRow] = field(default_factory=list)
    to_settle: int = 0
    settled: int = 0

    @property
    def headline(self) -> AgreementFigures:
        return next(f for f in self.levels if f.level == Level.COMPONENT)


def _labels(territory: Territory, codes: Iterable[str], *, level: Level) -> dict[str, str]:
    version_id = territory.effective_grid_version_id()
    model = Dimension if level == Level.DIMENSION else Component
    entries = model.objects.filter(version_id=version_id, code__in=set(codes))
    return {entry.code: entry.label for entry in entries}


def code_labels(*, territory: Territory, codes: Iterable[str]) -> dict[str, str]:
    """Full code -> the name of its component, in the active language."""
    codes = set(codes)
    names = _labels(territory, {component_of(code) for code in codes}, level=Level.COMPONENT)
    return {code: names.get(component_of(code), "") for code in codes}


def _label_rows(territory: Territory, figures: AgreementFigures, *, level: Level) -> list[LabelRow]:
    names = _labels(territory, (row.label for row in figures.labels), level=level)
    return [LabelRow(agreement=row, label=names.get(row.label, "")) for row in figures.labels]


def _person(user: User | None) -> str:
    return user.shown_name if user is not None else _("several or unknown coders")


def coder_pair_rows(items: Sequence[SampleItem]) -> list[PairRow]:
    """Agreement (components) per pair of people, whichever of the two coded first."""
    groups: dict[tuple[int | None, int], list[CodedPair]] = defaultdict(list)
    people: dict[int, User] = {}
    for item in items:
        second = item.request.second_coder
        people[second.pk] = second
        first_id = item.first_coder_id
        pair = CodedPair(first=item.first_code_set, second=item.second_code_set)
        if first_id is None:
            groups[(None, second.pk)].append(pair)
            continue
        if item.first_coder is not None:
            people[first_id] = item.first_coder
        # One orientation per pair of people, so Cohen's kappa reads each person's own codes
        # as one coder whoever was asked first.
        if first_id <= second.pk:
            groups[(first_id, second.pk)].append(pair)
        else:
            groups[(second.pk, first_id)].append(CodedPair(first=pair.second, second=pair.first))
    rows = []
    for (a, b), pairs in groups.items():
        figures = agreement_figures(pairs, level=Level.COMPONENT, per_label=False)
        if figures.compared:
            rows.append(
                PairRow(
                    first=_person(people.get(a) if a is not None else None),
                    second=_person(people.get(b)),
                    figures=figures,
                )
            )
    return sorted(rows, key=lambda row: (-row.figures.compared, row.first, row.second))


def _items_for_figures(requests: Iterable[DoubleCodingRequest]) -> list[SampleItem]:
    return list(
        SampleItem.objects.filter(request__in=list(requests))
        .alive()
        .select_related("request__second_coder", "first_coder", "adjudication")
        .order_by("request_id", "position", "pk")
    )


def request_report(*, request: DoubleCodingRequest, with_pairs: bool = False) -> AgreementReport:
    """Every agreement figure of one request: by level, by component, by pair of coders."""
    items = _items_for_figures([request])
    pairs = coded_pairs(items)
    levels = [agreement_figures(pairs, level=level) for level in Level]
    by_level = {f.level: f for f in levels}
    differing = [item for item in items if item.differs]
    settled = sum(1 for item in differing if hasattr(item, "adjudication"))
    return AgreementReport(
        request=request,
        progress=Progress(done=sum(1 for i in items if i.is_done), total=len(items)),
        levels=levels,
        components=_label_rows(request.territory, by_level[Level.COMPONENT], level=Level.COMPONENT),
        dimensions=_label_rows(request.territory, by_level[Level.DIMENSION], level=Level.DIMENSION),
        pairs=coder_pair_rows(items) if with_pairs else [],
        to_settle=len(differing) - settled,
        settled=settled,
    )


@dataclass(frozen=True)
class RequestRow:
    """A request in a territory's list, with its headline figures (components)."""

    request: DoubleCodingRequest
    figures: AgreementFigures
    to_settle: int


def request_rows(*, requests: Sequence[DoubleCodingRequest]) -> list[RequestRow]:
    """Headline figures of several requests, read in one query."""
    by_request: dict[int, list[SampleItem]] = defaultdict(list)
    for item in _items_for_figures(requests):
        by_request[item.request_id].append(item)
    rows = []
    for request in requests:
        items = by_request.get(request.pk, [])
        rows.append(
            RequestRow(
                request=request,
                figures=agreement_figures(coded_pairs(items), per_label=False),
                to_settle=sum(
                    1 for item in items if item.differs and not hasattr(item, "adjudication")
                ),
            )
        )
    return rows


def territory_pair_rows(*, territory: Territory) -> list[PairRow]:
    """Agreement per pair of coders over every request of the territory and below."""
    return coder_pair_rows(_items_for_figures(requests_in_territory(territory=territory)))


# ---------------------------------------------------------------- disagreements


@dataclass(frozen=True)
class CodeChip:
    code: str
    label: str


@dataclass
class DisagreementRow:
    item: SampleItem
    first: list[CodeChip]
    second: list[CodeChip]
    components_agree: bool  # only the precision (detail, sense, beneficiary) differs
    current: list[str] | None  # the criterion's codes now, when they changed since the sample


def _chips(codes: Iterable[str], names: dict[str, str]) -> list[CodeChip]:
    return [CodeChip(code=code, label=names.get(component_of(code), "")) for code in codes]


def disagreement_rows(*, request: DoubleCodingRequest, settled: bool) -> list[DisagreementRow]:
    """Items the two coders coded differently: still to settle, or settled (with the decision)."""
    items = [
        item
        for item in request_items(request=request)
        .done()
        .select_related(
            "request",
            "criterion__question",
            "criterion__group__territory",
            "criterion__meeting",
            "first_coder",
            "adjudication__decided_by",
        )
        if item.differs and hasattr(item, "adjudication") == settled
    ]
    ids = [item.criterion_id for item in items]
    current: dict[int, set[str]] = defaultdict(set)
    for criterion_id, code in (
        Coding.objects.current()
        .filter(criterion_id__in=ids)
        .values_list("criterion_id", "full_code")
    ):
        current[criterion_id].add(code)
    codes = {code for item in items for code in [*item.first_code_list, *item.second_codes]}
    names = _labels(request.territory, map(component_of, codes), level=Level.COMPONENT)
    rows = []
    for item in items:
        now = current.get(item.criterion_id, set())
        rows.append(
            DisagreementRow(
                item=item,
                first=_chips(item.first_code_list, names),
                second=_chips(item.second_codes, names),
                components_agree=at_level(item.first_code_list, Level.COMPONENT)
                == at_level(item.second_codes, Level.COMPONENT),
                current=None if settled or now == item.first_code_set else sorted(now),
            )
        )
    return rows


# ---------------------------------------------------------------- the synthesis page


@dataclass(frozen=True)
class AgreementLine:
    """The agreement shown on a territory's synthesis: the open requests of the territory and
    below, and the last closed one, their compared items pooled."""

    figures: AgreementFigures
    requests: int
    in_progress: bool


def agreement_line(*, territory: Territory) -> AgreementLine | None:
    """None when no request of the territory (or below) has an item coded twice yet."""
    requests = DoubleCodingRequest.objects.filter(
        territory__ancestor_links__ancestor_id=territory.pk
    )
    chosen = list(requests.filter(status=RequestStatus.OPEN).order_by("pk"))
    last_closed = requests.filter(status=RequestStatus.CLOSED).order_by("-closed_at", "-pk").first()
    if last_closed is not None:
        chosen.append(last_closed)
    if not chosen:
        return None
    items = list(
        SampleItem.objects.filter(request__in=chosen)
        .alive()
        .done()
        .only("first_codes", "second_codes", "second_coded_at", "request_id")
    )
    used = {item.request_id for item in items}
    figures = agreement_figures(coded_pairs(items), per_label=False)
    if not figures.compared:
        return None
    return AgreementLine(
        figures=figures,
        requests=len(used),
        in_progress=any(r.is_open and r.pk in used for r in chosen),
    )
