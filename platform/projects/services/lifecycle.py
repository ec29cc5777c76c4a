"""Project lifecycle: create (from a type's 立项 form), edit, move between stages, file stage forms, export."""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING

from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from accounts import permissions
from audit.services import audit_record, snapshot
from core.errors import Conflict, ValidationFailed
from rules import engine as rules_engine

from ..ledger.query import LedgerFilters, ledger_queryset
from ..models import Category, Project
from ..search import search_text

if TYPE_CHECKING:
    from accounts.models import User
    from orgs.models import Org

_AUDITED = ("code", "name", "category", "stage", "budget", "description", "owner", "org", "version")
_EDITABLE = {"name", "category", "budget", "description"}
_MAX_BUDGET = Decimal("9999999999999999.99")
PROJECT_CODE = re.compile(r"^[0-9A-Za-z-]{4,32}$")


def _money(value, errors: dict, field: str = "budget", label: str = "预算") -> Decimal | None:
    if isinstance(value, float):
        errors[field] = [f"{label}：金额必须以字符串或整数传入，不能是浮点数"]
        return None
    try:
        amount = Decimal(str(value))
    except (InvalidOperation, ValueError):
        errors[field] = [f"{label}：不是有效的金额"]
        return None
    if not amount.is_finite() or amount < 0 or amount > _MAX_BUDGET:
        errors[field] = [f"{label}：必须在 0 到 {_MAX_BUDGET} 元之间"]
        return None
    if amount != amount.quantize(Decimal("0.01")):
        errors[field] = [f"{label}：最多保留两位小数（分）"]
        return None
    return amount.quantize(Decimal("0.01"))


def project_fields_check(data: dict, *, instance: Project | None = None) -> dict:
    """Check the ledger fields of a project (name, budget, category, description): {errors, clean}."""
    errors: dict[str, list[str]] = {}
    clean: dict = {}
    if "name" in data:
        name = str(data["name"] or "").strip()
        if not name:
            errors["name"] = ["项目名称：不能为空"]
        elif len(name) > 200:
            errors["name"] = ["项目名称：不能超过 200 个字符"]
        clean["name"] = name
    if "category" in data:
        if data["category"] not in Category.values:
            errors["category"] = [f"项目类型：必须是 {'、'.join(Category.values)} 之一"]
        clean["category"] = data["category"]
    if "budget" in data:
        clean["budget"] = _money(data["budget"], errors)
    if "description" in data:
        clean["description"] = str(data["description"] or "")
    return {"errors": errors, "clean": clean}


def _next_code(org: Org) -> str:
    prefix = f"{timezone.localdate():%Y}-{org.region_code or '000000'}-"
    count = Project.objects.filter(code__startswith=prefix).count()
    while True:
        count += 1
        code = f"{prefix}{count:05d}"
        if not Project.objects.filter(code=code).exists():
            return code


@transaction.atomic
def project_create(
    *,
    actor: User | None,
    org: Org,
    name: str,
    budget,
    category: str = Category.CONSTRUCTION,
    description: str = "",
    code: str = "",
) -> Project:
    """Register a project at `org` in the 立项 stage; the actor becomes its 经办人."""
    permissions.check(actor, "project.create", org)
    result = project_fields_check(
        {"name": name, "budget": budget, "category": category, "description": description}
    )
    errors = result["errors"]
    if code and not PROJECT_CODE.match(code):
        errors["code"] = ["项目代码：4–32 位数字、字母或连字符"]
    elif code and Project.objects.filter(code=code).exists():
        errors["code"] = [f"项目代码：“{code}”已存在"]
    if errors:
        raise ValidationFailed("项目信息未通过校验。", fields=errors)
    clean = result["clean"]
    code = code or _next_code(org)
    project = Project.objects.create(
        org=org,
        owner=actor,
        code=code,
        search_text=search_text(clean["name"], code),
        year=timezone.localdate().year,
        **clean,
    )
    audit_record(
        actor=actor, action="project.create", obj=project, org=org, after=snapshot(project, _AUDITED)
    )
    rules_engine.on_save(project, operation="立项", actor=actor)
    return project


@transaction.atomic
def project_update(
    *, actor: User | None, project: Project, expected_version: int | None = None, **changes
) -> Project:
    """Change a project's editable fields. With `expected_version`, a stale write is refused (409)."""
    permissions.check(actor, "project.edit", project)
    unknown = set(changes) - _EDITABLE
    if unknown:
        raise ValidationFailed(
            "包含不可修改的字段。", fields={k: ["此字段不可修改"] for k in sorted(unknown)}
        )
    project = Project.objects.select_for_update().get(pk=project.pk)
    if expected_version is not None and project.version != expected_version:
        raise Conflict(
            f"项目已被他人修改（当前版本 {project.version}），请刷新后重试。", code="stale_version"
        )
    result = project_fields_check(changes, instance=project)
    if result["errors"]:
        raise ValidationFailed("项目信息未通过校验。", fields=result["errors"])
    before = snapshot(project, _AUDITED)
    for key, value in result["clean"].items():
        setattr(project, key, value)
    project.search_text = search_text(project.name, project.code)
    project.version += 1
    project.save(update_fields=[*result["clean"], "search_text", "version", "updated_at"])
    audit_record(
        actor=actor,
        action="project.update",
        obj=project,
        org=project.org,
        before=before,
        after=snapshot(project, _AUDITED),
    )
    rules_engine.on_save(
        project, operation="项目修改", touched=rules_engine.names_of_columns(result["clean"]), actor=actor
    )
    return project


def project_export(*, actor: User, filters: LedgerFilters | None = None) -> QuerySet[Project]:
    """The ledger rows `actor` may export that match `filters`, as a lazy queryset; the export is audited.

    The rows are not loaded here: the caller streams them (`.iterator()`) into the file, so an export of
    the whole city's ledger runs in bounded memory. The audit event records the filters and the count.
    """
    permissions.require(actor, "project.export")
    filters = filters or LedgerFilters()
    rows = ledger_queryset(actor, filters, action="project.export")
    count = rows.count()
    with transaction.atomic():
        audit_record(
            actor=actor,
            action="project.export",
            object_type="projects.project",
            object_repr=f"导出 {count} 条",
            after={"count": count, "filters": filters.as_query()},
        )
    return rows
