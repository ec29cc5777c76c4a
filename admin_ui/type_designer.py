"""The project type designer of the configuration studio: the types available at an org, and the designer of one.

``types/`` lists, for an org the user may see configuration of, its own types (本级类型), its overrides of upper
types (已覆盖) and the upper types it inherits as they are (可继承), with 新建类型 and 覆盖 for those who may
manage configuration there. ``types/<code>/`` is the designer: 基本信息, 阶段, 表单, 指标 (live DSL diagnostics),
阈值, 公开字段 and the 生效配置 panel; for an override the form edits only the delta. Drafts autosave; publishing
shows the diff against the published version and the records affected, and needs a confirmation. The JSON endpoints
live in ``type_designer_api``, the reading of a type in ``type_designer_core``.
"""

from __future__ import annotations

import re
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from accounts import permissions
from core.errors import NotFound, PermissionDenied, ServiceError
from orgs.models import Org
from projects import config as cfg
from projects.models import ProjectType
from projects.services.types import project_type_create, project_type_override

from . import type_designer_api as api
from . import type_designer_core as core
from .endpoints import json_error
from .versions import version_numbers, version_rows

ORGS_SHOWN = 300


def _orgs(user: Any) -> list[Org]:
    """Orgs whose configuration the user may see, for the org picker (their own first)."""
    orgs = list(permissions.visible(user, "config.view", Org.objects.filter(is_active=True)).order_by("path"))
    return orgs[:ORGS_SHOWN]


def _org(request: HttpRequest) -> Org:
    """The org the list is for: ``?org=<id>`` among those the user may see, else the user's own org."""
    choices = _orgs(request.user)
    wanted = request.GET.get("org") or request.POST.get("org")
    if wanted:
        for org in choices:
            if str(org.pk) == str(wanted):
                return org
        raise NotFound(_("机构不存在或您无权查看。"))
    own = getattr(request.user, "org", None)
    if own is not None and permissions.can(request.user, "config.view", own):
        return own
    if choices:
        return choices[0]
    raise PermissionDenied(_("您没有“查看配置”的权限。"))


def type_groups(org: Org) -> dict[str, list[ProjectType]]:
    """Types at ``org``: own (no base), overridden (an override defined here), inherited (upper types not yet
    adapted here nor by an org in between)."""
    here = list(ProjectType.objects.filter(org=org).select_related("org", "base", "base__org"))
    upper = list(
        ProjectType.objects.filter(org__path__in=permissions.ancestor_paths(org.path))
        .exclude(org=org)
        .filter(versions__status="published")
        .distinct()
        .select_related("org", "base")
        .order_by("org__path", "code")
    )
    adapted = {t.base_id for t in here + upper if t.base_id}
    return {
        "own": [t for t in here if not t.base_id],
        "overridden": [t for t in here if t.base_id],
        "inherited": [t for t in upper if t.pk not in adapted],
    }


def _sections() -> list[tuple[str, str, str]]:
    """The designer's sections: the config keys each edits, its element id, its heading."""
    return [
        ("name category", "basic", _("基本信息")),
        ("stages", "stages", _("阶段")),
        ("forms", "forms", _("表单")),
        ("indicators", "indicators", _("指标")),
        ("thresholds", "thresholds", _("阈值")),
        ("public_fields", "public", _("公开字段")),
    ]


def _suggested_code(base: ProjectType, org: Org) -> str:
    code = re.sub(r"[^A-Za-z0-9_-]", "", f"{base.code}-{org.code}")[:64]
    return code if len(code) >= 2 else f"{base.code}-x"


@login_required
@require_GET
def type_list(request: HttpRequest) -> HttpResponse:
    """The types available at an org, in three groups, with 新建类型 / 覆盖 for configuration managers."""
    try:
        org = _org(request)
    except ServiceError as error:
        return render(request, "admin_ui/type_error.html", {"error": error}, status=error.status)
    groups = type_groups(org)
    can_manage = permissions.can(request.user, "config.manage", org)
    numbers = version_numbers([t for group in groups.values() for t in group])

    def row(ptype: ProjectType) -> dict[str, Any]:
        return {"ptype": ptype, **numbers[ptype.pk]}

    inherited = [{**row(t), "suggested": _suggested_code(t, org)} for t in groups["inherited"]]
    return render(
        request,
        "admin_ui/type_list.html",
        {
            "org": org,
            "orgs": _orgs(request.user),
            "can_manage": can_manage,
            "own": [row(t) for t in groups["own"]],
            "overridden": [row(t) for t in groups["overridden"]],
            "inherited": inherited,
            "categories": cfg.CATEGORIES,
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def type_new(request: HttpRequest) -> HttpResponse:
    """Create a type at an org (code, name, category) through ``project_type_create``; then open its designer."""
    try:
        org = _org(request)
    except ServiceError as error:
        return render(request, "admin_ui/type_error.html", {"error": error}, status=error.status)
    values = {"code": "", "name": "", "category": cfg.CATEGORIES[0]}
    errors: dict[str, list[str]] = {}
    status = 200
    if request.method == "POST":
        values = {k: str(request.POST.get(k) or "").strip() for k in values}
        config = {
            "name": values["name"],
            "category": values["category"],
            "stages": [dict(s) for s in cfg.DEFAULT_STAGES],
        }
        try:
            ptype = project_type_create(actor=request.user, org=org, code=values["code"], config=config)
        except ServiceError as error:
            errors = {**error.fields, "form": [error.message]}
            status = error.status
        else:
            messages.success(request, _("已新建项目类型“%(name)s”，草稿 v1。") % {"name": ptype.name})
            return redirect("admin_ui:type-designer", type_code=ptype.code)
    return render(
        request,
        "admin_ui/type_new.html",
        {
            "org": org,
            "can_manage": permissions.can(request.user, "config.manage", org),
            "values": values,
            "errors": errors,
            "categories": cfg.CATEGORIES,
        },
        status=status,
    )


@login_required
@require_POST
def type_override(request: HttpRequest, type_code: str) -> HttpResponse:
    """Override an inherited type at an org (POST ``org``, ``code``) with an empty delta; then open its designer."""
    try:
        base = core.type_for_user(request.user, type_code)
        org = _org(request)
        code = str(request.POST.get("code") or "").strip() or _suggested_code(base, org)
        ptype = project_type_override(actor=request.user, base=base, org=org, code=code, delta={})
    except ServiceError as error:
        if request.content_type == "application/json" or request.headers.get("accept") == "application/json":
            return json_error(error)
        messages.error(request, "；".join([error.message, *(m for ms in error.fields.values() for m in ms)]))
        target = reverse("admin_ui:type-list")
        org_id = request.POST.get("org")
        return redirect(f"{target}?org={org_id}" if org_id else target)
    messages.success(
        request, _("已在“%(org)s”覆盖“%(name)s”，本级草稿 v1。") % {"org": org.name, "name": base.name}
    )
    return redirect("admin_ui:type-designer", type_code=ptype.code)


def _override_at(user: Any, ptype: ProjectType) -> dict[str, Any] | None:
    """Where the user could override this upper type instead of editing it: their own org, if they manage it."""
    org = getattr(user, "org", None)
    if org is None or org.pk == ptype.org_id or not org.path.startswith(ptype.org.path):
        return None
    if not permissions.can(user, "config.manage", org) or ptype.published() is None:
        return None
    if ptype.pk not in {t.pk for t in type_groups(org)["inherited"]}:
        return None
    return {"org": org, "code": _suggested_code(ptype, org)}


@login_required
@require_GET
def type_designer(request: HttpRequest, type_code: str) -> HttpResponse:
    """The designer of one type: sections for each key, the 生效配置 panel, versions and publishing."""
    try:
        ptype = core.type_for_user(request.user, type_code)
    except ServiceError as error:
        return render(request, "admin_ui/type_error.html", {"error": error}, status=error.status)
    version, config = core.source(ptype)
    if not ptype.base_id and not config.get("stages"):
        # an own type without stages runs on the default ones: show them, so they can be edited
        config["stages"] = [dict(s) for s in cfg.DEFAULT_STAGES]
    base = core.base_effective(ptype)
    _schemas, forms = core.form_choices(ptype.org)
    checked = core.check(ptype, config)
    code = ptype.code
    return render(
        request,
        "admin_ui/type_designer.html",
        {
            "ptype": ptype,
            "sections": _sections(),
            "override_at": _override_at(request.user, ptype),
            "version": version,
            "is_draft": bool(version and version.status == "draft"),
            "can_edit": core.can_manage(request.user, ptype),
            "versions": version_rows(ptype),
            "data": {
                "code": code,
                "override": bool(ptype.base_id),
                "config": config,
                "base": base,
                "forms": forms,
                "checked": checked,
                "categories": list(cfg.CATEGORIES),
                "roles": list(cfg.FORM_ROLES),
                "formats": list(cfg.INDICATOR_FORMATS),
                "ledger": [name for name, _kind, _col in cfg.LEDGER_FIELDS],
                "labels": core.key_labels(),
                "merged": list(core.MERGED_KEYS),
            },
            "i18n": _i18n(),
            "urls": {
                "check": reverse("admin_ui:type-check", args=[code]),
                "save": reverse("admin_ui:type-save", args=[code]),
                "preview": reverse("admin_ui:type-publish-preview", args=[code]),
                "publish": reverse("admin_ui:type-publish", args=[code]),
                "version": reverse("admin_ui:type-version", args=[code, 999999]),
                "draftFrom": reverse("admin_ui:type-draft-from", args=[code, 999999]),
            },
        },
    )


@login_required
@require_GET
def type_version(request: HttpRequest, type_code: str, number: int) -> HttpResponse:
    """One version read-only: its own config and the configuration it makes effective, key by key."""
    try:
        ptype = core.type_for_user(request.user, type_code)
        version = ptype.versions.filter(number=number).first()
        if version is None:
            raise NotFound(_("该版本不存在。"))
    except ServiceError as error:
        return render(request, "admin_ui/type_error.html", {"error": error}, status=error.status)
    if version.status == "draft" or not version.effective:
        effective, origin = core.effective_of(ptype, version.config or {})
    else:
        effective = version.effective
        origin = version.origin or {key: "本级" for key in effective}
    rows = core.effective_rows(ptype, effective, origin)
    labels = core.key_labels()
    own = [
        {"key": k, "label": labels.get(k, k), "text": core.entries(k, v) or [(None, core.text(v))]}
        for k, v in (version.config or {}).items()
    ]
    return render(
        request,
        "admin_ui/type_version.html",
        {
            "ptype": ptype,
            "version": version,
            "rows": rows,
            "own": own,
            "can_edit": core.can_manage(request.user, ptype),
            "versions": version_rows(ptype),
        },
    )


def _i18n() -> dict[str, Any]:
    return {
        "formats": core.format_labels(),
        "inherited": _("继承"),
        "changed": _("修改"),
        "added": _("新增"),
        "own": _("本级"),
        "removed": _("删除"),
        "editHere": _("在本级修改"),
        "restore": _("恢复继承"),
        "inheritedValue": _("继承自上级（只读）："),
        "mergeHint": _("按名称合并：本级条目替换同名的上级条目，未列出的上级条目仍然生效。"),
        "stage": _("阶段 {n}"),
        "stageCode": _("阶段编码"),
        "stageName": _("阶段名称"),
        "requiredForms": _("离开此阶段前必须提交的表单"),
        "addStage": _("添加阶段"),
        "up": _("上移"),
        "down": _("下移"),
        "remove": _("删除"),
        "formRole": _("用途"),
        "formCode": _("表单"),
        "noForm": _("（不使用）"),
        "indicator": _("指标 {n}"),
        "indicatorName": _("指标名称"),
        "expr": _("计算公式"),
        "format": _("显示格式"),
        "addIndicator": _("添加指标"),
        "thresholdName": _("阈值名称"),
        "thresholdValue": _("数值（如 0.05、5%）"),
        "addThreshold": _("添加阈值"),
        "publicHint": _("勾选在公开门户展示的立项申请字段："),
        "noLixiang": _("请先在“表单”中指定立项申请表单。"),
        "checking": _("正在检查…"),
        "ok": _("没有发现问题，可以发布。"),
        "problems": _("发现 {n} 处问题："),
        "inheritedProblem": _("（继承的配置）"),
        "saving": _("正在保存…"),
        "saved": _("草稿已自动保存（版本 {n}）。"),
        "failed": _("请求失败，请稍后重试。"),
        "previewTitle": _("与已发布版本相比的变化"),
        "noChanges": _("与已发布版本相比没有变化。"),
        "firstPublish": _("尚未发布过：这将是第一个发布的版本。"),
        "firstOverride": _("尚未发布过：以下是本级相对上级类型的修改。"),
        "affected": _("受影响的记录"),
        "confirm": _("请先勾选确认发布。"),
        "published": _("已发布版本 {n}。"),
        "notPublished": _("未发布：请先修正下列问题。"),
        "moved": _("已移动“{name}”。"),
        "removedItem": _("已删除“{name}”。"),
        "column": _("第{line}行第{column}列"),
        "view": _("查看"),
        "draftFrom": _("以此版本新建草稿"),
        "draft": _("草稿"),
        "publishedStatus": _("已发布"),
        "value": _("值"),
        "name": _("名称"),
    }


urlpatterns = [
    path("types/", type_list, name="type-list"),
    path("types/new/", type_new, name="type-new"),
    path("types/<str:type_code>/", type_designer, name="type-designer"),
    path("types/<str:type_code>/override/", type_override, name="type-override"),
    path("types/<str:type_code>/check/", api.type_check, name="type-check"),
    path("types/<str:type_code>/save/", api.type_save, name="type-save"),
    path("types/<str:type_code>/publish-preview/", api.type_publish_preview, name="type-publish-preview"),
    path("types/<str:type_code>/publish/", api.type_publish, name="type-publish"),
    path("types/<str:type_code>/versions/<int:number>/", type_version, name="type-version"),
    path("types/<str:type_code>/versions/<int:number>/draft/", api.type_draft_from, name="type-draft-from"),
]

__all__ = ["type_groups", "urlpatterns"]
