"""The demo network `make run` loads: believable, complete, and consistent."""

from __future__ import annotations

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import Client

from spiral.accounts.models import User
from spiral.coding.models import Coding
from spiral.consultations.models import Criterion, HomogeneousGroup
from spiral.territories.models import Territory, TerritoryKind
from spiral.territories.selectors import territory_counts, territory_counts_from_rows

pytestmark = pytest.mark.django_db


def test_demo_network_is_loaded_once() -> None:
    call_command("load_demo_data", "--if-empty")
    assert Territory.objects.filter(kind=TerritoryKind.COUNTRY).count() >= 3
    assert (
        Territory.objects.exclude(kind__in=[TerritoryKind.NETWORK, TerritoryKind.COUNTRY]).count()
        >= 12
    )
    assert HomogeneousGroup.objects.count() >= 40
    assert HomogeneousGroup.objects.values("profile").distinct().count() >= 10
    criteria = Criterion.objects.count()
    assert criteria >= 2000
    assert set(Criterion.objects.values_list("language", flat=True).distinct()) == {
        "fr",
        "en",
        "pt",
    }
    coded = Criterion.objects.coded().count()
    assert 0.7 * criteria < coded < criteria
    assert Coding.objects.filter(component__code="A01").exists()
    network = Territory.objects.get(kind=TerritoryKind.NETWORK)
    assert territory_counts(territory=network) == territory_counts_from_rows(territory=network)
    assert User.objects.filter(username="animateur").exists()
    # Loading again does nothing with --if-empty, and refuses without it.
    call_command("load_demo_data", "--if-empty")
    assert Criterion.objects.count() == criteria
    with pytest.raises(CommandError):
        call_command("load_demo_data")
    anonymous = Client()
    for territory in Territory.objects.filter(is_public=True)[:10]:
        assert anonymous.get(territory.get_absolute_url()).status_code == 200
