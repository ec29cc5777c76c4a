"""The dry run: what :func:`projects.services.project_create_from_type` would refuse, row by row, without writing.

It reuses that service's own pieces (the published 立项 form version, the form validation, the field map onto ledger
columns, the ledger checks and the project-code pattern) rather than restating their rules, and adds what only a
whole file can know: duplicate 项目代码 within the file and against the ledger.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from accounts import permissions
from core.errors import Conflict, ValidationFailed
from forms import services as form_services
from orgs.models import Org

from ..models import Project, ProjectType, ProjectTypeVersion
from ..services.lifecycle import PROJECT_CODE, project_fields_check
from ..services.typed import form_version_of, ledger_columns
from .columns import CODE, CODE_TITLE, ORG, ORG_TITLE, Column, ParsedRow, columns_for

if TYPE_CHECKING:
    from accounts.models import User
    from forms.models import FormVersion

# Ledger columns `project_fields_check` checks, by the label its messages start with.
_LEDGER_LABELS = {"name": "项目名称", "budget": "预算", "description": "建设内容及规模"}

Problem = tuple[str, str]  # (column key, or "" for the row as a whole; Chinese message naming the column)


@dataclass(frozen=True, slots=True)
class ImportPlan:
    """What a file is read and checked against: the type's published version, its 立项 form and the columns."""

    ptype: ProjectType
    version: ProjectTypeVersion
    form_version: FormVersion
    columns: list[Column]

    @property
    def field_map(self) -> dict[str, str]:
        return dict(self.version.effective.get("field_map") or {})

    def column(self, key: str) -> Column | None:
        return next((c for c in self.columns if c.key == key), None)


def import_plan(ptype: ProjectType) -> ImportPlan:
    """The plan for importing projects of `ptype`; Conflict when the type or its 立项 form is not published."""
    version = ptype.published()
    if version is None:
        raise Conflict("项目类型尚未发布。", code="type_unpublished")
    form_version = form_version_of(version.effective["forms"]["立项申请"])
    return ImportPlan(ptype, version, form_version, columns_for(form_version.schema, form_version.ui_schema))


def _top(path: str) -> str:
    return re.split(r"[.\[]", path, maxsplit=1)[0]


class RowChecker:
    """project_create_from_type's checks for many rows of one file, caching org look-ups and permissions."""

    def __init__(self, *, actor: User | None, plan: ImportPlan) -> None:
        self.actor = actor
        self.plan = plan
        self._orgs: dict[str, Org | str] = {}
        self._titles = {c.key: c.title for c in plan.columns}

    def org(self, code: str) -> Org | str:
        """The org a row belongs to, or the Chinese reason it cannot be used."""
        if code not in self._orgs:
            found = Org.objects.filter(code=code, is_active=True).first() if code else None
            if not code:
                self._orgs[code] = f"{ORG_TITLE}：不能为空"
            elif found is None or (
                self.actor is not None and not permissions.can(self.actor, "project.create", found)
            ):
                self._orgs[code] = f"{ORG_TITLE}：单位“{code}”不存在或不在您“创建项目”的权限范围内"
            elif not found.path.startswith(self.plan.ptype.org.path):
                self._orgs[code] = f"{ORG_TITLE}：项目类型“{self.plan.ptype.name}”不适用于“{found.name}”"
            else:
                self._orgs[code] = found
        return self._orgs[code]

    def check(self, row: ParsedRow) -> list[Problem]:
        """Every problem of one row, in column order; empty when the service would accept it."""
        problems: list[Problem] = list(row.problems.items())
        org = self.org(row.org_code)
        if isinstance(org, str):
            problems.append((ORG, org))
        if row.code and not PROJECT_CODE.match(row.code):
            problems.append((CODE, f"{CODE_TITLE}：应为 4–32 位数字、字母或连字符"))
        problems += self._form_problems(row)
        order = {c.key: i for i, c in enumerate(self.plan.columns)}
        return sorted(problems, key=lambda p: order.get(p[0], len(order)))

    def _form_problems(self, row: ParsedRow) -> list[Problem]:
        try:
            errors = form_services.submission_validate(version=self.plan.form_version, data=row.data)
        except ValidationFailed as exc:  # a hostile payload (too deep, too long): reported, never raised
            return [("", exc.message)]
        found: list[Problem] = []
        for error in errors:
            key = _top(error.path)
            if key in row.problems:
                continue  # the cell could not be read at all; its coercion message already says why
            found.append((key if key in self._titles else "", str(error)))
        if found or row.problems:
            return found  # the service stops at the form's errors; its ledger checks never run
        typed = form_services.typed_data(self.plan.form_version, row.data)
        columns = ledger_columns(self.plan.field_map, typed)
        result = project_fields_check(
            {
                "name": columns.get("name", "") or "",
                "budget": columns.get("budget"),
                "description": columns.get("description", "") or "",
            }
        )
        for target, messages in result["errors"].items():
            source = _top(str(self.plan.field_map.get(target, "")))
            title = self._titles.get(source, _LEDGER_LABELS.get(target, target))
            for message in messages:
                found.append(
                    (source if source in self._titles else "", f"{title}：{message.split('：', 1)[-1]}")
                )
        return found


def duplicate_codes(rows: Sequence[ParsedRow]) -> dict[int, str]:
    """Row number → why its 项目代码 cannot be used: repeated in the file, or already in the ledger."""
    first_seen: dict[str, int] = {}
    problems: dict[int, str] = {}
    for row in rows:
        if not row.code:
            continue
        if row.code in first_seen:
            problems[row.number] = f"{CODE_TITLE}：“{row.code}”与第 {first_seen[row.code]} 行重复"
        else:
            first_seen[row.code] = row.number
    taken = set(_existing_codes(first_seen))
    for code, number in first_seen.items():
        if code in taken:
            problems[number] = f"{CODE_TITLE}：“{code}”已存在于台账中"
    return problems


def _existing_codes(codes: Iterable[str], chunk: int = 1000) -> Iterable[str]:
    pending = list(codes)
    for start in range(0, len(pending), chunk):
        yield from Project.objects.filter(code__in=pending[start : start + chunk]).values_list(
            "code", flat=True
        )


__all__ = ["CODE", "ORG", "ImportPlan", "Problem", "RowChecker", "duplicate_codes", "import_plan"]
