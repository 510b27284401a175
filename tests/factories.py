"""factory-boy factories for the whole suite, and helpers that make or check data the same
way in every test module."""

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
    Question,
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


# --- criteria, codes and exact figures (shared by the coding, quality, suggestions, API and
# report tests, which each had their own copy) ---------------------------------------------

CriterionItem = str | tuple[str, str] | tuple[str, str, int] | tuple[str, str, int, str]


def add_items(meeting: Meeting, question: Question | str, *items: CriterionItem) -> list[Criterion]:
    """Save criteria through the real service: each item is a text, or (text, code[,
    expressions[, language]]); question is a Question or a question kind. Fails the test if
    the service refuses any of them."""
    from spiral.consultations.services import CriterionInput, criteria_add

    if isinstance(question, str):
        question = meeting.question_set.questions.get(kind=question)
    inputs = []
    for item in items:
        fields = (item,) if isinstance(item, str) else item
        # Missing trailing fields: no code, 1 expression, the meeting's language.
        text, code, expressions, language = (*fields, *("", 1, "")[len(fields) - 1 :])
        inputs.append(
            CriterionInput(text=text, code=code, expressions=expressions, language=language)
        )
    outcomes = criteria_add(meeting=meeting, question=question, inputs=inputs, user=None)
    assert all(o.ok for o in outcomes), [o.errors for o in outcomes]
    return [o.criterion for o in outcomes if o.criterion is not None]


def add_criteria(
    meeting: Meeting,
    question: Question,
    texts: list[str],
    codes: list[str] | None = None,
    language: str = "",
) -> list[Criterion]:
    """Criteria from parallel lists of texts and codes, all in one language."""
    codes = codes or [""] * len(texts)
    return add_items(
        meeting, question, *((t, c, 1, language) for t, c in zip(texts, codes, strict=True))
    )


def current_codes(criterion: Criterion) -> set[str]:
    from spiral.coding.models import Coding

    return set(
        Coding.objects.current().filter(criterion=criterion).values_list("full_code", flat=True)
    )


def assert_figures_exact(*territories: Territory) -> None:
    """Stored counts, synthesis cells and the synthesis totals equal plain counts over the raw
    rows."""
    from spiral.syntheses.selectors import (
        SynthesisFilters,
        _figures_from_cells,
        figures_from_rows,
        territory_synthesis,
    )
    from spiral.territories.selectors import territory_counts, territory_counts_from_rows

    for territory in territories:
        territory = Territory.objects.get(pk=territory.pk)
        assert territory_counts(territory=territory) == territory_counts_from_rows(
            territory=territory
        ), territory.name
        rows = figures_from_rows(Criterion.objects.in_subtree(territory.pk))
        assert dict(_figures_from_cells(territory, SynthesisFilters())) == rows, territory.name
        synthesis = territory_synthesis(territory=territory)
        # The synthesis counts the criteria coded in the territory's own grid version.
        coded = (
            Criterion.objects.in_subtree(territory.pk)
            .filter(
                codings__superseded_at__isnull=True,
                codings__component__version=synthesis.version,
            )
            .distinct()
            .count()
        )
        assert synthesis.coded_total.criteria == coded
        assert synthesis.total.criteria == Criterion.objects.in_subtree(territory.pk).count()
