"""Shared fixtures. Reference data (grid, profiles, question sets) is loaded by post_migrate."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.core.cache import cache
from django.test import Client

from spiral.accounts.models import Role, User
from spiral.consultations.models import Meeting, Question
from spiral.territories.models import Territory
from tests.factories import GroupFactory, MeetingFactory, RoleFactory, TerritoryFactory, UserFactory


@pytest.fixture(autouse=True)
def _english_and_clean_cache(settings: Any) -> None:
    # Tests read English strings unless they ask for French with Accept-Language.
    settings.LANGUAGE_CODE = "en"
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    cache.clear()


@pytest.fixture
def tree(db: None) -> dict[str, Territory]:
    """network > country > region > town > neighbourhood, plus a second town and a school."""
    network = TerritoryFactory(name="Network", kind="network")
    country = TerritoryFactory(name="France", kind="country", parent=network, country_code="FR")
    region = TerritoryFactory(name="Grand Est", kind="region", parent=country)
    town = TerritoryFactory(name="Town", kind="locality", parent=region)
    other_town = TerritoryFactory(name="Other town", kind="locality", parent=region)
    neighbourhood = TerritoryFactory(name="Lime trees", kind="neighbourhood", parent=town)
    school = TerritoryFactory(
        name="School", kind="collective_actor", actor_type="school", parent=town
    )
    return {
        "network": network,
        "country": country,
        "region": region,
        "town": town,
        "other_town": other_town,
        "neighbourhood": neighbourhood,
        "school": school,
    }


@pytest.fixture
def user_with_role(db: None) -> Callable[..., User]:
    def make(role: str, territory: Territory) -> User:
        user = UserFactory()
        RoleFactory(user=user, territory=territory, role=role)
        return user

    return make


@pytest.fixture
def facilitator(tree: dict[str, Territory], user_with_role: Callable[..., User]) -> User:
    return user_with_role(Role.FACILITATOR, tree["town"])


@pytest.fixture
def coordinator(tree: dict[str, Territory], user_with_role: Callable[..., User]) -> User:
    return user_with_role(Role.COORDINATOR, tree["town"])


@pytest.fixture
def outsider(tree: dict[str, Territory], user_with_role: Callable[..., User]) -> User:
    """A facilitator of another town: a real account, but no right here."""
    return user_with_role(Role.FACILITATOR, tree["other_town"])


@pytest.fixture
def meeting(tree: dict[str, Territory]) -> Meeting:
    group = GroupFactory(territory=tree["neighbourhood"], name="Young people of the lime trees")
    return MeetingFactory(group=group)


@pytest.fixture
def questions(meeting: Meeting) -> list[Question]:
    return list(meeting.question_set.questions.order_by("position"))


def client_for(user: User | None) -> Client:
    client = Client()
    if user is not None:
        client.force_login(user)
    return client
