"""PDF restitution reports: a group's, a territory's, a comparison of two territories.

Each is written in the participants' language (the group's, the territory's, or ?lang=) and
follows exactly the permissions and the small-numbers rule of the matching synthesis page."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import get_object_or_404
from django.template.loader import render_to_string
from django.utils import timezone, translation
from django.utils.text import slugify

from spiral.consultations.models import HomogeneousGroup, Meeting
from spiral.core.http import AuthenticatedRequest, SpiralRequest
from spiral.core.permissions import can_view_group, can_view_territory, require
from spiral.core.text import is_plain_number
from spiral.reports.pdf import html_to_pdf
from spiral.reports.selectors import (
    comparison_report,
    group_report,
    report_language,
    territory_report,
)
from spiral.syntheses.forms import CompareForm, SynthesisFilterForm
from spiral.syntheses.selectors import synthesis_compare_label
from spiral.territories.models import Territory
from spiral.territories.selectors import visible_territories


def _pdf(
    request: SpiralRequest, *, template: str, context: dict[str, Any], filename: str
) -> HttpResponse:
    html = render_to_string(template, context, request=request)
    response = HttpResponse(html_to_pdf(html), content_type="application/pdf")
    stamp = f"{timezone.localdate():%Y%m%d}"
    response["Content-Disposition"] = f'inline; filename="{filename}-{stamp}.pdf"'
    return response


@login_required
def group_report_pdf(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    """A group's report: their criteria, how they were coded, their synthesis."""
    group = get_object_or_404(
        HomogeneousGroup.objects.select_related("territory", "profile"), pk=pk
    )
    require(can_view_group(request.user, group))
    meeting = None
    if is_plain_number(request.GET.get("meeting", "")):
        meeting = get_object_or_404(Meeting, pk=int(request.GET["meeting"]), group=group)
    language = report_language(request.GET.get("lang"), group.language)
    with translation.override(language):
        context = {**group_report(group=group, meeting=meeting), "language": language}
        return _pdf(
            request,
            template="reports/group.html",
            context=context,
            filename=f"report-{slugify(group.name)[:50] or group.pk}",
        )


def _territory(request: SpiralRequest, slug: str) -> Territory:
    territory = get_object_or_404(Territory, slug=slug)
    require(can_view_territory(request.user, territory))
    return territory


def territory_report_pdf(request: SpiralRequest, slug: str) -> HttpResponse:
    """A territory's synthesis with its charts and counts, as its synthesis page shows it."""
    territory = _territory(request, slug)
    language = report_language(request.GET.get("lang"), territory.language)
    with translation.override(language):
        filters = SynthesisFilterForm(request.GET or None).filters()
        context = territory_report(territory=territory, filters=filters, user=request.user)
        context["language"] = language
        return _pdf(
            request,
            template="reports/territory.html",
            context=context,
            filename=f"report-{territory.slug}",
        )


def compare_report_pdf(request: SpiralRequest, slug: str) -> HttpResponse:
    """Two syntheses side by side, with the filters of the compare page."""
    territory = _territory(request, slug)
    language = report_language(request.GET.get("lang"), territory.language)
    with translation.override(language):
        visible = visible_territories(user=request.user)
        compare_form = CompareForm(request.GET or None, territories=visible)
        other = territory
        if compare_form.is_valid() and compare_form.cleaned_data["other"]:
            other = compare_form.cleaned_data["other"]
            require(can_view_territory(request.user, other))
        filters_a = SynthesisFilterForm(request.GET or None, prefix="a").filters()
        filters_b = SynthesisFilterForm(request.GET or None, prefix="b").filters()
        context = comparison_report(
            territory=territory,
            other=other,
            filters_a=filters_a,
            filters_b=filters_b,
            label=synthesis_compare_label,
            user=request.user,
        )
        context["language"] = language
        return _pdf(
            request,
            template="reports/compare.html",
            context=context,
            filename=f"comparison-{territory.slug}-{other.slug}",
        )
