"""Permission-checked reads of alerts, notifications, rule packs and the policy library.

Pages and the API start every read here, so no view hand-builds a query or forgets the org scope:

* an alert is visible to whoever may view (``alert.view``) or handle (``alert.handle``) its project's org;
* an alert *awaits* a user (the inbox's 待处理 tab) when the user may act on it in its current status: the
  responsible unit (``alert.handle``) acknowledges and rectifies open and acknowledged alerts, the rule's owner
  (``alert.verify`` at the org that loaded the pack) verifies rectifying ones;
* packs are read by regulators (``rulepack.manage``) at, above or below their grants (packs in force are inherited
  down the tree); the policy library is public law and open to every signed-in user.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django.db.models import Case, Count, IntegerField, OuterRef, Prefetch, Q, QuerySet, Subquery, Value, When
from django.db.models.functions import Coalesce

from accounts import permissions
from core.errors import NotFound

from .models import (
    OPEN_STATUSES,
    Alert,
    AlertEvent,
    AlertStatus,
    Article,
    Notification,
    Regulation,
    Rule,
    RulePack,
    Severity,
)

if TYPE_CHECKING:
    from orgs.models import Org

#: The inbox's tabs: 待处理 (what the user can act on now) and 全部 (everything the user may see).
TABS = ("todo", "all")
HANDLER_STATUSES = (AlertStatus.OPEN, AlertStatus.ACKNOWLEDGED)
MAX_SEARCH = 100

SEVERITY_RANK = Case(
    When(severity=Severity.SEVERE, then=Value(3)),
    When(severity=Severity.WARNING, then=Value(2)),
    default=Value(1),
    output_field=IntegerField(),
)
IS_OPEN = Case(When(status__in=OPEN_STATUSES, then=Value(1)), default=Value(0), output_field=IntegerField())


def _under(lookup: str, paths: list[str]) -> Q:
    """Rows whose ``lookup`` (an org path) lies under one of ``paths``; matches nothing when ``paths`` is empty."""
    if not paths:
        return Q(pk__isnull=True)  # never true, yet compiles inside a filtered aggregate
    condition = Q()
    for path in paths:
        condition |= Q(**{f"{lookup}__startswith": path})
    return condition


def _visible_q(user: Any) -> Q:
    paths = sorted(
        set(permissions.scope_paths(user, "alert.view")) | set(permissions.scope_paths(user, "alert.handle"))
    )
    return _under("project__org__path", paths)


def alert_todo_q(user: Any) -> Q:
    """The alerts waiting for ``user``: open/acknowledged ones it handles, rectifying ones whose rule it owns."""
    handles = _under("project__org__path", permissions.scope_paths(user, "alert.handle"))
    verifies = _under("rule__pack__org__path", permissions.scope_paths(user, "alert.verify"))
    return (Q(status__in=HANDLER_STATUSES) & handles) | (Q(status=AlertStatus.RECTIFYING) & verifies)


def alert_visible(user: Any) -> QuerySet[Alert]:
    """Every alert ``user`` may see (on projects in its ``alert.view`` or ``alert.handle`` scope)."""
    return Alert.objects.filter(_visible_q(user))


def can_work_alerts(user: Any) -> bool:
    """Whether the user handles or verifies alerts anywhere (so the inbox opens on 待处理, not 全部)."""
    actions = permissions.actions_of(user)
    return bool({"alert.handle", "alert.verify"} & actions)


def can_see_alerts(user: Any) -> bool:
    return bool({"alert.view", "alert.handle", "alert.verify"} & permissions.actions_of(user))


@dataclass(frozen=True)
class AlertFilters:
    """What the inbox or the API was asked for, checked for shape. Empty means "no filter"."""

    tab: str = "all"
    status: str = ""
    severity: str = ""
    search: str = ""
    project: int | None = None
    org: str = ""

    def as_query(self, **overrides: Any) -> dict[str, str]:
        out = {
            "tab": self.tab,
            "status": self.status,
            "severity": self.severity,
            "search": self.search,
            "project": "" if self.project is None else str(self.project),
            "org": self.org,
        }
        out.update({k: "" if v is None else str(v) for k, v in overrides.items()})
        return {k: v for k, v in out.items() if v}


def alert_filters_parse(
    params: Any, *, default_tab: str = "all"
) -> tuple[AlertFilters, dict[str, list[str]]]:
    """Read filters from query parameters. Returns the filters (bad values dropped) and the errors per field."""

    def get(key: str) -> str:
        value = params.get(key)
        return "" if value is None else str(value).strip()

    errors: dict[str, list[str]] = {}
    tab = get("tab") or default_tab
    if tab not in TABS:
        errors["tab"] = ["分类：只能是 todo（待处理）或 all（全部）"]
        tab = default_tab
    status = get("status")
    if status and status not in AlertStatus.values:
        errors["status"] = [f"状态：必须是 {'、'.join(AlertStatus.values)} 之一"]
        status = ""
    severity = get("severity")
    if severity and severity not in Severity.values:
        errors["severity"] = [f"级别：必须是 {'、'.join(Severity.values)} 之一"]
        severity = ""
    search = get("search") or get("q")
    if len(search) > MAX_SEARCH or any(ord(c) < 32 for c in search):
        errors["search"] = [f"搜索：不能超过 {MAX_SEARCH} 个字，且不能包含不可见字符"]
        search = ""
    project: int | None = None
    if raw := get("project"):
        if raw.isascii() and raw.isdigit():
            project = int(raw)
        else:
            errors["project"] = ["项目：应为项目编号（整数）"]
    org = get("org")
    if org and (len(org) > 64 or any(ord(c) < 33 for c in org)):
        errors["org"] = ["机构：机构编码格式不正确"]
        org = ""
    filters = AlertFilters(tab=tab, status=status, severity=severity, search=search, project=project, org=org)
    return filters, errors


def _filtered(user: Any, filters: AlertFilters) -> QuerySet[Alert]:
    """The visible alerts matching every filter but the tab."""
    from orgs.models import Org

    qs = alert_visible(user)
    if filters.status:
        qs = qs.filter(status=filters.status)
    if filters.severity:
        qs = qs.filter(severity=filters.severity)
    if filters.project is not None:
        qs = qs.filter(project_id=filters.project)
    if filters.org:
        path = Org.objects.filter(code=filters.org).values_list("path", flat=True).first()
        # An unknown org and one outside the scope give the same empty answer: nothing leaks.
        qs = qs.filter(project__org__path__startswith=path) if path else qs.none()
    if filters.search:
        text = filters.search
        qs = qs.filter(
            Q(message__icontains=text) | Q(project__name__icontains=text) | Q(project__code__icontains=text)
        )
    return qs


def alert_list(*, user: Any, filters: AlertFilters) -> QuerySet[Alert]:
    """The alerts of one inbox tab: open before closed, severest first, then the oldest first."""
    qs = _filtered(user, filters)
    if filters.tab == "todo":
        qs = qs.filter(alert_todo_q(user))
    return (
        qs.select_related("project", "project__org", "org", "rule", "rule__pack")
        .annotate(severity_rank=SEVERITY_RANK, is_open_rank=IS_OPEN)
        .order_by("-is_open_rank", "-severity_rank", "fired_at", "id")
    )


def alert_tab_counts(*, user: Any, filters: AlertFilters) -> dict[str, int]:
    """How many alerts each tab holds under the other filters, in one aggregate query."""
    row = (
        _filtered(user, filters)
        .order_by()
        .aggregate(n_all=Count("pk"), n_todo=Count("pk", filter=alert_todo_q(user)))
    )
    return {"todo": row["n_todo"] or 0, "all": row["n_all"] or 0}


def alert_get(*, user: Any, pk: Any) -> Alert:
    """One alert the user may see, with everything its page shows, or NotFound (never a hint it exists)."""
    try:
        return (
            alert_visible(user)
            .select_related(
                "project",
                "project__org",
                "org",
                "rule",
                "rule__pack",
                "rule__pack__org",
                "rule__pack__regulation",
                "rule__article",
                "rule__article__regulation",
                "acknowledged_by",
                "closed_by",
            )
            .prefetch_related(
                Prefetch("events", queryset=AlertEvent.objects.select_related("actor").order_by("at", "id"))
            )
            .get(pk=pk)
        )
    except (Alert.DoesNotExist, ValueError, TypeError):
        raise NotFound("预警不存在或您无权查看。") from None


def alert_actions(user: Any, alert: Alert) -> list[str]:
    """The steps of the closed loop ``user`` may take on ``alert`` now: acknowledge, rectify, close, reject."""
    out = []
    if alert.status in HANDLER_STATUSES and permissions.can(user, "alert.handle", alert):
        if alert.status == AlertStatus.OPEN:
            out.append("acknowledge")
        out.append("rectify")
    if alert.status == AlertStatus.RECTIFYING and permissions.can(user, "alert.verify", alert.rule.pack.org):
        out += ["close", "reject"]
    return out


def project_open_alerts(*, user: Any, project: Any) -> list[Alert]:
    """The open alerts of one project the user may see, severest and oldest first (for the project page)."""
    if not (permissions.can(user, "alert.view", project) or permissions.can(user, "alert.handle", project)):
        return []
    return list(
        project.alerts.filter(status__in=OPEN_STATUSES)
        .select_related("org", "rule__pack")
        .annotate(severity_rank=SEVERITY_RANK)
        .order_by("-severity_rank", "fired_at", "id")
    )


def open_alert_count() -> Coalesce:
    """An annotation: the project's open alerts, as a correlated subquery (no extra query for a page of rows)."""
    counted = (
        Alert.objects.filter(project=OuterRef("pk"), status__in=OPEN_STATUSES)
        .order_by()
        .values("project")
        .annotate(n=Count("pk"))
        .values("n")[:1]
    )
    return Coalesce(Subquery(counted, output_field=IntegerField()), Value(0))


def open_alert_counts(project_ids: list[int]) -> dict[int, int]:
    """Open alerts per project for a page of the ledger: one grouped query, whatever the page size."""
    if not project_ids:
        return {}
    rows = (
        Alert.objects.filter(project_id__in=project_ids, status__in=OPEN_STATUSES)
        .order_by()
        .values("project_id")
        .annotate(n=Count("pk"))
    )
    return {row["project_id"]: row["n"] for row in rows}


def notification_list(*, user: Any, unread: bool | None = None) -> QuerySet[Notification]:
    """The user's own notifications, newest first."""
    qs = Notification.objects.filter(user=user).select_related("alert", "alert__project")
    if unread is True:
        qs = qs.filter(read_at__isnull=True)
    elif unread is False:
        qs = qs.filter(read_at__isnull=False)
    return qs.order_by("-created_at", "-id")


def unread_count(user: Any) -> int:
    return Notification.objects.filter(user=user, read_at__isnull=True).count()


def todo_count(user: Any) -> int:
    """How many alerts wait for the user (the header badge); no query when the user works no alerts."""
    if not can_work_alerts(user):
        return 0
    return alert_visible(user).filter(alert_todo_q(user)).count()


# Rule packs and the policy library -----------------------------------------------------------------------------


def pack_visible(user: Any) -> QuerySet[RulePack]:
    """Packs a regulator may read: loaded at, above or below the orgs where it manages packs."""
    return permissions.applicable(user, "rulepack.manage", RulePack.objects.all())


def pack_list(*, user: Any) -> QuerySet[RulePack]:
    """Active and superseded packs per org, newest version first."""
    return (
        pack_visible(user)
        .select_related("org", "regulation", "loaded_by")
        .annotate(rule_count=Count("rules"))
        .order_by("org__path", "code", "-loaded_at", "-id")
    )


def pack_get(*, user: Any, pk: Any) -> RulePack:
    try:
        return (
            pack_visible(user)
            .select_related("org", "regulation", "loaded_by", "supersedes")
            .prefetch_related(
                Prefetch(
                    "rules",
                    queryset=Rule.objects.select_related("article", "article__regulation").order_by(
                        "position"
                    ),
                )
            )
            .get(pk=pk)
        )
    except (RulePack.DoesNotExist, ValueError, TypeError):
        raise NotFound("规则包不存在或您无权查看。") from None


def pack_orgs(user: Any) -> QuerySet[Org]:
    """The orgs at which the user may load a pack (its ``rulepack.manage`` subtrees), in tree order."""
    from orgs.models import Org

    return permissions.visible(user, "rulepack.manage", Org.objects.filter(is_active=True)).order_by("path")


def regulation_list() -> QuerySet[Regulation]:
    return Regulation.objects.annotate(article_count=Count("articles")).order_by("title")


def regulation_get(pk: Any) -> Regulation:
    try:
        return Regulation.objects.prefetch_related(
            Prefetch("articles", queryset=Article.objects.order_by("id"))
        ).get(pk=pk)
    except (Regulation.DoesNotExist, ValueError, TypeError):
        raise NotFound("法规不存在。") from None
