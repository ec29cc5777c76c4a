"""审批委托: an approver going on leave hands what they would receive to a colleague for a date range, and can cancel
it. Thin: the candidates are the users ``resolve.qualified`` for the approver's org; every write is a service call."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from accounts.models import Role, User
from accounts.permissions import ancestor_paths
from core.errors import ServiceError, ValidationFailed

from .delegation import delegation_cancel, delegation_create, delegations_of
from .forms import pick_user
from .models import Delegation


def _candidates(user: User):
    """Colleagues who may approve for the user's org (those holding an approving role at it or above it)."""
    if user.org_id is None:
        return User.objects.none()
    roles = [r.code for r in Role.objects.all() if "approval.act" in (r.actions or [])]
    return (
        User.objects.filter(
            is_active=True,
            grants__role__in=roles,
            grants__org__is_active=True,
            grants__org__path__in=ancestor_paths(user.org.path),
        )
        .exclude(pk=user.pk)
        .select_related("org")
        .distinct()
        .order_by("org__path", "username")[:200]
    )


@login_required
@require_http_methods(["GET", "POST"])
def delegation_list(request: HttpRequest) -> HttpResponse:
    """My delegations (current and past) and the form to add one."""
    user = request.user
    form = {"delegate": "", "starts_on": timezone.localdate().isoformat(), "ends_on": "", "note": ""}
    error = None
    if request.method == "POST":
        form = {key: request.POST.get(key, "").strip() for key in form}
        try:
            row = delegation_create(
                actor=user,
                delegate=pick_user(form["delegate"]),
                starts_on=form["starts_on"],
                ends_on=form["ends_on"],
                note=form["note"],
            )
        except ServiceError as exc:
            error = exc
        else:
            messages.success(
                request,
                _("已委托 %(name)s 在 %(start)s 至 %(end)s 代为审批。")
                % {
                    "name": row.delegate.display_name or row.delegate.username,
                    "start": row.starts_on,
                    "end": row.ends_on,
                },
            )
            return redirect("workflow:delegations")
    fields = error.fields if isinstance(error, ValidationFailed) else {}
    return render(
        request,
        "workflow/delegations.html",
        {
            "rows": [r for r in delegations_of(user) if r.user_id == user.pk],
            "received": [r for r in delegations_of(user, current_only=True) if r.delegate_id == user.pk],
            "candidates": _candidates(user),
            "form": form,
            "error": error,
            "fields": fields,
            "today": timezone.localdate(),
        },
        status=400 if error else 200,
    )


@login_required
@require_POST
def delegation_end(request: HttpRequest, pk: int) -> HttpResponse:
    row = Delegation.objects.filter(pk=pk, user=request.user).first()
    if row is None:
        messages.error(request, _("委托不存在。"))
        return redirect("workflow:delegations")
    try:
        delegation_cancel(actor=request.user, delegation=row)
    except ServiceError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("委托已取消，之后的审批任务将直接发给您。"))
    return redirect("workflow:delegations")
