"""The rule editor of the configuration studio: a page, and the JSON endpoints its editor talks to.

Everything the editor knows comes from the server, so it can never disagree with what runs: the highlighter's
keywords, functions and literal patterns come from the DSL's own lexer tables and grammar (``/vocabulary/``), the
diagnostics from ``dsl.diagnose`` (``/check/``), the verdict from ``rules.sql.verdict``, the trial run from
``CompiledExpr.explain`` on ``rules.context.project_record`` (``/try/``) and the impact from
``rules.sweep.matching_ids`` (``/impact/``). Errors are ``{code, message, fields}`` with a 4xx status; a rule that
does not parse or check is not an error but a list of diagnostics.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

import dsl
from accounts import permissions
from core.errors import NotFound, ValidationFailed
from dsl.functions import FUNCTIONS
from dsl.lexer import KEYWORDS
from dsl.parser import terminals
from dsl.values import to_json
from orgs.models import Org
from projects.models import Project
from projects.selectors_types import project_type_list
from rules import sql
from rules.context import RuleContext, project_record
from rules.spec import RuleSpec
from rules.sweep import matching_ids

from .endpoints import diagnostic, json_endpoint, json_ok, lang, read_json, require_studio_view
from .rule_publish import publish_context

MAX_SOURCE = 4000
MAX_BODY = 20_000
IMPACT_SHOWN = 50
PROJECTS_SHOWN = 200
# Terminals of the grammar the highlighter reads as they are (patterns shared by Python's and JavaScript's regexes).
PATTERNS = ("DATE", "NUMBER", "STRING", "QNAME", "COMP_OP", "COMMENT")


_endpoint = json_endpoint()


def _source(body: dict[str, Any]) -> str:
    source = body.get("source")
    if not isinstance(source, str):
        raise ValidationFailed(_("缺少规则条件。"), fields={"source": [_("请填写规则条件。")]})
    if len(source) > MAX_SOURCE:
        raise ValidationFailed(
            _("规则条件过长。"), fields={"source": [_("最多 %(n)d 个字符。") % {"n": MAX_SOURCE}]}
        )
    return source


def _type(user: Any, code: Any):
    """The project type ``code`` the user may see, with its newest published version."""
    if not isinstance(code, str) or not code:
        raise ValidationFailed(_("请选择项目类型。"), fields={"type": [_("请选择项目类型。")]})
    ptype = project_type_list(user=user).filter(code=code).first()
    if ptype is None:
        raise NotFound(_("项目类型不存在或您无权查看。"))
    version = ptype.published()
    if version is None:
        raise ValidationFailed(
            _("该项目类型还没有发布的版本。"), fields={"type": [_("该项目类型还没有发布的版本。")]}
        )
    return ptype, version


def _spec(ptype: Any, source: str) -> RuleSpec:
    return RuleSpec(code="studio", name=_("规则编辑器"), when=source, types=(ptype.code,))


def _diagnostics(source: str, ctx: RuleContext) -> list[dict[str, Any]]:
    return [diagnostic(e) for e in dsl.diagnose(source, ctx.catalogue, expect=dsl.BOOL)]


def _verdict(source: str, ctx: RuleContext) -> dict[str, Any]:
    reason = sql.verdict(ctx.check(source), ctx)
    if reason is None:
        return {"in_database": True, "text": _("在数据库中执行")}
    return {
        "in_database": False,
        "reason": reason,
        "text": _("在 Python 中执行：%(reason)s 无法编译为 SQL") % {"reason": reason},
    }


# The page -------------------------------------------------------------------------------------------------------


@login_required
@require_GET
def rule_editor(request: HttpRequest) -> HttpResponse:
    """The rule editor: type picker, editor with live diagnostics and verdict, 试算 and 影响范围 panels."""
    user = request.user
    require_studio_view(user)
    types = [t for t in project_type_list(user=user) if t.published() is not None]
    orgs = permissions.visible(user, "project.view", Org.objects.all()).order_by("path")[:PROJECTS_SHOWN]
    return render(
        request,
        "admin_ui/rule_editor.html",
        {
            "types": types,
            "selected_type": request.GET.get("type", ""),
            "orgs": orgs,
            "i18n": {
                "checking": _("正在检查…"),
                "position": _("第{line}行第{column}列"),
                "valueLine": _("取值：{value}（{verdict}）"),
                "fires": _("会触发"),
                "quiet": _("不触发"),
                "noProjects": _("没有可试算的该类型项目。"),
                "count": _("共 {n} 个项目会触发："),
                "none": _("没有项目会触发。"),
                "truncated": _("仅列出前 50 个。"),
                "fixFirst": _("请先修正条件中的错误。"),
                "empty": _("请先输入触发条件。"),
                "failed": _("请求失败，请稍后重试。"),
                "function": _("函数"),
                "keyword": _("关键字"),
                "indicator": _("指标"),
                "trace": _("计算过程"),
                "yes": _("是"),
                "no": _("否"),
                "null": _("空"),
                "publishPreviewing": _("正在生成新版本并检查…"),
                "publishChanges": _("与现行 v{previous} 相比："),
                "publishNew": _("新规则包 {code} v{version}"),
                "publishNext": _("将发布 {code} v{version}"),
                "publishTests": _("内嵌测试：{passed} 项通过"),
                "publishFiring": _("{code} {name}（{change}）：命中 {n} 个项目"),
                "publishConfirm": _("确认发布 {code} v{version}"),
                "publishDone": _("已发布 {code} v{version}，规则即刻生效。"),
                "publishView": _("查看规则包"),
                "publishProblems": _("未发布：请按下列问题修改"),
                "publishEmpty": _("请填写规则编码和名称。"),
            },
            "urls": {
                "vocabulary": reverse("admin_ui:rule-vocabulary"),
                "projects": reverse("admin_ui:rule-projects"),
                "check": reverse("admin_ui:rule-check"),
                "try": reverse("admin_ui:rule-try"),
                "impact": reverse("admin_ui:rule-impact"),
            },
            **publish_context(user),
        },
    )


# The endpoints --------------------------------------------------------------------------------------------------


def dsl_vocabulary(language: str) -> dict[str, Any]:
    """The DSL's own vocabulary, whatever the project type: functions (with aliases and docs in ``language``),
    keywords, the grammar's literal patterns and punctuation — what every DSL editor highlights and completes."""
    grammar = terminals()
    return {
        "functions": [
            {"name": f.name, "aliases": list(f.aliases), "doc": f.doc_en if language == "en" else f.doc_zh}
            for f in FUNCTIONS.values()
        ],
        "keywords": [{"word": word, "kind": kind} for word, kind in KEYWORDS.items()],
        "patterns": {name: grammar[name][1] for name in PATTERNS if name in grammar},
        "punctuation": sorted(
            {value for kind, value in grammar.values() if kind == "str"}, key=lambda s: -len(s)
        ),
    }


@require_GET
@_endpoint
def rule_vocabulary(request: HttpRequest) -> HttpResponse:
    """What the editor highlights and completes for one type: names, functions, keywords, literal patterns."""
    ptype, version = _type(request.user, request.GET.get("type"))
    ctx = _spec(ptype, "").context(version)
    language = lang()
    names = [
        {
            "name": f.name,
            "type": f.type.en if language == "en" else f.type.zh,
            "label": f.label or "",
            "indicator": bool(f.meta.get("indicator")),
        }
        for f in ctx.catalogue
    ]
    return json_ok(
        {
            "type": {"code": ptype.code, "name": ptype.name, "version": version.number},
            "names": names,
            **dsl_vocabulary(language),
        }
    )


@require_GET
@_endpoint
def rule_projects(request: HttpRequest) -> HttpResponse:
    """Projects of the type the user may view, for the 试算 picker."""
    ptype, _version = _type(request.user, request.GET.get("type"))
    projects = permissions.visible(
        request.user, "project.view", Project.objects.filter(type_version__type=ptype)
    ).select_related("org")
    return json_ok(
        {
            "projects": [
                {"id": p.pk, "name": p.name, "org": str(p.org)}
                for p in projects.order_by("-pk")[:PROJECTS_SHOWN]
            ]
        }
    )


@require_POST
@_endpoint
def rule_check(request: HttpRequest) -> HttpResponse:
    """Diagnostics for ``source`` as a condition of ``type``, and the verdict when it type-checks."""
    body = read_json(request, limit=MAX_BODY)
    source = _source(body)
    ptype, version = _type(request.user, body.get("type"))
    ctx = _spec(ptype, source).context(version)
    diagnostics = _diagnostics(source, ctx)
    return json_ok(
        {
            "ok": not diagnostics,
            "diagnostics": diagnostics,
            "verdict": None if diagnostics else _verdict(source, ctx),
        }
    )


def _project_id(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int | str) or not str(value).isdigit():
        raise ValidationFailed(_("请选择项目。"), fields={"project": [_("请选择项目。")]})
    return int(value)


@require_POST
@_endpoint
def rule_try(request: HttpRequest) -> HttpResponse:
    """The rule's value on one project the user may view, with its explanation."""
    body = read_json(request, limit=MAX_BODY)
    source = _source(body)
    ptype, _version = _type(request.user, body.get("type"))
    project = permissions.get_visible(
        request.user,
        "project.view",
        Project.objects.select_related("type_version", "form_version", "org"),
        pk=_project_id(body.get("project")),
    )
    if project.type_version is None:
        raise ValidationFailed(_("该项目没有项目类型。"), fields={"project": [_("该项目没有项目类型。")]})
    spec = _spec(ptype, source)
    ctx = spec.context(project.type_version, project.form_version if project.form_version_id else None)
    if not spec.applies_to(ctx):
        raise ValidationFailed(
            _("该项目不属于所选项目类型。"), fields={"project": [_("该项目不属于所选项目类型。")]}
        )
    diagnostics = _diagnostics(source, ctx)
    if diagnostics:
        return json_ok({"ok": False, "diagnostics": diagnostics})
    checked = ctx.check(source)
    today = timezone.localdate()
    record = project_record(project, ctx, today=today, needs=ctx.base_reads(checked.reads))
    trace = dsl.compile(checked).explain(record, today=today)
    return json_ok(
        {
            "ok": True,
            "project": {"id": project.pk, "name": project.name, "org": str(project.org)},
            "value": to_json(trace.value),
            "fires": trace.value is True,
            "trace": trace.to_dict(),
            "text": trace.render(lang()),
        }
    )


@require_POST
@_endpoint
def rule_impact(request: HttpRequest) -> HttpResponse:
    """The projects of ``type`` in ``org``'s subtree (those the user may view) where the rule holds today."""
    body = read_json(request, limit=MAX_BODY)
    source = _source(body)
    ptype, version = _type(request.user, body.get("type"))
    raw = body.get("org")
    if raw in (None, ""):
        org = request.user.org
        if org is None or not permissions.can(request.user, "project.view", org):
            raise ValidationFailed(_("请选择机构。"), fields={"org": [_("请选择机构。")]})
    else:
        org = permissions.get_visible(request.user, "project.view", Org.objects.all(), pk=_org_id(raw))
    spec = _spec(ptype, source)
    diagnostics = _diagnostics(source, spec.context(version))
    if diagnostics:
        return json_ok({"ok": False, "diagnostics": diagnostics})
    ids = matching_ids(spec, org, today=timezone.localdate())
    hits = permissions.visible(
        request.user, "project.view", Project.objects.filter(pk__in=ids)
    ).select_related("org")
    count = hits.count()
    return json_ok(
        {
            "ok": True,
            "org": {"id": org.pk, "name": str(org)},
            "count": count,
            "projects": [
                {"id": p.pk, "name": p.name, "org": str(p.org), "url": _project_url(p)}
                for p in hits.order_by("pk")[:IMPACT_SHOWN]
            ],
            "truncated": count > IMPACT_SHOWN,
        }
    )


def _org_id(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int | str) or not str(value).isdigit():
        raise ValidationFailed(_("请选择机构。"), fields={"org": [_("请选择机构。")]})
    return int(value)


def _project_url(project: Any) -> str:
    return reverse("project-show", args=[project.pk])
