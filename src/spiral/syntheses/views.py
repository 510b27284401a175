from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _

from spiral.consultations.models import HomogeneousGroup, Meeting
from spiral.consultations.selectors import current_codings_prefetch
from spiral.core.http import AuthenticatedRequest, SpiralRequest
from spiral.core.permissions import (
    can_transcribe,
    can_view_group,
    can_view_private_data,
    can_view_territory,
    require,
)
from spiral.core.tables import EXPORT_FORMATS, download_response
from spiral.grid.models import Component
from spiral.quality.selectors import agreement_line
from spiral.syntheses.charts import comparison_bars, dimension_bars, dimension_radar
from spiral.syntheses.exports import criteria_csv, synthesis_csv, synthesis_xlsx
from spiral.syntheses.forms import CompareForm, SynthesisFilterForm, ValidationForm
from spiral.syntheses.selectors import (
    Synthesis,
    SynthesisFilters,
    criteria_behind,
    group_synthesis,
    meeting_synthesis,
    scope_criteria,
    synthesis_compare_label,
    territory_synthesis,
)
from spiral.syntheses.services import group_synthesis_validate
from spiral.territories.models import Territory
from spiral.territories.selectors import territory_ancestors, visible_territories

CRITERIA_PER_PAGE = 50


def _territory(request: SpiralRequest, slug: str) -> Territory:
    territory = get_object_or_404(Territory, slug=slug)
    require(can_view_territory(request.user, territory))
    return territory


def _hidden(request: SpiralRequest, territory: Territory, synthesis: Synthesis) -> bool:
    """Public viewers see no breakdown that isolates fewer participants than the threshold."""
    return synthesis.below_small_numbers_threshold and not can_view_private_data(
        request.user, territory
    )


def _shares_shown(synthesis: Synthesis) -> bool:
    """On a tiny base a percentage misleads: counts only."""
    return synthesis.total.criteria >= settings.SPIRAL_MIN_BASE_FOR_SHARES


def territory_synthesis_view(request: SpiralRequest, slug: str) -> HttpResponse:
    """A territory's synthesis: chart, radar, table by dimension and component, with filters."""
    territory = _territory(request, slug)
    form = SynthesisFilterForm(request.GET or None)
    filters = form.filters()
    synthesis = territory_synthesis(territory=territory, filters=filters)
    hidden = _hidden(request, territory, synthesis)
    context = {
        "territory": territory,
        "ancestors": territory_ancestors(territory=territory),
        "synthesis": synthesis,
        "form": form,
        "query": request.GET.urlencode(),
        "hidden": hidden,
        "shares": _shares_shown(synthesis),
        "bars": None if hidden or not synthesis.total.criteria else dimension_bars(synthesis),
        "radar": None if hidden or not synthesis.total.criteria else dimension_radar(synthesis),
        "can_view_private": can_view_private_data(request.user, territory),
        "agreement": agreement_line(territory=territory),
    }
    return render(request, "syntheses/territory.html", context)


def territory_synthesis_export(request: SpiralRequest, slug: str, fmt: str) -> HttpResponse:
    if fmt not in EXPORT_FORMATS:
        raise Http404
    territory = _territory(request, slug)
    synthesis = territory_synthesis(
        territory=territory, filters=SynthesisFilterForm(request.GET or None).filters()
    )
    if _hidden(request, territory, synthesis):
        raise Http404(_("Too few participants to publish this breakdown."))
    filename = f"synthesis-{territory.slug}-{timezone.localdate():%Y%m%d}"
    content = synthesis_csv(synthesis) if fmt == "csv" else synthesis_xlsx(synthesis)
    return download_response(content, fmt=fmt, filename=filename)


def component_criteria_view(request: SpiralRequest, slug: str, code: str) -> HttpResponse:
    """The texts behind a number: every criterion coded in this component, with its group."""
    territory = _territory(request, slug)
    form = SynthesisFilterForm(request.GET or None)
    filters = form.filters()
    synthesis = territory_synthesis(territory=territory, filters=filters)
    if _hidden(request, territory, synthesis):
        raise Http404(_("Too few participants to publish these texts."))
    component = get_object_or_404(Component, version=synthesis.version, code=code)
    criteria = criteria_behind(
        criteria=scope_criteria(territory=territory, filters=filters), component=component
    )
    if request.GET.get("format") == "csv":
        return download_response(
            criteria_csv(criteria.prefetch_related(current_codings_prefetch())),
            fmt="csv",
            filename=f"criteria-{territory.slug}-{component.code}",
        )
    page = Paginator(
        criteria.prefetch_related(current_codings_prefetch()), CRITERIA_PER_PAGE
    ).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "syntheses/component_criteria.html",
        {
            "territory": territory,
            "ancestors": territory_ancestors(territory=territory),
            "component": component,
            "page": page,
            "query": query.urlencode(),
            "synthesis": synthesis,
            "can_view_private": can_view_private_data(request.user, territory),
        },
    )


def compare_view(request: SpiralRequest, slug: str) -> HttpResponse:
    """Two syntheses side by side: two territories, two profiles, two periods…"""
    territory = _territory(request, slug)
    form_a = SynthesisFilterForm(request.GET or None, prefix="a")
    form_b = SynthesisFilterForm(request.GET or None, prefix="b")
    visible = visible_territories(user=request.user).order_by("name")
    compare_form = CompareForm(request.GET or None, territories=visible)
    other = territory
    if compare_form.is_valid() and compare_form.cleaned_data["other"]:
        other = compare_form.cleaned_data["other"]
        require(can_view_territory(request.user, other))
    filters_b = form_b.filters()
    filters_a = form_a.filters()
    if filters_b.grid_version == "" and other != territory:
        # Compare on one grid: B is read with A's version unless asked otherwise.
        filters_b = SynthesisFilters(
            **{**filters_b.__dict__, "grid_version": filters_a.grid_version}
        )
    a = territory_synthesis(territory=territory, filters=filters_a)
    b = territory_synthesis(territory=other, filters=filters_b)
    hidden = _hidden(request, territory, a) or _hidden(request, other, b)
    label_a, label_b = synthesis_compare_label(a, "A"), synthesis_compare_label(b, "B")
    rows = []
    if not hidden:
        base_a, base_b = a.total.criteria or 1, b.total.criteria or 1
        for dim_a, dim_b in zip(a.dimensions, b.dimensions, strict=False):
            share_a, share_b = dim_a.total.criteria / base_a, dim_b.total.criteria / base_b
            rows.append(
                {
                    "a": dim_a,
                    "b": dim_b,
                    "share_a": share_a,
                    "share_b": share_b,
                    "gap": 100 * (share_b - share_a),
                }
            )
    context = {
        "territory": territory,
        "other": other,
        "ancestors": territory_ancestors(territory=territory),
        "form_a": form_a,
        "form_b": form_b,
        "compare_form": compare_form,
        "a": a,
        "b": b,
        "label_a": label_a,
        "label_b": label_b,
        "rows": rows,
        "hidden": hidden,
        "same_version": a.version == b.version,
        "chart": comparison_bars(a, b, label_a, label_b)
        if rows and a.version == b.version
        else None,
    }
    return render(request, "syntheses/compare.html", context)


@login_required
def group_synthesis_view(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    """A group's one-page synthesis, to print and take to its second meeting, and its validation."""
    group = get_object_or_404(
        HomogeneousGroup.objects.select_related("territory", "profile"), pk=pk
    )
    require(can_view_group(request.user, group))
    meetings = group.meetings.order_by("held_on")
    meeting = None
    if request.GET.get("meeting"):
        meeting = get_object_or_404(Meeting, pk=request.GET["meeting"], group=group)
    synthesis = meeting_synthesis(meeting=meeting) if meeting else group_synthesis(group=group)
    form = ValidationForm(
        request.POST or None, meetings=meetings, initial={"validated_on": timezone.localdate()}
    )
    if request.method == "POST":
        require(can_transcribe(request.user, group))
        if form.is_valid():
            group_synthesis_validate(
                group=group,
                synthesis_of=meeting,
                validated_at=form.cleaned_data["validated_at"],
                validated_on=form.cleaned_data["validated_on"],
                note=form.cleaned_data["note"],
                user=request.user,
            )
            messages.success(request, _("The group's validation was recorded."))
            return redirect(request.get_full_path())
    criteria = _criteria_by_component(group=group, meeting=meeting)
    context: dict[str, Any] = {
        "group": group,
        "meeting": meeting,
        "meetings": meetings,
        "synthesis": synthesis,
        "criteria_by_component": criteria,
        "validations": group.validations.select_related(
            "validated_at", "synthesis_of", "recorded_by"
        ),
        "form": form,
        "can_validate": can_transcribe(request.user, group),
    }
    return render(request, "syntheses/group.html", context)


def _criteria_by_component(
    *, group: HomogeneousGroup, meeting: Meeting | None
) -> dict[int, list[Any]]:
    """Component id -> the group's criteria coded in it (a criterion may appear under two)."""
    from spiral.consultations.models import Criterion

    criteria = Criterion.objects.filter(group=group)
    if meeting is not None:
        criteria = criteria.filter(meeting=meeting)
    grouped: dict[int, list[Any]] = {}
    for criterion in (
        criteria.select_related("question")
        .prefetch_related(current_codings_prefetch())
        .order_by("question__position", "-expressions", "position")
    ):
        codings = criterion.current_codings  # type: ignore[attr-defined]  # from the prefetch
        for coding in codings:
            grouped.setdefault(coding.component_id, []).append(criterion)
        if not codings:
            grouped.setdefault(0, []).append(criterion)
    return grouped
