"""The flow designer of the configuration studio: a type's approval flows edited as forms beside their diagram.

The page edits the ``flows`` of a type's draft (or of its published version when there is no draft). Every change
is posted to ``preview/``, which answers with the diagram ``workflow.diagram.flow_svg`` draws for each flow and the
publish-time problems ``projects.config.problems`` finds on the type's effective configuration with the edited flows
(only ``flows…`` paths), so the page can show them next to the field they name. ``save/`` replaces the draft's
``flows`` through ``project_type_draft_save`` (every other key kept as it is; the page autosaves through it);
``publish-preview/`` answers with what publishing the edited flows would change against the published version and
the records it reaches (``admin_ui.versions.type_preview``), shown above the confirmation; ``publish/`` saves and
publishes through ``project_type_publish``. Errors are ``{code, message, fields}`` with a 4xx status, never a 500.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from accounts import permissions
from accounts.models import Role
from core.errors import PermissionDenied, ValidationFailed
from projects import config as cfg
from projects.services.types import project_type_draft_save, project_type_publish, published_form_schemas
from workflow import definition, diagram
from workflow.present import role_names

from .endpoints import json_endpoint, json_ok, read_json
from .type_designer_core import type_for_user
from .versions import opened_version, type_preview

MAX_BODY = 200_000
MAX_FLOWS = 20
MAX_STEPS = 40

_endpoint = json_endpoint(type_for_user, key="type_code", permission=None)
# The code part a new flow's code is prefilled with (``<type code>_<part>``), per transition.
TRANSITION_CODES = {
    "立项审批": "lixiang",
    "支出审批": "zhichu",
    "变更审批": "biangeng",
    "验收审批": "yanshou",
}


def _flows(body: Mapping[str, Any]) -> list[Any]:
    flows = body.get("flows")
    if not isinstance(flows, list):
        raise ValidationFailed(_("缺少审批流程。"), fields={"flows": [_("审批流程必须是列表。")]})
    if len(flows) > MAX_FLOWS or any(
        isinstance(f, Mapping) and isinstance(f.get("steps"), list) and len(f["steps"]) > MAX_STEPS
        for f in flows
    ):
        raise ValidationFailed(_("审批流程或步骤过多。"), fields={"flows": [_("审批流程或步骤过多。")]})
    return flows


def _source(ptype: Any) -> tuple[Any, dict[str, Any]]:
    """The version the designer starts from (the draft, else the published version) and its own config."""
    version = opened_version(ptype)
    return version, copy.deepcopy(dict(version.config or {})) if version else {}


def _base_effective(ptype: Any) -> dict[str, Any] | None:
    if not ptype.base_id:
        return None
    base = ptype.base.published()
    return dict(base.effective or {}) if base else {}


def _current_flows(ptype: Any) -> list[Any]:
    _version, config = _source(ptype)
    if "flows" in config:
        return list(config.get("flows") or [])
    base = _base_effective(ptype)
    return copy.deepcopy(list((base or {}).get("flows") or []))


def _effective(ptype: Any, flows: list[Any]) -> dict[str, Any]:
    _version, config = _source(ptype)
    config["flows"] = flows
    base = _base_effective(ptype)
    if base is not None:
        config, _origin = cfg.merge(base, config)
        config["flows"] = flows
    return config


def _problems(ptype: Any, flows: list[Any]) -> list[dict[str, str]]:
    effective = _effective(ptype, flows)
    shape = [(p, m) for p, m in cfg.shape_problems(effective) if p.startswith("flows")]
    if shape:
        found = shape
    elif cfg.shape_problems(effective):
        # Something outside the flows is malformed: check the flows on their own against the type's names.
        found = definition.problems(
            flows, catalogue=cfg.catalogue(None), roles=set(Role.objects.values_list("code", flat=True))
        )
    else:
        found = cfg.problems(
            cfg.normalise(effective),
            form_schemas=published_form_schemas(ptype.org),
            roles=set(Role.objects.values_list("code", flat=True)),
        )
    return [{"path": p, "message": m} for p, m in found if p == "flows" or p.startswith(("flows[", "flows."))]


def _lenient(raw: Any, index: int) -> definition.Flow | None:
    """A flow to draw even while it is being edited: unreadable values fall back to their defaults."""
    if not isinstance(raw, Mapping):
        return None
    steps = []
    for j, step in enumerate(raw.get("steps") if isinstance(raw.get("steps"), list) else []):
        if not isinstance(step, Mapping):
            continue
        step = dict(step)
        step["code"] = str(step.get("code") or f"step{j + 1}")
        try:
            definition.sla_days(step.get("sla"))
        except ValueError:
            step["sla"] = None
        if not isinstance(step.get("approvers"), list):
            step["approvers"] = []
        step["approvers"] = [a for a in step["approvers"] if isinstance(a, Mapping)]
        steps.append(step)
    codes = {s["code"] for s in steps}
    for step in steps:
        if step.get("next") and step["next"] not in codes:
            step["next"] = ""
    clean = {
        "code": str(raw.get("code") or f"flow{index + 1}"),
        "name": str(raw.get("name") or raw.get("code") or _("审批流程")),
        "transition": str(raw.get("transition") or ""),
        "steps": steps,
    }
    try:
        return definition.parse(clean)
    except (KeyError, ValueError, TypeError, AttributeError):
        return None


def _svgs(flows: list[Any]) -> list[str]:
    roles = role_names()
    out = []
    for i, raw in enumerate(flows):
        flow = _lenient(raw, i)
        if flow is None:
            out.append("")
            continue
        out.append(
            diagram.flow_svg(
                flow,
                roles=roles,
                ident=f"fd-{i}",
                title=_("审批流程图：%(name)s") % {"name": flow.name},
            )
        )
    return out


def _can_edit(user: Any, ptype: Any) -> bool:
    return permissions.can(user, "config.manage", ptype.org)


def _check_edit(user: Any, ptype: Any) -> None:
    if not _can_edit(user, ptype):
        raise PermissionDenied(_("您没有在该机构“管理配置”的权限。"))


def _config_with(ptype: Any, flows: list[Any]) -> dict[str, Any]:
    """The draft's own configuration (every other key as it is) with ``flows`` replaced."""
    _version, config = _source(ptype)
    config["flows"] = flows
    return config


def _save(user: Any, ptype: Any, flows: list[Any]):
    _check_edit(user, ptype)
    return project_type_draft_save(actor=user, ptype=ptype, config=_config_with(ptype, flows))


# The page -------------------------------------------------------------------------------------------------------


@login_required
@require_GET
def flow_designer(request: HttpRequest, type_code: str) -> HttpResponse:
    """The designer: each flow as a form (name, transition, steps) beside its live diagram and problems."""
    user = request.user
    if not permissions.can(user, "config.view"):
        raise PermissionDenied(_("您没有“查看配置”的权限。"))
    ptype = type_for_user(user, type_code)
    version, _config = _source(ptype)
    flows = _current_flows(ptype)
    svgs = _svgs(flows)
    roles = role_names()
    return render(
        request,
        "admin_ui/flows.html",
        {
            "ptype": ptype,
            "version": version,
            "is_draft": bool(version and version.status == "draft"),
            "can_edit": _can_edit(user, ptype),
            "diagrams": [mark_safe(svg) for svg in svgs],  # built escaped in workflow/diagram.py
            "data": {
                "flows": flows,
                "roles": [{"code": code, "name": name} for code, name in sorted(roles.items())],
                "modes": list(definition.MODES),
                "timeouts": list(definition.TIMEOUTS),
                "transitions": list(definition.TRANSITIONS),
                "transitionCodes": TRANSITION_CODES,
                "noApprover": list(definition.NO_APPROVER),
                "typeCode": ptype.code,
                "orgs": [*definition.RELATIVE_ORGS, "同级财政局"],
            },
            "i18n": _i18n(),
            "urls": {
                "preview": reverse("admin_ui:flow-preview", args=[ptype.code]),
                "save": reverse("admin_ui:flow-save", args=[ptype.code]),
                "publish": reverse("admin_ui:flow-publish", args=[ptype.code]),
                "publish_preview": reverse("admin_ui:flow-publish-preview", args=[ptype.code]),
            },
        },
    )


def _i18n() -> dict[str, str]:
    return {
        "flow": _("流程"),
        "flowName": _("流程名称"),
        "flowCode": _("流程编码"),
        "transition": _("审批环节"),
        "steps": _("审批步骤"),
        "step": _("步骤 {n}"),
        "code": _("步骤编码"),
        "name": _("步骤名称"),
        "mode": _("审批方式"),
        "ratio": _("比例"),
        "approvers": _("审批人"),
        "approverKind": _("审批人类型"),
        "byRole": _("按角色"),
        "byUser": _("指定用户"),
        "role": _("角色"),
        "org": _("机构"),
        "user": _("用户名"),
        "when": _("条件（留空表示总是需要）"),
        "sla": _("时限"),
        "onTimeout": _("超时处理"),
        "next": _("完成后转到"),
        "nextDefault": _("下一步（按顺序）"),
        "up": _("上移"),
        "down": _("下移"),
        "remove": _("删除步骤"),
        "addStep": _("添加步骤"),
        "addApprover": _("添加审批人"),
        "removeApprover": _("删除审批人"),
        "addFlow": _("新增流程"),
        "removeFlow": _("删除流程"),
        "removeFlowConfirm": _("确定删除流程“{name}”吗？删除后该环节不再需要审批（保存草稿并发布后生效）。"),
        "flowRemoved": _("已删除流程“{name}”。"),
        "flowAdded": _("已新增流程“{name}”。"),
        "noTransitionLeft": _("四个审批环节都已配置流程。"),
        "flowSettings": _("流程设置"),
        "flowCodeHelp": _("英文字母、数字或下划线，在本类型内唯一；已有审批记录引用它，发布后尽量不要改。"),
        "transitionHelp": _("项目办理到哪个环节时走这个流程；一个环节只能配置一个流程。"),
        "noApprover": _("某步骤找不到审批人时"),
        "noApproverHelp": _("转管理员：交给本单位管理员处理；自动通过：跳过该步骤。"),
        "skipRepeated": _("自动跳过重复审批人"),
        "skipRepeatedHelp": _("同一人在前面步骤已审批过时，后面的步骤自动通过。"),
        "resumeAtReturner": _("退回后从退回的步骤继续"),
        "resumeAtReturnerHelp": _("申请人修改后重新提交时，直接回到退回它的步骤；不勾选则从第一步重新审批。"),
        "autosaving": _("正在自动保存…"),
        "autosaved": _("已自动保存 {time}"),
        "autosaveFailed": _("保存失败：{message}。修改仍保留在页面上，稍后会自动重试，也可点击“保存草稿”。"),
        "unsaved": _("有未保存的修改"),
        "publishChanges": _("发布后的变化（与已发布版本 v{n} 相比）"),
        "publishChangesNew": _("发布后的变化（尚无已发布版本）"),
        "noChanges": _("与已发布版本相比没有变化。"),
        "affected": _("影响的记录"),
        "diagram": _("流程图"),
        "checking": _("正在检查…"),
        "ok": _("没有发现问题，可以发布。"),
        "problems": _("发现 {n} 处问题："),
        "saved": _("已保存为草稿（版本 {n}）。"),
        "published": _("已发布版本 {n}。"),
        "failed": _("请求失败，请稍后重试。"),
        "confirm": _("请先勾选确认发布。"),
        "moved": _("已移动“{name}”。"),
        "removed": _("已删除“{name}”。"),
        "added": _("已添加步骤。"),
    }


# The endpoints --------------------------------------------------------------------------------------------------


@require_POST
@_endpoint
def flow_preview(request: HttpRequest, ptype: Any) -> HttpResponse:
    """The diagram of each edited flow and the publish-time problems of the type with them (``flows…`` only)."""
    flows = _flows(read_json(request, limit=MAX_BODY))
    return json_ok({"svg": _svgs(flows), "problems": _problems(ptype, flows)})


@require_POST
@_endpoint
def flow_save(request: HttpRequest, ptype: Any) -> HttpResponse:
    """Replace the draft's ``flows`` (creating the draft when needed); every other key stays as it is."""
    flows = _flows(read_json(request, limit=MAX_BODY))
    draft = _save(request.user, ptype, flows)
    return json_ok(
        {"ok": True, "version": draft.number, "status": draft.status, "problems": _problems(ptype, flows)}
    )


@require_POST
@_endpoint
def flow_publish(request: HttpRequest, ptype: Any) -> HttpResponse:
    """Save the edited flows (when given) and publish the draft; requires ``confirm: true``."""
    body = read_json(request, limit=MAX_BODY)
    if body.get("confirm") is not True:
        raise ValidationFailed(
            _("请确认发布。"), code="confirm_required", fields={"confirm": [_("请勾选确认发布。")]}
        )
    _check_edit(request.user, ptype)
    if "flows" in body:
        _save(request.user, ptype, _flows(body))
    version = project_type_publish(actor=request.user, ptype=ptype)
    return json_ok({"ok": True, "version": version.number, "status": version.status})


@require_POST
@_endpoint
def flow_publish_preview(request: HttpRequest, ptype: Any) -> HttpResponse:
    """What publishing the edited flows (else the current ones) would change, and the records it reaches.

    Only for those who may publish: ``{published, changes: [lines], affected: [lines], counts}``.
    """
    _check_edit(request.user, ptype)
    body = read_json(request, limit=MAX_BODY)
    flows = _flows(body) if "flows" in body else _current_flows(ptype)
    config = _config_with(ptype, flows)
    if cfg.shape_problems(config):
        raise ValidationFailed(_("审批流程格式不正确，请先改正标出的问题。"), code="config_invalid")
    try:
        preview = type_preview(ptype, config)
    except (KeyError, ValueError, TypeError, AttributeError):
        raise ValidationFailed(_("审批流程格式不正确，请先改正标出的问题。"), code="config_invalid") from None
    return json_ok(preview)
