"""The web shell: home page and health endpoint (the ledger page lives in `projects.ledger`)."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import JsonResponse
from django.shortcuts import render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from . import health
from .capabilities import capabilities_for


@login_required
def home(request):
    grants = request.user.grants.select_related("role", "org").order_by("org__path")
    return render(
        request,
        "taizhang/home.html",
        {
            "grants": grants,
            "capabilities": capabilities_for(request.user),
        },
    )


@never_cache
@require_GET
def healthz(request):
    body = health.report()
    return JsonResponse(
        body, status=200 if body["status"] == "ok" else 503, json_dumps_params={"ensure_ascii": False}
    )
