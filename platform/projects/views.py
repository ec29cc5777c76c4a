"""Project pages for staff: start a project from a type's 立项 form; the project's one-screen detail page and
the small forms on it (payments, contracts, budget lines, milestones, check-ins, stage moves, stage forms)."""

from __future__ import annotations

from collections.abc import Callable

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from accounts import permissions
from core.errors import ServiceError, ValidationFailed
from forms.flow import FillPage, fill_post, fill_render
from forms.models import Form
from forms.services import typed_data
from rules.selectors import project_open_alerts
from workflow.services import stage_request
from workflow.views import project_panel as approval_panel

from . import selectors, selectors_types, services
from .indicators import project_indicators
from .models import Contract, FundSource, Milestone
from .models.project import Stage


@login_required
def project_new(request):
    """Pick the type of the new project among those published for the user's org."""
    permissions.require(request.user, "project.create")
    org = request.user.org
    types = list(selectors_types.types_for_org(org)) if org else []
    return render(request, "projects/new.html", {"types": types, "org": org})


@login_required
def project_new_fill(request, code: str):
    """Fill the type's 立项申请 form; submitting creates the project."""
    org = request.user.org
    permissions.require(request.user, "project.create", org)
    ptype = get_object_or_404(selectors_types.types_for_org(org), code=code)
    version = ptype.published()
    form = Form.objects.get(code=version.effective["forms"]["立项申请"])
    page = FillPage(
        title=_("新建项目：%(type)s") % {"type": ptype.name},
        version=form.published(),
        allow_draft=False,
        submit_label=_("提交立项"),
        subtitle=_("建设单位：%(org)s") % {"org": org.name},
        live_url=reverse("forms:live", args=[form.code, form.published().number]),
    )

    def save(data: dict, submit: bool):
        project = services.project_create_from_type(actor=request.user, org=org, ptype=ptype, data=data)
        messages.success(request, _("项目已立项，代码 %(code)s。") % {"code": project.code})
        return redirect("project-show", pk=project.pk)

    if request.method == "POST":
        return fill_post(request, page, org=org, save=save)
    return fill_render(request, page, {}, {})


def _form_rows(project) -> list[tuple[str, str]]:
    """The 立项 data as (label, shown value) pairs, in the form's order."""
    if not project.form_version_id:
        return []
    schema = project.form_version.schema
    data = typed_data(project.form_version, project.data or {})
    rows = []
    for name, prop in (schema.get("properties") or {}).items():
        if name not in data:
            continue
        value = data[name]
        if isinstance(value, list):
            value = _("；").join(
                _("、").join(f"{v}" for v in row.values()) if isinstance(row, dict) else str(row)
                for row in value
            )
        elif isinstance(value, dict):
            value = " {} ".format(_("至")).join(str(v) for v in value.values())
        elif isinstance(value, bool):
            value = _("是") if value else _("否")
        rows.append((str(prop.get("title") or name), str(value)))
    return rows


def _stage_label(code):
    """The default lifecycle's stages in the user's language; a type's own stage names show as they are."""
    return dict(Stage.choices).get(code, code)


@login_required
def project_detail(request, pk: int):
    """Everything about one project on one screen."""
    project = selectors.project_get(user=request.user, pk=pk)
    today = timezone.localdate()
    stages = services.project_stages(project)
    codes = [s["code"] for s in stages]
    here = codes.index(project.stage) if project.stage in codes else -1
    next_stage = codes[here + 1] if 0 <= here < len(codes) - 1 else None
    forms = project.type_version.effective.get("forms", {}) if project.type_version_id else {}
    # A form whose write a service refused comes back open, with the error and what was typed (see _action).
    retry = request.session.pop(_RETRY_KEY, None) or {}
    context = {
        "form_error": {retry.get("form", ""): retry} if retry else {},
        "open_alerts": project_open_alerts(user=request.user, project=project),
        "project": project,
        "today": today,
        "stages": [{**s, "name": _stage_label(s.get("name", ""))} for s in stages],
        "stage_index": here,
        "next_stage": next_stage,
        "next_stage_label": _stage_label(next_stage),
        "missing_forms": Form.objects.filter(code__in=services.stage_missing_forms(project)),
        "indicators": project_indicators(project, today=today),
        "planned_progress": services.planned_progress(project, today),
        "days_late": services.days_late(project, today),
        "form_rows": _form_rows(project),
        "budget_lines": project.budget_lines.all(),
        "expenditures": project.expenditures.select_related("budget_line", "contract")[:50],
        "expenditure_count": project.expenditures.count(),
        "contracts": project.contracts.all(),
        "milestones": project.milestones.prefetch_related("check_ins"),
        "tasks": project.tasks.select_related("parent"),
        "stage_changes": project.stage_changes.select_related("changed_by"),
        "daily_reports": project.daily_reports.select_related("submission", "created_by")[:10],
        "stage_forms": [(role, code) for role, code in forms.items() if role not in ("立项申请", "每日简报")],
        "has_daily": "每日简报" in forms,
        "fund_sources": FundSource.choices,
        "contract_kinds": Contract.Kind.choices,
        "can_edit": permissions.can(request.user, "project.edit", project),
        "execution_rate": (project.spent_total / project.budget) if project.budget else None,
    }
    context.update(approval_panel(request.user, project))
    return render(request, "projects/detail.html", context)


_RETRY_KEY = "project_form_retry"


def _action(request, pk: int, work: Callable, success: str | Callable, *, form: str = ""):
    """Run one detail-page action through its service; errors come back on the page.

    ``success`` is the message shown, or a function of the service's result that returns it. For a named ``form``
    (expenditure, contract, budget_line, stage) an error — a blocking rule's message (409 ``rule_blocked``) or the
    fields that failed — is shown inside that form, reopened with what the user typed; other actions report errors
    as messages at the top of the page.
    """
    project = selectors.project_get(user=request.user, pk=pk)
    try:
        result = work(project)
    except ServiceError as exc:
        details = [m for ms in exc.fields.values() for m in ms]
        if form:
            request.session[_RETRY_KEY] = {
                "form": form,
                "code": exc.code,
                "message": exc.message,
                "details": details if isinstance(exc, ValidationFailed) else [],
                "rules": exc.fields.get("rules", []) if exc.code == "rule_blocked" else [],
                "data": {k: v for k, v in request.POST.items() if k not in ("csrfmiddlewaretoken", "anchor")},
            }
        elif isinstance(exc, ValidationFailed):
            messages.error(request, f"{exc.message} {'；'.join(details)}".strip())
        else:
            messages.error(request, exc.message)
    else:
        messages.success(request, success(result) if callable(success) else success)
    return redirect(reverse("project-show", args=[pk]) + request.POST.get("anchor", ""))


def _line(project, raw: str):
    return project.budget_lines.filter(pk=raw).first() if raw and raw.isdigit() else None


@login_required
@require_POST
def project_expenditure_add(request, pk: int):
    post = request.POST
    return _action(
        request,
        pk,
        lambda p: services.expenditure_record(
            actor=request.user,
            project=p,
            voucher_no=post.get("voucher_no", ""),
            paid_on=post.get("paid_on", ""),
            payee=post.get("payee", ""),
            amount=post.get("amount", ""),
            budget_line=_line(p, post.get("budget_line", "")),
            contract=p.contracts.filter(pk=post.get("contract") or 0).first(),
            note=post.get("note", ""),
        ),
        _("支出已登记。"),
        form="expenditure",
    )


@login_required
@require_POST
def project_budget_line_add(request, pk: int):
    post = request.POST
    return _action(
        request,
        pk,
        lambda p: services.budget_line_add(
            actor=request.user,
            project=p,
            year=post.get("year", ""),
            fund_source=post.get("fund_source", ""),
            amount=post.get("amount", ""),
            subject=post.get("subject", ""),
        ),
        _("预算明细已添加。"),
        form="budget_line",
    )


@login_required
@require_POST
def project_contract_add(request, pk: int):
    post = request.POST
    return _action(
        request,
        pk,
        lambda p: services.contract_record(
            actor=request.user,
            project=p,
            code=post.get("code", ""),
            name=post.get("name", ""),
            kind=post.get("kind", ""),
            counterparty=post.get("counterparty", ""),
            amount=post.get("amount", ""),
            signed_on=post.get("signed_on", ""),
            counterparty_uscc=post.get("counterparty_uscc", ""),
        ),
        _("合同已登记。"),
        form="contract",
    )


@login_required
@require_POST
def project_milestone_add(request, pk: int):
    post = request.POST
    return _action(
        request,
        pk,
        lambda p: services.milestone_add(
            actor=request.user,
            project=p,
            name=post.get("name", ""),
            planned_date=post.get("planned_date", ""),
            weight=post.get("weight") or "1",
        ),
        _("里程碑已添加。"),
    )


def _milestone(project, raw: str) -> Milestone:
    milestone = project.milestones.filter(pk=raw if str(raw).isdigit() else 0).first()
    if milestone is None:
        raise Http404
    return milestone


@login_required
@require_POST
def project_milestone_done(request, pk: int, mid: int):
    return _action(
        request,
        pk,
        lambda p: services.milestone_complete(
            actor=request.user, milestone=_milestone(p, mid), actual_date=request.POST.get("actual_date", "")
        ),
        _("节点已完成。"),
    )


@login_required
@require_POST
def project_checkin(request, pk: int, mid: int):
    post = request.POST
    return _action(
        request,
        pk,
        lambda p: services.checkin_record(
            actor=request.user,
            milestone=_milestone(p, mid),
            note=post.get("note", ""),
            photo=request.FILES.get("photo"),
            latitude=post.get("latitude"),
            longitude=post.get("longitude"),
        ),
        _("打卡成功。"),
    )


@login_required
@require_POST
def project_task_save(request, pk: int):
    post = request.POST
    return _action(
        request,
        pk,
        lambda p: services.task_save(
            actor=request.user,
            project=p,
            code=post.get("code", ""),
            name=post.get("name", ""),
            parent_code=post.get("parent_code", ""),
            weight=post.get("weight") or "1",
            percent=post.get("percent"),
            planned_start=post.get("planned_start"),
            planned_end=post.get("planned_end"),
        ),
        _("任务已保存。"),
    )


@login_required
@require_POST
def project_stage(request, pk: int):
    return _action(
        request,
        pk,
        lambda p: stage_request(
            actor=request.user,
            project=p,
            to_stage=request.POST.get("to_stage", ""),
            note=request.POST.get("note", ""),
        ),
        lambda result: (
            _("已提交审批，审批通过后进入下一阶段。") if result[1] is not None else _("阶段已变更。")
        ),
        form="stage",
    )


def _project_form_page(request, project, role: str) -> tuple[FillPage, Form]:
    forms = project.type_version.effective.get("forms", {}) if project.type_version_id else {}
    if role not in forms or role == "立项申请":
        raise Http404
    form = Form.objects.get(code=forms[role])
    version = form.published()
    page = FillPage(
        title=_("%(form)s：%(project)s") % {"form": form.name, "project": project.name},
        version=version,
        allow_draft=False,
        subtitle=f"{project.code} · {project.org.name}",
        live_url=reverse("forms:live", args=[form.code, version.number]),
    )
    return page, form


@login_required
def project_form_fill(request, pk: int, role: str):
    """File one of the type's forms (验收申请, 每日简报 …) for this project."""
    project = selectors.project_get(user=request.user, pk=pk)
    permissions.require(request.user, "project.edit", project)
    page, _form = _project_form_page(request, project, role)

    def save(data: dict, submit: bool):
        if role == "每日简报":
            services.daily_report_submit(
                actor=request.user, project=project, day=timezone.localdate(), data=data
            )
        else:
            services.project_form_submit(actor=request.user, project=project, role=role, data=data)
        messages.success(request, _("%(form)s已提交。") % {"form": role})
        return redirect("project-show", pk=project.pk)

    if request.method == "POST":
        return fill_post(request, page, org=project.org, save=save)
    return fill_render(request, page, {}, {})
