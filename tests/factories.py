"""factory-boy factories for the whole suite."""

from __future__ import annotations

import datetime
from typing import Any

import factory
from django.utils.text import slugify

from spiral.accounts.models import Role, RoleAssignment, User
from spiral.consultations.models import (
    Criterion,
    GroupProfile,
    HomogeneousGroup,
    Meeting,
    QuestionSet,
)
from spiral.territories.models import CoordinationGroup, CoordinationMember, Territory

PASSWORD = "a-long-test-password-42"


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda u: f"{u.username}@example.org")
    display_name = factory.Faker("name")
    password = factory.PostGenerationMethodCall("set_password", PASSWORD)

    @factory.post_generation
    def save_password(self, create: bool, extracted: Any, **kwargs: Any) -> None:
        if create:
            self.save()


class TerritoryFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Territory
        skip_postgeneration_save = True

    name = factory.Sequence(lambda n: f"Territory {n}")
    slug = factory.LazyAttribute(lambda t: slugify(t.name))
    kind = "locality"
    language = "fr"
    is_public = True
    parent = None

    @factory.post_generation
    def coordination(self, create: bool, extracted: Any, **kwargs: Any) -> None:
        if create:
            CoordinationGroup.objects.get_or_create(territory=self)


class RoleFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = RoleAssignment

    user = factory.SubFactory(UserFactory)
    territory = factory.SubFactory(TerritoryFactory)
    role = Role.FACILITATOR


class CoordinationMemberFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = CoordinationMember

    group = factory.LazyAttribute(
        lambda _m: CoordinationGroup.objects.get_or_create(territory=TerritoryFactory())[0]
    )
    display_name = factory.Faker("name")
    sector = "public"
    show_publicly = True


def default_profile() -> GroupProfile:
    return GroupProfile.objects.order_by("position").first()  # type: ignore[return-value]


class GroupFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = HomogeneousGroup

    territory = factory.SubFactory(TerritoryFactory)
    name = factory.Sequence(lambda n: f"Group {n}")
    profile = factory.LazyFunction(default_profile)
    size = 10
    language = "fr"


class MeetingFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Meeting

    group = factory.SubFactory(GroupFactory)
    held_on = factory.LazyFunction(lambda: datetime.date(2026, 10, 1))
    question_set = factory.LazyFunction(lambda: QuestionSet.objects.get(is_default=True))
    language = "fr"


class CriterionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Criterion

    meeting = factory.SubFactory(MeetingFactory)
    question = factory.LazyAttribute(
        lambda c: c.meeting.question_set.questions.order_by("position").first()
    )
    text = factory.Sequence(lambda n: f"Critère {n}")
    language = "fr"
    expressions = 1
    group = factory.LazyAttribute(lambda c: c.meeting.group)
    territory = factory.LazyAttribute(lambda c: c.meeting.group.territory)


# --- Carbon footprint (spiral.carbon) ---------------------------------------------------------


class CarbonCampaignFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "carbon.Campaign"

    name = factory.Sequence(lambda n: f"Carbon campaign {n}")
    territory = factory.SubFactory(TerritoryFactory)
    country = "FR"


def carbon_result(
    campaign: Any = None, answers: dict[str, Any] | None = None, **kwargs: Any
) -> Any:
    """A stored result computed from answers (the national average when none)."""
    from spiral.carbon.services import footprint_result_create

    country = kwargs.pop("country", "FR")
    return footprint_result_create(
        answers=answers or {}, country=country, campaign=campaign, **kwargs
    )
