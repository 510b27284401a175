from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from spiral.accounts.models import RoleAssignment
from spiral.accounts.services import role_grant, role_revoke
from spiral.consultations.selectors import groups_of_territory
from spiral.core.http import AuthenticatedRequest, SpiralRequest
from spiral.core.permissions import (
    can_code,
    can_grant_role,
    can_manage_groups,
    can_manage_roles,
    can_manage_territory,
    can_view_private_data,
    can_view_territory,
    require,
)
from spiral.territories.forms import (
    CoordinationMemberForm,
    CyclePhaseForm,
    PhaseStepRecordForm,
    RoleGrantForm,
    TerritoryCreateForm,
    TerritoryForm,
)
from spiral.territories.method import CYCLE_LABELS, phase_texts
from spiral.territories.models import CoordinationMember, PhaseStep, Territory
from spiral.territories.selectors import (
    phase_dashboard,
    public_coordination_members,
    territory_ancestors,
    territory_children,
    territory_counts,
    visible_territories,
)
from spiral.territories.services import (
    coordination_group_of,
    coordination_member_add,
    phase_step_record,
    phase_step_unrecord,
    territory_create,
    territory_update,
)


def _territory_for(request: SpiralRequest, slug: str) -> Territory:
    territory = get_object_or_404(Territory, slug=slug)
    require(can_view_territory(request.user, territory))
    return territory


def territory_index(request: SpiralRequest) -> HttpResponse:
    territories = (
        visible_territories(user=request.user).with_tree_fields().order_by("tree_ordering")
    )
    return render(request, "territories/index.html", {"territories": territories})


def territory_detail(request: SpiralRequest, slug: str) -> HttpResponse:
    """The territory's own public page."""
    territory = _territory_for(request, slug)
    user = request.user
    context = {
        "territory": territory,
        "ancestors": territory_ancestors(territory=territory),
        "children": territory_children(territory=territory, user=user),
        "counts": territory_counts(territory=territory),
        "members": public_coordination_members(territory=territory),
        "groups": groups_of_territory(territory_id=territory.pk),
        "phase_label": phase_texts().get(territory.phase, ("", ""))[0],
        "cycle_label": CYCLE_LABELS.get(territory.cycle, ""),
        "can_manage": can_manage_territory(user, territory),
        "can_manage_groups": can_manage_groups(user, territory),
        "can_view_private": can_view_private_data(user, territory),
        "can_code": can_code(user, territory),
    }
    return render(request, "territories/detail.html", context)


@login_required
def territory_dashboard(request: AuthenticatedRequest, slug: str) -> HttpResponse:
    """The coordinator's map: the 8 phases of the current cycle and what was done in each."""
    territory = _territory_for(request, slug)
    require(can_view_private_data(request.user, territory))
    context = {
        "territory": territory,
        "ancestors": territory_ancestors(territory=territory),
        "phases": phase_dashboard(territory=territory),
        "counts": territory_counts(territory=territory),
        "cycle_label": CYCLE_LABELS.get(territory.cycle, ""),
        "cycle_form": CyclePhaseForm(instance=territory),
        "can_manage": can_manage_territory(request.user, territory),
        "can_code": can_code(request.user, territory),
        "today": timezone.localdate(),
    }
    return render(request, "territories/dashboard.html", context)


@login_required
@require_POST
def territory_cycle_phase(request: AuthenticatedRequest, slug: str) -> HttpResponse:
    territory = _territory_for(request, slug)
    require(can_manage_territory(request.user, territory))
    form = CyclePhaseForm(request.POST, instance=territory)
    if form.is_valid():
        territory_update(
            territory=territory, cycle=form.cleaned_data["cycle"], phase=form.cleaned_data["phase"]
        )
        messages.success(request, _("The current cycle and phase were saved."))
    else:
        messages.error(request, _("Choose a cycle from 0 to 3 and a phase from 1 to 8."))
    return redirect("territories:dashboard", slug=territory.slug)


@login_required
@require_POST
def territory_step(request: AuthenticatedRequest, slug: str, key: str) -> HttpResponse:
    """Tick or untick a step of a phase for the current cycle."""
    territory = _territory_for(request, slug)
    require(can_manage_territory(request.user, territory))
    step = get_object_or_404(PhaseStep, key=key)
    if request.POST.get("undo"):
        phase_step_unrecord(territory=territory, step=step)
        messages.info(request, _("“%(step)s” is no longer marked as done.") % {"step": step.label})
    else:
        form = PhaseStepRecordForm(request.POST)
        if form.is_valid():
            phase_step_record(
                territory=territory,
                step=step,
                user=request.user,
                done_on=form.cleaned_data["done_on"],
                note=form.cleaned_data["note"],
            )
            messages.success(request, _("“%(step)s” is marked as done.") % {"step": step.label})
        else:
            messages.error(request, _("Give the date the step was done."))
    return redirect(f"{territory.get_absolute_url()}dashboard/#phase-{step.phase}")


@login_required
def territory_edit(request: AuthenticatedRequest, slug: str) -> HttpResponse:
    territory = _territory_for(request, slug)
    require(can_manage_territory(request.user, territory))
    form = TerritoryForm(request.POST or None, instance=territory)
    if request.method == "POST" and form.is_valid():
        territory_update(territory=territory, **form.cleaned_data)
        messages.success(request, _("The territory was saved."))
        return redirect(territory)
    return render(
        request,
        "territories/form.html",
        {"form": form, "territory": territory, "parent": territory.parent},
    )


@login_required
def territory_new(request: AuthenticatedRequest, slug: str) -> HttpResponse:
    """Create a territory (or a collective actor) below this one."""
    parent = _territory_for(request, slug)
    require(can_manage_territory(request.user, parent))
    form = TerritoryCreateForm(
        request.POST or None,
        initial={"language": parent.language, "country_code": parent.country_code},
    )
    if request.method == "POST" and form.is_valid():
        data = dict(form.cleaned_data)
        territory = territory_create(
            parent=parent, name=data.pop("name"), kind=data.pop("kind"), **data
        )
        messages.success(request, _("%(name)s was created.") % {"name": territory.name})
        return redirect(territory)
    return render(
        request, "territories/form.html", {"form": form, "territory": None, "parent": parent}
    )


@login_required
def coordination(request: AuthenticatedRequest, slug: str) -> HttpResponse:
    """The coordination group (multi-actor platform): its members and who agreed to be named."""
    territory = _territory_for(request, slug)
    require(can_view_private_data(request.user, territory))
    can_manage = can_manage_territory(request.user, territory)
    form = CoordinationMemberForm(request.POST or None)
    if request.method == "POST":
        require(can_manage)
        if form.is_valid():
            coordination_member_add(territory=territory, **form.cleaned_data)
            messages.success(request, _("The member was added."))
            return redirect("territories:coordination", slug=territory.slug)
    group = coordination_group_of(territory)
    return render(
        request,
        "territories/coordination.html",
        {
            "territory": territory,
            "group": group,
            "members": group.members.all(),
            "form": form,
            "can_manage": can_manage,
        },
    )


@login_required
def coordination_member_edit(request: AuthenticatedRequest, slug: str, pk: int) -> HttpResponse:
    territory = _territory_for(request, slug)
    require(can_manage_territory(request.user, territory))
    member = get_object_or_404(CoordinationMember, pk=pk, group__territory=territory)
    if request.method == "POST" and request.POST.get("delete"):
        member.delete()
        messages.info(request, _("The member was removed."))
        return redirect("territories:coordination", slug=territory.slug)
    form = CoordinationMemberForm(request.POST or None, instance=member)
    if request.method == "POST" and form.is_valid():
        form.save()
        messages.success(request, _("The member was saved."))
        return redirect("territories:coordination", slug=territory.slug)
    return render(
        request,
        "territories/member_form.html",
        {"territory": territory, "form": form, "member": member},
    )


@login_required
def roles(request: AuthenticatedRequest, slug: str) -> HttpResponse:
    """Who holds which role here; coordinators give roles on their territory and below."""
    territory = _territory_for(request, slug)
    require(can_manage_roles(request.user, territory))
    form = RoleGrantForm(request.POST or None, granter=request.user, territory=territory)
    if request.method == "POST" and form.is_valid():
        require(can_grant_role(request.user, territory, form.cleaned_data["role"]))
        role_grant(
            user=form.cleaned_data["user"],
            territory=territory,
            role=form.cleaned_data["role"],
            granted_by=request.user,
        )
        messages.success(request, _("The role was given."))
        return redirect("territories:roles", slug=territory.slug)
    assignments = (
        RoleAssignment.objects.filter(territory__descendant_links__territory=territory)
        .select_related("user", "territory")
        .order_by("territory__name", "role", "user__username")
    )
    return render(
        request,
        "territories/roles.html",
        {"territory": territory, "form": form, "assignments": assignments},
    )


@login_required
@require_POST
def role_remove(request: AuthenticatedRequest, slug: str, pk: int) -> HttpResponse:
    territory = _territory_for(request, slug)
    assignment = get_object_or_404(RoleAssignment, pk=pk, territory=territory)
    require(can_grant_role(request.user, territory, assignment.role))
    role_revoke(assignment=assignment)
    messages.info(request, _("The role was removed."))
    return redirect("territories:roles", slug=territory.slug)
