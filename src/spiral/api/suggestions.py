"""Code suggestions for texts sent by the caller: the 3 most likely components of the default
grid, with a confidence. Public: only the texts sent are read, nothing stored is revealed."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from ninja import Router, Schema
from pydantic import Field, field_validator

from spiral.api.schemas import ERRORS, ErrorOut, printable
from spiral.coding.suggest.corpus import QUESTION_ALIASES, QUESTION_KINDS, question_kind
from spiral.core.languages import CRITERION_LANGUAGE_CODES
from spiral.grid.models import Component, GridVersion

router = Router(tags=["suggestions"])

MAX_TEXTS = 1000
MAX_TEXT_LENGTH = 2000  # as a criterion


class SuggestionTextIn(Schema):
    text: str = Field(
        min_length=1,
        max_length=MAX_TEXT_LENGTH,
        description="The criterion as written, in any language.",
        examples=["Avoir un travail stable"],
    )
    lang: str | None = Field(
        None,
        max_length=8,
        description="Language code of the text (fr, en, pt, it, es...); helps the model weigh "
        "what it knows of that language. Unknown or omitted: meaning only.",
        examples=["fr"],
    )
    question: str | None = Field(
        None,
        max_length=20,
        description="The question the text answers: "
        + ", ".join(QUESTION_KINDS)
        + " (or "
        + ", ".join(QUESTION_ALIASES)
        + ").",
        examples=["well_being"],
    )

    @field_validator("text")
    @classmethod
    def _text(cls, value: str) -> str:
        if any((ord(c) < 32 and c not in "\t\n\r") or ord(c) == 127 for c in value):
            raise ValueError("must not contain control characters")
        if not value.strip():
            raise ValueError("must not be blank")
        return value

    @field_validator("lang")
    @classmethod
    def _lang(cls, value: str | None) -> str | None:
        value = printable(value)
        if value and value not in CRITERION_LANGUAGE_CODES:
            raise ValueError(
                "unknown language code; expected one of " + ", ".join(CRITERION_LANGUAGE_CODES)
            )
        return value or None

    @field_validator("question")
    @classmethod
    def _question(cls, value: str | None) -> str | None:
        value = printable(value)
        if value and not question_kind(value):
            raise ValueError(
                "unknown question; expected one of "
                + ", ".join([*QUESTION_KINDS, *QUESTION_ALIASES])
            )
        return question_kind(value) or None


class SuggestionsIn(Schema):
    texts: list[SuggestionTextIn] = Field(
        min_length=1, max_length=MAX_TEXTS, description=f"1 to {MAX_TEXTS} texts."
    )


class SuggestedComponentOut(Schema):
    component: str = Field(examples=["A06"])
    dimension: str = Field(examples=["A"])
    label_fr: str
    label_en: str
    confidence: float = Field(
        ge=0, le=1, description="Probability given by the model; a text's three sum to at most 1."
    )


class TextSuggestionsOut(Schema):
    text: str
    lang: str | None
    question: str | None
    suggestions: list[SuggestedComponentOut] = Field(description="Most likely first; up to 3.")


class SuggestionModelOut(Schema):
    id: int
    grid_version: str
    engine: str
    trained_at: str | None
    examples: int = Field(description="Number of training examples.")


class SuggestionsOut(Schema):
    model: SuggestionModelOut
    results: list[TextSuggestionsOut] = Field(description="One per text sent, in order.")


@router.post(
    "/suggestions",
    response={200: SuggestionsOut, **ERRORS, 503: ErrorOut},
    summary="Suggest components for texts",
    description=(
        "The 3 most likely components of the default grid version for each text (at most "
        f"{MAX_TEXTS}), with a confidence, from the network's current suggestion model. "
        "Suggestions are never codings: nothing is stored. No account is needed. When no model "
        "exists yet, the first call trains one from the seed corpus and the network's codings "
        "(a few seconds) and stores it."
    ),
)
def suggest(request: HttpRequest, payload: SuggestionsIn) -> Any:
    from spiral.coding.suggest.engine import Query
    from spiral.coding.suggest.training import loaded_suggester, network_model

    version = GridVersion.objects.default()
    if version is None:
        return 503, {"detail": "No grid version is loaded.", "code": "unavailable"}
    model = network_model(version=version)
    suggester = loaded_suggester(model)
    queries = [Query(t.text, t.lang or "", t.question or "") for t in payload.texts]
    ranked = suggester.predict(queries, k=3)
    components = {
        c.code: c for c in Component.objects.filter(version=version).select_related("dimension")
    }
    results = []
    for item, suggestions in zip(payload.texts, ranked, strict=True):
        results.append(
            {
                "text": item.text,
                "lang": item.lang,
                "question": item.question,
                "suggestions": [
                    {
                        "component": s.component,
                        "dimension": components[s.component].dimension.code,
                        "label_fr": components[s.component].label_fr,
                        "label_en": components[s.component].label_en,
                        "confidence": round(s.confidence, 4),
                    }
                    for s in suggestions
                    if s.component in components
                ],
            }
        )
    return {
        "model": {
            "id": model.pk,
            "grid_version": version.code,
            "engine": model.engine,
            "trained_at": model.trained_at.isoformat() if model.trained_at else None,
            "examples": model.examples,
        },
        "results": results,
    }
