"""What each kind of import reads: the target fields offered in the column mapping form, and
the column names recognised without help (English and French headers, the export's own)."""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _


@dataclass(frozen=True)
class TargetField:
    key: str
    label: str | Promise
    required: bool = False
    aliases: tuple[str, ...] = ()


CRITERIA_FIELDS = (
    TargetField(
        "text", _("Criterion (text)"), True, ("text", "criterion", "critere", "critère", "texte")
    ),
    TargetField(
        "count",
        _("Number of expressions"),
        aliases=("count", "expressions", "nombre", "nb", "expression", "n"),
    ),
    TargetField(
        "code", _("Component or full code"), aliases=("code", "codes", "component", "composante")
    ),
    TargetField("question", _("Question"), aliases=("question", "question_code", "q")),
    TargetField("language", _("Language"), aliases=("language", "langue", "lang")),
    TargetField("group", _("Group"), aliases=("group", "groupe", "group_name")),
    TargetField(
        "meeting_date",
        _("Meeting date"),
        aliases=("meeting_date", "date", "held_on", "date de la réunion"),
    ),
)
TERRITORY_FIELDS = (
    TargetField("code", _("Code of the territory in the file"), aliases=("code", "id", "slug")),
    TargetField("name", _("Name"), True, ("name", "nom")),
    TargetField("kind", _("Kind"), True, ("kind", "type", "niveau", "level")),
    TargetField("parent", _("Parent (its code)"), aliases=("parent", "parent_code")),
    TargetField("path", _("Path of codes (a/b/c)"), aliases=("path", "chemin")),
    TargetField("country_code", _("Country code"), aliases=("country_code", "country", "pays")),
    TargetField("language", _("Working language"), aliases=("language", "langue")),
    TargetField("is_public", _("Public page"), aliases=("is_public", "public")),
)
GROUP_FIELDS = (
    TargetField("territory", _("Territory"), aliases=("territory", "territoire")),
    TargetField("name", _("Name"), True, ("name", "nom", "group", "groupe")),
    TargetField("profile", _("Profile"), True, ("profile", "profil")),
    TargetField("size", _("Number of participants"), aliases=("size", "participants", "taille")),
    TargetField("language", _("Language"), aliases=("language", "langue")),
    TargetField("description", _("Description"), aliases=("description",)),
)
FIELDS_BY_KIND = {
    "criteria": CRITERIA_FIELDS,
    "territories": TERRITORY_FIELDS,
    "groups": GROUP_FIELDS,
}


def _plain(name: str) -> str:
    decomposed = unicodedata.normalize("NFKD", name.strip().casefold())
    return "".join(c for c in decomposed if not unicodedata.combining(c)).replace(" ", "_")


def mapping_guess(*, kind: str, columns: list[str]) -> dict[str, int | None]:
    """Each target field's column, from the header names; None where nothing matches."""
    plain = [_plain(c) for c in columns]
    guess: dict[str, int | None] = {}
    taken: set[int] = set()
    for target in FIELDS_BY_KIND[kind]:
        guess[target.key] = None
        for alias in (target.key, *target.aliases):
            wanted = _plain(alias)
            index = next((i for i, p in enumerate(plain) if p == wanted and i not in taken), None)
            if index is not None:
                guess[target.key] = index
                taken.add(index)
                break
    return guess
