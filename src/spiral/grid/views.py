from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _

from spiral.coding.services import territory_grid_switch
from spiral.core.errors import ImportRejected
from spiral.core.http import AuthenticatedRequest, SpiralRequest
from spiral.core.permissions import can_manage_grid, require
from spiral.grid.codes import CodeError, GridIndex
from spiral.grid.forms import GridImportForm, MappingApplyForm, MappingImportForm
from spiral.grid.models import GridMapping, GridVersion
from spiral.grid.selectors import grid_for_browser
from spiral.grid.services import (
    grid_mapping_import_csv,
    grid_version_export_csv,
    grid_version_import_csv,
)


def grid_default(request: SpiralRequest) -> HttpResponse:
    version = GridVersion.objects.default() or GridVersion.objects.first()
    if version is None:
        raise Http404(_("No grid version is loaded yet."))
    return grid_browser(request, version.code)


def grid_browser(request: SpiralRequest, code: str) -> HttpResponse:
    """The public determination key: every dimension and component, searchable by code or words."""
    version = get_object_or_404(GridVersion, code=code)
    # PostgreSQL refuses NUL in text parameters: drop it rather than answer a 500.
    query = request.GET.get("q", "").replace("\x00", "").strip()[:100]
    context = {
        "grid": grid_for_browser(version=version, query=query),
        "versions": GridVersion.objects.all(),
        "mappings": GridMapping.objects.filter(source=version).select_related("target"),
        "can_manage": can_manage_grid(request.user),
    }
    if request.htmx:
        return render(request, "grid/browser.html#results", context)
    return render(request, "grid/browser.html", context)


def grid_code_check(request: SpiralRequest, code: str) -> HttpResponse:
    """Explain a full code (``A01-11/P15/k``) part by part, or say clearly what is wrong."""
    version = get_object_or_404(GridVersion, code=code)
    raw = request.GET.get("code", "")[:40]
    resolved, error = None, ""
    if raw:
        try:
            resolved = GridIndex(version).resolve(raw)
        except CodeError as exc:
            error = str(exc)
    return render(
        request,
        "grid/_code_check.html" if request.htmx else "grid/code_check_page.html",
        {"raw": raw, "resolved": resolved, "error": error, "version": version},
    )


def grid_export(request: SpiralRequest, code: str) -> HttpResponse:
    version = get_object_or_404(GridVersion, code=code)
    response = HttpResponse(
        grid_version_export_csv(version=version), content_type="text/csv; charset=utf-8"
    )
    response["Content-Disposition"] = f'attachment; filename="grid-{version.code}.csv"'
    return response


@login_required
def grid_import(request: AuthenticatedRequest) -> HttpResponse:
    require(can_manage_grid(request.user))
    form = GridImportForm(request.POST or None, request.FILES or None)
    errors = []
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            version = grid_version_import_csv(
                text=data["file"],
                code=data["code"],
                name_fr=data["name_fr"],
                name_en=data["name_en"],
                description_fr=data["description_fr"],
                description_en=data["description_en"],
            )
        except ImportRejected as rejected:
            errors = rejected.errors
        else:
            messages.success(
                request, _("The grid version “%(name)s” was imported.") % {"name": version.name}
            )
            return redirect("grid:browser", code=version.code)
    return render(
        request, "grid/import.html", {"form": form, "errors": errors}, status=422 if errors else 200
    )


@login_required
def mapping_import(request: AuthenticatedRequest) -> HttpResponse:
    require(can_manage_grid(request.user))
    form = MappingImportForm(request.POST or None, request.FILES or None)
    errors = []
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            mapping = grid_mapping_import_csv(
                source=data["source"], target=data["target"], text=data["file"], note=data["note"]
            )
        except ImportRejected as rejected:
            errors = rejected.errors
        else:
            messages.success(
                request, _("%(count)s codes mapped.") % {"count": mapping.rows.count()}
            )
            return redirect("grid:browser", code=mapping.source.code)
    return render(
        request,
        "grid/mapping_import.html",
        {"form": form, "errors": errors},
        status=422 if errors else 200,
    )


@login_required
def mapping_apply(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    """Carry a territory's codings over to another grid version, through a mapping."""
    require(can_manage_grid(request.user))
    mapping = get_object_or_404(GridMapping.objects.select_related("source", "target"), pk=pk)
    form = MappingApplyForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        territory = form.cleaned_data["territory"]
        switch = territory_grid_switch(territory=territory, mapping=mapping, user=request.user)
        messages.success(
            request,
            _("%(territory)s now codes with “%(grid)s”: %(count)s codings carried over.")
            % {"territory": territory.name, "grid": mapping.target.code, "count": switch.recoded},
        )
        if switch.unmapped:
            messages.warning(
                request,
                _("These codes have no mapping and were left as they were: %(codes)s.")
                % {"codes": ", ".join(switch.unmapped)},
            )
        return redirect(territory)
    return render(request, "grid/mapping_apply.html", {"form": form, "mapping": mapping})
