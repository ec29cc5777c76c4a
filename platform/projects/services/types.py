"""Business operations on project types: create, edit a draft, override an upper type, publish."""

from __future__ import annotations

import copy
import hashlib
import json
import re
from typing import Any

from django.db import transaction
from django.utils import timezone

from accounts import permissions
from accounts.models import Role, User
from audit.services import audit_record
from core.errors import Conflict, NotFound, ValidationFailed
from forms import services as form_services
from forms.models import Form, FormVersion
from orgs.models import Org

from .. import config as cfg
from ..models import ProjectType, ProjectTypeVersion

_CODE = re.compile(r"^[A-Za-z0-9_-]{2,64}$")


def _hash(value: Any) -> str:
    text = json.dumps(value, sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=str)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _shape_or_fail(config: Any) -> None:
    found = cfg.shape_problems(config)
    if found:
        fields: dict[str, list[str]] = {}
        for path, message in found:
            fields.setdefault(path, []).append(message)
        raise ValidationFailed("项目类型配置格式不正确。", code="config_invalid", fields=fields)


@transaction.atomic
def project_type_create(*, actor: User | None, org: Org, code: str, config: dict) -> ProjectType:
    """A new type offered at `org` and below, with its first version as a draft."""
    permissions.check(actor, "config.manage", org)
    errors: dict[str, list[str]] = {}
    if not _CODE.match(code or ""):
        errors["code"] = ["类型编码：2–64 位字母、数字、下划线或连字符"]
    elif ProjectType.objects.filter(code=code).exists():
        errors["code"] = [f"类型编码：“{code}”已被使用"]
    for path, message in cfg.shape_problems(config):
        errors.setdefault(path, []).append(message)
    if not errors and not str(config.get("name") or "").strip():
        errors["name"] = ["类型名称：不能为空"]
    if errors:
        raise ValidationFailed("项目类型信息未通过校验。", fields=errors)
    ptype = ProjectType.objects.create(org=org, code=code, name=config["name"].strip())
    ProjectTypeVersion.objects.create(type=ptype, number=1, config=config, created_by=actor)
    audit_record(
        actor=actor, action="project_type.create", obj=ptype, org=org, after={"code": code, "config": config}
    )
    return ptype


@transaction.atomic
def project_type_override(
    *, actor: User | None, base: ProjectType, org: Org, code: str, delta: dict
) -> ProjectType:
    """Adapt a published type of an upper org for `org`'s subtree; `delta` holds only the changes."""
    permissions.check(actor, "config.manage", org)
    if base.published() is None:
        raise Conflict("上级项目类型尚未发布，不能继承。", code="base_unpublished")
    if not org.path.startswith(base.org.path) or org.pk == base.org_id:
        raise ValidationFailed("只能继承上级机构的项目类型。", fields={"base": ["不是上级机构的项目类型"]})
    if not _CODE.match(code or "") or ProjectType.objects.filter(code=code).exists():
        raise ValidationFailed("类型编码无效或已被使用。", fields={"code": ["类型编码无效或已被使用"]})
    _shape_or_fail(delta)
    name = str(delta.get("name") or f"{base.name}（{org.name}）")
    ptype = ProjectType.objects.create(org=org, code=code, name=name, base=base)
    ProjectTypeVersion.objects.create(type=ptype, number=1, config=delta, created_by=actor)
    audit_record(
        actor=actor,
        action="project_type.override",
        obj=ptype,
        org=org,
        after={"code": code, "base": base.code, "delta": delta},
    )
    return ptype


@transaction.atomic
def project_type_draft_save(
    *, actor: User | None, ptype: ProjectType, config: dict, based_on: int | None = None
) -> ProjectTypeVersion:
    """Replace the draft (creating one after the newest version if needed). Checked only when published.

    ``based_on`` records the version the configuration was started from (see :func:`project_type_draft_from`).
    """
    permissions.check(actor, "config.manage", ptype.org)
    _shape_or_fail(config)
    ProjectType.objects.select_for_update().get(pk=ptype.pk)
    draft = ptype.draft_or_new("type", created_by=actor)
    before = {"config": draft.config} if draft.pk else None
    draft.config = config
    draft.save()
    audit_record(
        actor=actor,
        action="project_type.draft_save",
        obj=draft,
        org=ptype.org,
        before=before,
        after={"config": config, **({"based_on": based_on} if based_on else {})},
    )
    return draft


def project_type_draft_from(*, actor: User | None, ptype: ProjectType, number: int) -> ProjectTypeVersion:
    """Start the draft (replacing any) from version ``number``'s configuration, published or not."""
    source = ptype.versions.filter(number=number).first()
    if source is None:
        raise NotFound(f"项目类型“{ptype.name}”没有版本 v{number}。")
    if source.status == ProjectTypeVersion.Status.DRAFT:
        return source
    return project_type_draft_save(
        actor=actor, ptype=ptype, config=copy.deepcopy(source.config), based_on=number
    )


def published_form_schemas(org: Org) -> dict[str, dict]:
    """Schemas of the forms published at `org` or above, by code: what a type configured there may use."""
    versions = FormVersion.objects.filter(
        form__org__path__in=permissions.ancestor_paths(org.path), status=FormVersion.Status.PUBLISHED
    )
    latest: dict[str, FormVersion] = {}
    for version in versions.select_related("form").order_by("number"):
        latest[version.form.code] = version
    return {code: v.schema for code, v in latest.items()}


def _extend_forms(actor, ptype: ProjectType, effective: dict, extensions: dict) -> None:
    """Publish the override's own versions of inherited forms with its added fields, and point at them."""
    forms = dict(effective.get("forms") or {})
    for role, extension in extensions.items():
        base_code = forms.get(role)
        base_form = Form.objects.filter(code=base_code).first()
        base_version = base_form.published() if base_form else None
        if base_version is None:
            raise ValidationFailed(
                "扩展的表单不存在。", fields={f"extend_forms.{role}": [f"没有已发布的“{role}”表单"]}
            )
        schema, ui = cfg.extend_schema(base_version.schema, base_version.ui_schema, extension)
        code = f"{base_form.code}--{ptype.code}"[:64]
        local = Form.objects.filter(code=code).first()
        if local is None:
            local = form_services.form_create(
                actor=actor,
                org=ptype.org,
                code=code,
                name=f"{base_form.name}（{ptype.org.name}）",
                purpose=base_form.purpose,
                schema=schema,
                ui_schema=ui,
                project_type_code=ptype.code,
            )
        else:
            form_services.form_draft_save(actor=actor, form=local, schema=schema, ui_schema=ui)
        published = local.published()
        if published is None or published.schema != schema or published.ui_schema != ui:
            form_services.form_publish(actor=actor, form=local)
        forms[role] = code
    effective["forms"] = forms


@transaction.atomic
def project_type_publish(*, actor: User | None, ptype: ProjectType) -> ProjectTypeVersion:
    """Check the draft's effective configuration (forms, stages, indicator DSL) and freeze it."""
    permissions.check(actor, "config.manage", ptype.org)
    ProjectType.objects.select_for_update().get(pk=ptype.pk)
    draft = ptype.draft()
    if draft is None:
        raise Conflict("没有可发布的草稿。", code="no_draft")
    base_version = None
    _shape_or_fail(draft.config)
    if ptype.base_id:
        base_version = ptype.base.published()
        if base_version is None:
            raise Conflict("上级项目类型没有已发布的版本。", code="base_unpublished")
        effective, origin = cfg.merge(base_version.effective, draft.config)
        _extend_forms(actor, ptype, effective, draft.config.get("extend_forms") or {})
    else:
        effective, origin = dict(draft.config), {}
    effective = cfg.normalise(effective)
    found = cfg.problems(
        effective,
        form_schemas=published_form_schemas(ptype.org),
        roles=set(Role.objects.values_list("code", flat=True)),
    )
    if found:
        fields: dict[str, list[str]] = {}
        for path, message in found:
            fields.setdefault(path, []).append(message)
        raise ValidationFailed(
            f"项目类型配置有 {len(found)} 处问题，未发布。", code="config_invalid", fields=fields
        )
    draft.effective, draft.origin = effective, origin
    draft.base_version = base_version
    draft.status = ProjectTypeVersion.Status.PUBLISHED
    draft.content_hash = _hash(draft.effective)
    draft.published_by, draft.published_at = actor, timezone.now()
    draft.save()
    if ptype.name != effective["name"]:
        ptype.name = effective["name"]
        ptype.save(update_fields=["name"])
    audit_record(
        actor=actor,
        action="project_type.publish",
        obj=draft,
        org=ptype.org,
        after={"number": draft.number, "content_hash": draft.content_hash},
    )
    return draft
