"""Territories: closure table, counts, public page, dashboard, editing, coordination, roles."""

from __future__ import annotations

import datetime
from collections.abc import Callable
from typing import Any

import pytest
from django.db import transaction
from django.test import Client
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from spiral.accounts.models import Role, RoleAssignment, User
from spiral.consultations.models import Criterion, HomogeneousGroup, Meeting, Question
from spiral.consultations.services import (
    CriterionInput,
    criteria_add,
    criterion_delete,
    criterion_restore,
    criterion_update,
    group_create,
    group_move,
    meeting_create,
)
from spiral.grid.codes import GridIndex
from spiral.grid.models import GridVersion
from spiral.territories.models import (
    CoordinationGroup,
    CoordinationMember,
    PhaseStepRecord,
    Territory,
    TerritoryLink,
    rebuild_closure,
)
from spiral.territories.selectors import (
    TerritoryCounts,
    territory_counts,
    territory_counts_from_rows,
)
from tests.conftest import client_for
from tests.factories import (
    CoordinationMemberFactory,
    GroupFactory,
    RoleFactory,
    TerritoryFactory,
    UserFactory,
    default_profile,
)

Tree = dict[str, Territory]
MakeUser = Callable[..., User]
DB_HYPOTHESIS = settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


def _closure_from_parents() -> set[tuple[int, int, int]]:
    """(descendant, ancestor, depth) for every territory, walking the parent pointers."""
    parents = dict(Territory.objects.values_list("pk", "parent_id"))
    rows = set()
    for pk in parents:
        node: int | None = pk
        depth = 0
        while node is not None:
            rows.add((pk, node, depth))
            node = parents[node]
            depth += 1
    return rows


def _closure_in_db() -> set[tuple[int, int, int]]:
    return set(TerritoryLink.objects.values_list("territory_id", "ancestor_id", "depth"))


def _url(territory: Territory, suffix: str = "") -> str:
    return f"/territories/{territory.slug}/{suffix}"


def _first_question(meeting: Meeting) -> Question:
    return meeting.question_set.questions.order_by("position").first()  # type: ignore[return-value]


def _group(
    territory: Territory, name: str = "A group", facilitators: tuple[User, ...] = ()
) -> HomogeneousGroup:
    """A group made the way the application makes it (the stored figures follow)."""
    return group_create(
        territory=territory,
        name=name,
        profile=default_profile(),
        facilitators=facilitators,
        user=None,
    )


def _meeting(group: HomogeneousGroup) -> Meeting:
    return meeting_create(group=group, held_on=datetime.date(2026, 10, 1), user=None)


def _add(
    meeting: Meeting, *items: tuple[str, int, str], grid: GridIndex | None = None
) -> list[Criterion]:
    """Add criteria (text, expressions, code) to the meeting's first question."""
    outcomes = criteria_add(
        meeting=meeting,
        question=_first_question(meeting),
        inputs=[CriterionInput(text=t, expressions=e, code=c) for t, e, c in items],
        user=None,
        grid=grid,
    )
    assert all(o.ok and o.created for o in outcomes), [o.errors for o in outcomes]
    return [o.criterion for o in outcomes if o.criterion is not None]


def _assert_redirects_to_login(response: Any) -> None:
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/?next=")


# --- closure table ---------------------------------------------------------------------------


def test_closure_after_creation(tree: Tree) -> None:
    assert _closure_in_db() == _closure_from_parents()
    links = {
        (link.ancestor_id, link.depth)
        for link in TerritoryLink.objects.filter(territory=tree["neighbourhood"])
    }
    assert links == {
        (tree["neighbourhood"].pk, 0),
        (tree["town"].pk, 1),
        (tree["region"].pk, 2),
        (tree["country"].pk, 3),
        (tree["network"].pk, 4),
    }
    assert tree["neighbourhood"].ancestor_ids() == [
        tree[key].pk for key in ("network", "country", "region", "town", "neighbourhood")
    ]


def test_closure_after_moving_a_subtree(tree: Tree) -> None:
    street = TerritoryFactory(name="Street", kind="neighbourhood", parent=tree["neighbourhood"])
    town = tree["town"]
    town.parent = tree["other_town"]
    town.save()
    assert _closure_in_db() == _closure_from_parents()
    depths = dict(
        TerritoryLink.objects.filter(territory=street).values_list("ancestor_id", "depth")
    )
    assert depths == {
        street.pk: 0,
        tree["neighbourhood"].pk: 1,
        town.pk: 2,
        tree["other_town"].pk: 3,
        tree["region"].pk: 4,
        tree["country"].pk: 5,
        tree["network"].pk: 6,
    }


def test_closure_after_moving_to_the_root(tree: Tree) -> None:
    town = tree["town"]
    town.parent = None
    town.save()
    assert _closure_in_db() == _closure_from_parents()
    assert set(Territory.objects.subtree_of(tree["region"])) == {
        tree["region"],
        tree["other_town"],
    }


def test_rebuild_closure_repairs_missing_rows(tree: Tree) -> None:
    TerritoryLink.objects.filter(territory__in=[tree["town"], tree["school"]]).delete()
    rebuild_closure(tree["town"])
    assert _closure_in_db() == _closure_from_parents()


def test_saving_without_moving_keeps_the_closure(tree: Tree) -> None:
    before = _closure_in_db()
    town = tree["town"]
    town.name = "Renamed town"
    town.save()
    assert _closure_in_db() == before


def _descendants(parents: dict[int, int | None], node: int) -> set[int]:
    found = {node}
    changed = True
    while changed:
        changed = False
        for child, parent in parents.items():
            if parent in found and child not in found:
                found.add(child)
                changed = True
    return found


@DB_HYPOTHESIS
@given(data=st.data())
def test_closure_matches_parent_pointers_after_random_moves(db: None, data: Any) -> None:
    with transaction.atomic():
        size = data.draw(st.integers(min_value=1, max_value=15), label="size")
        nodes: list[Territory] = []
        parents: dict[int, int | None] = {}
        for index in range(size):
            parent_index = data.draw(
                st.none() | st.integers(min_value=0, max_value=index - 1) if index else st.none(),
                label="parent",
            )
            parent = nodes[parent_index] if parent_index is not None else None
            node = Territory.objects.create(
                name=f"Node {index}", slug=f"node-{index}", kind="locality", parent=parent
            )
            nodes.append(node)
            parents[index] = parent_index
        assert _closure_in_db() == _closure_from_parents()

        for _move in range(data.draw(st.integers(min_value=1, max_value=4), label="moves")):
            moved = data.draw(st.integers(min_value=0, max_value=size - 1), label="moved")
            allowed = sorted(set(range(size)) - _descendants(parents, moved))
            new_parent = data.draw(st.sampled_from([None, *allowed]), label="new parent")
            node = Territory.objects.get(pk=nodes[moved].pk)
            node.parent = nodes[new_parent] if new_parent is not None else None
            node.save()
            parents[moved] = new_parent
            assert _closure_in_db() == _closure_from_parents()
        for index, territory in enumerate(nodes):
            expected = {nodes[i].pk for i in _descendants(parents, index)}
            subtree = set(Territory.objects.subtree_of(territory).values_list("pk", flat=True))
            assert subtree == expected
        transaction.set_rollback(True)


@pytest.mark.parametrize(
    ("key", "expected"),
    [
        ("town", {"town", "neighbourhood", "school"}),
        ("region", {"region", "town", "other_town", "neighbourhood", "school"}),
        ("school", {"school"}),
        (
            "network",
            {"network", "country", "region", "town", "other_town", "neighbourhood", "school"},
        ),
    ],
)
def test_subtree_of(tree: Tree, key: str, expected: set[str]) -> None:
    wanted = {tree[k].pk for k in expected}
    assert set(Territory.objects.subtree_of(tree[key]).values_list("pk", flat=True)) == wanted
    assert set(Territory.objects.subtree_of(tree[key].pk).values_list("pk", flat=True)) == wanted


def test_effective_grid_version_falls_back_to_parent_then_default(tree: Tree) -> None:
    default = GridVersion.objects.get(is_default=True)
    town_version = GridVersion.objects.create(code="town-v", name_fr="V ville", name_en="V town")
    school_version = GridVersion.objects.create(
        code="school-v", name_fr="V école", name_en="V school"
    )
    Territory.objects.filter(pk=tree["town"].pk).update(grid_version=town_version)
    Territory.objects.filter(pk=tree["school"].pk).update(grid_version=school_version)
    assert tree["town"].effective_grid_version_id() == town_version.pk
    assert tree["neighbourhood"].effective_grid_version_id() == town_version.pk
    assert tree["school"].effective_grid_version_id() == school_version.pk
    assert tree["region"].effective_grid_version_id() == default.pk
    assert tree["other_town"].effective_grid_version_id() == default.pk


# --- counts ----------------------------------------------------------------------------------


@pytest.fixture
def grid(db: None) -> GridIndex:
    """The default grid, indexed once for a test that adds many criteria."""
    return GridIndex(GridVersion.objects.get(is_default=True))


def _assert_counts_match_rows(tree: Tree) -> None:
    for territory in tree.values():
        assert territory_counts(territory=territory) == territory_counts_from_rows(
            territory=territory
        ), territory.name


def test_territory_counts_by_hand(tree: Tree) -> None:
    town_meeting = _meeting(_group(tree["town"]))
    lime_group = _group(tree["neighbourhood"])
    lime_first = _meeting(lime_group)
    _meeting(lime_group)  # a meeting with no criterion yet
    _group(tree["neighbourhood"])  # a group with no meeting yet
    other_meeting = _meeting(_group(tree["other_town"]))

    _add(town_meeting, ("Avoir un emploi", 3, "A06"), ("Le bruit", 1, ""))
    lime = _add(lime_first, ("Un travail stable", 2, "A06"), ("Les arbres", 4, ""), ("X", 5, "A06"))
    _add(other_meeting, ("Ailleurs", 7, "A06"))
    criterion_delete(criterion=lime[2], user=None)  # deleted: in no count

    town = territory_counts(territory=tree["town"])
    assert (town.groups, town.meetings) == (3, 3)
    assert (town.criteria, town.expressions, town.coded_criteria) == (4, 3 + 1 + 2 + 4, 2)
    assert town.coded_share == 0.5

    neighbourhood = territory_counts(territory=tree["neighbourhood"])
    assert (neighbourhood.groups, neighbourhood.meetings) == (2, 2)
    assert (neighbourhood.criteria, neighbourhood.expressions) == (2, 6)
    assert neighbourhood.coded_criteria == 1

    region = territory_counts(territory=tree["region"])
    assert (region.groups, region.meetings, region.criteria) == (4, 4, 5)
    assert (region.expressions, region.coded_criteria) == (17, 3)

    school = territory_counts(territory=tree["school"])
    assert school == TerritoryCounts(0, 0, 0, 0, 0)
    assert school.coded_share is None
    _assert_counts_match_rows(tree)


def test_territory_counts_follow_corrections(tree: Tree) -> None:
    meeting = _meeting(_group(tree["neighbourhood"]))
    (criterion,) = _add(meeting, ("Avoir un emploi", 1, "A06"))
    assert territory_counts(territory=tree["town"]) == TerritoryCounts(1, 1, 1, 1, 1)

    criterion_update(
        criterion=criterion, text=criterion.text, expressions=1, language="fr", code="", user=None
    )
    assert territory_counts(territory=tree["town"]) == TerritoryCounts(1, 1, 1, 1, 0)

    criterion_update(
        criterion=criterion, text="Avoir un travail", expressions=4, language="fr", user=None
    )
    assert territory_counts(territory=tree["town"]).expressions == 4
    _assert_counts_match_rows(tree)

    criterion_delete(criterion=criterion, user=None)
    assert territory_counts(territory=tree["town"]) == TerritoryCounts(1, 1, 0, 0, 0)
    criterion_restore(criterion=criterion, user=None)
    assert territory_counts(territory=tree["town"]) == TerritoryCounts(1, 1, 1, 4, 0)
    _assert_counts_match_rows(tree)


def test_territory_counts_follow_moves(tree: Tree) -> None:
    group = _group(tree["neighbourhood"])
    _add(_meeting(group), ("Avoir un emploi", 2, "A06"))
    group_move(group=group, territory=tree["other_town"])
    assert territory_counts(territory=tree["town"]) == TerritoryCounts(0, 0, 0, 0, 0)
    assert territory_counts(territory=tree["other_town"]) == TerritoryCounts(1, 1, 1, 2, 1)

    # Moving a territory carries its figures to its new ancestors.
    neighbourhood = tree["neighbourhood"]
    _add(_meeting(_group(neighbourhood)), ("Le parc", 3, ""))
    neighbourhood.parent = tree["other_town"]
    neighbourhood.save()
    assert territory_counts(territory=tree["town"]) == TerritoryCounts(0, 0, 0, 0, 0)
    assert territory_counts(territory=tree["other_town"]) == TerritoryCounts(2, 2, 2, 5, 1)
    _assert_counts_match_rows(tree)


@settings(DB_HYPOTHESIS, max_examples=12)
@given(
    rows=st.lists(
        st.tuples(
            st.sampled_from(["town", "neighbourhood", "school", "other_town"]),
            st.integers(min_value=1, max_value=9),
            st.booleans(),
            st.booleans(),
        ),
        max_size=12,
    )
)
def test_territory_counts_equal_plain_sums(tree: Tree, grid: GridIndex, rows: list[Any]) -> None:
    with transaction.atomic():
        meetings = {
            key: _meeting(_group(tree[key]))
            for key in ("town", "neighbourhood", "school", "other_town")
        }
        for index, (key, expressions, coded, deleted) in enumerate(rows):
            (criterion,) = _add(
                meetings[key], (f"Critère {index}", expressions, "A06" if coded else ""), grid=grid
            )
            if deleted:
                criterion_delete(criterion=criterion, user=None)
        below_town = {"town", "neighbourhood", "school"}
        alive = [r for r in rows if r[0] in below_town and not r[3]]
        counts = territory_counts(territory=tree["town"])
        assert counts.groups == 3
        assert counts.meetings == 3
        assert counts.criteria == len(alive)
        assert counts.expressions == sum(r[1] for r in alive)
        assert counts.coded_criteria == sum(1 for r in alive if r[2])
        for key in ("region", "neighbourhood", "other_town"):
            assert territory_counts(territory=tree[key]) == territory_counts_from_rows(
                territory=tree[key]
            )
        transaction.set_rollback(True)


# --- public page -----------------------------------------------------------------------------


@pytest.fixture
def private_town(tree: Tree) -> Territory:
    Territory.objects.filter(pk=tree["town"].pk).update(is_public=False)
    return Territory.objects.get(pk=tree["town"].pk)


def test_public_page_anonymous(tree: Tree) -> None:
    response = Client().get(_url(tree["town"]))
    assert response.status_code == 200
    assert "<h1>Town</h1>" in response.content.decode()


def test_unknown_territory_is_404(db: None) -> None:
    assert Client().get("/territories/nowhere/").status_code == 404


def test_private_page_refused_to_anonymous_and_outsiders(
    private_town: Territory, outsider: User
) -> None:
    assert Client().get(_url(private_town)).status_code == 403
    assert client_for(outsider).get(_url(private_town)).status_code == 403


@pytest.mark.parametrize("role", [r for r in Role if r != Role.NETWORK_ADMIN])
@pytest.mark.parametrize("holder", ["town", "region", "neighbourhood"])
def test_private_page_for_role_on_it_or_an_ancestor(
    tree: Tree, private_town: Territory, user_with_role: MakeUser, role: Role, holder: str
) -> None:
    user = user_with_role(role, tree[holder])
    expected = 403 if holder == "neighbourhood" else 200
    assert client_for(user).get(_url(private_town)).status_code == expected


def test_public_page_content(tree: Tree) -> None:
    town = tree["town"]
    Territory.objects.filter(pk=town.pk).update(
        description="We **act together**.\n\n<script>alert('pwned')</script>",
        cycle=2,
        phase=3,
    )
    group = CoordinationGroup.objects.get(territory=town)
    CoordinationMemberFactory(group=group, display_name="Alice Public", show_publicly=True)
    CoordinationMemberFactory(group=group, display_name="Bob Hidden", show_publicly=False)
    meeting = _meeting(_group(town, name="Young people of the limes"))
    _add(meeting, ("Avoir un emploi", 3, "A06"), ("Le bruit", 2, ""), ("Le parc", 1, ""))

    response = Client().get(_url(town))
    assert response.status_code == 200
    content = response.content.decode()
    assert "<dt>Criteria</dt><dd>3</dd>" in content
    assert "<dt>Expressions (post-its)</dt><dd>6</dd>" in content
    assert "<dt>Homogeneous groups</dt><dd>1</dd>" in content
    assert "<dt>Coded</dt><dd>33 %</dd>" in content
    assert "<strong>act together</strong>" in content
    assert "alert('pwned')" not in content
    assert "Alice Public" in content
    assert "Bob Hidden" not in content
    assert "Young people of the limes" in content
    assert "Cycle 2 – mobilisation" in content
    assert "Phase 3: Ex-ante co-evaluation" in content
    synthesis_url = _url(town, "synthesis/")
    assert f'href="{synthesis_url}"' in content
    assert Client().get(synthesis_url).status_code == 200
    # An anonymous visitor gets no management link.
    assert _url(town, "dashboard/") not in content
    assert _url(town, "edit/") not in content


def test_public_page_links_for_coordinator(tree: Tree, coordinator: User) -> None:
    content = client_for(coordinator).get(_url(tree["town"])).content.decode()
    assert _url(tree["town"], "dashboard/") in content
    assert _url(tree["town"], "edit/") in content


def test_synthesis_page_of_private_territory_refused(private_town: Territory) -> None:
    assert Client().get(_url(private_town, "synthesis/")).status_code == 403


# --- territory index -------------------------------------------------------------------------


def test_index_lists_public_territories_only(tree: Tree) -> None:
    TerritoryFactory(name="Secret hamlet", parent=tree["region"], is_public=False)
    response = Client().get("/territories/")
    assert response.status_code == 200
    content = response.content.decode()
    for key in tree:
        assert f">{tree[key].name}</a>" in content
    assert "Secret hamlet" not in content


def test_index_lists_private_territories_under_a_role(tree: Tree, coordinator: User) -> None:
    TerritoryFactory(name="Secret hamlet", parent=tree["town"], is_public=False)
    TerritoryFactory(name="Elsewhere", parent=tree["other_town"], is_public=False)
    response = client_for(coordinator).get("/territories/")
    assert response.status_code == 200
    content = response.content.decode()
    assert "Secret hamlet" in content
    assert "Elsewhere" not in content
    assert content.count(">Town</a>") == 1


# --- dashboard -------------------------------------------------------------------------------


def test_dashboard_requires_login(tree: Tree) -> None:
    _assert_redirects_to_login(Client().get(_url(tree["town"], "dashboard/")))


def test_dashboard_refused_to_outsider(tree: Tree, outsider: User) -> None:
    assert client_for(outsider).get(_url(tree["town"], "dashboard/")).status_code == 403


@pytest.mark.parametrize("role", [Role.OBSERVER, Role.FACILITATOR, Role.COORDINATOR])
@pytest.mark.parametrize("holder", ["town", "region"])
def test_dashboard_for_roles_on_territory_or_ancestor(
    tree: Tree, user_with_role: MakeUser, role: Role, holder: str
) -> None:
    user = user_with_role(role, tree[holder])
    response = client_for(user).get(_url(tree["town"], "dashboard/"))
    assert response.status_code == 200
    content = response.content.decode()
    for phase in range(1, 9):
        assert f'id="phase-{phase}"' in content
    assert len(response.context["phases"]) == 8
    can_manage = role == Role.COORDINATOR
    assert (_url(tree["town"], "dashboard/cycle/") in content) is can_manage


def _measure(value: str) -> str:
    return f'title="measured by the platform">{value}</span>'


def test_dashboard_shows_measured_figures(tree: Tree, coordinator: User) -> None:
    group = CoordinationGroup.objects.get(territory=tree["town"])
    for name in ("Ana", "Ben", "Chloé"):
        CoordinationMemberFactory(group=group, display_name=name)
    with_facilitator = _group(tree["town"], facilitators=(coordinator,))
    _group(tree["neighbourhood"])
    meeting = _meeting(with_facilitator)
    _add(meeting, ("Avoir un emploi", 1, "A06"), ("Le bruit", 1, ""), ("Le parc", 1, ""))

    response = client_for(coordinator).get(_url(tree["town"], "dashboard/"))
    content = response.content.decode()
    assert _measure("3") in content  # coordination members, criteria
    assert _measure("2") in content  # groups
    assert _measure("1/2") in content  # groups with facilitators
    assert _measure("1") in content  # meetings
    assert _measure("33 %") in content  # coded share
    steps = {s.step.key: s for phase in response.context["phases"] for s in phase.steps}
    assert steps["p1-coordination-group"].measured == "3"
    assert steps["p1-coordination-group"].done
    assert steps["p1-groups"].measured == "2"
    assert steps["p1-facilitators"].measured == "1/2"
    assert not steps["p1-facilitators"].done
    assert steps["p2-meetings"].measured == "1"
    assert steps["p2-transcription"].measured == "3"
    assert steps["p2-coding"].measured == "33 %"
    assert not steps["p2-coding"].done
    assert steps["p1-representativeness"].measured == ""
    assert not steps["p1-representativeness"].done


def test_coordinator_marks_a_step_done_and_undoes_it(tree: Tree, coordinator: User) -> None:
    town = tree["town"]
    client = client_for(coordinator)
    step_url = _url(town, "steps/p1-representativeness/")
    response = client.post(step_url, {"done_on": "2026-03-14", "note": "Youth were missing"})
    assert response.status_code == 302
    assert response["Location"] == _url(town, "dashboard/#phase-1")
    record = PhaseStepRecord.objects.get(territory=town, step__key="p1-representativeness")
    assert record.done_on == datetime.date(2026, 3, 14)
    assert record.cycle == town.cycle
    assert record.recorded_by == coordinator
    assert "Youth were missing" in client.get(_url(town, "dashboard/")).content.decode()

    assert client.post(step_url, {"undo": "1"}).status_code == 302
    assert not PhaseStepRecord.objects.filter(territory=town).exists()


def test_marking_a_step_needs_a_date(tree: Tree, coordinator: User) -> None:
    client = client_for(coordinator)
    response = client.post(_url(tree["town"], "steps/p3-indicators/"), {"done_on": "someday"})
    assert response.status_code == 302
    assert not PhaseStepRecord.objects.exists()


def test_marking_an_unknown_step_is_404(tree: Tree, coordinator: User) -> None:
    response = client_for(coordinator).post(
        _url(tree["town"], "steps/no-such-step/"), {"done_on": "2026-03-14"}
    )
    assert response.status_code == 404


def test_facilitator_cannot_mark_a_step(tree: Tree, facilitator: User) -> None:
    response = client_for(facilitator).post(
        _url(tree["town"], "steps/p1-representativeness/"), {"done_on": "2026-03-14"}
    )
    assert response.status_code == 403
    assert not PhaseStepRecord.objects.exists()


def test_anonymous_cannot_mark_a_step(tree: Tree) -> None:
    response = Client().post(
        _url(tree["town"], "steps/p1-representativeness/"), {"done_on": "2026-03-14"}
    )
    _assert_redirects_to_login(response)
    assert not PhaseStepRecord.objects.exists()


def test_facilitator_cannot_undo_a_step(tree: Tree, coordinator: User, facilitator: User) -> None:
    client_for(coordinator).post(
        _url(tree["town"], "steps/p1-representativeness/"), {"done_on": "2026-03-14"}
    )
    response = client_for(facilitator).post(
        _url(tree["town"], "steps/p1-representativeness/"), {"undo": "1"}
    )
    assert response.status_code == 403
    assert PhaseStepRecord.objects.count() == 1


def test_coordinator_changes_cycle_and_phase(tree: Tree, coordinator: User) -> None:
    response = client_for(coordinator).post(
        _url(tree["town"], "dashboard/cycle/"), {"cycle": "2", "phase": "5"}
    )
    assert response.status_code == 302
    town = Territory.objects.get(pk=tree["town"].pk)
    assert (town.cycle, town.phase) == (2, 5)


@DB_HYPOTHESIS
@given(cycle=st.integers(min_value=-2, max_value=6), phase=st.integers(min_value=-1, max_value=10))
def test_cycle_and_phase_values(tree: Tree, coordinator: User, cycle: int, phase: int) -> None:
    Territory.objects.filter(pk=tree["town"].pk).update(cycle=1, phase=1)
    client_for(coordinator).post(
        _url(tree["town"], "dashboard/cycle/"), {"cycle": str(cycle), "phase": str(phase)}
    )
    town = Territory.objects.get(pk=tree["town"].pk)
    if 0 <= cycle <= 3 and 1 <= phase <= 8:
        assert (town.cycle, town.phase) == (cycle, phase)
    else:
        assert (town.cycle, town.phase) == (1, 1)


def test_phase_nine_refused(tree: Tree, coordinator: User) -> None:
    client = client_for(coordinator)
    response = client.post(_url(tree["town"], "dashboard/cycle/"), {"cycle": "1", "phase": "9"})
    assert response.status_code == 302
    town = Territory.objects.get(pk=tree["town"].pk)
    assert (town.cycle, town.phase) == (1, 1)
    page = client.get(response["Location"]).content.decode()
    assert "Choose a cycle from 0 to 3 and a phase from 1 to 8." in page


def test_facilitator_cannot_change_cycle_and_phase(tree: Tree, facilitator: User) -> None:
    response = client_for(facilitator).post(
        _url(tree["town"], "dashboard/cycle/"), {"cycle": "2", "phase": "5"}
    )
    assert response.status_code == 403
    town = Territory.objects.get(pk=tree["town"].pk)
    assert (town.cycle, town.phase) == (1, 1)


def test_anonymous_cannot_change_cycle_and_phase(tree: Tree) -> None:
    _assert_redirects_to_login(
        Client().post(_url(tree["town"], "dashboard/cycle/"), {"cycle": "2", "phase": "5"})
    )


# --- edit and new child ----------------------------------------------------------------------


def _territory_post(**overrides: Any) -> dict[str, Any]:
    data = {
        "name": "Town",
        "kind": "locality",
        "actor_type": "",
        "country_code": "FR",
        "language": "fr",
        "description": "",
        "is_public": "on",
        "grid_version": "",
        "cycle": "1",
        "phase": "1",
    }
    data.update(overrides)
    return data


def test_coordinator_edits_territory(tree: Tree, coordinator: User) -> None:
    client = client_for(coordinator)
    assert client.get(_url(tree["town"], "edit/")).status_code == 200
    response = client.post(
        _url(tree["town"], "edit/"),
        _territory_post(name="Town on the river", description="*Welcome*", phase="2"),
    )
    assert response.status_code == 302
    assert response["Location"] == _url(tree["town"])
    town = Territory.objects.get(pk=tree["town"].pk)
    assert (town.name, town.description, town.phase, town.slug) == (
        "Town on the river",
        "*Welcome*",
        2,
        "town",
    )
    assert town.parent_id == tree["region"].pk


def test_edit_refuses_collective_actor_without_type(tree: Tree, coordinator: User) -> None:
    response = client_for(coordinator).post(
        _url(tree["town"], "edit/"), _territory_post(kind="collective_actor")
    )
    assert response.status_code == 200
    assert response.context["form"].errors["actor_type"] == [
        "Say what kind of collective actor this is."
    ]
    assert Territory.objects.get(pk=tree["town"].pk).kind == "locality"


@pytest.mark.parametrize("method", ["get", "post"])
@pytest.mark.parametrize("page", ["edit/", "new/"])
def test_edit_and_new_refused_to_facilitator_and_outsider(
    tree: Tree, facilitator: User, outsider: User, method: str, page: str
) -> None:
    for user in (facilitator, outsider):
        call = getattr(client_for(user), method)
        response = call(_url(tree["town"], page), _territory_post(name="Hijacked"))
        assert response.status_code == 403
    assert not Territory.objects.filter(name="Hijacked").exists()


@pytest.mark.parametrize("page", ["edit/", "new/"])
def test_edit_and_new_redirect_anonymous(tree: Tree, page: str) -> None:
    _assert_redirects_to_login(Client().get(_url(tree["town"], page)))
    _assert_redirects_to_login(Client().post(_url(tree["town"], page), _territory_post()))


def test_coordinator_of_child_cannot_edit_parent(tree: Tree, user_with_role: MakeUser) -> None:
    user = user_with_role(Role.COORDINATOR, tree["neighbourhood"])
    assert client_for(user).get(_url(tree["town"], "edit/")).status_code == 403
    assert client_for(user).get(_url(tree["neighbourhood"], "edit/")).status_code == 200


def test_coordinator_creates_a_child(tree: Tree, coordinator: User) -> None:
    client = client_for(coordinator)
    assert client.get(_url(tree["town"], "new/")).status_code == 200
    response = client.post(
        _url(tree["town"], "new/"), _territory_post(name="Old mill", kind="neighbourhood")
    )
    assert response.status_code == 302
    child = Territory.objects.get(name="Old mill")
    assert response["Location"] == child.get_absolute_url()
    assert child.parent_id == tree["town"].pk
    assert CoordinationGroup.objects.filter(territory=child).exists()
    depths = dict(TerritoryLink.objects.filter(territory=child).values_list("ancestor_id", "depth"))
    assert depths == {
        child.pk: 0,
        tree["town"].pk: 1,
        tree["region"].pk: 2,
        tree["country"].pk: 3,
        tree["network"].pk: 4,
    }
    # The coordinator's role reaches the new child.
    assert client.get(_url(child, "edit/")).status_code == 200


def test_creating_a_collective_actor_needs_its_type(tree: Tree, coordinator: User) -> None:
    client = client_for(coordinator)
    response = client.post(
        _url(tree["town"], "new/"), _territory_post(name="Hospital", kind="collective_actor")
    )
    assert response.status_code == 200
    assert "Say what kind of collective actor this is." in response.content.decode()
    assert not Territory.objects.filter(name="Hospital").exists()

    response = client.post(
        _url(tree["town"], "new/"),
        _territory_post(name="Hospital", kind="collective_actor", actor_type="hospital"),
    )
    assert response.status_code == 302
    assert Territory.objects.get(name="Hospital").actor_type == "hospital"


# --- coordination group ----------------------------------------------------------------------


def test_coordination_requires_login(tree: Tree) -> None:
    _assert_redirects_to_login(Client().get(_url(tree["town"], "coordination/")))


def test_coordination_refused_to_outsider(tree: Tree, outsider: User) -> None:
    assert client_for(outsider).get(_url(tree["town"], "coordination/")).status_code == 403


def test_observer_sees_every_member(tree: Tree, user_with_role: MakeUser) -> None:
    group = CoordinationGroup.objects.get(territory=tree["town"])
    CoordinationMemberFactory(group=group, display_name="Alice Public", show_publicly=True)
    CoordinationMemberFactory(group=group, display_name="Bob Hidden", show_publicly=False)
    observer = user_with_role(Role.OBSERVER, tree["region"])
    response = client_for(observer).get(_url(tree["town"], "coordination/"))
    assert response.status_code == 200
    content = response.content.decode()
    assert "Alice Public" in content
    assert "Bob Hidden" in content
    assert "Add a member" not in content


def _member_post(**overrides: Any) -> dict[str, Any]:
    data = {
        "display_name": "Claire Dumas",
        "organisation": "Town hall",
        "sector": "public",
        "role_label": "Deputy mayor",
        "show_publicly": "on",
    }
    data.update(overrides)
    return data


def test_coordinator_adds_a_member(tree: Tree, coordinator: User) -> None:
    response = client_for(coordinator).post(_url(tree["town"], "coordination/"), _member_post())
    assert response.status_code == 302
    member = CoordinationMember.objects.get(display_name="Claire Dumas")
    assert member.group.territory == tree["town"]
    assert member.show_publicly is True


def test_observer_cannot_add_a_member(tree: Tree, user_with_role: MakeUser) -> None:
    observer = user_with_role(Role.OBSERVER, tree["town"])
    response = client_for(observer).post(_url(tree["town"], "coordination/"), _member_post())
    assert response.status_code == 403
    assert not CoordinationMember.objects.exists()


@pytest.fixture
def member(tree: Tree) -> CoordinationMember:
    group = CoordinationGroup.objects.get(territory=tree["town"])
    return CoordinationMemberFactory(group=group, display_name="Dan Old", show_publicly=False)


def test_coordinator_edits_and_removes_a_member(
    tree: Tree, coordinator: User, member: CoordinationMember
) -> None:
    client = client_for(coordinator)
    url = _url(tree["town"], f"coordination/{member.pk}/")
    assert client.get(url).status_code == 200
    response = client.post(url, _member_post(display_name="Dan New"))
    assert response.status_code == 302
    member.refresh_from_db()
    assert (member.display_name, member.show_publicly) == ("Dan New", True)

    assert client.post(url, {"delete": "1"}).status_code == 302
    assert not CoordinationMember.objects.filter(pk=member.pk).exists()


def test_observer_cannot_edit_or_remove_a_member(
    tree: Tree, user_with_role: MakeUser, member: CoordinationMember
) -> None:
    client = client_for(user_with_role(Role.OBSERVER, tree["town"]))
    url = _url(tree["town"], f"coordination/{member.pk}/")
    assert client.get(url).status_code == 403
    assert client.post(url, _member_post(display_name="Changed")).status_code == 403
    assert client.post(url, {"delete": "1"}).status_code == 403
    member.refresh_from_db()
    assert member.display_name == "Dan Old"


def test_member_edit_anonymous_redirected(tree: Tree, member: CoordinationMember) -> None:
    _assert_redirects_to_login(Client().get(_url(tree["town"], f"coordination/{member.pk}/")))


def test_member_of_another_territory_is_404(
    tree: Tree, coordinator: User, member: CoordinationMember
) -> None:
    other = CoordinationMemberFactory(
        group=CoordinationGroup.objects.get(territory=tree["other_town"])
    )
    url = _url(tree["town"], f"coordination/{other.pk}/")
    assert client_for(coordinator).post(url, {"delete": "1"}).status_code == 404
    assert CoordinationMember.objects.filter(pk=other.pk).exists()


# --- roles -----------------------------------------------------------------------------------


def test_roles_page_for_coordinator_hides_network_admin(tree: Tree, coordinator: User) -> None:
    response = client_for(coordinator).get(_url(tree["town"], "roles/"))
    assert response.status_code == 200
    content = response.content.decode()
    for role in (Role.COORDINATOR, Role.FACILITATOR, Role.CODER, Role.OBSERVER):
        assert f'value="{role.value}"' in content
    assert 'value="network_admin"' not in content


@pytest.mark.parametrize("role", [Role.COORDINATOR, Role.FACILITATOR, Role.CODER, Role.OBSERVER])
@pytest.mark.parametrize("by", ["username", "email"])
def test_coordinator_gives_a_role(tree: Tree, coordinator: User, role: Role, by: str) -> None:
    person = UserFactory(username="inès", email="ines@example.org")
    identifier = "inès" if by == "username" else "Ines@Example.org"
    response = client_for(coordinator).post(
        _url(tree["town"], "roles/"), {"user": identifier, "role": role.value}
    )
    assert response.status_code == 302
    assignment = RoleAssignment.objects.get(user=person)
    assert (assignment.territory, assignment.role) == (tree["town"], role.value)
    assert assignment.granted_by == coordinator


def test_coordinator_cannot_give_network_admin(tree: Tree, coordinator: User) -> None:
    person = UserFactory()
    response = client_for(coordinator).post(
        _url(tree["town"], "roles/"), {"user": person.username, "role": "network_admin"}
    )
    assert response.status_code == 200
    assert response.context["form"].errors["role"]
    assert not RoleAssignment.objects.filter(user=person).exists()


def test_network_admin_gives_network_admin(tree: Tree, user_with_role: MakeUser) -> None:
    admin = user_with_role(Role.NETWORK_ADMIN, tree["network"])
    person = UserFactory()
    response = client_for(admin).post(
        _url(tree["network"], "roles/"), {"user": person.username, "role": "network_admin"}
    )
    assert response.status_code == 302
    assert RoleAssignment.objects.filter(user=person, role=Role.NETWORK_ADMIN).exists()


def test_unknown_user_is_a_form_error(tree: Tree, coordinator: User) -> None:
    response = client_for(coordinator).post(
        _url(tree["town"], "roles/"), {"user": "ghost@example.org", "role": "observer"}
    )
    assert response.status_code == 200
    assert response.context["form"].errors["user"] == [
        "No account has this user name or e-mail address."
    ]
    assert RoleAssignment.objects.count() == 1  # the coordinator's own


@pytest.mark.parametrize("method", ["get", "post"])
def test_roles_page_refused_to_facilitator_and_outsider(
    tree: Tree, facilitator: User, outsider: User, method: str
) -> None:
    person = UserFactory()
    for user in (facilitator, outsider):
        call = getattr(client_for(user), method)
        response = call(_url(tree["town"], "roles/"), {"user": person.username, "role": "coder"})
        assert response.status_code == 403
    assert not RoleAssignment.objects.filter(user=person).exists()


def test_roles_page_redirects_anonymous(tree: Tree) -> None:
    _assert_redirects_to_login(Client().get(_url(tree["town"], "roles/")))


def test_coordinator_removes_a_role(tree: Tree, coordinator: User) -> None:
    assignment = RoleFactory(territory=tree["town"], role=Role.FACILITATOR)
    response = client_for(coordinator).post(_url(tree["town"], f"roles/{assignment.pk}/remove/"))
    assert response.status_code == 302
    assert not RoleAssignment.objects.filter(pk=assignment.pk).exists()


def test_facilitator_cannot_remove_a_role(tree: Tree, facilitator: User) -> None:
    assignment = RoleFactory(territory=tree["town"], role=Role.OBSERVER)
    response = client_for(facilitator).post(_url(tree["town"], f"roles/{assignment.pk}/remove/"))
    assert response.status_code == 403
    assert RoleAssignment.objects.filter(pk=assignment.pk).exists()


def test_coordinator_cannot_remove_a_role_above(tree: Tree, coordinator: User) -> None:
    above = RoleFactory(territory=tree["region"], role=Role.COORDINATOR)
    client = client_for(coordinator)
    assert client.post(_url(tree["region"], f"roles/{above.pk}/remove/")).status_code == 403
    # Through the town's address the region's role is not found at all.
    assert client.post(_url(tree["town"], f"roles/{above.pk}/remove/")).status_code == 404
    assert RoleAssignment.objects.filter(pk=above.pk).exists()


def test_coordinator_cannot_remove_a_network_admin(tree: Tree, coordinator: User) -> None:
    admin_role = RoleFactory(territory=tree["town"], role=Role.NETWORK_ADMIN)
    url = _url(tree["town"], f"roles/{admin_role.pk}/remove/")
    assert client_for(coordinator).post(url).status_code == 403
    assert RoleAssignment.objects.filter(pk=admin_role.pk).exists()


def test_role_remove_needs_post(tree: Tree, coordinator: User) -> None:
    assignment = RoleFactory(territory=tree["town"], role=Role.OBSERVER)
    url = _url(tree["town"], f"roles/{assignment.pk}/remove/")
    assert client_for(coordinator).get(url).status_code == 405
    assert RoleAssignment.objects.filter(pk=assignment.pk).exists()


def test_groups_listed_on_page_are_active_only(tree: Tree) -> None:
    GroupFactory(territory=tree["town"], name="Active group")
    archived = GroupFactory(territory=tree["town"], name="Archived group")
    HomogeneousGroup.objects.filter(pk=archived.pk).update(is_archived=True)
    content = Client().get(_url(tree["town"])).content.decode()
    assert "Active group" in content
    assert "Archived group" not in content


def test_private_descendant_not_revealed_on_public_page(tree: Tree) -> None:
    hidden = TerritoryFactory(name="Hidden quarter", parent=tree["town"], is_public=False)
    _group(hidden, name="Secret circle")
    _group(tree["town"], name="Open circle")
    content = Client().get(_url(tree["town"])).content.decode()
    assert "Open circle" in content
    assert "Secret circle" not in content
    assert "Hidden quarter" not in content
    observer = UserFactory()
    RoleFactory(user=observer, territory=tree["town"], role=Role.OBSERVER)
    content = client_for(observer).get(_url(tree["town"])).content.decode()
    assert "Hidden quarter" in content


def test_a_territory_cannot_move_below_its_own_descendant(tree: Tree) -> None:
    from django.core.exceptions import ValidationError

    town = tree["town"]
    town.parent = tree["neighbourhood"]
    with pytest.raises(ValidationError):
        town.save()
    town.refresh_from_db()
    assert town.parent == tree["region"]
