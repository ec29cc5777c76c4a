"""Reads of forms and submissions, scoped by the permission API.

Configuration is inherited down the org tree: a form defined at a city applies in its districts, so
a user sees the forms of every org above their grants as well as those below.
"""

from __future__ import annotations

from django.db.models import QuerySet

from accounts import permissions
from core.errors import NotFound

from .models import Form, Submission


def form_list(*, user, action: str = "config.view") -> QuerySet[Form]:
    """Forms that apply where `user` holds `action`: defined at or above, or (for administrators) below."""
    return permissions.applicable(user, action, Form.objects.select_related("org"))


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
