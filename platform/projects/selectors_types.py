"""Reads of project types: those that apply where the user works (defined at or above their grants)."""

from __future__ import annotations

from django.db.models import QuerySet

from accounts import permissions
from core.errors import NotFound
from orgs.models import Org

from .models import ProjectType


def project_type_list(*, user, action: str = "config.view") -> QuerySet[ProjectType]:
    """Types offered where `user` holds `action`: defined at or above, or (for administrators) below."""
    qs = ProjectType.objects.select_related("org", "base").order_by("code")
    return permissions.applicable(user, action, qs)


def project_type_get(*, user, code: str, action: str = "config.view") -> ProjectType:
    try:
        return project_type_list(user=user, action=action).get(code=code)
    except ProjectType.DoesNotExist:
        raise NotFound("项目类型不存在或您无权查看。") from None


def types_for_org(org: Org) -> QuerySet[ProjectType]:
    """Published types a project at `org` may use (defined at the org or above)."""
    return (
        ProjectType.objects.filter(
            org__path__in=permissions.ancestor_paths(org.path), versions__status="published"
        )
        .distinct()
        .order_by("code")
    )
