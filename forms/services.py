"""Business operations on forms and submissions: permission → validate → write → audit event.

The pure work (definition checks, validation, live state, migration) is done by `forms.core`;
this module adds permissions, persistence, version pinning and the audit trail.
"""

from __future__ import annotations

import copy
import hashlib
import re
from typing import Any

from django.db import transaction
from django.utils import timezone

from accounts import permissions
from accounts.models import User
from audit.services import audit_record
from core.errors import Conflict, NotFound, ValidationFailed
from orgs.models import Org

from . import storage
from .core.definition import FormDefinition
from .core.migration import migrate_record, plan_migration
from .core.migration import preview as migration_preview
from .core.safety import payload_problem
from .core.validation import validator_for
from .models import Attachment, Form, FormVersion, Purpose, Submission

_CODE = re.compile(r"^[A-Za-z0-9_-]{2,64}$")


def definition_of(version: FormVersion) -> FormDefinition:
    """The pure definition behind a stored version."""
    return FormDefinition(schema=version.schema, ui_schema=version.ui_schema or {})


def typed_data(version: FormVersion, stored: dict) -> dict:
    """Submitted or stored JSON as typed values (Decimals) for validation and the DSL; empty means absent."""
    return storage.load(version.schema, storage.drop_empty(stored))


def _problems_to_fields(problems) -> dict[str, list[str]]:
    fields: dict[str, list[str]] = {}
    for problem in problems:
        fields.setdefault(problem.path or "definition", []).append(problem.message)
    return fields


def _errors_to_fields(errors) -> dict[str, list[str]]:
    fields: dict[str, list[str]] = {}
    for error in errors:
        fields.setdefault(error.path, []).append(str(error))
    return fields


@transaction.atomic
def form_create(
    *,
    actor: User | None,
    org: Org,
    code: str,
    name: str,
    schema: dict,
    ui_schema: dict | None = None,
    purpose: str = Purpose.OTHER,
    project_type_code: str = "",
) -> Form:
    """A new form at `org`, with its first version as an editable draft."""
    permissions.check(actor, "config.manage", org)
    errors: dict[str, list[str]] = {}
    if not _CODE.match(code or ""):
        errors["code"] = ["表单编码：2–64 位字母、数字、下划线或连字符"]
    elif Form.objects.filter(code=code).exists():
        errors["code"] = [f"表单编码：“{code}”已被使用"]
    if not (name or "").strip():
        errors["name"] = ["表单名称：不能为空"]
    if purpose not in Purpose.values:
        errors["purpose"] = [f"用途：必须是 {'、'.join(Purpose.values)} 之一"]
    if not isinstance(schema, dict):
        errors["schema"] = ["数据结构：必须是 JSON 对象"]
    if errors:
        raise ValidationFailed("表单信息未通过校验。", fields=errors)
    form = Form.objects.create(
        org=org, code=code, name=name.strip(), purpose=purpose, project_type_code=project_type_code
    )
    FormVersion.objects.create(
        form=form, number=1, schema=schema, ui_schema=ui_schema or {}, created_by=actor
    )
    audit_record(
        actor=actor,
        action="form.create",
        obj=form,
        org=org,
        after={"code": code, "name": form.name, "purpose": purpose},
    )
    return form


@transaction.atomic
def form_draft_save(
    *,
    actor: User | None,
    form: Form,
    schema: dict,
    ui_schema: dict | None = None,
    based_on: int | None = None,
) -> FormVersion:
    """Replace the draft's content (creating a draft after the newest version if there is none).

    Drafts may be incomplete or invalid: they are checked when published. ``based_on`` records the version
    the content was started from (see :func:`form_draft_from`).
    """
    permissions.check(actor, "config.manage", form.org)
    if not isinstance(schema, dict) or not isinstance(ui_schema or {}, dict):
        raise ValidationFailed(
            "数据结构与界面结构必须是 JSON 对象。", fields={"schema": ["必须是 JSON 对象"]}
        )
    Form.objects.select_for_update().get(pk=form.pk)
    draft = form.draft_or_new("form", created_by=actor)
    before = {"content_hash": definition_of(draft).content_hash} if draft.pk else None
    draft.schema, draft.ui_schema = schema, ui_schema or {}
    draft.save()
    audit_record(
        actor=actor,
        action="form.draft_save",
        obj=draft,
        org=form.org,
        before=before,
        after={
            "number": draft.number,
            "content_hash": definition_of(draft).content_hash,
            **({"based_on": based_on} if based_on else {}),
        },
    )
    return draft


def form_draft_from(*, actor: User | None, form: Form, number: int) -> FormVersion:
    """Start the draft (replacing any) from version ``number``'s content, published or not."""
    source = form.versions.filter(number=number).first()
    if source is None:
        raise NotFound(f"表单“{form.name}”没有版本 v{number}。")
    if source.status == FormVersion.Status.DRAFT:
        return source
    return form_draft_save(
        actor=actor,
        form=form,
        schema=copy.deepcopy(source.schema),
        ui_schema=copy.deepcopy(source.ui_schema),
        based_on=number,
    )


@transaction.atomic
def form_publish(*, actor: User | None, form: Form) -> FormVersion:
    """Check the draft (schema, UI references, DSL, safety) and freeze it as an immutable version."""
    permissions.check(actor, "config.manage", form.org)
    Form.objects.select_for_update().get(pk=form.pk)
    draft = form.draft()
    if draft is None:
        raise Conflict("没有可发布的草稿。", code="no_draft")
    definition = definition_of(draft)
    problems = definition.check()
    if problems:
        raise ValidationFailed(
            f"表单定义有 {len(problems)} 处问题，未发布。",
            code="definition_invalid",
            fields=_problems_to_fields(problems),
        )
    draft.status = FormVersion.Status.PUBLISHED
    draft.content_hash = definition.content_hash
    draft.published_by = actor
    draft.published_at = timezone.now()
    draft.save(update_fields=["status", "content_hash", "published_by", "published_at", "updated_at"])
    audit_record(
        actor=actor,
        action="form.publish",
        obj=draft,
        org=form.org,
        after={"number": draft.number, "content_hash": draft.content_hash},
    )
    return draft


def _require_object(data: Any) -> None:
    if not isinstance(data, dict):
        message = "提交的数据应为对象（字段名 → 值）"
        raise ValidationFailed(message, code="data_not_object", fields={"data": [message]})


def submission_validate(*, version: FormVersion, data: dict) -> list:
    """Validate without saving: the field errors (empty when valid). A read; nothing is recorded."""
    _require_object(data)
    problem = payload_problem(data)
    if problem is not None:
        path, code, message = problem
        raise ValidationFailed(message, code=code, fields={path or "data": [message]})
    return validator_for(definition_of(version)).validate(typed_data(version, data))


def _fill_scope(actor, org: Org, form: Form) -> None:
    permissions.check(actor, "project.edit", org)
    if not org.path.startswith(form.org.path):
        raise ValidationFailed("该表单不适用于此单位。", fields={"org": ["表单未在此单位启用"]})


def _reference_errors(version: FormVersion, data: dict) -> dict[str, list[str]]:
    """Org and user pickers must name an org or an active user that exists (top-level fields)."""
    errors: dict[str, list[str]] = {}
    for name, prop in (version.schema.get("properties") or {}).items():
        value, kind = data.get(name), prop.get("x-field")
        label = str(prop.get("title") or name)
        if not isinstance(value, str) or not value:
            continue
        if kind == "org" and not Org.objects.filter(code=value, is_active=True).exists():
            errors[name] = [f"{label}：单位“{value}”不存在"]
        elif kind == "user" and not User.objects.filter(username=value, is_active=True).exists():
            errors[name] = [f"{label}：人员“{value}”不存在或已停用"]
    return errors


@transaction.atomic
def submission_save(
    *,
    actor: User | None,
    form: Form,
    org: Org,
    data: dict,
    submit: bool,
    submission: Submission | None = None,
    expected_version: int | None = None,
) -> Submission:
    """Save a draft (incomplete is fine) or submit (fully validated). New submissions pin the published version."""
    _fill_scope(actor, org, form)
    _require_object(data)
    if submission is None:
        version = form.published()
        if version is None:
            raise Conflict("表单尚未发布，不能填报。", code="form_unpublished")
    else:
        submission = Submission.objects.select_for_update().get(pk=submission.pk)
        if submission.status == Submission.Status.SUBMITTED:
            raise Conflict("已提交的记录不能再修改。", code="already_submitted")
        if expected_version is not None and submission.version != expected_version:
            raise Conflict("记录已被他人修改，请刷新后重试。", code="stale_version")
        version = submission.form_version
    errors = submission_validate(version=version, data=data)
    fields = {**_errors_to_fields(errors), **_reference_errors(version, typed_data(version, data))}
    if submit and fields:
        raise ValidationFailed(f"有 {sum(map(len, fields.values()))} 处需要修改。", fields=fields)
    stored = storage.dump(typed_data(version, data))
    if submission is None:
        submission = Submission(form_version=version, org=org, created_by=actor)
    else:
        submission.version += 1
    submission.data = stored
    if submit:
        submission.status = Submission.Status.SUBMITTED
        submission.submitted_at = timezone.now()
    submission.save()
    audit_record(
        actor=actor,
        action="submission.submit" if submit else "submission.save_draft",
        obj=submission,
        org=org,
        after={"form": form.code, "version": version.number, "data": stored},
    )
    return submission


def _migration_plan(form: Form, from_number: int, to_number: int, mapping: dict[str, Any]):
    versions = {v.number: v for v in form.versions.filter(number__in=[from_number, to_number])}
    source, target = versions.get(from_number), versions.get(to_number)
    if target is None or target.status != FormVersion.Status.PUBLISHED:
        raise ValidationFailed("目标版本不存在或未发布。", fields={"to_version": ["请选择已发布的版本"]})
    if source is None:
        raise ValidationFailed("源版本不存在。", fields={"from_version": ["请选择已有的版本"]})
    return source, target, plan_migration(definition_of(source), definition_of(target), mapping)


def submissions_migrate_preview(
    *, actor: User | None, form: Form, from_number: int, to_number: int, mapping: dict[str, Any]
) -> dict:
    """How many records of one version would pass the new version after the mapping, and which fail."""
    permissions.check(actor, "config.manage", form.org)
    source, _target, plan = _migration_plan(form, from_number, to_number, mapping)
    records = list(Submission.objects.filter(form_version=source).order_by("id"))
    result = migration_preview(plan, [typed_data(source, r.data) for r in records])
    failed = [{"submission": records[i].pk, "errors": [str(e) for e in errs]} for i, errs in result["failed"]]
    return {"total": len(records), "passed": result["passed"], "failed": failed}


@transaction.atomic
def submissions_migrate(
    *, actor: User | None, form: Form, from_number: int, to_number: int, mapping: dict[str, Any]
) -> dict:
    """Move every record that passes to the new version; records that fail stay on their own version."""
    permissions.check(actor, "config.manage", form.org)
    source, target, plan = _migration_plan(form, from_number, to_number, mapping)
    moved, kept = 0, 0
    for record in Submission.objects.select_for_update().filter(form_version=source).order_by("id"):
        new_data, errors = migrate_record(plan, typed_data(source, record.data))
        if errors:
            kept += 1
            continue
        before = {"version": source.number, "data": record.data}
        record.form_version, record.data = target, storage.dump(new_data)
        record.version += 1
        record.save(update_fields=["form_version", "data", "version", "updated_at"])
        audit_record(
            actor=actor,
            action="submission.migrate",
            obj=record,
            org=record.org,
            before=before,
            after={"version": target.number, "data": record.data},
        )
        moved += 1
    return {"moved": moved, "kept": kept}


DEFAULT_MAX_UPLOAD = 20 * 1024 * 1024


def _accepts(content_type: str, accept: list[str] | None) -> bool:
    if not accept:
        return True
    major = content_type.split("/", 1)[0]
    return any(a == content_type or (a.endswith("/*") and a[:-2] == major) for a in accept)


@transaction.atomic
def attachment_upload(
    *,
    actor: User | None,
    org: Org,
    upload,
    field_label: str,
    max_size: int | None = None,
    accept: list[str] | None = None,
) -> dict:
    """Store one uploaded file through Django's storage and return the value the form field keeps."""
    permissions.check(actor, "project.edit", org)
    limit = max_size or DEFAULT_MAX_UPLOAD
    content_type = (upload.content_type or "application/octet-stream").split(";", 1)[0].strip().lower()
    if upload.size > limit:
        raise ValidationFailed(
            f"{field_label}：文件不能超过 {limit // 1024 // 1024 or 1} MB",
            fields={field_label: [f"文件不能超过 {limit} 字节"]},
        )
    if not _accepts(content_type, accept):
        raise ValidationFailed(
            f"{field_label}：不支持的文件类型 {content_type}",
            fields={field_label: [f"只接受 {'、'.join(accept or [])}"]},
        )
    digest = hashlib.sha256()
    for chunk in upload.chunks():
        digest.update(chunk)
    attachment = Attachment(
        org=org,
        name=upload.name[:255],
        size=upload.size,
        content_type=content_type,
        sha256=digest.hexdigest(),
        uploaded_by=actor,
    )
    attachment.file.save(upload.name, upload, save=False)
    attachment.save()
    audit_record(
        actor=actor,
        action="attachment.upload",
        obj=attachment,
        org=org,
        after={"name": attachment.name, "size": attachment.size, "sha256": attachment.sha256},
    )
    return {
        "name": attachment.name,
        "size": attachment.size,
        "content_type": content_type,
        "key": str(attachment.pk),
    }
