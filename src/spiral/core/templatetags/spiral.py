from __future__ import annotations

from typing import Any

from django import template
from django.utils.safestring import SafeString, mark_safe

from spiral.core.i18n import translated
from spiral.core.markdown import render_markdown

register = template.Library()


@register.filter(name="markdown")
def markdown_filter(text: str) -> SafeString:
    return mark_safe(render_markdown(text))


@register.simple_tag
def tr(obj: Any, field: str) -> str:
    """``{% tr component "label" %}`` renders the label in the active language."""
    return translated(obj, field)


@register.simple_tag
def percent(part: float | int | None, whole: float | int | None) -> str:
    if not whole:
        return "–"
    return f"{round(100 * (part or 0) / whole)} %"


@register.filter
def get_item(mapping: dict[Any, Any] | None, key: Any) -> Any:
    return (mapping or {}).get(key)
