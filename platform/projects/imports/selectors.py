"""Permission-checked reads for ledger imports: jobs within the user's 创建项目 scope, types they may import."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.db.models import QuerySet

from accounts import permissions
from core.errors import NotFound
from orgs.models import Org

from ..models import ImportJob, ProjectType

if TYPE_CHECKING:
    from accounts.models import User


def import_job_list(*, user: User) -> QuerySet[ImportJob]:
    """Jobs whose org lies where `user` may create projects: an importer of one district never sees another's."""
    qs = ImportJob.objects.select_related("org", "project_type", "created_by")
    return permissions.visible(user, "project.create", qs)


def import_job_get(*, user: User, pk: object) -> ImportJob:
    """One visible job, or NotFound (never a hint that it exists elsewhere)."""
    qs = ImportJob.objects.select_related("org", "project_type", "type_version", "created_by")
    return permissions.get_visible(user, "project.create", qs, pk=pk)


def import_org_for(user: User) -> Org | None:
    """The org a user imports at: their own org when they may create projects there, else their widest grant."""
    own = getattr(user, "org", None)
    if own is not None and permissions.can(user, "project.create", own):
        return own
    paths = permissions.scope_paths(user, "project.create")
    return Org.objects.filter(path=paths[0]).first() if paths else None


def import_type_list(*, org: Org) -> list[ProjectType]:
    """Published project types that apply at `org` (offered at `org` or an org above it)."""
    types = ProjectType.objects.select_related("org").order_by("name", "code")
    return [t for t in types if org.path.startswith(t.org.path) and t.published() is not None]


def import_type_get(*, org: Org, code: str) -> ProjectType:
    """A type importable at `org` by its code, or NotFound."""
    found = next((t for t in import_type_list(org=org) if t.code == code), None)
    if found is None:
        raise NotFound("项目类型不存在、未发布或不适用于您的单位。", code="type_not_found")
    return found


def import_org_choices(*, user: User, ptype: ProjectType, limit: int = 2000) -> list[tuple[str, str]]:
    """(机构编码, 机构名称) the user may import projects of `ptype` into, for the template's 机构编码 sheet."""
    orgs = permissions.visible(user, "project.create", Org.objects.filter(is_active=True).order_by("path"))
    orgs = orgs.filter(path__startswith=ptype.org.path)
    return [(o.code, o.name) for o in orgs[:limit]]
