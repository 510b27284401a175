from __future__ import annotations

from typing import Any

from django import template
from django.utils.formats import get_format
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


@register.filter
def figure_of(line: Any, kind: str) -> Any:
    """``{{ dimension|figure_of:kind }}``: the figure of one question kind."""
    return line.figure(kind)


def _format_share(value: float | None) -> str:
    if value is None:
        return "–"
    percent = 100 * value
    # Half up, as people round (and as the charts do), not Python's half-to-even.
    if percent >= 10:
        return f"{int(percent + 0.5)} %"
    # The language's decimal separator, like the charts beside the tables ("8,8 %" in French).
    text = f"{int(percent * 10 + 0.5) / 10:.1f}".replace(".", str(get_format("DECIMAL_SEPARATOR")))
    return f"{text} %"


@register.simple_tag
def share(synthesis: Any, figure: Any, kind: str = "") -> str:
    """Share of the scope's criteria (of that question) a figure stands for."""
    return _format_share(synthesis.share(figure, kind))


@register.simple_tag
def pct(value: float | None) -> str:
    return _format_share(value)
