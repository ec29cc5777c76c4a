"""Reads of forms and submissions, scoped by the permission API.

Configuration is inherited down the org tree: a form defined at a city applies in its districts, so
a user sees the forms of every org above their grants as well as those below.
"""

from __future__ import annotations

from django.db.models import Q, QuerySet

from accounts import permissions
from core.errors import NotFound
from orgs.models import Org

from .models import Form, Submission


def _ancestor_paths(path: str) -> list[str]:
    step = Org.steplen
    return [path[:i] for i in range(step, len(path) + 1, step)]


def form_list(*, user, action: str = "config.view") -> QuerySet[Form]:
    """Forms that apply where `user` holds `action`: defined at or above, or (for administrators) below."""
    paths = permissions.scope_paths(user, action)
    if not paths:
        return Form.objects.none()
    condition = Q()
    for path in paths:
        condition |= Q(org__path__startswith=path) | Q(org__path__in=_ancestor_paths(path))
    return Form.objects.filter(condition).select_related("org")


def form_get(*, user, code: str, action: str = "config.view") -> Form:
    try:
        return form_list(user=user, action=action).get(code=code)
    except Form.DoesNotExist:
        raise NotFound("表单不存在或您无权查看。") from None


def submission_list(*, user, action: str = "project.view") -> QuerySet[Submission]:
    qs = Submission.objects.select_related("form_version__form", "org", "created_by")
    return permissions.visible(user, action, qs)


def submission_get(*, user, pk, action: str = "project.view") -> Submission:
    qs = Submission.objects.select_related("form_version__form", "org", "created_by")
    return permissions.get_visible(user, action, qs, pk=pk)
