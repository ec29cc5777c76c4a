"""发布: a rule written in the rule editor, published as the next version of a policy rule pack.

A rule lives in a pack (the unit regulators version, test, sign and load), so publishing one means writing the pack's
next version: the source of the version in force at the chosen org, with this rule added (or the rule with the same
code replaced, keeping what the panel does not edit: notify, block, article …), every other rule, indicator and
test kept, and the version number bumped — or, for a new pack code, a one-rule pack. The text goes through the
same services as an uploaded file: ``pack_test`` (parse, tests) and ``pack_preview`` (type-check on every type in
scope, impact) for the preview; ``pack_load`` (all or nothing, audited) on ``confirm: true``. ``rulepack.manage``
at the org is required. Errors are ``{code, message, fields}`` with a 4xx status; a pack that does not check comes
back with ``problems`` (line, path, message) as well.
"""

from __future__ import annotations

import re
from typing import Any

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from accounts import permissions
from bundles import BundleInvalid
from bundles.yamlio import dump_yaml, parse_yaml
from core.errors import Conflict, PermissionDenied, ServiceError, ValidationFailed
from orgs.models import Org
from projects.selectors_types import project_type_list
from rules.models import PackStatus, RulePack
from rules.selectors import pack_orgs
from rules.services import packs as pack_services
from rules.spec import SEVERITIES

from .bundles_preview import rows_of_fields, rows_of_problems
from .endpoints import read_json

MAX_BODY = 20_000
FILENAME = "studio-publish.yaml"
_CODE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.\-]{0,63}$")
_TRIGGERS = ("保存", "定时")
_TRAILING = re.compile(r"^(.*?)(\d+)$")


class PublishRefused(ValidationFailed):
    """The new version did not parse, check or pass its tests; ``problems`` say where."""

    def __init__(self, message: str, problems: list[dict[str, Any]], fields: dict[str, list[str]]) -> None:
        super().__init__(message, code="pack_invalid", fields=fields)
        self.problems = problems

    def as_dict(self) -> dict:
        return {**super().as_dict(), "problems": self.problems}


def _json(payload: dict[str, Any], status: int = 200) -> JsonResponse:
    return JsonResponse(payload, status=status, json_dumps_params={"ensure_ascii": False})


# -- what the page needs ------------------------------------------------------------------------------------------
def publish_context(user: Any) -> dict[str, Any]:
    """The orgs where the user may publish, and the packs in force there (for the rule editor's 发布 panel)."""
    orgs = list(pack_orgs(user)[:200])
    packs = RulePack.objects.filter(status=PackStatus.ACTIVE, org__in=orgs).select_related("org")
    return {
        "publish_orgs": [{"id": o.pk, "name": o.name, "code": o.code} for o in orgs],
        "publish_packs": [
            {"org": p.org_id, "code": p.code, "name": p.name, "version": p.version, "org_name": p.org.name}
            for p in packs.order_by("org__path", "code")
        ],
        "publish_url": reverse("admin_ui:rule-publish"),
    }


# -- reading the request ------------------------------------------------------------------------------------------


def _text(body: dict[str, Any], key: str, label: str, *, limit: int, required: bool = True) -> str:
    value = body.get(key, "")
    if not isinstance(value, str):
        raise ValidationFailed(_("%(label)s应为文本。") % {"label": label}, fields={key: [_("应为文本")]})
    value = value.strip()
    if required and not value:
        raise ValidationFailed(_("请填写%(label)s。") % {"label": label}, fields={key: [_("必填")]})
    if len(value) > limit:
        raise ValidationFailed(
            _("%(label)s过长。") % {"label": label}, fields={key: [_("最多 %(n)d 个字符") % {"n": limit}]}
        )
    return value


def _code(body: dict[str, Any], key: str, label: str) -> str:
    code = _text(body, key, label, limit=64)
    if not _CODE.match(code):
        raise ValidationFailed(
            _("%(label)s格式不对。") % {"label": label},
            fields={key: [_("编码须为 1–64 位字母、数字、点、下划线或连字符")]},
        )
    return code


def _org(user: Any, raw: Any) -> Org:
    orgs = pack_orgs(user)
    if not orgs.exists():
        raise PermissionDenied(_("您没有“管理政策规则包”的权限。"))
    if isinstance(raw, bool) or not str(raw or "").isdigit():
        raise ValidationFailed(_("请选择机构。"), fields={"org": [_("请选择机构")]})
    org = orgs.filter(pk=int(raw)).first()
    if org is None:
        raise PermissionDenied(_("您无权在该机构发布规则包。"))
    return org


def _rule(user: Any, body: dict[str, Any]) -> dict[str, Any]:
    """The rule as a pack file writes it."""
    type_code = _text(body, "type", _("项目类型"), limit=64)
    if not project_type_list(user=user).filter(code=type_code).exists():
        raise ValidationFailed(_("项目类型不存在或您无权查看。"), fields={"type": [_("请选择项目类型")]})
    severity = body.get("severity") or "预警"
    if severity not in SEVERITIES:
        raise ValidationFailed(
            _("级别不对。"), fields={"severity": [_("级别必须是 %(s)s 之一") % {"s": "、".join(SEVERITIES)}]}
        )
    triggers = body.get("triggers", list(_TRIGGERS))
    if not isinstance(triggers, list) or not triggers or any(t not in _TRIGGERS for t in triggers):
        raise ValidationFailed(_("请选择触发方式。"), fields={"triggers": [_("至少选择一个：保存、定时")]})
    name = _text(body, "name", _("规则名称"), limit=200)
    return {
        "code": _code(body, "code", _("规则编码")),
        "name": name,
        "when": _text(body, "source", _("触发条件"), limit=4000),
        "severity": severity,
        "message": _text(body, "message", _("提示信息"), limit=500, required=False) or name,
        "types": [type_code],
        "triggers": [t for t in _TRIGGERS if t in triggers],
    }


# -- building the next version ------------------------------------------------------------------------------------
def next_version(version: str, taken: set[str]) -> str:
    """``3`` → ``4``, ``2026.1`` → ``2026.2``, ``v1-beta`` → ``v1-beta.1``; never a version already loaded."""
    candidate = version
    while candidate == version or candidate in taken:
        match = _TRAILING.match(candidate)
        candidate = f"{match.group(1)}{int(match.group(2)) + 1}" if match else f"{candidate}.1"
    return candidate


def pack_source(
    *, org: Org, pack_code: str, pack_name: str, rule: dict[str, Any]
) -> tuple[str, RulePack | None]:
    """The next version's source (and the version it supersedes): the rule added to, or replaced in, the pack in
    force at ``org``, or a new one-rule pack."""
    active = pack_services.pack_active(org, code=pack_code, inherited=False).first()
    taken = set(RulePack.objects.filter(org=org, code=pack_code).values_list("version", flat=True))
    if active is None:
        data: dict[str, Any] = {
            "taizhang_pack": 1,
            "pack": {
                "code": pack_code,
                "name": pack_name or pack_code,
                "issuer": org.name,
                "version": next_version("0", taken),
                "effective": timezone.localdate().isoformat(),
            },
            "rules": [rule],
        }
        header = _("# 由配置工作台的规则编辑器发布（新规则包）")
        return f"{header}\n{dump_yaml(data)}", None
    try:
        data = parse_yaml(active.source, filename=f"{pack_code}.yaml").data
    except BundleInvalid:
        data = None
    if not isinstance(data, dict) or not isinstance(data.get("pack"), dict):
        raise ValidationFailed(_("现行版本的原文无法读取，请用文件上传新版本。"), code="unreadable_pack")
    rules = data.get("rules") if isinstance(data.get("rules"), list) else []
    codes = [r.get("code") if isinstance(r, dict) else None for r in rules]
    if rule["code"] in codes:  # what the panel does not edit (notify, block, article …) stays as it was
        at = codes.index(rule["code"])
        rules[at] = {**rules[at], **rule}
        verb = _("替换")
    else:
        rules.append(rule)
        verb = _("新增")
    data["rules"] = rules
    data["pack"]["version"] = next_version(str(active.version), taken)
    header = _("# 由配置工作台的规则编辑器发布：在 v%(old)s 基础上%(verb)s规则 %(code)s") % {
        "old": active.version,
        "verb": verb,
        "code": rule["code"],
    }
    return f"{header}\n{dump_yaml(data)}", active


def _refused(error: ValidationFailed | None, problems: list[dict[str, Any]], headline: str) -> PublishRefused:
    rows = (rows_of_fields(error.fields) if error is not None else []) + problems
    fields: dict[str, list[str]] = {}
    for r in rows:
        fields.setdefault(r["path"] or "pack", []).append(r["message"])
    return PublishRefused(headline, rows, fields)


def _ref(p: Any) -> dict[str, Any]:
    return {"id": p.id, "name": p.name, "org": p.org, "url": reverse("project-show", args=[p.id])}


def _preview(user: Any, org: Org, source: str, active: RulePack | None) -> dict[str, Any]:
    """Tests, type-check, changes and impact of the new version; raises PublishRefused with its problems."""
    data = source.encode("utf-8")
    report = pack_services.pack_test(source=data, filename=FILENAME, org=org)
    if report.problems:
        raise _refused(None, rows_of_problems(report.problems), _("规则包格式有误，未发布"))
    try:
        preview = pack_services.pack_preview(actor=user, org=org, source=data, filename=FILENAME)
    except ValidationFailed as error:
        raise _refused(error, rows_of_problems(report.failures()), _("规则未通过检查，未发布")) from None
    if not report.ok:
        raise _refused(None, rows_of_problems(report.failures()), _("规则包的测试未通过，未发布"))
    changes = (
        [str(c) for c in pack_services.pack_diff(active.source, data, a_name="active", b_name=FILENAME)]
        if active is not None
        else []
    )
    return {
        "ok": True,
        "org": {"id": org.pk, "name": org.name},
        "pack": {
            "code": report.code,
            "version": report.version,
            "previous": active.version if active else "",
        },
        "changes": changes,
        "tests": {"passed": report.passed, "failed": report.failed},
        "impact": [
            {
                "code": r.code,
                "name": r.name,
                "severity": r.severity,
                "change": r.change,
                "firing": r.firing,
                "newly": [_ref(p) for p in r.newly[:20]],
                "stopping": [_ref(p) for p in r.stopping[:20]],
            }
            for r in preview.rules
        ],
        "source": source,
    }


@require_POST
def rule_publish(request: HttpRequest) -> HttpResponse:
    """Preview (default) or, with ``confirm: true``, load the pack's next version with this rule in it."""
    user = request.user
    if not user.is_authenticated:
        return _json(PermissionDenied(_("请先登录。"), code="not_authenticated").as_dict(), 403)
    try:
        body = read_json(request, limit=MAX_BODY)
        org = _org(user, body.get("org"))
        permissions.require(user, "rulepack.manage", org)
        pack_code = _code(body, "pack", _("规则包编码"))
        pack_name = _text(body, "pack_name", _("规则包名称"), limit=200, required=False)
        rule = _rule(user, body)
        source, active = pack_source(org=org, pack_code=pack_code, pack_name=pack_name, rule=rule)
        base = body.get("base")
        if base is not None and base != (active.version if active else ""):
            raise Conflict(_("规则包在预览后已有新版本，请重新预览。"), code="stale_preview")
        payload = _preview(user, org, source, active)
        if body.get("confirm") is not True:
            return _json(payload)
        try:
            pack = pack_services.pack_load(
                actor=user, org=org, source=source.encode("utf-8"), filename=FILENAME
            )
        except ValidationFailed as error:
            raise _refused(error, [], _("规则包未能载入，原有版本继续有效")) from None
        payload.update(
            published=True,
            pack={"code": pack.code, "version": pack.version, "previous": payload["pack"]["previous"]},
            url=reverse("rules:pack-show", args=[pack.pk]),
        )
        return _json(payload)
    except ServiceError as error:
        return _json(error.as_dict(), error.status)


urlpatterns = [path("rules/publish/", rule_publish, name="rule-publish")]
