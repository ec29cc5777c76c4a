"""The studio's front page: what can be configured here, and whether this user may change it or only look."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from accounts import permissions
from projects.selectors_types import project_type_list

from .endpoints import require_studio_view

TYPES_SHOWN = 50


@login_required
@require_GET
def studio_home(request: HttpRequest) -> HttpResponse:
    """Cards for each editor; the types the user sees with links to their flows; the user's rights here."""
    user = request.user
    require_studio_view(user)
    types = list(project_type_list(user=user).select_related("org", "base").order_by("org__path", "code"))
    return render(
        request,
        "admin_ui/home.html",
        {
            "types": types[:TYPES_SHOWN],
            "more_types": len(types) > TYPES_SHOWN,
            "can_config": permissions.can(user, "config.manage"),
            "can_packs": permissions.can(user, "rulepack.manage"),
        },
    )
