"""The one place the unified ledger (统一项目台账) is filtered, sorted, totalled and paged.

The page, the API and the Excel export all call these functions, so a filter means the same thing
everywhere and every list starts from `permissions.visible` (a user never sees another district's
projects, not even in a total).

Reading a request takes two steps:

1. `ledger_filters_parse(params)` checks the *shape* of each parameter (an integer year, a known fund
   source, a whitelisted ordering …) and raises `ValidationFailed` naming every bad field, so the API
   answers 400 `{code, message, fields}` and the page shows the message inline.
2. `ledger_queryset(user, filters)` resolves references against configuration (type codes, stage codes,
   raising `ValidationFailed` for unknown ones) and the permission scope. An org code the user may not
   see behaves exactly like one that does not exist: an empty result, never an error that would
   confirm another district's org exists.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from typing import TYPE_CHECKING, Any

from django.core.paginator import Page, Paginator
from django.db.models import (
    BooleanField,
    Case,
    Count,
    DecimalField,
    Exists,
    ExpressionWrapper,
    F,
    Func,
    OuterRef,
    Q,
    QuerySet,
    Sum,
    Value,
    When,
)
from django.db.models.functions import Greatest
from django.utils import timezone
from django.utils.functional import cached_property

from accounts import permissions
from core.errors import NotFound, ValidationFailed
from orgs.models import Org

from ..config import DEFAULT_STAGES
from ..models import BudgetLine, FundSource, Project, ProjectType, ProjectTypeVersion

if TYPE_CHECKING:
    from accounts.models import User

# Sortable columns: parameter value → Chinese label. Anything else is refused (no sorting by arbitrary fields).
ORDERINGS: dict[str, str] = {
    "code": "项目代码",
    "name": "名称",
    "budget": "预算",
    "spent_total": "已支出",
    "execution_rate": "执行率",
    "updated_at": "更新时间",
}
DEFAULT_ORDERING = "-updated_at"
DEFAULT_FINAL_STAGE = DEFAULT_STAGES[-1]["code"]  # 结项: the final stage of projects without a type
MAX_SEARCH = 100
MAX_PAGE_SIZE = 500
PARAMS = ("org", "type", "stage", "year", "fund_source", "overdue", "has_alerts", "search", "ordering")

_TRUE = frozenset({"1", "true", "yes", "on", "是"})
_FALSE = frozenset({"0", "false", "no", "off", "否"})
_CODE = re.compile(r"^[\w.\-]{1,64}$")
_STAGE = re.compile(r"^[^\x00-\x1f<>\"'&]{1,16}$")
_MONEY = DecimalField(max_digits=20, decimal_places=2)
_RATE = DecimalField(max_digits=24, decimal_places=8)
_ZERO = Decimal("0.00")


@dataclass(frozen=True)
class LedgerFilters:
    """What a user asked the ledger for, already checked for shape. Empty/None means "no filter"."""

    org: str = ""
    type: str = ""
    stage: str = ""
    year: int | None = None
    fund_source: str = ""
    overdue: bool | None = None
    has_alerts: bool | None = None
    search: str = ""
    ordering: str = DEFAULT_ORDERING

    def as_query(self) -> dict[str, str]:
        """The non-default filters as query-string parameters (for links, the export and the audit trail)."""
        out: dict[str, str] = {}
        for f in fields(self):
            value = getattr(self, f.name)
            if value in (None, "") or value == f.default:
                continue
            out[f.name] = ("true" if value else "false") if isinstance(value, bool) else str(value)
        return out

    @property
    def secondary_count(self) -> int:
        """How many filters besides search and ordering are set (shown on the collapsed filter panel)."""
        return len(set(self.as_query()) - {"search", "ordering"})


@dataclass(frozen=True)
class PageRequest:
    number: int = 1
    size: int = 20


@dataclass(frozen=True)
class LedgerTotals:
    """The totals row over exactly the filtered set (not just the current page)."""

    count: int
    budget: Decimal
    allocated: Decimal
    spent: Decimal
    overspend: Decimal

    @property
    def execution_rate(self) -> Decimal | None:
        """已支出 / 预算, to four places (0.01 %); None when nothing is budgeted."""
        return rate(self.spent, self.budget)


def rate(spent: Decimal, budget: Decimal) -> Decimal | None:
    if not budget:
        return None
    return (spent / budget).quantize(Decimal("0.0001"), rounding=ROUND_HALF_UP)


def percent_display(value: Decimal | None) -> str:
    """0.4567 → "45.67%" (四舍五入), None → "—"."""
    if value is None:
        return "—"
    return f"{(Decimal(value) * 100).quantize(Decimal('0.01'), rounding=ROUND_HALF_UP)}%"


def _flag(raw: str, label: str, key: str, errors: dict[str, list[str]]) -> bool | None:
    value = raw.strip().lower()
    if value == "":
        return None
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    errors[key] = [f"{label}：应为 true 或 false"]
    return None


def ledger_filters_parse(params: Mapping[str, Any]) -> LedgerFilters:
    """Read ledger filters from query parameters; raise `ValidationFailed` naming every malformed one.

    `q` is accepted as an alias of `search` (the page's older links used it).
    """

    def get(key: str) -> str:
        value = params.get(key)
        return "" if value is None else str(value).strip()

    errors: dict[str, list[str]] = {}
    org, type_code, stage = get("org"), get("type"), get("stage")
    if org and not _CODE.match(org):
        errors["org"] = ["机构：机构编码格式不正确"]
    if type_code and not _CODE.match(type_code):
        errors["type"] = ["项目类型：类型编码格式不正确"]
    if stage and not _STAGE.match(stage):
        errors["stage"] = ["阶段：格式不正确"]
    year: int | None = None
    if raw_year := get("year"):
        if raw_year.isascii() and raw_year.isdigit() and 1990 <= int(raw_year) <= 2100:
            year = int(raw_year)
        else:
            errors["year"] = ["年度：应为 1990–2100 之间的四位年份"]
    fund_source = get("fund_source")
    if fund_source and fund_source not in FundSource.values:
        errors["fund_source"] = [f"资金来源：必须是 {'、'.join(FundSource.values)} 之一"]
    overdue = _flag(get("overdue"), "是否逾期", "overdue", errors)
    has_alerts = _flag(get("has_alerts"), "是否有预警", "has_alerts", errors)
    search = get("search") or get("q")
    if len(search) > MAX_SEARCH:
        errors["search"] = [f"搜索：不能超过 {MAX_SEARCH} 个字"]
    elif any(ord(c) < 32 for c in search):
        errors["search"] = ["搜索：包含不可见字符"]
    ordering = get("ordering") or DEFAULT_ORDERING
    if ordering.removeprefix("-") not in ORDERINGS:
        allowed = "、".join(ORDERINGS)
        errors["ordering"] = [f"排序：只能按 {allowed} 排序（前加“-”为降序）"]
    if errors:
        raise ValidationFailed("筛选条件有误，请修改后重试。", fields=errors)
    return LedgerFilters(
        org=org,
        type=type_code,
        stage=stage,
        year=year,
        fund_source=fund_source,
        overdue=overdue,
        has_alerts=has_alerts,
        search=search,
        ordering=ordering,
    )


def ledger_page_parse(params: Mapping[str, Any], *, default_size: int) -> PageRequest:
    """`page` (≥ 1) and `page_size` (1–500) from query parameters, or `ValidationFailed`."""
    errors: dict[str, list[str]] = {}
    raw_page = str(params.get("page") or "1").strip()
    raw_size = str(params.get("page_size") or default_size).strip()
    number = int(raw_page) if raw_page.isascii() and raw_page.isdigit() else 0
    size = int(raw_size) if raw_size.isascii() and raw_size.isdigit() else 0
    if number < 1:
        errors["page"] = ["页码必须是正整数。"]
    if not 1 <= size <= MAX_PAGE_SIZE:
        errors["page_size"] = [f"每页条数必须是 1–{MAX_PAGE_SIZE} 的整数。"]
    if errors:
        raise ValidationFailed("分页参数有误。", fields=errors)
    return PageRequest(number=number, size=size)


@dataclass(frozen=True)
class TypeEntry:
    id: int
    code: str
    name: str
    base_id: int | None


@dataclass(frozen=True)
class LedgerCatalogue:
    """The configuration the ledger's filters refer to: project types and their stages (two small queries).

    `finals` maps a final stage code to the type versions whose lifecycle ends there, so "overdue"
    (planned end passed and not yet in the *last* stage of its own type) is one SQL condition.
    """

    types: tuple[TypeEntry, ...]
    stages: tuple[str, ...]
    finals: dict[str, frozenset[int]] = field(default_factory=dict)

    def type_ids(self, code: str) -> set[int] | None:
        """The type with `code` and every override adapting it (at any depth), or None when unknown."""
        root = next((t for t in self.types if t.code == code), None)
        if root is None:
            return None
        found = {root.id}
        grew = True
        while grew:
            more = {t.id for t in self.types if t.base_id in found and t.id not in found}
            found |= more
            grew = bool(more)
        return found


def ledger_catalogue() -> LedgerCatalogue:
    """Project types and the stages of every non-draft type version (what projects can be pinned to)."""
    types = tuple(
        TypeEntry(id=row[0], code=row[1], name=row[2], base_id=row[3])
        for row in ProjectType.objects.order_by("code").values_list("id", "code", "name", "base_id")
    )
    stages: list[str] = [s["code"] for s in DEFAULT_STAGES]
    finals: dict[str, set[int]] = {}
    versions = (
        ProjectTypeVersion.objects.exclude(status=ProjectTypeVersion.Status.DRAFT)
        .order_by("type_id", "number")
        .values_list("id", "effective__stages")
    )
    for version_id, version_stages in versions:
        codes = [str(s.get("code")) for s in version_stages or [] if isinstance(s, dict) and s.get("code")]
        codes = codes or stages[:4]
        for code in codes:
            if code not in stages:
                stages.append(code)
        finals.setdefault(codes[-1], set()).add(version_id)
    return LedgerCatalogue(
        types=types, stages=tuple(stages), finals={k: frozenset(v) for k, v in finals.items()}
    )


def _in_final_stage(catalogue: LedgerCatalogue) -> Q:
    condition = Q(type_version__isnull=True, stage=DEFAULT_FINAL_STAGE)
    for stage, ids in catalogue.finals.items():
        condition |= Q(stage=stage, type_version_id__in=sorted(ids))
    return condition


def _overdue(catalogue: LedgerCatalogue, today: date) -> Q:
    """逾期: the planned completion date has passed and the project has not reached its type's last stage."""
    return Q(planned_end__lt=today) & ~_in_final_stage(catalogue)


class _Ratio(Func):
    """a / b. PostgreSQL divides numerics exactly; SQLite keeps whole-yuan decimals as integers and would divide
    them as integers (1380000 / 4600000 = 0), so there the numerator is made REAL first."""

    arity = 2
    arg_joiner = " / "
    template = "(%(expressions)s)"

    def as_sqlite(self, compiler, connection, **extra_context):
        return super().as_sql(compiler, connection, arg_joiner=" * 1.0 / ", **extra_context)


def _open_alerts(catalogue: LedgerCatalogue, today: date) -> Q:
    """Projects with at least one open alert (待确认、已确认 or 整改中) raised by a rule."""
    from rules.models import OPEN_STATUSES, Alert

    return Q(Exists(Alert.objects.filter(project=OuterRef("pk"), status__in=OPEN_STATUSES)))


def ledger_queryset(
    user: User | None,
    filters: LedgerFilters,
    *,
    action: str = "project.view",
    catalogue: LedgerCatalogue | None = None,
    today: date | None = None,
) -> QuerySet[Project]:
    """The projects `user` may `action` that match `filters`, sorted, with the ledger's computed columns.

    Each row carries `execution_rate` (已支出/预算, None without budget), `overspend` (max(0, 已支出−预算))
    and `is_overdue`; `org` and `type_version__type` come in the same query, and wide columns (form
    data, description) are left out, so a page costs one query whatever its size.
    """
    catalogue = catalogue or ledger_catalogue()
    today = today or timezone.localdate()
    errors: dict[str, list[str]] = {}
    type_ids: set[int] | None = None
    if filters.type:
        type_ids = catalogue.type_ids(filters.type)
        if type_ids is None:
            errors["type"] = [f"项目类型：没有编码为“{filters.type}”的项目类型"]
    if filters.stage and filters.stage not in catalogue.stages:
        errors["stage"] = [f"阶段：必须是 {'、'.join(catalogue.stages)} 之一"]
    if errors:
        raise ValidationFailed("筛选条件有误，请修改后重试。", fields=errors)

    qs = permissions.visible(user, action, Project.objects.all())
    if filters.org:
        path = (
            permissions.visible(user, action, Org.objects.filter(code=filters.org))
            .values_list("path", flat=True)
            .first()
        )
        if path is None:  # unknown, or outside the user's scope: the same empty answer for both
            return qs.none()
        qs = qs.filter(org__path__startswith=path)
    if type_ids is not None:
        qs = qs.filter(type_version__type_id__in=sorted(type_ids))
    if filters.stage:
        qs = qs.filter(stage=filters.stage)
    if filters.year is not None:
        qs = qs.filter(year=filters.year)
    if filters.fund_source:
        lines = BudgetLine.objects.filter(project=OuterRef("pk"), fund_source=filters.fund_source)
        qs = qs.filter(Exists(lines))
    if filters.overdue is not None:
        overdue = _overdue(catalogue, today)
        qs = qs.filter(overdue) if filters.overdue else qs.exclude(overdue)
    if filters.has_alerts is not None:
        alerts = _open_alerts(catalogue, today)
        qs = qs.filter(alerts) if filters.has_alerts else qs.exclude(alerts)
    if filters.search:
        qs = qs.filter(search_text__icontains=filters.search.lower())

    qs = qs.annotate(
        execution_rate=Case(
            When(
                budget__gt=0,
                then=_Ratio(F("spent_total"), F("budget"), output_field=_RATE),
            ),
            default=None,
            output_field=_RATE,
        ),
        overspend=Greatest(F("spent_total") - F("budget"), Value(_ZERO), output_field=_MONEY),
        is_overdue=ExpressionWrapper(_overdue(catalogue, today), output_field=BooleanField()),
    )
    return (
        qs.select_related("org", "type_version__type")
        .only(
            "id",
            "code",
            "name",
            "category",
            "stage",
            "year",
            "budget",
            "allocated_total",
            "spent_total",
            "contract_total",
            "planned_start",
            "planned_end",
            "progress",
            "owner",
            "version",
            "created_at",
            "updated_at",
            "org",
            "org__name",
            "org__code",
            "type_version",
            "type_version__number",
            "type_version__type",
            "type_version__type__code",
            "type_version__type__name",
        )
        .order_by(*_order_by(filters.ordering))
    )


def _order_by(ordering: str) -> list:
    key = ordering.removeprefix("-")
    descending = ordering.startswith("-")
    # Only 执行率 can be NULL (no budget): it goes last either way. The other columns are NOT NULL, and a
    # plain ORDER BY lets PostgreSQL walk project_updated_idx for the default order instead of sorting.
    nulls_last = True if key == "execution_rate" else None
    expression = F(key).desc(nulls_last=nulls_last) if descending else F(key).asc(nulls_last=nulls_last)
    tiebreak = F("id").desc() if descending else F("id").asc()  # stable pages when values tie
    return [expression, tiebreak]


def ledger_totals(qs: QuerySet[Project]) -> LedgerTotals:
    """Count, 预算, 已下达, 已支出 and 超支额 of exactly `qs`, in one aggregate query."""
    # Aliases must not shadow field names, or Sum("budget") would refer to the alias.
    row = qs.order_by().aggregate(
        t_count=Count("pk"),
        t_budget=Sum("budget"),
        t_allocated=Sum("allocated_total"),
        t_spent=Sum("spent_total"),
        t_overspend=Sum(Greatest(F("spent_total") - F("budget"), Value(_ZERO), output_field=_MONEY)),
    )
    return LedgerTotals(
        count=row["t_count"] or 0,
        budget=row["t_budget"] or _ZERO,
        allocated=row["t_allocated"] or _ZERO,
        spent=row["t_spent"] or _ZERO,
        overspend=row["t_overspend"] or _ZERO,
    )


class _CountedPaginator(Paginator):
    """A paginator told the count up front: the totals query already counted the set, so don't count twice."""

    def __init__(self, object_list, per_page: int, *, count: int) -> None:
        super().__init__(object_list, per_page)
        self._known_count = count

    @cached_property
    def count(self) -> int:
        return self._known_count


def ledger_page(qs: QuerySet[Project], request: PageRequest, *, count: int, strict: bool) -> Page:
    """One page of `qs`. `strict` (the API) answers 404 past the last page; the page clamps to it instead."""
    paginator = _CountedPaginator(qs, request.size, count=count)
    if request.number > paginator.num_pages:
        if strict:
            raise NotFound(f"页码超出范围（共 {paginator.num_pages} 页）。", code="not_found")
        return paginator.page(paginator.num_pages)
    return paginator.page(request.number)
