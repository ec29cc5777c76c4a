"""The form designer of the configuration studio: a form's JSON Schema + UI schema edited as fields beside a live
preview of the generated staff page.

The page edits the form's draft (or its newest published version until the first change is saved). Every change is
posted to ``check/`` (publish-time problems with their paths and per-expression DSL diagnostics with columns) and to
``preview/`` (the fill page's fields for the unsaved definition and the sample values typed into the preview, with
visibility and computed values evaluated by the server). ``save/`` is the debounced autosave into the draft through
``form_draft_save``; ``publish-preview/`` shows what publishing would change and the records it reaches
(``admin_ui.versions.form_preview``); ``publish/`` saves and publishes through ``form_publish`` and needs
``confirm: true``. Earlier versions open read-only, and a draft can be started from any of them (``form_draft_from``).

Anyone with ``config.view`` may open the designer read-only; writing needs ``config.manage`` over the form's org.
Errors are ``{code, message, fields}`` with a 4xx status, never a 500.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import path, reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from accounts import permissions
from core.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from forms import selectors
from forms.models import Form, FormVersion
from forms.services import form_draft_from, form_draft_save, form_publish

from .endpoints import json_endpoint, json_error, json_ok, lang, read_json
from .form_designer_check import definition_report, field_catalogue, plain, preview_html
from .form_designer_text import designer_i18n
from .versions import form_preview, opened_version, version_numbers, version_rows
from .views import dsl_vocabulary

MAX_BODY = 500_000


def _form(user: Any, code: str) -> Form:
    if not permissions.can(user, "config.view"):
        raise PermissionDenied(_("您没有“查看配置”的权限。"))
    return selectors.form_get(user=user, code=code, action="config.view")


def _can_edit(user: Any, form: Form) -> bool:
    return permissions.can(user, "config.manage", form.org)


def _require_edit(user: Any, form: Form) -> None:
    if not _can_edit(user, form):
        raise PermissionDenied(_("您没有在该机构“管理配置”的权限，只能查看。"))


_endpoint = json_endpoint(_form, key="code", permission=None)


def _definition(body: Mapping[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """The edited ``schema`` and ``ui_schema`` of a request, as storable JSON objects."""
    schema, ui = body.get("schema"), body.get("ui_schema", {})
    fields: dict[str, list[str]] = {}
    if not isinstance(schema, dict):
        fields["schema"] = [_("数据结构（schema）必须是 JSON 对象。")]
    if not isinstance(ui, dict):
        fields["ui_schema"] = [_("界面结构（ui_schema）必须是 JSON 对象。")]
    if fields:
        raise ValidationFailed(_("表单定义格式不正确。"), code="bad_definition", fields=fields)
    return plain(schema), plain(ui)


def _versions(form: Form) -> list[dict[str, Any]]:
    """``versions.version_rows`` with the publication time in local time, as the versions list shows it."""
    rows = version_rows(form)
    for row in rows:
        when = row.get("published_at")
        row["when"] = (
            timezone.localtime(datetime.fromisoformat(when)).strftime("%Y-%m-%d %H:%M") if when else ""
        )
    return rows


def _source(form: Form) -> FormVersion | None:
    """The version the designer opens: the draft, else the newest published, else the newest."""
    return opened_version(form)


def _urls(form: Form) -> dict[str, str]:
    names = ("check", "preview", "save", "publish-preview", "publish")
    urls = {name: reverse(f"admin_ui:form-{name}", args=[form.code]) for name in names}
    urls["designer"] = reverse("admin_ui:form-designer", args=[form.code])
    urls["list"] = reverse("admin_ui:form-list")
    urls["version"] = reverse("admin_ui:form-version", args=[form.code, 0]).replace("/0/", "/{n}/")
    urls["draftFrom"] = reverse("admin_ui:form-draft-from", args=[form.code, 0]).replace("/0/", "/{n}/")
    return urls


def _page(request: HttpRequest, form: Form, version: FormVersion | None, *, viewing: bool) -> HttpResponse:
    can_edit = _can_edit(request.user, form)
    editable = can_edit and not viewing
    return render(
        request,
        "admin_ui/form_designer.html",
        {
            "form": form,
            "version": version,
            "viewing": viewing,
            "can_edit": can_edit,
            "editable": editable,
            "data": {
                "schema": version.schema if version else {"type": "object", "properties": {}},
                "ui_schema": version.ui_schema if version else {},
                "version": version.number if version else None,
                "status": version.status if version else None,
                "viewing": viewing,
                "editable": editable,
                "canEdit": can_edit,
                "types": field_catalogue(),
                "versions": _versions(form),
                "vocabulary": dsl_vocabulary(lang()),
            },
            "i18n": designer_i18n(),
            "urls": _urls(form),
        },
    )


# The pages ------------------------------------------------------------------------------------------------------


@login_required
@require_GET
def form_list(request: HttpRequest) -> HttpResponse:
    """Forms the user may see, with their published and draft versions and a link to the designer."""
    if not permissions.can(request.user, "config.view"):
        raise PermissionDenied(_("您没有“查看配置”的权限。"))
    forms = list(
        selectors.form_list(user=request.user, action="config.view").select_related("org").order_by("code")
    )
    numbers = version_numbers(forms)
    rows = [{"form": f, **numbers[f.pk], "can_edit": _can_edit(request.user, f)} for f in forms]
    return render(request, "admin_ui/form_list.html", {"rows": rows})


@login_required
@require_GET
def form_designer(request: HttpRequest, code: str) -> HttpResponse:
    """The designer of a form's draft (read-only without ``config.manage`` over the form's org)."""
    form = _form(request.user, code)
    return _page(request, form, _source(form), viewing=False)


@login_required
@require_GET
def form_version(request: HttpRequest, code: str, number: int) -> HttpResponse:
    """An earlier (or any) version of the form, read-only, with a button to start a draft from it."""
    form = _form(request.user, code)
    version = form.versions.filter(number=number).first()
    if version is None:
        raise NotFound(_("表单“%(name)s”没有版本 v%(n)d。") % {"name": form.name, "n": number})
    return _page(request, form, version, viewing=True)


# The endpoints --------------------------------------------------------------------------------------------------


@require_POST
@_endpoint
def form_check(request: HttpRequest, form: Form) -> HttpResponse:
    """Publish-time problems of the edited definition and the diagnostics of each DSL expression."""
    schema, ui = _definition(read_json(request, limit=MAX_BODY, decimals=True))
    return json_ok(definition_report(schema, ui))


@require_POST
@_endpoint
def form_preview_page(request: HttpRequest, form: Form) -> HttpResponse:
    """The generated staff page for the edited definition and sample values (``data``: [[name, value], …])."""
    body = read_json(request, limit=MAX_BODY, decimals=True)
    schema, ui = _definition(body)
    op = body.get("op") if isinstance(body.get("op"), str) else ""
    return json_ok(preview_html(form, schema, ui, body.get("data"), op[:200]))


@require_POST
@_endpoint
def form_save(request: HttpRequest, form: Form) -> HttpResponse:
    """Autosave: replace the draft's content (creating the draft after the newest version when there is none)."""
    schema, ui = _definition(read_json(request, limit=MAX_BODY, decimals=True))
    _require_edit(request.user, form)
    draft = form_draft_save(actor=request.user, form=form, schema=schema, ui_schema=ui)
    report = definition_report(schema, ui)
    return json_ok(
        {
            "ok": True,
            "version": draft.number,
            "status": draft.status,
            "saved_at": draft.updated_at.isoformat(),
            "problems": len(report["problems"]),
            "versions": _versions(form),
        }
    )


@require_POST
@_endpoint
def form_publish_preview(request: HttpRequest, form: Form) -> HttpResponse:
    """What publishing the edited definition would change against the published version, and what it reaches."""
    schema, ui = _definition(read_json(request, limit=MAX_BODY, decimals=True))
    report = definition_report(schema, ui)
    return json_ok({**form_preview(form, schema, ui), "problems": report["problems"], "ok": report["ok"]})


@require_POST
@_endpoint
def form_publish_view(request: HttpRequest, form: Form) -> HttpResponse:
    """Save the edited definition into the draft and publish it; requires ``confirm: true``."""
    body = read_json(request, limit=MAX_BODY, decimals=True)
    schema, ui = _definition(body)
    _require_edit(request.user, form)
    if body.get("confirm") is not True:
        raise ValidationFailed(
            _("请确认发布。"), code="confirm_required", fields={"confirm": [_("请勾选确认发布。")]}
        )
    if form.published() is not None and not form_preview(form, schema, ui)["changes"]:
        raise Conflict(_("与已发布版本相比没有变更，无需发布。"), code="no_changes")
    draft = form_draft_save(actor=request.user, form=form, schema=schema, ui_schema=ui)
    try:
        version = form_publish(actor=request.user, form=form)
    except ValidationFailed as error:
        report = definition_report(schema, ui)
        return json_error(error, problems=report["problems"], draft=draft.number)
    return json_ok(
        {
            "ok": True,
            "version": version.number,
            "status": version.status,
            "versions": _versions(form),
        }
    )


@require_POST
@_endpoint
def form_draft_from_view(request: HttpRequest, form: Form, number: int) -> HttpResponse:
    """Start the draft (replacing any) from version ``number``."""
    _require_edit(request.user, form)
    draft = form_draft_from(actor=request.user, form=form, number=number)
    return json_ok(
        {
            "ok": True,
            "version": draft.number,
            "status": draft.status,
            "url": reverse("admin_ui:form-designer", args=[form.code]),
        }
    )


urlpatterns = [
    path("forms/", form_list, name="form-list"),
    path("forms/<str:code>/", form_designer, name="form-designer"),
    path("forms/<str:code>/check/", form_check, name="form-check"),
    path("forms/<str:code>/preview/", form_preview_page, name="form-preview"),
    path("forms/<str:code>/save/", form_save, name="form-save"),
    path("forms/<str:code>/publish-preview/", form_publish_preview, name="form-publish-preview"),
    path("forms/<str:code>/publish/", form_publish_view, name="form-publish"),
    path("forms/<str:code>/versions/<int:number>/", form_version, name="form-version"),
    path("forms/<str:code>/versions/<int:number>/draft/", form_draft_from_view, name="form-draft-from"),
]
