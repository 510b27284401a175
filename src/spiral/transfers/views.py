"""Screens of imports (upload, column mapping, report, progress) and exports (lists, open-data
package, codebook). Thin: parse, check the permission, call one service, render."""

from __future__ import annotations

import csv
import io

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from spiral.consultations.models import HomogeneousGroup, Meeting, QuestionSet
from spiral.core.errors import ImportRejected
from spiral.core.http import AuthenticatedRequest, SpiralRequest
from spiral.core.permissions import (
    can_manage_groups,
    can_manage_territory,
    can_transcribe,
    can_view_group,
    can_view_private_data,
    can_view_territory,
    is_network_admin,
    require,
)
from spiral.core.text import is_plain_number
from spiral.grid.models import GridVersion
from spiral.syntheses.exports import synthesis_csv, synthesis_xlsx
from spiral.syntheses.selectors import group_synthesis, meeting_synthesis
from spiral.territories.models import Territory
from spiral.transfers.exports import (
    CRITERIA_COLUMNS,
    GROUP_COLUMNS,
    MEETING_COLUMNS,
    XLSX_TYPE,
    group_rows,
    meeting_rows,
    scope_criteria_rows,
    table_response,
)
from spiral.transfers.forms import MappingForm, PackageImportForm, UploadForm
from spiral.transfers.models import ImportJob, ImportKind, ImportStatus
from spiral.transfers.package import codebook_qdc, package_build, package_import
from spiral.transfers.permissions import can_import_criteria_into_territory, can_use_import
from spiral.transfers.services import (
    import_job_configure,
    import_job_create,
    import_job_start,
    import_job_table,
    import_runs_in_background,
)

PREVIEW_ROWS = 10


def _territory(request: SpiralRequest, slug: str) -> Territory:
    territory = get_object_or_404(Territory, slug=slug)
    require(can_view_territory(request.user, territory))
    return territory


def _upload(
    request: AuthenticatedRequest,
    *,
    kind: str,
    territory: Territory,
    title: str,
    group: HomogeneousGroup | None = None,
    meeting: Meeting | None = None,
) -> HttpResponse:
    form = UploadForm(
        request.POST or None, request.FILES or None, allow_paste=kind == ImportKind.CRITERIA
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            job = import_job_create(
                kind=kind,
                user=request.user,
                filename=data["filename"],
                content=data["content"],
                territory=territory,
                group=group,
                meeting=meeting,
                file_format=data.get("file_format") or "",
            )
        except ImportRejected as rejected:
            for error in rejected.errors:
                form.add_error(None, error.message)
        else:
            return redirect("transfers:job", pk=job.pk)
    return render(
        request,
        "transfers/upload.html",
        {
            "form": form,
            "title": title,
            "kind": kind,
            "territory": territory,
            "group": group,
            "meeting": meeting,
        },
    )


@login_required
def meeting_import(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    meeting = get_object_or_404(Meeting.objects.select_related("group__territory"), pk=pk)
    require(can_transcribe(request.user, meeting.group))
    return _upload(
        request,
        kind=ImportKind.CRITERIA,
        territory=meeting.group.territory,
        group=None,
        meeting=meeting,
        title=_("Import criteria into the meeting of %(date)s")
        % {"date": meeting.held_on.isoformat()},
    )


@login_required
def group_import(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    group = get_object_or_404(HomogeneousGroup.objects.select_related("territory"), pk=pk)
    require(can_transcribe(request.user, group))
    return _upload(
        request,
        kind=ImportKind.CRITERIA,
        territory=group.territory,
        group=group,
        title=_("Import criteria of the group %(name)s") % {"name": group.name},
    )


@login_required
def territory_import(request: AuthenticatedRequest, slug: str, kind: str) -> HttpResponse:
    territory = get_object_or_404(Territory, slug=slug)
    if kind == ImportKind.CRITERIA:
        require(can_import_criteria_into_territory(request.user, territory))
        title = _("Import criteria of the groups of %(name)s")
    elif kind == ImportKind.GROUPS:
        require(can_manage_groups(request.user, territory))
        title = _("Import homogeneous groups into %(name)s")
    elif kind == ImportKind.TERRITORIES:
        require(can_manage_territory(request.user, territory))
        title = _("Import territories below %(name)s")
    else:
        raise Http404
    return _upload(request, kind=kind, territory=territory, title=title % {"name": territory.name})


def _job(request: AuthenticatedRequest, pk: int) -> ImportJob:
    job = get_object_or_404(
        ImportJob.objects.select_related("territory", "group", "meeting__group"), pk=pk
    )
    require(can_use_import(request.user, job))
    return job


def _questions(job: ImportJob) -> list[tuple[str, str]] | None:
    if job.kind != ImportKind.CRITERIA:
        return None
    question_set = (
        job.meeting.question_set
        if job.meeting
        else QuestionSet.objects.filter(is_default=True).first()
    )
    if question_set is None:
        return []
    return [(q.code, f"{q.short_label} – {q.text}") for q in question_set.questions.all()]


def _hidden_fields(job: ImportJob) -> tuple[str, ...]:
    if job.kind != ImportKind.CRITERIA:
        return ()
    if job.meeting is not None:
        return ("group", "meeting_date")
    if job.group is not None:
        return ("group",)
    return ()


@login_required
def job_detail(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    """The column mapping with a preview, then the report or the progress of the import."""
    job = _job(request, pk)
    if request.method == "POST" and job.is_running:
        return redirect("transfers:job", pk=job.pk)
    try:
        table = (
            import_job_table(job=job, limit=PREVIEW_ROWS)
            if job.status != ImportStatus.DONE and job.file_removed_at is None
            else None
        )
    except ImportRejected as rejected:
        messages.error(request, "; ".join(str(e.message) for e in rejected.errors))
        table = None
    form = None
    if table is not None:
        initial: dict[str, object] = {
            f"map_{k}": ("" if v is None else str(v)) for k, v in job.mapping.items()
        }
        initial["has_header"] = job.has_header
        initial["question"] = job.options.get("question", "")
        form = MappingForm(
            request.POST or None,
            kind=job.kind,
            table=table,
            questions=_questions(job),
            hide=_hidden_fields(job),
            initial=initial,
        )
        if request.method == "POST" and form.is_valid():
            job = import_job_configure(
                job=job,
                mapping=form.mapping(),
                has_header=form.cleaned_data["has_header"],
                options={"question": form.cleaned_data.get("question") or ""},
            )
            job = import_job_start(job=job)
            # The page itself says how many lines were saved (or why nothing was).
            return redirect("transfers:job", pk=job.pk)
    return render(
        request,
        "transfers/job.html",
        {
            "job": job,
            "table": table,
            "preview": table.preview(PREVIEW_ROWS) if table else [],
            "form": form,
            "background": import_runs_in_background(job),
            "back_url": _back_url(job),
            "replace_form": UploadForm(allow_paste=job.file_format == "paste"),
            "retention_days": settings.SPIRAL_IMPORT_RETENTION_DAYS,
        },
    )


def _back_url(job: ImportJob) -> str:
    if job.meeting_id:
        return reverse("consultations:meeting", kwargs={"pk": job.meeting_id})
    if job.group_id:
        return reverse("consultations:group", kwargs={"pk": job.group_id})
    return reverse("transfers:territory", kwargs={"slug": job.territory.slug})


@login_required
@require_POST
def job_replace(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    """A corrected file for a refused import: a new import with the same column mapping."""
    job = _job(request, pk)
    form = UploadForm(request.POST, request.FILES, allow_paste=job.file_format == "paste")
    if not form.is_valid():
        for error in form.errors.get("__all__", []):
            messages.error(request, str(error))
        return redirect("transfers:job", pk=job.pk)
    data = form.cleaned_data
    try:
        new = import_job_create(
            kind=job.kind,
            user=request.user,
            filename=data["filename"],
            content=data["content"],
            territory=job.territory,
            group=job.group,
            meeting=job.meeting,
            file_format=data.get("file_format") or "",
        )
    except ImportRejected as rejected:
        messages.error(request, "; ".join(str(e.message) for e in rejected.errors))
        return redirect("transfers:job", pk=job.pk)
    new.mapping, new.has_header, new.options = job.mapping, job.has_header, job.options
    new.save(update_fields=["mapping", "has_header", "options"])
    if job.mapping and _same_columns(job, new):
        # The person already chose the columns for this file: check and import at once, as the
        # page promised. A file whose columns changed goes back to the column choice.
        new = import_job_start(job=new)
        if new.status == ImportStatus.DONE:
            messages.success(request, _("The corrected file was checked and imported."))
    return redirect("transfers:job", pk=new.pk)


def _same_columns(old: ImportJob, new: ImportJob) -> bool:
    try:
        before = import_job_table(job=old, limit=1)
        after = import_job_table(job=new, limit=1)
    except ImportRejected:
        return False
    if old.has_header:
        return before.columns == after.columns
    width = max((len(cells) for _line, cells in before.rows), default=0)
    return width == max((len(cells) for _line, cells in after.rows), default=0)


@login_required
def job_progress(request: AuthenticatedRequest, pk: int) -> JsonResponse:
    """The progress row, polled by the page while the task worker runs the import."""
    job = _job(request, pk)
    return JsonResponse(
        {
            "status": job.status,
            "status_label": job.get_status_display(),
            "processed": job.processed_lines,
            "total": job.total_lines,
            "percent": job.percent,
            "running": job.is_running,
        }
    )


@login_required
def job_report(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    """The refused lines as CSV, to correct them in a spreadsheet."""
    job = _job(request, pk)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow([_("line"), _("reason"), _("content")])
    for error in job.errors:
        writer.writerow([error["line"], error["message"], error["content"]])
    response = HttpResponse(out.getvalue(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="import-{job.pk}-report.csv"'
    return response


# --- Exports -------------------------------------------------------------------------------


def territory_transfers(request: SpiralRequest, slug: str) -> HttpResponse:
    """Everything that can be downloaded from or loaded into a territory, by permission."""
    territory = _territory(request, slug)
    user = request.user
    return render(
        request,
        "transfers/territory.html",
        {
            "territory": territory,
            "can_view_private": can_view_private_data(user, territory),
            "can_import_criteria": can_import_criteria_into_territory(user, territory),
            "can_import_groups": can_manage_groups(user, territory),
            "can_import_territories": can_manage_territory(user, territory),
            "can_load_packages": is_network_admin(user),
            "grid_version": GridVersion.objects.filter(
                pk=territory.effective_grid_version_id() or 0
            ).first(),
            "recent_imports": ImportJob.objects.filter(territory=territory, created_by=user.pk)[:10]
            if user.is_authenticated
            else [],
        },
    )


EXPORTS = {
    "groups": (GROUP_COLUMNS, group_rows),
    "meetings": (MEETING_COLUMNS, meeting_rows),
    "criteria": (CRITERIA_COLUMNS, scope_criteria_rows),
}


def territory_list_export(request: SpiralRequest, slug: str, what: str, fmt: str) -> HttpResponse:
    """Groups, meetings or criteria (with codes) of a scope: private data, for its team."""
    if what not in EXPORTS or fmt not in ("csv", "xlsx"):
        raise Http404
    territory = _territory(request, slug)
    require(can_view_private_data(request.user, territory))
    columns, rows = EXPORTS[what]
    return table_response(
        columns,
        rows(territory=territory),
        fmt=fmt,
        filename=f"{what}-{territory.slug}-{timezone.localdate():%Y%m%d}",
        title=what,
    )


def territory_package(request: SpiralRequest, slug: str) -> HttpResponse:
    """The open-data package; ``?full=1`` (the territory's team) skips the public-only rules."""
    territory = _territory(request, slug)
    full = request.GET.get("full") == "1"
    if full:
        require(can_view_private_data(request.user, territory))
    elif not territory.is_public:
        raise Http404(_("A private territory has no public package."))
    content, _report = package_build(territory=territory, public=not full)
    suffix = "-full" if full else ""
    response = HttpResponse(content, content_type="application/zip")
    response["Content-Disposition"] = (
        f'attachment; filename="spiral-{territory.slug}{suffix}-{timezone.localdate():%Y%m%d}.zip"'
    )
    return response


@login_required
def group_synthesis_export(request: AuthenticatedRequest, pk: int, fmt: str) -> HttpResponse:
    """A group's (or one of its meetings') synthesis as CSV or XLSX, the syntheses app's format."""
    if fmt not in ("csv", "xlsx"):
        raise Http404
    group = get_object_or_404(HomogeneousGroup.objects.select_related("territory"), pk=pk)
    require(can_view_group(request.user, group))
    meeting = None
    if is_plain_number(request.GET.get("meeting", "")):
        meeting = get_object_or_404(Meeting, pk=request.GET["meeting"], group=group)
    synthesis = meeting_synthesis(meeting=meeting) if meeting else group_synthesis(group=group)
    filename = f"synthesis-group-{group.pk}" + (f"-{meeting.held_on:%Y%m%d}" if meeting else "")
    if fmt == "csv":
        response = HttpResponse(synthesis_csv(synthesis), content_type="text/csv; charset=utf-8")
    else:
        response = HttpResponse(synthesis_xlsx(synthesis), content_type=XLSX_TYPE)
    response["Content-Disposition"] = f'attachment; filename="{filename}.{fmt}"'
    return response


def grid_codebook(request: SpiralRequest, code: str) -> HttpResponse:
    """The grid as a REFI-QDA codebook for NVivo, MAXQDA, ATLAS.ti or QualCoder (public)."""
    version = get_object_or_404(GridVersion, code=code)
    response = HttpResponse(codebook_qdc(version=version), content_type="application/xml")
    response["Content-Disposition"] = f'attachment; filename="spiral-{version.code}.qdc"'
    return response


@login_required
def package_upload(request: AuthenticatedRequest) -> HttpResponse:
    """Load an open-data package (network administrators: it creates territories)."""
    require(is_network_admin(request.user))
    form = PackageImportForm(request.POST or None, request.FILES or None)
    counts = None
    errors = []
    if request.method == "POST" and form.is_valid():
        parent = None
        if form.cleaned_data["parent"]:
            parent = Territory.objects.filter(slug=form.cleaned_data["parent"]).first()
            if parent is None:
                form.add_error("parent", _("No territory has this short name."))
        if form.is_valid():
            try:
                counts = package_import(content=form.cleaned_data["file"].read(), parent=parent)
            except ImportRejected as rejected:
                errors = rejected.errors
    return render(
        request,
        "transfers/package_import.html",
        {"form": form, "counts": counts, "errors": errors},
    )
