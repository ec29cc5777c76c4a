"""Links out of the ledger: to a project's page, and to the ledger itself with the same filters."""

from __future__ import annotations

from urllib.parse import urlencode

from django.urls import reverse

from .query import LedgerFilters


def project_detail_url(pk: int) -> str:
    """`/projects/<id>/`, the project's detail page, built from the ledger's own address.

    Not `reverse("project-detail")`: the API router already owns that name (`/api/v1/projects/<id>/`).
    """
    return f"{reverse('project-ledger')}{int(pk)}/"


def ledger_query(filters: LedgerFilters, **overrides: object) -> str:
    """The query string (without "?") for `filters` with some parameters replaced (None drops one)."""
    params: dict[str, object] = dict(filters.as_query())
    for key, value in overrides.items():
        if value is None:
            params.pop(key, None)
        else:
            params[key] = value
    return urlencode(params)
