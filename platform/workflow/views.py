"""Approval pages: the inbox (待办 / 已办 / 我发起的), one approval with its data, diagram, timeline and the actions
this user may take, the snapshot each approver saw, a flow's definition diagram, and the 变更申请 form.

Thin like every interface: reads through ``workflow.selectors`` (``instance_get`` answers 404 to strangers), every
action through its ``workflow.services`` function. A service error is shown next to the form that caused it, with
everything the user typed kept.
"""

from __future__ import annotations

import os
from typing import Any
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db.models import Prefetch
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.safestring import mark_safe
from django.utils.timesince import timesince, timeuntil
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from accounts import permissions
from core.errors import NotFound, ServiceError
from core.paging import ids_of, rows_for
from projects import selectors as project_selectors
from projects import selectors_types
from projects.indicators import project_indicators
from projects.models.project import Category
from rules.models import OPEN_STATUSES, Alert, Severity
from rules.selectors import SEVERITY_RANK

from . import diagram, selectors, services
from .definition import Flow, parse
from .forms import (
    CHANGE_FIELDS,
    change_input,
    pick_user,
    return_targets,
    signer_candidates,
)
from .models import ApprovalTask, ChangeRequest, FlowInstance, InstanceStatus, TaskStatus
from .present import (
    STATUS_TONE,
    TASK_TONE,
    instance_svg,
    person_name,
    role_names,
    snapshot_view,
    timeline_entry,
)
from .runtime import flow_of

PAGE_SIZE = 20
APPROVER_ACTIONS = ("approve", "return", "transfer", "add_signer")
APPLICANT_ACTIONS = ("withdraw", "resubmit", "urge")
ACTIONS = APPROVER_ACTIONS + APPLICANT_ACTIONS


def _page_of(request: HttpRequest, items: Any) -> Any:
    """The requested page; its rows are picked by id first and then loaded with their joins (``core.paging``)."""
    raw = str(request.GET.get("page") or "1")
    number = int(raw) if raw.isascii() and raw.isdigit() and int(raw) > 0 else 1
    paginator = Paginator(ids_of(items), PAGE_SIZE)
    page = paginator.page(min(number, paginator.num_pages))
    page.object_list = rows_for(items, list(page.object_list))
    return page


def _step_names(instance: FlowInstance) -> dict[str, str]:
    return {
        str(s.get("code")): str(s.get("name") or s.get("code"))
        for s in (instance.definition or {}).get("steps") or []
    }


# The inbox -----------------------------------------------------------------------------------------------------


@login_required
@require_GET
def approval_inbox(request: HttpRequest) -> HttpResponse:
    """审批: 待办 (overdue first, then oldest), 已办 (newest first) and 我发起的, with their counts."""
    user = request.user
    box = request.GET.get("box") or "todo"
    if box not in selectors.BOXES:
        box = "todo"
    counts = selectors.counts(user)
    totals = {
        "todo": counts["todo"],
        "done": selectors.done(user).count(),
        "mine": selectors.mine(user).count(),
    }
    if box == "mine":
        open_tasks = ApprovalTask.objects.filter(status=TaskStatus.OPEN).select_related("assignee")
        rows = selectors.mine(user).prefetch_related(
            Prefetch("tasks", queryset=open_tasks, to_attr="open_tasks")
        )
    else:
        rows = selectors.todo(user) if box == "todo" else selectors.done(user)
    page = _page_of(request, rows)
    now = timezone.now()
    if box == "mine":
        items = [_instance_row(instance) for instance in page.object_list]
    else:
        items = [_task_row(task, now) for task in page.object_list]
    labels = {"todo": _("待办"), "done": _("已办"), "mine": _("我发起的")}

    def link(**query: Any) -> str:
        return "?" + urlencode({k: v for k, v in query.items() if v})

    return render(
        request,
        "workflow/inbox.html",
        {
            "box": box,
            "tabs": [(key, labels[key], totals[key], link(box=key)) for key in selectors.BOXES],
            "counts": counts,
            "page": page,
            "items": items,
            "pager": {
                "previous": link(box=box, page=page.number - 1) if page.has_previous() else "",
                "next": link(box=box, page=page.number + 1) if page.has_next() else "",
            },
        },
    )


def _task_row(task: ApprovalTask, now: Any) -> dict[str, Any]:
    instance = task.instance
    overdue = bool(task.due_at and task.due_at < now and task.status == TaskStatus.OPEN)
    due = ""
    if task.due_at and task.status == TaskStatus.OPEN:
        due = (
            _("已超时 %(t)s") % {"t": timesince(task.due_at, now, depth=1)}
            if overdue
            else _("剩 %(t)s") % {"t": timeuntil(task.due_at, now, depth=1)}
        )
    return {
        "waited": timesince(task.opened_at, now, depth=2) if task.opened_at else "",
        "due": due,
        "url": reverse("workflow:approval-show", args=[instance.pk]),
        "title": instance.title,
        "project": instance.project,
        "step": task.step_name,
        "applicant": person_name(instance.applicant),
        "opened_at": task.opened_at,
        "due_at": task.due_at,
        "overdue": overdue,
        "acted_at": task.acted_at,
        "status": task.get_status_display(),
        "tone": TASK_TONE.get(task.status, ""),
        "delegated_from": person_name(task.delegated_from) if task.delegated_from_id else "",
        "added": bool(task.added_by_id),
    }


def _instance_row(instance: FlowInstance) -> dict[str, Any]:
    names = _step_names(instance)
    handlers = [person_name(t.assignee) for t in getattr(instance, "open_tasks", [])]
    return {
        "url": reverse("workflow:approval-show", args=[instance.pk]),
        "title": instance.title,
        "project": instance.project,
        "status": instance.get_status_display(),
        "tone": STATUS_TONE.get(instance.status, ""),
        "step": names.get(instance.current_step, "") if instance.status == InstanceStatus.RUNNING else "",
        "handlers": _("、").join(handlers),
        "started_at": instance.started_at,
        "finished_at": instance.finished_at,
    }


# One approval --------------------------------------------------------------------------------------------------


def _actions(user: Any, instance: FlowInstance, tasks: list[ApprovalTask]) -> tuple[set[str], Any]:
    """The actions ``user`` may take now, and their open task (if any)."""
    actions: set[str] = set()
    mine = None
    if instance.status == InstanceStatus.RUNNING:
        mine = next((t for t in tasks if t.assignee_id == user.pk and t.status == TaskStatus.OPEN), None)
    if mine is not None:
        actions.update(APPROVER_ACTIONS)
    if instance.applicant_id == user.pk:
        human = (TaskStatus.APPROVED, TaskStatus.RETURNED, TaskStatus.TRANSFERRED)
        acted = any(t.round == instance.round and t.status in human for t in tasks)
        if instance.status == InstanceStatus.RETURNED or (
            instance.status == InstanceStatus.RUNNING and not acted
        ):
            actions.add("withdraw")
        if instance.status == InstanceStatus.RETURNED:
            actions.add("resubmit")
        if instance.status == InstanceStatus.RUNNING and any(t.status == TaskStatus.OPEN for t in tasks):
            actions.add("urge")
    return actions, mine


def _open_alerts(project: Any) -> list[Alert]:
    """The project's open alerts, severest and oldest first: the approver decides knowing them."""
    alerts = list(
        Alert.objects.filter(project=project, status__in=OPEN_STATUSES)
        .annotate(severity_rank=SEVERITY_RANK)
        .order_by("-severity_rank", "fired_at", "id")
    )
    for alert in alerts:
        alert.severity_tone = {Severity.SEVERE: "severe", Severity.WARNING: "warning"}.get(
            alert.severity, "info"
        )
    return alerts


def _context(request: HttpRequest, instance: FlowInstance) -> dict[str, Any]:
    user = request.user
    project = instance.project
    flow = flow_of(instance)
    tasks = sorted(
        instance.tasks.select_related("assignee", "delegated_from", "added_by"),
        key=lambda t: (t.round, _index(flow, t.step), t.seq, t.pk),
    )
    events = list(
        instance.events.select_related("actor", "task__assignee", "task__delegated_from").order_by("at", "id")
    )
    actions, mine = _actions(user, instance, tasks)
    today = timezone.localdate()
    can_view_project = permissions.can(user, "project.view", project)
    handlers = [person_name(t.assignee) for t in tasks if t.status == TaskStatus.OPEN]
    return {
        "instance": instance,
        "flow": flow,
        "tone": STATUS_TONE.get(instance.status, ""),
        "project": project,
        "project_url": reverse("project-show", args=[project.pk]) if can_view_project else "",
        "step_name": _step_names(instance).get(instance.current_step, ""),
        "handlers": _("、").join(handlers),
        "snapshot": snapshot_view(instance, instance.data or {}),
        "indicators": project_indicators(project, today=today),
        "alerts": _open_alerts(project),
        "alerts_linked": permissions.can(user, "alert.view", project),
        "diagram": mark_safe(instance_svg(instance, flow, tasks, events)),  # built escaped in diagram.py
        "timeline": [timeline_entry(instance, flow, e) for e in events],
        "tasks": [_task_view(instance, t) for t in tasks],
        "actions": actions,
        "my_task": mine,
        "return_targets": return_targets(instance, mine) if mine else [],
        "candidates": list(signer_candidates(instance, mine)) if mine else [],
        "flow_url": _flow_url(instance),
        "errors": {},
        "posted": {},
    }


def _index(flow: Flow, code: str) -> int:
    try:
        return flow.index(code)
    except StopIteration:
        return len(flow.steps)


def _flow_url(instance: FlowInstance) -> str:
    version = instance.type_version
    url = reverse("workflow:flow-show", args=[version.type.code, instance.flow_code])
    return f"{url}?v={version.number}"


# The notes the runtime writes on the tasks it closes (not anyone's words), in the reader's language.
SYSTEM_COMMENTS = {
    "本步骤已完成": gettext_lazy("本步骤已完成"),
    "已被退回": gettext_lazy("已被退回"),
    "申请人已撤回": gettext_lazy("申请人已撤回"),
    "同一审批人连续审批，自动跳过": gettext_lazy("同一审批人连续审批，自动跳过"),
    "转办": gettext_lazy("转办"),
}


def _task_view(instance: FlowInstance, task: ApprovalTask) -> dict[str, Any]:
    comment = task.comment
    if task.status in (TaskStatus.CANCELLED, TaskStatus.SKIPPED, TaskStatus.TRANSFERRED):
        comment = str(SYSTEM_COMMENTS.get(comment, comment))
    return {
        "task": task,
        "comment": comment,
        "tone": TASK_TONE.get(task.status, ""),
        "assignee": person_name(task.assignee),
        "delegated_from": person_name(task.delegated_from) if task.delegated_from_id else "",
        "added_by": person_name(task.added_by) if task.added_by_id else "",
        "snapshot_url": (
            reverse("workflow:task-snapshot", args=[instance.pk, task.pk]) if task.snapshot else ""
        ),
        "attachment_url": (
            reverse("workflow:task-attachment", args=[instance.pk, task.pk]) if task.attachment else ""
        ),
    }


@login_required
@require_GET
def approval_show(request: HttpRequest, pk: int) -> HttpResponse:
    """One approval: what was submitted, the project's indicators and alerts, the diagram, the history, and the
    actions this user may take."""
    instance = selectors.instance_get(user=request.user, pk=pk)
    return render(request, "workflow/approval.html", _context(request, instance))


@login_required
@require_POST
def approval_act(request: HttpRequest, pk: int, action: str) -> HttpResponse:
    """One action on an approval through its service; an error comes back next to its form, input kept."""
    if action not in ACTIONS:
        raise Http404
    instance = selectors.instance_get(user=request.user, pk=pk)
    post, user = request.POST, request.user
    task_id = post.get("task", "")
    task = int(task_id) if task_id.isascii() and task_id.isdigit() else 0
    if task and not instance.tasks.filter(pk=task).exists():
        task = 0  # a task of another approval: the service answers "no such task"
    upload = request.FILES.get("attachment")
    try:
        if action == "approve":
            services.task_approve(actor=user, task=task, comment=post.get("comment", ""), attachment=upload)
            done = _("已同意：%(title)s") % {"title": instance.title}
        elif action == "return":
            services.task_return(
                actor=user,
                task=task,
                reason=post.get("reason", ""),
                to=post.get("to") or "applicant",
                attachment=upload,
            )
            done = _("已退回：%(title)s") % {"title": instance.title}
        elif action == "transfer":
            to_user = pick_user(post.get("user"))
            services.task_transfer(actor=user, task=task, to_user=to_user, comment=post.get("comment", ""))
            done = _("已转办给 %(name)s。") % {"name": person_name(to_user)}
        elif action == "add_signer":
            signer = pick_user(post.get("user"))
            services.task_add_signer(
                actor=user,
                task=task,
                user=signer,
                position=post.get("position", "after"),
                comment=post.get("comment", ""),
            )
            done = _("已加签 %(name)s。") % {"name": person_name(signer)}
        elif action == "withdraw":
            services.instance_withdraw(actor=user, instance=instance, reason=post.get("reason", ""))
            done = _("申请已撤回。")
        elif action == "resubmit":
            services.instance_resubmit(actor=user, instance=instance, note=post.get("note", ""))
            done = _("已重新提交。")
        else:
            n = services.instance_urge(actor=user, instance=instance)
            done = ngettext("已催办 %(n)s 人。", "已催办 %(n)s 人。", n) % {"n": n}
    except ServiceError as error:
        fresh = selectors.instance_get(user=user, pk=pk)
        context = _context(request, fresh)
        context["errors"] = {action: error}
        context["posted"] = {action: post}
        if action not in context["actions"]:  # the approval moved on and the form is gone: say why at the top
            context["top_error"] = error
        return render(request, "workflow/approval.html", context, status=error.status)
    messages.success(request, done)
    if action in APPROVER_ACTIONS:
        return redirect("workflow:inbox")
    return redirect("workflow:approval-show", pk=pk)


@login_required
@require_GET
def task_snapshot(request: HttpRequest, pk: int, task_id: int) -> HttpResponse:
    """The data an approver saw when they acted on their task."""
    instance = selectors.instance_get(user=request.user, pk=pk)
    task = instance.tasks.select_related("assignee").filter(pk=task_id).first()
    if task is None or not task.snapshot:
        raise Http404
    return render(
        request,
        "workflow/snapshot.html",
        {
            "instance": instance,
            "task": task,
            "assignee": person_name(task.assignee),
            "snapshot": snapshot_view(instance, task.snapshot),
        },
    )


@login_required
@require_GET
def task_attachment(request: HttpRequest, pk: int, task_id: int) -> FileResponse:
    """An approver's attachment, to whoever may see the approval (media is not served publicly)."""
    instance = selectors.instance_get(user=request.user, pk=pk)
    task = instance.tasks.filter(pk=task_id).first()
    if task is None or not task.attachment:
        raise Http404
    name = os.path.basename(task.attachment.name)
    return FileResponse(task.attachment.open("rb"), as_attachment=True, filename=name)


# A flow's definition -------------------------------------------------------------------------------------------


@login_required
@require_GET
def flow_show(request: HttpRequest, type_code: str, flow_code: str) -> HttpResponse:
    """A project type's flow as configured: the diagram and each step's settings (``?v=`` picks a version)."""
    types = selectors_types.project_type_list(user=request.user, action="project.view")
    ptype = types.filter(code=type_code).first()
    if ptype is None:
        raise NotFound("项目类型不存在或您无权查看。")
    raw_v = str(request.GET.get("v") or "")
    if raw_v.isascii() and raw_v.isdigit():
        version = ptype.versions.filter(number=int(raw_v)).exclude(status="draft").first()
    else:
        version = ptype.published()
    if version is None:
        raise Http404
    raw = next(
        (f for f in (version.effective or {}).get("flows") or [] if str(f.get("code")) == flow_code), None
    )
    if raw is None:
        raise Http404
    flow = parse(raw)
    roles = role_names()
    svg = diagram.flow_svg(
        flow, roles=roles, ident=f"def-{flow.code}", title=_("审批流程图：%(name)s") % {"name": flow.name}
    )
    steps = [
        {
            "step": step,
            "mode": diagram.mode_label(step),
            "approvers": diagram.approvers_label(step, roles),
            "timeout": diagram.timeout_label(step) if step.sla_days else "",
            "next": flow.step(step.next).name if step.next else "",
        }
        for step in flow.steps
    ]
    return render(
        request,
        "workflow/flow.html",
        {
            "ptype": ptype,
            "version": version,
            "flow": flow,
            "steps": steps,
            "diagram": mark_safe(svg),  # built escaped in diagram.py
            "no_approver": {"转管理员": _("转交管理员"), "自动通过": _("自动通过")}.get(
                flow.no_approver, flow.no_approver
            ),
        },
    )


# The project page's panel and the 变更申请 ----------------------------------------------------------------------


def project_panel(user: Any, project: Any) -> dict[str, Any]:
    """What the project page's 审批 panel shows: the project's approvals (running first), links to its type's
    flow diagrams, and whether the user may ask for a change."""
    rows = list(
        FlowInstance.objects.filter(project=project)
        .select_related("applicant")
        .prefetch_related(
            Prefetch(
                "tasks",
                queryset=ApprovalTask.objects.filter(status=TaskStatus.OPEN).select_related("assignee"),
                to_attr="open_tasks",
            )
        )
        .order_by("-started_at", "-id")[:30]
    )
    active = [r for r in rows if r.is_active]
    rows = active + [r for r in rows if not r.is_active]
    flows = []
    if project.type_version_id:
        version = project.type_version
        for raw in version.effective.get("flows") or []:
            url = reverse("workflow:flow-show", args=[version.type.code, raw.get("code")])
            flows.append({"name": raw.get("name") or raw.get("code"), "url": f"{url}?v={version.number}"})
    return {
        "approvals": [_instance_row(r) | {"applicant": person_name(r.applicant)} for r in rows],
        "approval_flows": flows,
        "can_change": permissions.can(user, "project.edit", project),
        "change_fields": CHANGE_FIELDS,
        "categories": list(Category.choices),
    }


@login_required
@require_http_methods(["GET", "POST"])
def change_request_new(request: HttpRequest, project_pk: int) -> HttpResponse:
    """变更申请: the fields to change (blank = unchanged) and the reason; it takes effect once 变更审批 approves."""
    project = project_selectors.project_get(user=request.user, pk=project_pk)
    permissions.require(request.user, "project.edit", project)
    errors: Any = None
    posted: Any = {}
    if request.method == "POST":
        posted = request.POST
        try:
            change = services.change_request_submit(
                actor=request.user,
                project=project,
                changes=change_input(request.POST, project),
                reason=request.POST.get("reason", ""),
            )
        except ServiceError as error:
            errors = error
        else:
            if change.status == ChangeRequest.Status.APPLIED:
                messages.success(request, _("变更已生效。"))
                return redirect("project-show", pk=project.pk)
            instance = FlowInstance.objects.filter(
                project=project, transition="变更审批", subject__change=change.pk
            ).first()
            messages.success(request, _("变更申请已提交审批，审批通过后生效。"))
            if instance is not None:
                return redirect("workflow:approval-show", pk=instance.pk)
            return redirect("project-show", pk=project.pk)
    return render(
        request,
        "workflow/change_form.html",
        {
            "project": project,
            "error": errors,
            "posted": posted,
            "categories": list(Category.choices),
        },
        status=errors.status if errors is not None else 200,
    )
