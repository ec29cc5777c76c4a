"""The project type designer's JSON endpoints: check, autosave, publish preview, publish, draft from a version.

Every endpoint answers ``{code, message, fields}`` with a 4xx status on failure (never a page or a 500). Writes need
``config.manage`` over the type's org and go through ``projects.services.types``, which check it again and record
the audit event.
"""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from bundles.diff import type_changes
from core.errors import ValidationFailed
from projects.services.types import project_type_draft_from, project_type_draft_save, project_type_publish

from . import type_designer_core as core
from .endpoints import json_endpoint, json_ok, read_json
from .versions import type_preview, version_rows

MAX_BODY = 300_000

endpoint = json_endpoint(core.type_for_user, key="type_code", permission=None)


def _config(body: dict[str, Any], ptype: Any) -> dict[str, Any]:
    """The edited config of the request, or the one the designer opens when none is given."""
    if "config" not in body:
        return core.source(ptype)[1]
    config = body["config"]
    if not isinstance(config, dict):
        raise ValidationFailed(_("配置必须是对象。"), fields={"config": [_("配置必须是对象（键 → 值）。")]})
    return config


def _fields(problems: list[dict[str, Any]]) -> dict[str, list[str]]:
    fields: dict[str, list[str]] = {}
    for p in problems:
        fields.setdefault(p["edit_path"] or p["path"], []).append(p["message"])
    return fields


@require_POST
@endpoint
def type_check(request: HttpRequest, ptype: Any) -> HttpResponse:
    """Shape and publish problems of the edited config (with paths), each indicator's live DSL diagnostics, and
    the effective configuration with each key's origin."""
    return json_ok(core.check(ptype, _config(read_json(request, limit=MAX_BODY), ptype)))


@require_POST
@endpoint
def type_save(request: HttpRequest, ptype: Any) -> HttpResponse:
    """Autosave: replace the draft's config (creating the draft after the newest version when needed)."""
    core.require_manage(request.user, ptype)
    config = _config(read_json(request, limit=MAX_BODY), ptype)
    draft = project_type_draft_save(actor=request.user, ptype=ptype, config=config)
    return json_ok(
        {"ok": True, "version": draft.number, "status": draft.status, "versions": version_rows(ptype)}
    )


@require_POST
@endpoint
def type_publish_preview(request: HttpRequest, ptype: Any) -> HttpResponse:
    """What publishing would change (human-readable lines), the records it reaches, and what blocks it."""
    config = _config(read_json(request, limit=MAX_BODY), ptype)
    checked = core.check(ptype, config)
    if checked["shape"]:
        raise ValidationFailed(
            _("项目类型配置格式不正确。"), code="config_invalid", fields=_fields(checked["problems"])
        )
    preview = type_preview(ptype, config)
    base = core.base_effective(ptype)
    if preview["published"] is None and base:
        # An override's first version: what this org changes against the upper type it adapts.
        effective, _origin = core.effective_of(ptype, config)
        preview["changes"] = type_changes(base, effective)
        preview["against"] = "base"
    else:
        preview["against"] = "published"
    return json_ok({**preview, "problems": checked["problems"], "ok": checked["ok"]})


@require_POST
@endpoint
def type_publish(request: HttpRequest, ptype: Any) -> HttpResponse:
    """Save the edited config (when given) and publish the draft; requires ``confirm: true``. On failure the draft
    stays as saved and the problems come back as ``fields`` keyed by the edited config's paths."""
    body = read_json(request, limit=MAX_BODY)
    if body.get("confirm") is not True:
        raise ValidationFailed(
            _("请确认发布。"), code="confirm_required", fields={"confirm": [_("请勾选确认发布。")]}
        )
    core.require_manage(request.user, ptype)
    if "config" in body:
        project_type_draft_save(actor=request.user, ptype=ptype, config=_config(body, ptype))
    draft = ptype.draft()
    if draft is not None:
        checked = core.check(ptype, draft.config)
        local = [p for p in checked["problems"] if p["path"].startswith("thresholds.")]
        if local:
            raise ValidationFailed(
                _("项目类型配置有 %(n)d 处问题，未发布。") % {"n": len(local)},
                code="config_invalid",
                fields=_fields(local),
            )
    try:
        version = project_type_publish(actor=request.user, ptype=ptype)
    except ValidationFailed as error:
        if error.fields and draft is not None:
            checked = core.check(ptype, draft.config)
            error.fields = _fields(checked["problems"]) or error.fields
        raise
    return json_ok(
        {"ok": True, "version": version.number, "status": version.status, "versions": version_rows(ptype)}
    )


@require_POST
@endpoint
def type_draft_from(request: HttpRequest, ptype: Any, number: int) -> HttpResponse:
    """Start the draft from version ``number`` (replacing any draft). A form post is sent back to the designer."""
    core.require_manage(request.user, ptype)
    draft = project_type_draft_from(actor=request.user, ptype=ptype, number=number)
    if request.content_type != "application/json":
        return redirect("admin_ui:type-designer", type_code=ptype.code)
    return json_ok(
        {"ok": True, "version": draft.number, "status": draft.status, "versions": version_rows(ptype)}
    )
