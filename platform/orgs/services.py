"""Business operations on the org tree. Each checks permission, validates, writes and records an audit event."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from django.db import transaction
from stdnum.cn import uscc as uscc_check
from stdnum.exceptions import ValidationError as StdnumError

from accounts import permissions
from audit.services import audit_record, snapshot
from core.errors import ValidationFailed

from . import divisions
from .models import ALLOWED_PARENTS, Org, OrgKind

if TYPE_CHECKING:
    from accounts.models import User

_CODE = re.compile(r"^[A-Za-z0-9_-]{2,32}$")
_AUDITED = ("name", "kind", "code", "division_code", "uscc", "is_active")
_LEVEL_OF_KIND = {
    OrgKind.PROVINCE: divisions.PROVINCE,
    OrgKind.CITY: divisions.PREFECTURE,
    OrgKind.COUNTY: divisions.COUNTY,
}


def _nearest_division(org: Org | None) -> str:
    return org.region_code if org is not None else ""


def _validate(
    *,
    parent: Org | None,
    kind: str,
    name: str,
    code: str,
    division_code: str,
    uscc: str,
    instance: Org | None = None,
) -> dict[str, list[str]]:
    errors: dict[str, list[str]] = {}
    if kind not in OrgKind.values:
        errors["kind"] = [f"级别必须是 {'、'.join(OrgKind.labels)} 之一"]
        return errors
    parent_kind = parent.kind if parent is not None else None
    if parent_kind not in ALLOWED_PARENTS[kind]:
        above = "顶级" if parent is None else parent.get_kind_display()
        errors["parent"] = [f"“{OrgKind(kind).label}”不能设在{above}之下"]
    if not name.strip():
        errors["name"] = ["名称：不能为空"]
    if not _CODE.match(code):
        errors["code"] = ["机构编码：2–32 位字母、数字、下划线或连字符"]
    elif Org.objects.filter(code=code).exclude(pk=getattr(instance, "pk", None)).exists():
        errors["code"] = [f"机构编码：“{code}”已被使用"]
    if kind in _LEVEL_OF_KIND:
        found = divisions.problems(
            division_code, expected_level=_LEVEL_OF_KIND[kind], parent_code=_nearest_division(parent) or None
        )
        if found:
            errors["division_code"] = [f"行政区划代码：{p}" for p in found]
    elif division_code:
        errors["division_code"] = ["行政区划代码：部门不单独设置区划代码，沿用上级区划"]
    if uscc:
        try:
            uscc_check.validate(uscc)
        except StdnumError:
            errors["uscc"] = ["统一社会信用代码：格式或校验位不正确"]
    return errors


@transaction.atomic
def org_create(
    *,
    actor: User | None,
    parent: Org | None,
    name: str,
    kind: str,
    code: str,
    division_code: str = "",
    uscc: str = "",
) -> Org:
    """Add an org below `parent` (or a new root when `parent` is None: system only)."""
    if parent is None:
        if actor is not None:
            permissions.require(actor, "org.manage", None)
            raise ValidationFailed("只有系统初始化可以创建顶级机构。", fields={"parent": ["请选择上级机构"]})
    else:
        permissions.check(actor, "org.manage", parent)
    errors = _validate(parent=parent, kind=kind, name=name, code=code, division_code=division_code, uscc=uscc)
    if errors:
        raise ValidationFailed("机构信息未通过校验。", fields=errors)
    fields = {"name": name.strip(), "kind": kind, "code": code, "division_code": division_code, "uscc": uscc}
    org = (
        Org.objects.add_root(fields)
        if parent is None
        else Org.objects.add_child(Org.objects.get(pk=parent.pk), fields)
    )
    audit_record(actor=actor, action="org.create", obj=org, org=org, after=snapshot(org, _AUDITED))
    return org


@transaction.atomic
def org_update(*, actor: User | None, org: Org, **changes) -> Org:
    """Change an org's name, codes or active flag. Its place in the tree does not change here."""
    permissions.check(actor, "org.manage", org)
    allowed = {"name", "code", "division_code", "uscc", "is_active"}
    unknown = set(changes) - allowed
    if unknown:
        raise ValidationFailed(
            "包含不可修改的字段。", fields={k: ["此字段不可修改"] for k in sorted(unknown)}
        )
    org = Org.objects.select_for_update().get(pk=org.pk)
    before = snapshot(org, _AUDITED)
    merged = {k: changes.get(k, getattr(org, k)) for k in ("name", "code", "division_code", "uscc")}
    errors = _validate(parent=Org.objects.get_parent(org), kind=org.kind, instance=org, **merged)
    if errors:
        raise ValidationFailed("机构信息未通过校验。", fields=errors)
    for key, value in changes.items():
        setattr(org, key, value.strip() if key == "name" else value)
    org.save(update_fields=list(changes))
    audit_record(
        actor=actor, action="org.update", obj=org, org=org, before=before, after=snapshot(org, _AUDITED)
    )
    return org
