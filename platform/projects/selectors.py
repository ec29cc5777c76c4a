"""Permission-checked reads of projects: every list, search, detail and export starts here."""

from __future__ import annotations

from django.db.models import Q, QuerySet

from accounts import permissions

from .models import Project


def project_list(*, user, search: str = "", action: str = "project.view") -> QuerySet[Project]:
    """Projects `user` may see (optionally for another action such as export), matching `search`."""
    qs = permissions.visible(user, action, Project.objects.select_related("org", "owner"))
    if search:
        qs = qs.filter(
            Q(name__icontains=search) | Q(code__icontains=search) | Q(description__icontains=search)
        )
    return qs


def project_get(*, user, pk, action: str = "project.view") -> Project:
    """One project the user may see, or NotFound (never a hint that it exists elsewhere)."""
    return permissions.get_visible(user, action, Project.objects.select_related("org", "owner"), pk=pk)
