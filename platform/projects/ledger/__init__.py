"""The unified project ledger (统一项目台账): one query layer (`query`) behind the page, the API and the Excel export.

Only the query layer is re-exported here; `views` and `xlsx` import Django's HTTP machinery and are imported
where they are used, so services can depend on `projects.ledger` without pulling in views.
"""

from .query import (
    DEFAULT_ORDERING,
    ORDERINGS,
    PARAMS,
    LedgerCatalogue,
    LedgerFilters,
    LedgerTotals,
    PageRequest,
    ledger_catalogue,
    ledger_filters_parse,
    ledger_page,
    ledger_page_parse,
    ledger_queryset,
    ledger_totals,
    percent_display,
)

__all__ = [
    "DEFAULT_ORDERING",
    "ORDERINGS",
    "PARAMS",
    "LedgerCatalogue",
    "LedgerFilters",
    "LedgerTotals",
    "PageRequest",
    "ledger_catalogue",
    "ledger_filters_parse",
    "ledger_page",
    "ledger_page_parse",
    "ledger_queryset",
    "ledger_totals",
    "percent_display",
]
