"""Pages of the rules app: the alert inbox and alert page with the closed loop's forms, notifications, rule packs
(list, page, upload with test results and impact preview) and the policy library.

Thin, like every interface: read through ``rules.selectors``, write through ``rules.services``; a service error is
shown next to the form that caused it, with everything the user typed kept.
"""

from __future__ import annotations

import base64
import binascii
import os
import re
from collections.abc import Mapping
from decimal import Decimal, InvalidOperation
from typing import Any
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import get_language, gettext_lazy
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from accounts import permissions
from accounts.roles import BUILTIN_ROLES
from core.errors import PermissionDenied, ServiceError, ValidationFailed

from . import selectors
from .models import Alert, AlertStatus, PackStatus, Severity
from .services import alerts as alert_services
from .spec import spec_of

PAGE_SIZE = 20
MAX_PACK_BYTES = 1024 * 1024
MAX_SIGNATURE_BYTES = 16 * 1024

STEPS = {
    "acknowledge": gettext_lazy("预警已确认。"),
    "rectify": gettext_lazy("整改信息已提交，等待核销。"),
    "close": gettext_lazy("预警已核销关闭。"),
    "reject": gettext_lazy("整改已退回。"),
}


class _CountedPaginator(Paginator):
    """A paginator told the count up front (the tab counts already counted the set)."""

    def __init__(self, object_list: Any, per_page: int, *, count: int) -> None:
        super().__init__(object_list, per_page)
        self._known = count

    @property
    def count(self) -> int:  # type: ignore[override]
        return self._known


def _page_of(request: HttpRequest, items: Any, size: int = PAGE_SIZE, *, count: int | None = None) -> Any:
    """The requested page (a bad number reads as 1, one past the end as the last page)."""
    raw = str(request.GET.get("page") or "1")
    number = int(raw) if raw.isascii() and raw.isdigit() and int(raw) > 0 else 1
    paginator = Paginator(items, size) if count is None else _CountedPaginator(items, size, count=count)
    return paginator.page(min(number, paginator.num_pages))


def _require_alerts(user: Any) -> None:
    if not selectors.can_see_alerts(user):
        raise PermissionDenied("您没有“查看预警”的权限。", code="permission_denied")


# Showing an alert's explanation ---------------------------------------------------------------------------------


def value_shown(value: Any) -> str:
    """A JSON value of a trace or of the quoted values, as a person reads it (是/否/空, lists in brackets)."""
    if value is True:
        return _("是")
    if value is False:
        return _("否")
    if value is None:
        return _("空")
    if isinstance(value, list):
        return "[" + ", ".join(value_shown(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k}: {value_shown(v)}" for k, v in value.items()) + "}"
    return str(value)


# How the ledger's own names read; indicators say their format in the type's or the pack's configuration.
LEDGER_FORMATS = {
    "预算": "money", "已下达预算": "money", "已支出": "money", "合同金额": "money",
    "实际进度": "percent", "计划进度": "percent",
}  # fmt: skip


def value_formats(alert: Alert) -> dict[str, str]:
    """The display format (money, percent, days …) of each name an alert quotes."""
    formats = dict(LEDGER_FORMATS)
    project = alert.project
    if project.type_version_id:
        for item in project.type_version.effective.get("indicators") or []:
            formats[item["name"]] = item.get("format", "number")
    for name, _expr, fmt in spec_of(alert.rule).indicators:
        formats[name] = fmt
    return formats


def formatted(value: Any, fmt: str) -> str:
    """A quoted value in its format: 8.00%, ¥1,080,000.00, 55 天; anything else as ``value_shown`` reads it."""
    try:
        number = Decimal(str(value)) if isinstance(value, str | int) and not isinstance(value, bool) else None
    except InvalidOperation:
        number = None
    if number is not None and fmt == "percent":
        return f"{(number * 100).quantize(Decimal('0.01'))}%"
    if number is not None and fmt == "money":
        return f"¥{number.quantize(Decimal('0.01')):,}"
    if (
        isinstance(value, str)
        and value.startswith("P")
        and value.endswith("D")
        and value[1:-1].lstrip("-").isdigit()
    ):
        return _("%(n)s 天") % {"n": value[1:-1]}
    return value_shown(value)


def trace_view(node: Any, depth: int = 0) -> dict[str, Any] | None:
    """``Alert.trace`` (``{text, value, evaluated, children}``) as nodes the template renders as a tree."""
    if not isinstance(node, Mapping) or depth > 64:
        return None
    evaluated = node.get("evaluated", True)
    value = node.get("value")
    children = [c for c in (trace_view(child, depth + 1) for child in node.get("children") or []) if c]
    text = str(node.get("text", ""))
    shown = value_shown(value) if evaluated else _("未计算")
    if not evaluated:
        tone = "skipped"
    elif value is True:
        tone = "true"
    elif value is False:
        tone = "false"
    elif value is None:
        tone = "null"
    else:
        tone = "value"
    return {
        "text": text,
        "shown": shown,
        "tone": tone,
        "children": children,
        "literal": not children and evaluated and text == shown,
    }


VERSION_LABELS = {
    "rule_pack": gettext_lazy("规则包"),
    "rule_pack_checksum": gettext_lazy("规则包校验和"),
    "project_type": gettext_lazy("项目类型"),
    "form": gettext_lazy("立项表单"),
}


def versions_view(versions: Mapping[str, Any]) -> list[tuple[str, str]]:
    return [(str(VERSION_LABELS.get(key, key)), value_shown(value)) for key, value in versions.items()]


# The inbox -----------------------------------------------------------------------------------------------------


@login_required
@require_GET
def alert_inbox(request: HttpRequest) -> HttpResponse:
    """预警收件箱: 待处理 (what the user can act on now) and 全部, filtered, severest and oldest first."""
    _require_alerts(request.user)
    default_tab = "todo" if selectors.can_work_alerts(request.user) else "all"
    filters, errors = selectors.alert_filters_parse(request.GET, default_tab=default_tab)
    counts = selectors.alert_tab_counts(user=request.user, filters=filters)
    alerts = selectors.alert_list(user=request.user, filters=filters)
    page = _page_of(request, alerts, count=counts[filters.tab])

    def link(**overrides: Any) -> str:
        return "?" + urlencode(filters.as_query(**overrides))

    context = {
        "filters": filters,
        "errors": errors,
        "page": page,
        "alerts": [_decorate(a) for a in page.object_list],
        "counts": counts,
        "tabs": [
            ("todo", _("待处理"), counts["todo"], link(tab="todo", page=None)),
            ("all", _("全部"), counts["all"], link(tab="all", page=None)),
        ],
        "statuses": AlertStatus.choices,
        "severities": Severity.choices,
        "pager": {
            "previous": link(page=page.number - 1) if page.has_previous() else "",
            "next": link(page=page.number + 1) if page.has_next() else "",
        },
        "unread": selectors.unread_count(request.user),
        "filtered": bool(filters.status or filters.severity or filters.search),
    }
    return render(request, "rules/inbox.html", context, status=400 if errors else 200)


def _decorate(alert: Any) -> Any:
    alert.severity_tone = {Severity.SEVERE: "severe", Severity.WARNING: "warning"}.get(alert.severity, "info")
    alert.url = reverse("rules:alert-show", args=[alert.pk])
    return alert


# One alert -----------------------------------------------------------------------------------------------------


def _alert_context(request: HttpRequest, alert: Any) -> dict[str, Any]:
    rule = alert.rule
    article = rule.article
    formats = value_formats(alert)
    return {
        "alert": _decorate(alert),
        "rule": rule,
        "pack": rule.pack,
        "article": article,
        "article_url": (
            reverse("rules:regulation-show", args=[article.regulation_id]) + f"#article-{article.pk}"
            if article
            else ""
        ),
        "trace": trace_view(alert.trace),
        "values": [
            (name, formatted(value, formats.get(name, ""))) for name, value in (alert.values or {}).items()
        ],
        "versions": versions_view(alert.versions or {}),
        "events": list(alert.events.all()),
        "actions": selectors.alert_actions(request.user, alert),
        "project_url": reverse("project-show", args=[alert.project_id]),
        "errors": {},
        "posted": {},
    }


@login_required
@require_GET
def alert_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """One alert: what fired and why (the explanation), its history, and the steps this user may take."""
    alert = selectors.alert_get(user=request.user, pk=pk)
    return render(request, "rules/alert.html", _alert_context(request, alert))


def _version(raw: str | None) -> int | None:
    raw = (raw or "").strip()
    return int(raw) if raw.isascii() and raw.isdigit() else None


@login_required
@require_POST
def alert_step(request: HttpRequest, pk: int, step: str) -> HttpResponse:
    """One step of the closed loop (确认, 提交整改, 核销关闭, 退回) through its service."""
    if step not in STEPS:
        raise Http404
    alert = selectors.alert_get(user=request.user, pk=pk)
    post = request.POST
    expected = _version(post.get("version"))
    try:
        if step == "acknowledge":
            alert_services.alert_acknowledge(
                actor=request.user, alert=alert, note=post.get("note", ""), expected_version=expected
            )
        elif step == "rectify":
            alert_services.alert_rectify(
                actor=request.user,
                alert=alert,
                cause=post.get("cause", ""),
                action=post.get("action", ""),
                deadline=post.get("deadline", ""),
                evidence=request.FILES.get("evidence"),
                expected_version=expected,
            )
        elif step == "close":
            alert_services.alert_close(
                actor=request.user, alert=alert, note=post.get("note", ""), expected_version=expected
            )
        else:
            alert_services.alert_reject(
                actor=request.user, alert=alert, note=post.get("note", ""), expected_version=expected
            )
    except ServiceError as error:
        fresh = selectors.alert_get(user=request.user, pk=pk)
        context = _alert_context(request, fresh)
        context["errors"] = {step: error}
        context["posted"] = {step: post}
        if step not in context["actions"]:  # the alert moved on: its form is gone, say why at the top
            context["step_error"] = error
        return render(request, "rules/alert.html", context, status=error.status)
    messages.success(request, str(STEPS[step]))
    return redirect("rules:alert-show", pk=pk)


@login_required
@require_GET
def alert_evidence(request: HttpRequest, pk: int) -> FileResponse:
    """The 整改 evidence file, to whoever may see the alert (media is not served publicly)."""
    alert = selectors.alert_get(user=request.user, pk=pk)
    if not alert.evidence:
        raise Http404
    name = os.path.basename(alert.evidence.name)
    return FileResponse(alert.evidence.open("rb"), as_attachment=True, filename=name)


# Notifications -------------------------------------------------------------------------------------------------


@login_required
@require_GET
def notification_list(request: HttpRequest) -> HttpResponse:
    """The user's in-app notifications, newest first, unread ones marked."""
    only_unread = request.GET.get("unread") == "1"
    page = _page_of(
        request, selectors.notification_list(user=request.user, unread=True if only_unread else None)
    )
    return render(
        request,
        "rules/notifications.html",
        {"page": page, "only_unread": only_unread, "unread": selectors.unread_count(request.user)},
    )


@login_required
@require_POST
def notifications_read(request: HttpRequest) -> HttpResponse:
    """Mark one, several (``id``) or all of the user's notifications read."""
    raw = request.POST.getlist("id")
    ids = [int(i) for i in raw if i.isascii() and i.isdigit()] if raw else None
    count = alert_services.notifications_read(actor=request.user, ids=ids)
    messages.success(request, _("已将 %(n)s 条通知标为已读。") % {"n": count})
    target = request.POST.get("next", "")
    if target.startswith("/") and not target.startswith("//"):
        return redirect(target)
    return redirect("rules:notification-list")


# Rule packs ----------------------------------------------------------------------------------------------------


@login_required
@require_GET
def pack_list(request: HttpRequest) -> HttpResponse:
    """政策规则包: the packs in force and those they superseded, per org, with checksum and signature."""
    permissions.require(request.user, "rulepack.manage")
    packs = list(selectors.pack_list(user=request.user))
    groups: dict[Any, list[Any]] = {}
    for pack in packs:
        groups.setdefault(pack.org, []).append(pack)
    return render(
        request,
        "rules/packs.html",
        {"groups": list(groups.items()), "can_load": selectors.pack_orgs(request.user).exists()},
    )


@login_required
@require_GET
def pack_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """One pack: its metadata and every rule with how it runs (in the database, or in Python and why)."""
    permissions.require(request.user, "rulepack.manage")
    pack = selectors.pack_get(user=request.user, pk=pk)
    rules = list(pack.rules.all())
    english = (get_language() or "").startswith("en")
    for rule in rules:
        rule.in_database = _in_database(rule.verdict)
        rule.notify_names = [_role_name(code, english) for code in rule.notify or ()]
        rule.article_url = (
            reverse("rules:regulation-show", args=[rule.article.regulation_id])
            + f"#article-{rule.article_id}"
            if rule.article_id
            else ""
        )
    return render(
        request,
        "rules/pack.html",
        {"pack": pack, "rules": rules, "is_active": pack.status == PackStatus.ACTIVE},
    )


def _role_name(code: str, english: bool) -> str:
    role = BUILTIN_ROLES.get(code)
    if role is None:
        return code
    return role.name_en if english else role.name


def _in_database(verdict: str) -> bool:
    """A rule's verdict is empty or says 在数据库中执行 when its sweep runs as SQL; otherwise it names the reason."""
    text = (verdict or "").strip()
    return text in ("", "database", "sql", "在数据库中执行") or text.startswith("在数据库中执行")


def _b64(data: bytes | None) -> str:
    return base64.b64encode(data).decode("ascii") if data else ""


def _unb64(text: str, limit: int) -> bytes | None:
    text = (text or "").strip()
    if not text:
        return None
    if len(text) > limit * 4 // 3 + 8:
        raise ValidationFailed("上传内容过大。", fields={"file": [_("文件过大")]})
    try:
        return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        raise ValidationFailed(
            "上传内容已损坏，请重新选择文件。", fields={"file": ["请重新选择文件"]}
        ) from None


def _read_upload(upload: Any, limit: int, field: str, label: str) -> bytes | None:
    if upload is None:
        return None
    if upload.size > limit:
        raise ValidationFailed(f"{label}过大。", fields={field: [f"{label}：不能超过 {limit // 1024} KB"]})
    return upload.read()


@login_required
def pack_upload(request: HttpRequest) -> HttpResponse:
    """Upload a pack: test it and preview its impact (nothing written), then confirm to load it.

    The uploaded bytes travel between the two steps in hidden base64 fields and are checked again on load, so
    what is loaded is exactly what was previewed, and a tampered or stale form is refused by the service.
    """
    from .services import packs as pack_services

    permissions.require(request.user, "rulepack.manage")
    orgs = list(selectors.pack_orgs(request.user))
    context: dict[str, Any] = {"orgs": orgs, "step": "choose", "errors": {}, "error": None, "posted": {}}
    if request.method != "POST":
        own = next((o for o in orgs if o.pk == request.user.org_id), orgs[0] if len(orgs) == 1 else None)
        context["posted"] = {"org": own.code if own else ""}
        return render(request, "rules/pack_upload.html", context)

    post = request.POST
    op = post.get("op", "check")
    context["posted"] = {"org": post.get("org", "")}
    status = 200
    try:
        org = next((o for o in orgs if o.code == post.get("org", "")), None)
        if org is None:
            raise ValidationFailed("请选择适用机构。", fields={"org": [_("适用机构：请选择您可管理的机构")]})
        if op == "load" and not request.FILES.get("file"):
            source = _unb64(post.get("source", ""), MAX_PACK_BYTES)
            signature = _unb64(post.get("signature_b64", ""), MAX_SIGNATURE_BYTES)
            filename = os.path.basename(post.get("filename", ""))[:200]
        else:
            upload = request.FILES.get("file")
            source = _read_upload(upload, MAX_PACK_BYTES, "file", "规则包文件")
            signature = _read_upload(
                request.FILES.get("signature"), MAX_SIGNATURE_BYTES, "signature", "签名文件"
            )
            filename = os.path.basename(getattr(upload, "name", "") or "")[:200]
        if not source:
            raise ValidationFailed(
                "请选择规则包文件。", fields={"file": [_("规则包文件：请选择 .yaml 文件")]}
            )
        context.update(
            source_b64=_b64(source),
            signature_b64=_b64(signature),
            filename=filename,
            org=org,
            has_signature=bool(signature),
        )
        if op == "load":
            pack = pack_services.pack_load(
                actor=request.user, org=org, source=source, filename=filename, signature=signature
            )
            messages.success(
                request,
                _("规则包“%(name)s” v%(version)s 已加载到%(org)s。")
                % {"name": pack.name, "version": pack.version, "org": org.name},
            )
            return redirect("rules:pack-show", pk=pack.pk)
        report = pack_services.pack_test(source=source, filename=filename, org=org)
        context["report"] = report
        context["step"] = "checked"
        problems = [_problem(_where(p.file, p.line, p.path), p.message) for p in report.failures()]
        if not report.problems:  # it parsed: type-check it on every type in scope, and preview the impact
            try:
                preview = pack_services.pack_preview(
                    actor=request.user, org=org, source=source, filename=filename
                )
            except ValidationFailed as error:
                context["check_error"] = error
                problems = _problems(error.fields) + problems
            else:
                if report.ok:
                    context["preview"] = preview
                    context["step"] = "preview"
        if problems:
            context["problems"] = sorted(problems, key=lambda row: (row["line"] is None, row["line"] or 0))
            status = 400
    except ServiceError as error:
        context["error"] = error
        context["errors"] = {k: v for k, v in error.fields.items() if k in _FORM_FIELDS}
        context["problems"] = _problems(error.fields)
        status = error.status
    if context.get("problems") and context.get("source_b64"):
        context["listing"] = _listing(base64.b64decode(context["source_b64"]), context["problems"])
    return render(request, "rules/pack_upload.html", context, status=status)


_FORM_FIELDS = ("org", "file", "signature")
_LOCATION = re.compile(r"^(?P<file>.*?):(?P<line>\d+)(?::\s*(?P<path>.*))?$")


def _where(file: str, line: int | None, path: str) -> str:
    where = f"{file}:{line}" if line is not None else file
    return f"{where}: {path}" if path else where


def _problem(where: str, message: str) -> dict[str, Any]:
    match = _LOCATION.match(where)
    return {
        "where": where,
        "line": int(match.group("line")) if match else None,
        "path": (match.group("path") or "") if match else "",
        "message": message,
    }


def _problems(fields: Mapping[str, list[str]]) -> list[dict[str, Any]]:
    """Errors keyed by ``file:line: path`` as rows in file order (the form's own fields are shown at the form)."""
    rows = [
        _problem(where, message)
        for where, found in fields.items()
        if where not in _FORM_FIELDS
        for message in found
    ]
    return sorted(rows, key=lambda row: (row["line"] is None, row["line"] or 0))


def _listing(source: bytes, problems: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The pack file's lines, each with the problems found on it, to show errors in place."""
    text = source.decode("utf-8-sig", errors="replace")
    by_line: dict[int, list[dict[str, Any]]] = {}
    for problem in problems:
        if problem["line"] is not None:
            by_line.setdefault(problem["line"], []).append(problem)
    lines = text.splitlines() or [""]
    return [
        {"number": n, "text": body, "problems": by_line.get(n, [])} for n, body in enumerate(lines, start=1)
    ][:2000]


# The policy library --------------------------------------------------------------------------------------------


@login_required
@require_GET
def regulation_list(request: HttpRequest) -> HttpResponse:
    """法规政策库: the regulations rule packs rest on."""
    return render(request, "rules/regulations.html", {"regulations": selectors.regulation_list()})


@login_required
@require_GET
def regulation_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """One regulation with an anchor per article (``#article-<id>``), which alerts and rules link to."""
    regulation = selectors.regulation_get(pk)
    return render(
        request,
        "rules/regulation.html",
        {"regulation": regulation, "articles": list(regulation.articles.all())},
    )
