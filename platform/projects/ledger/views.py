"""The ledger page `/projects/`: filters in the query string, HTMX refreshes only the results.

Without JavaScript the filter form is a plain GET form and every link is a real link; with HTMX a
change of filter (or a click on a sort header or the pager) fetches only `#ledger-results` and pushes
the URL, so the view stays bookmarkable either way.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_GET
from django.views.decorators.vary import vary_on_headers

from accounts import permissions
from core.errors import ValidationFailed
from orgs.models import Org
from rules.selectors import open_alert_count

from ..models import FundSource, Project
from ..models.project import Category, Stage
from . import query
from .links import ledger_query, project_detail_url

PAGE_SIZES = (20, 50, 100)
RESULTS_ID = "ledger-results"
_STAGE_TONES = {"立项": "init", "执行": "exec", "验收": "accept", "结项": "closed"}
# Display names of the default lifecycle's stages and of the categories; a type's own stage codes show as they are.
_STAGE_LABELS = dict(Stage.choices)
_CATEGORY_LABELS = dict(Category.choices)
# The sort menu: (descending, ascending) labels for every column in `query.ORDERINGS`.
_ORDER_LABELS: dict[str, tuple[str, str]] = {
    "code": (_("项目代码降序"), _("项目代码升序")),
    "name": (_("名称降序"), _("名称升序")),
    "budget": (_("预算降序"), _("预算升序")),
    "spent_total": (_("已支出降序"), _("已支出升序")),
    "execution_rate": (_("执行率降序"), _("执行率升序")),
    "updated_at": (_("更新时间降序"), _("更新时间升序")),
}
_ORDER_CHOICES: tuple[tuple[str, str], ...] = tuple(
    (value, _ORDER_LABELS[key][0 if value.startswith("-") else 1])
    for key in query.ORDERINGS
    for value in (f"-{key}", key)
)


@dataclass(frozen=True)
class Heading:
    """A sortable column header: its link toggles the direction and reports the current one to screen readers."""

    key: str
    label: str
    query: str
    aria_sort: str


def _headings(filters: query.LedgerFilters, size: int | None) -> dict[str, Heading]:
    out: dict[str, Heading] = {}
    for key, label in query.ORDERINGS.items():
        if filters.ordering == key:
            current, target = "ascending", f"-{key}"
        elif filters.ordering == f"-{key}":
            current, target = "descending", key
        else:
            current, target = "none", (key if key in ("code", "name") else f"-{key}")
        out[key] = Heading(key, label, ledger_query(filters, ordering=target, page_size=size), current)
    return out


def _decorate(rows: list[Project]) -> list[Project]:
    """Display values the template needs but cannot compute (percent, stage tone, link)."""
    for p in rows:
        p.rate_display = query.percent_display(p.execution_rate)
        p.stage_tone = _STAGE_TONES.get(p.stage, "other")
        p.stage_label = _STAGE_LABELS.get(p.stage, p.stage)
        p.detail_url = project_detail_url(p.pk)
        p.type_name = (
            p.type_version.type.name if p.type_version_id else _CATEGORY_LABELS.get(p.category, p.category)
        )
    return rows


def _org_choices(user) -> list[tuple[str, str]]:
    orgs = list(
        permissions.visible(user, "project.view", Org.objects.filter(is_active=True))
        .order_by("path")
        .values_list("code", "name", "depth")
    )
    top = min((depth for _c, _n, depth in orgs), default=1)
    return [(code, "\u3000" * (depth - top) + name) for code, name, depth in orgs]


@login_required
@require_GET
@vary_on_headers("HX-Request", "HX-Target")
def project_ledger(request: HttpRequest) -> HttpResponse:
    """统一项目台账: every project the user may see, filtered, sorted, totalled and paged."""
    permissions.require(request.user, "project.view")
    partial = bool(
        request.htmx and request.htmx.target == RESULTS_ID and not request.htmx.history_restore_request
    )
    raw = {key: request.GET.get(key, "") for key in (*query.PARAMS, "q", "page", "page_size")}
    context: dict = {
        "raw": raw,
        "results_id": RESULTS_ID,
        "page_sizes": PAGE_SIZES,
        "order_choices": _ORDER_CHOICES,
        "fund_sources": FundSource.choices,
        "can_export": permissions.can(request.user, "project.export"),
        "error": None,
    }
    status = 200
    catalogue = query.ledger_catalogue()
    try:
        filters = query.ledger_filters_parse(request.GET)
        page_request = query.ledger_page_parse(request.GET, default_size=PAGE_SIZES[0])
        qs = query.ledger_queryset(request.user, filters, catalogue=catalogue)
        totals = query.ledger_totals(qs)
        # Each row's open alerts come with the page's rows (a correlated count), so the query count stays constant.
        rows = qs.annotate(open_alert_count=open_alert_count())
        page = query.ledger_page(rows, page_request, count=totals.count, strict=False)
    except ValidationFailed as error:
        # The page shows what was wrong next to the form; HTMX only swaps 2xx answers, so a partial stays 200.
        context["error"] = error
        status = 200 if partial else 400
        filters = None
    else:
        page.object_list = _decorate(list(page.object_list))
        size = page_request.size if page_request.size != PAGE_SIZES[0] else None

        def at(number: int) -> str:
            return ledger_query(filters, page=number if number > 1 else None, page_size=size)

        context.update(
            filters=filters,
            totals=totals,
            totals_rate=query.percent_display(totals.execution_rate),
            page=page,
            page_size=page_request.size,
            headings=_headings(filters, size),
            query=ledger_query(filters),
            canonical=at(page.number),
            pager={
                "first": at(1),
                "previous": at(page.number - 1),
                "next": at(page.number + 1),
                "last": at(page.paginator.num_pages),
            },
        )
    context["secondary_count"] = filters.secondary_count if filters else 0
    asked = raw["ordering"]
    valid = asked.removeprefix("-") in query.ORDERINGS
    context["ordering"] = filters.ordering if filters else (asked if valid else query.DEFAULT_ORDERING)
    if partial:
        context["oob"] = True
        response = render(request, "projects/ledger/_results.html", context, status=status)
        if "canonical" in context:  # bookmark the clean URL, not the form's empty fields
            query_string = context["canonical"]
            response["HX-Push-Url"] = f"{request.path}?{query_string}" if query_string else request.path
        return response
    context.update(
        orgs=_org_choices(request.user),
        types=catalogue.types,
        stages=[(s, _STAGE_LABELS.get(s, s)) for s in catalogue.stages],
    )
    return render(request, "projects/ledger.html", context, status=status)
