"""Projects of a configured type: created from the type's 立项 form, moved through its stages, filing its forms."""

from __future__ import annotations

from datetime import date
from typing import Any

from django.db import transaction
from django.utils import timezone

from accounts import permissions
from accounts.models import User
from audit.services import audit_record, snapshot
from core.errors import Conflict, ValidationFailed
from forms import services as form_services
from forms import storage
from forms.models import Form, FormVersion, Submission
from orgs.models import Org
from rules import engine as rules_engine

from ..models import Project, ProjectFormRecord, ProjectType, StageChange
from ..search import search_text
from .lifecycle import _AUDITED, PROJECT_CODE, _next_code, project_fields_check


def form_version_of(code: str) -> FormVersion:
    """The published version of the form `code` (Conflict when it is not published)."""
    form = Form.objects.filter(code=code).first()
    version = form.published() if form else None
    if version is None:
        raise Conflict(f"表单“{code}”尚未发布。", code="form_unpublished")
    return version


def _pick(data: dict, path: str) -> Any:
    value: Any = data
    for key in str(path).split("."):
        value = value.get(key) if isinstance(value, dict) else None
    return value


def ledger_columns(field_map: dict, typed: dict) -> dict[str, Any]:
    """The ledger columns the type's field map fills from the 立项 form."""
    out: dict[str, Any] = {}
    for target, source in field_map.items():
        value = _pick(typed, source)
        if target in ("planned_start", "planned_end") and isinstance(value, str):
            try:
                value = date.fromisoformat(value)
            except ValueError:
                value = None
        out[target] = value
    return out


def _form_errors(version: FormVersion, data: Any) -> None:
    errors = form_services.submission_validate(version=version, data=data)
    if errors:
        fields: dict[str, list[str]] = {}
        for error in errors:
            fields.setdefault(error.path, []).append(str(error))
        raise ValidationFailed(f"立项信息有 {len(errors)} 处需要修改。", fields=fields)


@transaction.atomic
def project_create_from_type(
    *, actor: User | None, org: Org, ptype: ProjectType, data: dict, code: str = ""
) -> Project:
    """Register a project of `ptype` at `org` from its 立项 form; pins the type and form versions."""
    permissions.check(actor, "project.create", org)
    version = ptype.published()
    if version is None:
        raise Conflict("项目类型尚未发布。", code="type_unpublished")
    if not org.path.startswith(ptype.org.path):
        raise ValidationFailed("该项目类型不适用于此单位。", fields={"type": ["项目类型未在此单位启用"]})
    effective = version.effective
    form_version = form_version_of(effective["forms"]["立项申请"])
    _form_errors(form_version, data)
    typed = form_services.typed_data(form_version, data)
    columns = ledger_columns(effective.get("field_map") or {}, typed)
    result = project_fields_check(
        {
            "name": columns.pop("name", "") or "",
            "budget": columns.pop("budget", None),
            "description": columns.pop("description", "") or "",
        }
    )
    if code and (not PROJECT_CODE.match(code) or Project.objects.filter(code=code).exists()):
        result["errors"]["code"] = ["项目代码：格式不正确或已存在"]
    if result["errors"]:
        raise ValidationFailed("项目信息未通过校验。", fields=result["errors"])
    code = code or _next_code(org)
    project = Project.objects.create(
        org=org,
        owner=actor,
        code=code,
        type_version=version,
        form_version=form_version,
        category=effective.get("category", "基本建设"),
        stage=effective["stages"][0]["code"],
        year=columns.pop("year", None) or timezone.localdate().year,
        data=storage.dump(typed),
        search_text=search_text(result["clean"]["name"], code),
        **result["clean"],
        **columns,
    )
    audit_record(
        actor=actor,
        action="project.create",
        obj=project,
        org=org,
        after={
            **snapshot(project, _AUDITED),
            "type": ptype.code,
            "type_version": version.number,
            "data": project.data,
        },
    )
    rules_engine.on_save(project, operation="立项", actor=actor)
    return project


def project_stages(project: Project) -> list[dict]:
    """The stages a project moves through: its type's, or the default lifecycle."""
    if project.type_version_id:
        return project.type_version.effective["stages"]
    return [{"code": c, "name": c, "required_forms": []} for c in ("立项", "执行", "验收", "结项")]


def stage_missing_forms(project: Project) -> list[str]:
    """Codes of the current stage's required forms that have no submitted record for this project yet."""
    current = next((s for s in project_stages(project) if s["code"] == project.stage), None)
    if current is None:
        return []
    lixiang = project.form_version.form.code if project.form_version_id else None
    filed = set(
        ProjectFormRecord.objects.filter(
            project=project, submission__status=Submission.Status.SUBMITTED
        ).values_list("submission__form_version__form__code", flat=True)
    )
    return [code for code in current.get("required_forms") or [] if code != lixiang and code not in filed]


@transaction.atomic
def project_stage_move(
    *, actor: User | None, project: Project, to_stage: str, note: str = "", approval: Any = None
) -> Project:
    """Move to the next stage (forward only, one at a time) once the current stage's forms are filed.

    A move the type puts under approval (立项审批, 验收审批) happens only as the outcome of that approval
    (``approval`` is the approved instance); ask for it with ``workflow.services.stage_request``.
    """
    permissions.check(actor, "project.edit", project)
    project = Project.objects.select_for_update().get(pk=project.pk)
    if approval is None:
        from workflow.services import needs_approval

        transition = needs_approval(project, to_stage)
        if transition:
            raise Conflict(f"进入“{to_stage}”需要先通过{transition}，请提交审批。", code="approval_required")
    codes = [s["code"] for s in project_stages(project)]
    if to_stage not in codes:
        raise ValidationFailed("没有这个阶段。", fields={"stage": [f"阶段必须是 {'、'.join(codes)} 之一"]})
    here = codes.index(project.stage) if project.stage in codes else -1
    if codes.index(to_stage) != here + 1:
        raise Conflict(
            f"只能从“{project.stage}”进入下一阶段“{codes[here + 1] if here + 1 < len(codes) else '无'}”。",
            code="stage_order",
        )
    missing = stage_missing_forms(project)
    if missing:
        names = "、".join(Form.objects.filter(code__in=missing).values_list("name", flat=True)) or "、".join(
            missing
        )
        raise Conflict(f"进入“{to_stage}”前需先提交：{names}。", code="stage_forms_missing")
    before = project.stage
    project.stage, project.version = to_stage, project.version + 1
    project.save(update_fields=["stage", "version", "updated_at"])
    StageChange.objects.create(
        project=project, from_stage=before, to_stage=to_stage, note=note[:500], changed_by=actor
    )
    audit_record(
        actor=actor,
        action="project.stage_move",
        obj=project,
        org=project.org,
        before={"stage": before},
        after={"stage": to_stage, "note": note},
    )
    rules_engine.on_save(project, operation="阶段变更", actor=actor)
    return project


@transaction.atomic
def project_form_submit(
    *, actor: User | None, project: Project, role: str, data: dict, draft: bool = False
) -> Submission:
    """File one of the type's forms (验收申请, 进度报告 …) for the project."""
    permissions.check(actor, "project.edit", project)
    forms = project.type_version.effective.get("forms", {}) if project.type_version_id else {}
    if role not in forms or role == "立项申请":
        raise ValidationFailed(
            "该项目类型没有这种表单。", fields={"role": [f"可用：{'、'.join(forms) or '无'}"]}
        )
    form = Form.objects.get(code=forms[role])
    submission = form_services.submission_save(
        actor=actor, form=form, org=project.org, data=data, submit=not draft
    )
    ProjectFormRecord.objects.create(project=project, role=role, submission=submission)
    return submission
