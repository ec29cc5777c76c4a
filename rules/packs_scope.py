"""Which project types a pack loaded at an org governs: the targets its rules are type-checked and tested on."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.db.models import Q

from accounts.permissions import ancestor_paths

from .packs_check import GENERIC, Target

if TYPE_CHECKING:
    from orgs.models import Org

__all__ = ["resolver", "scope_targets"]


def _lixiang_version(type_version: Any) -> Any | None:
    from forms.models import FormVersion

    code = ((type_version.effective or {}).get("forms") or {}).get("立项申请")
    if not code:
        return None
    return FormVersion.objects.filter(form__code=code, status="published").order_by("-number").first()


def scope_targets(org: Org) -> list[Target]:
    """What a pack loaded at ``org`` governs: untyped projects, the newest published version of every type offered
    at, above or below ``org``, and every (type version, 立项 form version) a project in the subtree is pinned to."""
    from forms.models import FormVersion
    from projects.models import Project, ProjectType, ProjectTypeVersion

    targets = [GENERIC]
    seen: set[tuple[int, int | None]] = set()
    types = ProjectType.objects.filter(
        Q(org__path__in=ancestor_paths(org.path)) | Q(org__path__startswith=org.path)
    )
    for ptype in types.select_related("base").order_by("code"):
        version = ptype.published()
        if version is not None:
            form = _lixiang_version(version)
            seen.add((version.pk, form.pk if form else None))
            targets.append(Target.of(version, form))
    pinned = (
        Project.objects.filter(org__path__startswith=org.path, type_version__isnull=False)
        .values_list("type_version_id", "form_version_id")
        .distinct()
        .order_by("type_version_id", "form_version_id")
    )
    pairs = [pair for pair in pinned if pair not in seen]
    versions = ProjectTypeVersion.objects.select_related("type__base").in_bulk([t for t, _ in pairs])
    forms = FormVersion.objects.in_bulk([f for _, f in pairs if f])
    targets += [Target.of(versions[t], forms.get(f)) for t, f in pairs]
    return targets


def resolver(targets: list[Target] | None):
    """Finds the target a test's ``type`` names: among ``targets`` (a load's scope) or, without one, any type."""

    def resolve(code: str) -> Target | None:
        if targets is not None:
            return next(
                (t for t in targets if t.type_version is not None and t.type_version.type.code == code), None
            )
        from projects.models import ProjectType

        ptype = ProjectType.objects.filter(code=code).first()
        version = ptype.published() if ptype is not None else None
        return Target.of(version, _lixiang_version(version)) if version is not None else None

    return resolve
