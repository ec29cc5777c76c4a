"""Bundles and rule packs in the configuration studio: import (check in place, preview, confirm, load) and export.

``import/`` takes a ``.yaml`` file or pasted text, tells a configuration bundle (``taizhang_bundle:``) from a rule
pack, checks it with the services and shows every problem under the line it concerns. A file without problems gets
a preview (see :mod:`admin_ui.bundles_preview`) and a confirm form that re-posts the exact bytes (base64) with a
signed token holding their SHA-256, the org and the kind: the load refuses anything that differs from what was
previewed. Loading goes through ``bundle_load`` (``config.manage``) or ``pack_load`` (``rulepack.manage``), which
check permission again, validate again and audit. ``export/`` offers, to everyone with ``config.view``, an org's
whole configuration or one type as a bundle download (``bundle_export``, audited) and the source of packs in force.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import os
from typing import Any

from django.contrib.auth.decorators import login_required
from django.core import signing
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import path
from django.utils.http import content_disposition_header
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from accounts import permissions
from bundles import BundleInvalid, bundle_parse
from bundles.services import bundle_export, bundle_load
from core.errors import Conflict, PermissionDenied, ServiceError, ValidationFailed
from orgs.models import Org
from projects.selectors_types import project_type_list
from rules.models import PackStatus, RulePack
from rules.services import packs as pack_services

from .bundles_preview import (
    Analysis,
    bundle_analyse,
    kind_of,
    pack_analyse,
    row,
    rows_of_fields,
    rows_of_problems,
)

MAX_BYTES = 1_000_000
MAX_SIGNATURE = 4096
TOKEN_SALT = "admin_ui.bundles.import"
TOKEN_AGE = 3600
ORGS_SHOWN = 500
PASTED = "pasted.yaml"


def _sha(data: bytes | None) -> str:
    return hashlib.sha256(data).hexdigest() if data else ""


def _manage_orgs(user: Any) -> list[Org]:
    """Orgs where the user may load something: bundles (``config.manage``) or packs (``rulepack.manage``)."""
    active = Org.objects.filter(is_active=True)
    ids = set(permissions.visible(user, "config.manage", active).values_list("pk", flat=True))
    ids |= set(permissions.visible(user, "rulepack.manage", active).values_list("pk", flat=True))
    return list(Org.objects.filter(pk__in=ids).order_by("path")[:ORGS_SHOWN])


def _b64decode(text: str, limit: int) -> bytes | None:
    text = (text or "").strip()
    if not text:
        return None
    if len(text) > limit * 4 // 3 + 8:
        raise ValidationFailed(_("上传内容过大。"), fields={"file": [_("文件过大")]})
    try:
        return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        raise ValidationFailed(
            _("上传内容已损坏，请重新选择文件。"), fields={"file": [_("请重新选择文件")]}
        ) from None


def _read(upload: Any, limit: int, label: str) -> bytes | None:
    if upload is None:
        return None
    if upload.size > limit:
        raise ValidationFailed(
            _("%(label)s过大。") % {"label": label},
            fields={"file": [_("不能超过 %(kb)d KB") % {"kb": limit // 1024}]},
        )
    return upload.read()


def _submitted(request: HttpRequest) -> tuple[bytes, str]:
    """The file's bytes (an upload wins over pasted text; pasted text has the browser's CRLF undone) and name."""
    upload = request.FILES.get("file")
    if upload is not None:
        data = _read(upload, MAX_BYTES, _("文件")) or b""
        return data, os.path.basename(upload.name or "")[:200] or PASTED
    text = request.POST.get("text", "").replace("\r\n", "\n")
    data = text.encode("utf-8")
    if len(data) > MAX_BYTES:
        raise ValidationFailed(
            _("文本过长。"), fields={"file": [_("不能超过 %(kb)d KB") % {"kb": MAX_BYTES // 1024}]}
        )
    return data, PASTED


def _decoded(data: bytes, filename: str) -> str:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        line = data[: error.start].count(b"\n") + 1
        raise ValidationFailed(
            _("文件不是 UTF-8 编码。"), fields={f"{filename}:{line}": [_("文件不是 UTF-8 编码")]}
        ) from None


def _org(orgs: list[Org], code: str) -> Org:
    org = next((o for o in orgs if o.code == code), None)
    if org is None:
        raise ValidationFailed(_("请选择机构。"), fields={"org": [_("请选择您可管理的机构")]})
    return org


def _token(kind: str, org: Org, source: bytes, signature: bytes | None) -> str:
    return signing.dumps({"k": kind, "o": org.pk, "s": _sha(source), "g": _sha(signature)}, salt=TOKEN_SALT)


def _check_token(token: str, kind: str, org: Org, source: bytes, signature: bytes | None) -> None:
    """Refuse a load whose bytes, org, kind or signature differ from what was previewed (or a stale preview)."""
    try:
        seen = signing.loads(token or "", salt=TOKEN_SALT, max_age=TOKEN_AGE)
    except signing.BadSignature:
        seen = None
    expected = {"k": kind, "o": org.pk, "s": _sha(source), "g": _sha(signature)}
    if seen != expected:
        raise Conflict(
            _("提交的内容与预览时不一致（或预览已过期），未载入；请重新检查并预览后再确认。"),
            code="changed_since_preview",
        )


def _require(user: Any, kind: str, org: Org) -> None:
    permissions.require(user, "config.manage" if kind == "bundle" else "rulepack.manage", org)


def _analyse(user: Any, kind: str, source: bytes, filename: str, org: Org) -> Analysis:
    _require(user, kind, org)
    text = _decoded(source, filename)
    if kind == "bundle":
        return bundle_analyse(text, filename, org)
    return pack_analyse(user, source, filename, org)


def _load(user: Any, kind: str, source: bytes, filename: str, org: Org, signature: bytes | None) -> dict:
    """Load through the service; a refusal comes back as problems at their lines (nothing was written)."""
    text = _decoded(source, filename)
    if kind == "bundle":
        try:
            report = bundle_load(actor=user, bundle=bundle_parse(text, filename=filename), org=org)
        except BundleInvalid as error:
            return {"problems": rows_of_problems(error.problems)}
        return {"bundle_report": report}
    try:
        pack = pack_services.pack_load(
            actor=user, org=org, source=source, filename=filename, signature=signature
        )
    except ValidationFailed as error:
        return {"problems": rows_of_fields(error.fields), "load_error": error.message}
    return {"pack": pack}


@login_required
@require_http_methods(["GET", "POST"])
def import_page(request: HttpRequest) -> HttpResponse:
    """导入: choose a file (or paste it), see its problems in place or its preview, confirm to load it."""
    user = request.user
    orgs = _manage_orgs(user)
    if not orgs:
        raise PermissionDenied(_("您没有“管理配置”或“管理政策规则包”的权限。"))
    signing_orgs = [o.code for o in orgs if pack_services.signing_required(o)]
    default = next((o.code for o in orgs if o.pk == user.org_id), orgs[0].code)
    context: dict[str, Any] = {
        "orgs": orgs,
        "signing_orgs": signing_orgs,
        "step": "choose",
        "posted": {"org": default, "text": ""},
        "field_errors": {},
    }
    status = 200
    if request.method == "POST":
        post = request.POST
        context["posted"] = {"org": post.get("org", ""), "text": ""}
        try:
            org = _org(orgs, post.get("org", ""))
            if post.get("op") == "load":
                source = _b64decode(post.get("source", ""), MAX_BYTES) or b""
                signature = _b64decode(post.get("signature_b64", ""), MAX_SIGNATURE)
                filename = os.path.basename(post.get("filename", ""))[:200] or PASTED
                kind = post.get("kind", "")
                if kind not in ("bundle", "pack"):
                    raise ValidationFailed(_("未知的文件类型。"))
                _require(user, kind, org)
                _check_token(post.get("token", ""), kind, org, source, signature)
                outcome = _load(user, kind, source, filename, org, signature)
                context.update(outcome, org=org, kind=kind, filename=filename)
                if "problems" in outcome:
                    text = source.decode("utf-8-sig", errors="replace")
                    context.update(
                        step="checked", listing=Analysis(kind, text, filename, outcome["problems"]).listing()
                    )
                    context["posted"]["text"] = text
                    status = 400
                else:
                    context["step"] = "loaded"
            else:
                source, filename = _submitted(request)
                if not source.strip():
                    raise ValidationFailed(
                        _("请选择文件或粘贴内容。"),
                        fields={"file": [_("请选择 .yaml 文件，或在下面粘贴文件内容")]},
                    )
                signature = _read(request.FILES.get("signature"), MAX_SIGNATURE, _("签名文件"))
                kind = kind_of(source.decode("utf-8-sig", errors="replace"))
                found = _analyse(user, kind, source, filename, org)
                if kind == "pack" and not signature and pack_services.signing_required(org):
                    found.problems.insert(
                        0,
                        row(
                            None,
                            "",
                            _("%(org)s要求规则包附发布机关的签名文件（.sig），请与规则包一并上传")
                            % {"org": org.name},
                        ),
                    )
                context.update(org=org, kind=kind, filename=filename, found=found, step="checked")
                context["posted"]["text"] = found.text
                if found.ok:
                    context.update(
                        step="preview",
                        source_b64=base64.b64encode(source).decode("ascii"),
                        signature_b64=base64.b64encode(signature).decode("ascii") if signature else "",
                        token=_token(kind, org, source, signature),
                        checksum=_sha(source),
                    )
                else:
                    context["listing"] = found.listing()
                    status = 400
        except PermissionDenied:
            raise
        except ServiceError as error:
            context["error"] = error
            context["field_errors"] = {k: v for k, v in error.fields.items() if k in ("org", "file")}
            status = error.status
    if context.get("listing"):
        context["problems"] = [p for line in context["listing"] for p in line["problems"]]
        context["problem_lines"] = [line for line in context["listing"] if line["problems"]]
    return render(request, "admin_ui/import.html", context, status=status)


# -- export -------------------------------------------------------------------------------------------------------
def _require_view(user: Any) -> None:
    if not permissions.can(user, "config.view"):
        raise PermissionDenied(_("您没有“查看配置”的权限。"))


def _export_types(user: Any) -> list[Any]:
    """Published types the user may export: those defined at an org where they hold ``config.view``."""
    return [
        t
        for t in project_type_list(user=user)
        if t.published() is not None and permissions.can(user, "config.view", t.org)
    ]


def _export_packs(user: Any) -> list[RulePack]:
    packs = RulePack.objects.filter(status=PackStatus.ACTIVE).select_related("org")
    return list(permissions.applicable(user, "config.view", packs).order_by("org__path", "code"))


def _attachment(text: str, filename: str) -> HttpResponse:
    response = HttpResponse(text.encode("utf-8"), content_type="application/x-yaml; charset=utf-8")
    response["Content-Disposition"] = content_disposition_header(True, filename)
    return response


@login_required
@require_GET
def export_page(request: HttpRequest) -> HttpResponse:
    """导出: an org's whole configuration, one type, or the source of a pack in force, as YAML downloads."""
    _require_view(request.user)
    orgs = permissions.visible(request.user, "config.view", Org.objects.filter(is_active=True))
    return render(
        request,
        "admin_ui/export.html",
        {
            "orgs": list(orgs.order_by("path")[:ORGS_SHOWN]),
            "types": _export_types(request.user),
            "packs": _export_packs(request.user),
            "can_import": permissions.can(request.user, "config.manage")
            or permissions.can(request.user, "rulepack.manage"),
        },
    )


@login_required
@require_GET
def export_download(request: HttpRequest) -> HttpResponse:
    """``?org=CODE``: that org's configuration; ``?type=CODE``: one type and the forms it uses."""
    user = request.user
    _require_view(user)
    type_code = request.GET.get("type", "")
    if type_code:
        if type_code not in {t.code for t in _export_types(user)}:
            raise PermissionDenied(_("您无权导出该项目类型。"))
        return _attachment(bundle_export(actor=user, type_code=type_code), f"taizhang-type-{type_code}.yaml")
    org = permissions.get_visible(
        user, "config.view", Org.objects.filter(is_active=True), code=request.GET.get("org", "")
    )
    return _attachment(bundle_export(actor=user, org=org), f"taizhang-org-{org.code}.yaml")


@login_required
@require_GET
def export_pack(request: HttpRequest, pk: int) -> HttpResponse:
    """The exact source of a pack in force that applies to the user (what was loaded, byte for byte)."""
    _require_view(request.user)
    pack = next((p for p in _export_packs(request.user) if p.pk == pk), None)
    if pack is None:
        raise PermissionDenied(_("规则包不存在或您无权查看。"))
    return _attachment(pack.source, f"rulepack-{pack.code}-v{pack.version}.yaml")


urlpatterns = [
    path("import/", import_page, name="import"),
    path("export/", export_page, name="export"),
    path("export/download/", export_download, name="export-download"),
    path("export/packs/<int:pk>/", export_pack, name="export-pack"),
]
