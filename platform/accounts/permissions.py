"""The one permission API: "may U do A on O?" and "which objects of kind K may U see?".

A grant of role R at org O lets its holder do R's actions on every object whose org lies in O's
subtree. Models that belong to an org register here how to reach the org's path, so one query
filter serves every list, search and export.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.db.models import Model, Q, QuerySet

from core.errors import NotFound, PermissionDenied

from .roles import ACTIONS

# model class → lookup from the model to its Org's materialised path (e.g. "org__path").
_SCOPED: dict[type[Model], str] = {}
# model class → how to find the Org of one instance.
_ORG_OF: dict[type[Model], Callable[[Any], Any]] = {}


def register_scoped(model: type[Model], path_lookup: str, org_of: Callable[[Any], Any]) -> None:
    """Declare that `model` belongs to an org; called once per model from its app's `ready()`."""
    if model in _SCOPED:
        raise RuntimeError(f"{model.__name__} is already registered for permission scoping")
    _SCOPED[model] = path_lookup
    _ORG_OF[model] = org_of


def _grant_rows(user) -> list[tuple[frozenset[str], str]]:
    """(actions, org path) of every grant the user holds, cached on the user object for the request."""
    cached = getattr(user, "_taizhang_grants", None)
    if cached is None:
        if user is None or not user.is_authenticated or not user.is_active:
            cached = []
        else:
            rows = user.grants.select_related("role", "org").filter(org__is_active=True)
            cached = [(frozenset(g.role.actions), g.org.path) for g in rows]
        user._taizhang_grants = cached
    return cached


def forget(user) -> None:
    """Drop the cached grants after they changed."""
    if user is not None and hasattr(user, "_taizhang_grants"):
        del user._taizhang_grants


def scope_paths(user, action: str) -> list[str]:
    """The org paths at which `user` may do `action`, with paths inside another one removed."""
    if action not in ACTIONS:
        raise ValueError(f"unknown action {action!r}")
    paths = sorted({path for actions, path in _grant_rows(user) if action in actions})
    minimal: list[str] = []
    for path in paths:
        if not any(path.startswith(kept) for kept in minimal):
            minimal.append(path)
    return minimal


def actions_of(user) -> set[str]:
    """Every action the user may do somewhere."""
    found: set[str] = set()
    for actions, _path in _grant_rows(user):
        found |= actions
    return found


def _org_path_of(obj: Any) -> str:
    from orgs.models import Org

    if isinstance(obj, Org):
        return obj.path
    org_of = _ORG_OF.get(type(obj))
    if org_of is None:
        raise TypeError(f"{type(obj).__name__} is not registered with accounts.permissions")
    org = org_of(obj)
    return org.path if org is not None else ""


def can(user, action: str, obj: Any = None) -> bool:
    """May `user` do `action` on `obj` (an Org or a registered model), or anywhere when `obj` is None?"""
    paths = scope_paths(user, action)
    if obj is None:
        return bool(paths)
    target = _org_path_of(obj)
    return bool(target) and any(target.startswith(p) for p in paths)


def require(user, action: str, obj: Any = None) -> None:
    """Raise PermissionDenied unless `can(user, action, obj)`."""
    if not can(user, action, obj):
        label = ACTIONS.get(action, action)
        raise PermissionDenied(f"您没有“{label}”的权限。", code="permission_denied")


def check(actor, action: str, obj: Any = None) -> None:
    """The guard at the top of every service: `actor` None is the system itself (CLI operator, migrations)."""
    if actor is not None:
        require(actor, action, obj)


def visible(user, action: str, queryset: QuerySet) -> QuerySet:
    """`queryset` narrowed to the objects inside the subtrees where `user` may do `action`."""
    model = queryset.model
    from orgs.models import Org

    lookup = "path" if model is Org else _SCOPED.get(model)
    if lookup is None:
        raise TypeError(f"{model.__name__} is not registered with accounts.permissions")
    paths = scope_paths(user, action)
    if not paths:
        return queryset.none()
    condition = Q()
    for path in paths:
        condition |= Q(**{f"{lookup}__startswith": path})
    return queryset.filter(condition)


def ancestor_paths(path: str) -> list[str]:
    """The materialised paths of an org and every org above it."""
    from orgs.models import Org

    step = Org.steplen
    return [path[:i] for i in range(step, len(path) + 1, step)]


def applicable(user, action: str, queryset: QuerySet, *, org_field: str = "org") -> QuerySet:
    """Configuration (forms, project types …) that applies where `user` holds `action`.

    Configuration is inherited down the tree, so this is what was defined at or above the user's
    grants, plus (for administrators) what was defined below them.
    """
    paths = scope_paths(user, action)
    if not paths:
        return queryset.none()
    condition = Q()
    for path in paths:
        condition |= Q(**{f"{org_field}__path__startswith": path}) | Q(
            **{f"{org_field}__path__in": ancestor_paths(path)}
        )
    return queryset.filter(condition)


def get_visible(user, action: str, queryset: QuerySet, **lookup) -> Any:
    """One object the user may see, or NotFound — never PermissionDenied, so nothing leaks existence."""
    try:
        return visible(user, action, queryset).get(**lookup)
    except (queryset.model.DoesNotExist, ValueError, TypeError):
        raise NotFound("对象不存在或您无权查看。") from None
