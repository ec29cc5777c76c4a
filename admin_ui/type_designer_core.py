"""The project type designer's reading of a type: what the page edits, what it shows as effective, what it checks.

Pure reads over a type, its versions and the forms published at its org; every write goes through the services in
``projects.services.types``. For an override the designer edits only the delta (``config`` of the draft), and the
effective configuration is the upper type's published one merged with it (``admin_ui.versions.type_effective``), so
problems found on the effective configuration are mapped back to the delta's paths where the delta holds them.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Mapping
from decimal import Decimal, InvalidOperation
from typing import Any

from django.utils.translation import gettext as _

import dsl
from accounts import permissions
from accounts.models import Role
from core.errors import NotFound, PermissionDenied
from forms.models import Form
from orgs.models import Org
from projects import config as cfg
from projects.models import ProjectType
from projects.selectors_types import project_type_list
from projects.services.types import published_form_schemas

from .endpoints import diagnostic
from .versions import opened_version, type_effective

# Keys whose override value merges with the inherited one entry by entry (the rest replace it whole).
MERGED_KEYS = ("forms", "field_map", "thresholds", "indicators")
EDITED_KEYS = ("name", "category", "stages", "forms", "indicators", "thresholds", "public_fields")
_INDEX = re.compile(r"^indicators\[(\d+)\](.*)$")
_DECIMAL = re.compile(r"^-?\d+(\.\d+)?%?$")


def key_labels() -> dict[str, str]:
    return {
        "name": _("类型名称"),
        "category": _("项目类别"),
        "stages": _("阶段"),
        "forms": _("表单"),
        "field_map": _("台账字段对应"),
        "indicators": _("指标"),
        "thresholds": _("阈值"),
        "public_fields": _("公开字段"),
        "extend_forms": _("扩展表单"),
        "flows": _("审批流程"),
    }


def format_labels() -> dict[str, str]:
    return {
        "number": _("数值"),
        "money": _("金额"),
        "percent": _("百分比"),
        "days": _("天数"),
        "bool": _("是/否"),
    }


def type_for_user(user: Any, code: str) -> ProjectType:
    """The type ``code`` if the user may see it (``config.view``), else NotFound (never says which)."""
    if not permissions.can(user, "config.view"):
        raise PermissionDenied(_("您没有“查看配置”的权限。"))
    ptype = project_type_list(user=user).filter(code=code).first()
    if ptype is None:
        raise NotFound(_("项目类型不存在或您无权查看。"))
    return ptype


def can_manage(user: Any, ptype: ProjectType) -> bool:
    return permissions.can(user, "config.manage", ptype.org)


def require_manage(user: Any, ptype: ProjectType) -> None:
    if not can_manage(user, ptype):
        raise PermissionDenied(_("您没有在“%(org)s”管理配置的权限，只能查看。") % {"org": ptype.org.name})


def source(ptype: ProjectType) -> tuple[Any, dict[str, Any]]:
    """The version the designer opens (the draft, else the newest published, else the newest) and its config."""
    version = opened_version(ptype)
    return version, copy.deepcopy(dict(version.config or {})) if version else {}


def base_effective(ptype: ProjectType) -> dict[str, Any] | None:
    """For an override, the upper type's published effective configuration; None for an own type."""
    if not ptype.base_id:
        return None
    published = ptype.base.published()
    return cfg.normalise(published.effective or {}) if published else {}


def effective_of(ptype: ProjectType, config: Mapping[str, Any]) -> tuple[dict[str, Any], dict[str, str]]:
    """``versions.type_effective``, tolerant of a half-edited config (then the config as it is)."""
    try:
        return type_effective(ptype, config)
    except (TypeError, AttributeError, ValueError):
        return dict(config), {key: "本级" for key in config}


# Forms the type may use ------------------------------------------------------------------------------------------


def form_choices(org: Org) -> tuple[dict[str, dict], list[dict[str, Any]]]:
    """Published form schemas at ``org`` or above, and for the page each form's code, name, purpose and fields."""
    schemas = published_form_schemas(org)
    names = dict(Form.objects.filter(code__in=schemas).values_list("code", "name"))
    purposes = dict(Form.objects.filter(code__in=schemas).values_list("code", "purpose"))
    rows = []
    for code in sorted(schemas):
        props = (schemas[code] or {}).get("properties") or {}
        rows.append(
            {
                "code": code,
                "name": names.get(code, code),
                "purpose": purposes.get(code, ""),
                "fields": [
                    {"name": name, "title": str((spec or {}).get("title") or name)}
                    for name, spec in props.items()
                    if isinstance(spec, Mapping)
                ],
            }
        )
    return schemas, rows


# Checking ----------------------------------------------------------------------------------------------------------


def _edit_path(
    path: str, effective: Mapping[str, Any], config: Mapping[str, Any], override: bool
) -> str | None:
    """The path in the edited config a problem on the effective config belongs to (None: it is inherited)."""
    key = re.split(r"[.\[]", path, maxsplit=1)[0]
    if not override:
        return path
    if key not in config:
        return None
    match = _INDEX.match(path)
    if key == "indicators" and match:
        items = effective.get("indicators") or []
        index = int(match.group(1))
        name = items[index].get("name") if index < len(items) and isinstance(items[index], Mapping) else None
        for i, item in enumerate(config.get("indicators") or []):
            if isinstance(item, Mapping) and item.get("name") == name:
                return f"indicators[{i}]{match.group(2)}"
        return None
    return path


def _threshold_problems(config: Mapping[str, Any]) -> list[tuple[str, str]]:
    found = []
    thresholds = config.get("thresholds")
    if isinstance(thresholds, Mapping):
        for name, value in thresholds.items():
            text = str(value).strip() if not isinstance(value, bool) else ""
            ok = bool(_DECIMAL.match(text))
            if ok:
                try:
                    Decimal(text.rstrip("%"))
                except InvalidOperation:
                    ok = False
            if not ok:
                found.append((f"thresholds.{name}", _("阈值必须是数值，如 0.05 或 5%（按十进制文本保存）")))
    return found


def _diagnostics(effective: Mapping[str, Any], schemas: Mapping[str, Any]) -> list[list[dict[str, Any]]]:
    """For each effective indicator, the DSL problems of its expression, as the publish check reads it."""
    lixiang = schemas.get((effective.get("forms") or {}).get("立项申请", ""), {})
    thresholds = effective.get("thresholds") if isinstance(effective.get("thresholds"), Mapping) else {}
    cat = cfg.catalogue(lixiang, thresholds)
    out: list[list[dict[str, Any]]] = []
    for item in effective.get("indicators") or []:
        if not isinstance(item, Mapping):
            out.append([])
            continue
        errors = dsl.diagnose(str(item.get("expr") or ""), cat)
        out.append([diagnostic(e) for e in errors])
        name = str(item.get("name") or "")
        if name and cat.lookup(name) is None:
            cat = cat.extend([dsl.Field(name, dsl.NUMBER, meta={"indicator": name})])
    return out


def check(ptype: ProjectType, config: Any) -> dict[str, Any]:
    """Shape problems, publish problems (effective paths, mapped to the edited config) and DSL diagnostics."""
    override = bool(ptype.base_id)
    shape = cfg.shape_problems(config)
    if shape:
        problems = [{"path": p, "edit_path": p, "message": m} for p, m in shape]
        return {"ok": False, "shape": True, "problems": problems, "indicators": [], "effective": []}
    effective, origin = effective_of(ptype, config)
    schemas = published_form_schemas(ptype.org)
    found = cfg.problems(
        effective, form_schemas=schemas, roles=set(Role.objects.values_list("code", flat=True))
    )
    found += _threshold_problems(effective)
    problems = [
        {"path": p, "edit_path": _edit_path(p, effective, config, override), "message": m} for p, m in found
    ]
    per_effective = _diagnostics(effective, schemas)
    indicators: list[list[dict[str, Any]]] = []
    names = [i.get("name") if isinstance(i, Mapping) else None for i in effective.get("indicators") or []]
    for i, item in enumerate(config.get("indicators") or []):
        if not override:
            indicators.append(per_effective[i] if i < len(per_effective) else [])
            continue
        name = item.get("name") if isinstance(item, Mapping) else None
        j = names.index(name) if name in names else None
        indicators.append(per_effective[j] if j is not None else [])
    return {
        "ok": not problems,
        "shape": False,
        "problems": problems,
        "indicators": indicators,
        "effective": effective_rows(ptype, effective, origin),
    }


# The effective panel ----------------------------------------------------------------------------------------------


def text(value: Any) -> str:
    if isinstance(value, list):
        return "、".join(text(v) for v in value) or "—"
    if value in (None, ""):
        return "—"
    return str(value)


def entries(key: str, value: Any) -> list[tuple[str, str]]:
    """(identity, text) of each entry of a key's value, for marking entries one by one."""
    if key == "stages" and isinstance(value, list):
        out = []
        for s in value:
            if isinstance(s, Mapping):
                label = str(s.get("code") or "")
                if s.get("name") and s.get("name") != s.get("code"):
                    label += f"（{s['name']}）"
                if s.get("required_forms"):
                    label += " · " + _("必交表单：") + text(list(s["required_forms"]))
                out.append((str(s.get("code")), label))
        return out
    if key == "indicators" and isinstance(value, list):
        return [
            (
                str(i.get("name")),
                f"{i.get('name')} = {i.get('expr')}"
                + (f" · {format_labels().get(i['format'], i['format'])}" if i.get("format") else ""),
            )
            for i in value
            if isinstance(i, Mapping)
        ]
    if key == "flows" and isinstance(value, list):
        return [
            (str(f.get("code")), f"{f.get('name') or f.get('code')} · {f.get('transition') or ''}")
            for f in value
            if isinstance(f, Mapping)
        ]
    if isinstance(value, Mapping):
        return [(str(k), f"{k}：{text(v) if not isinstance(v, Mapping) else '…'}") for k, v in value.items()]
    if isinstance(value, list):
        return [(str(v), str(v)) for v in value]
    return []


def _mark(key: str, ident: str, value: Any, base_value: Any) -> str:
    """继承 when the entry is as inherited, 修改 when changed, 新增 when the upper type lacks it."""
    before = dict(_raw_entries(key, base_value))
    if ident not in before:
        return "新增"
    return "继承" if before[ident] == dict(_raw_entries(key, value)).get(ident) else "修改"


def _raw_entries(key: str, value: Any) -> list[tuple[str, Any]]:
    if isinstance(value, Mapping):
        return [(str(k), str(v)) for k, v in value.items()]
    if isinstance(value, list):
        ident = {"stages": "code", "indicators": "name", "flows": "code"}.get(key)
        if ident:
            return [(str(v.get(ident)), v) for v in value if isinstance(v, Mapping)]
        return [(str(v), v) for v in value]
    return []


def mark_label(mark: str) -> str:
    """The reader's words for an origin mark (the marks themselves are data: 继承/修改/新增/本级/删除)."""
    labels = {"继承": _("继承"), "修改": _("修改"), "新增": _("新增"), "本级": _("本级"), "删除": _("删除")}
    return str(labels.get(mark, mark))


def effective_rows(ptype: ProjectType, effective: Mapping[str, Any], origin: Mapping[str, str]) -> list[dict]:
    """The 生效配置 panel: each key with its badge (继承/修改/新增/本级) and its entries, changed ones marked."""
    labels = key_labels()
    base = base_effective(ptype)
    rows = []
    for key in cfg.CONFIG_KEYS:
        if key not in effective:
            continue
        value = effective[key]
        where = origin.get(key, "本级" if base is None else "继承")
        found = entries(key, value)
        items = []
        for ident, label in found:
            if base is None:
                mark = "本级"
            elif where == "继承":
                mark = "继承"
            else:
                mark = _mark(key, ident, value, (base or {}).get(key))
            items.append({"text": label, "mark": mark, "mark_label": mark_label(mark)})
        if (
            base is not None
            and where != "继承"
            and isinstance((base or {}).get(key), list)
            and key != "indicators"
        ):
            kept = {i for i, _t in _raw_entries(key, value)}
            for ident, label in entries(key, base.get(key)):
                if ident not in kept:
                    items.append({"text": label, "mark": "删除", "mark_label": mark_label("删除")})
        rows.append(
            {
                "key": key,
                "label": labels.get(key, key),
                "origin": where,
                "origin_label": mark_label(where),
                "changed": where in ("修改", "新增"),
                "value": None if found or isinstance(value, list | Mapping) else text(value),
                "items": items,
            }
        )
    return rows
