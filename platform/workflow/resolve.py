"""Who approves: approvers named relative to the project's org, resolved when a step starts, then delegated.

``{role: approver, org: 本单位}`` → users holding ``approver`` at the project's org (a grant at the org itself; a
grant higher up covers the org too, but the nearest holders are asked first); ``上级单位`` → its parent;
``本级政府`` → the nearest province/city/county node at or above it; ``同级财政局`` → the department of that
government node whose name ends in 财政局; an org code names an org outright; ``{user: name}`` a person.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from accounts.models import User
from accounts.permissions import ancestor_paths
from orgs.models import Org

from .definition import Approver
from .models import Delegation

GOVERNMENT_KINDS = ("province", "city", "county")


def target_org(project_org: Org, spec: str) -> Org | None:
    """The org an approver spec names, relative to the project's org (None when there is no such org)."""
    if spec == "本单位":
        return project_org
    if spec == "上级单位":
        return Org.objects.get_parent(project_org)
    government = _government(project_org)
    if spec == "本级政府":
        return government
    if spec.startswith("同级") and government is not None:
        suffix = spec[2:]
        return (
            Org.objects.get_tree(government)
            .filter(depth=government.depth + 1, name__endswith=suffix, is_active=True)
            .order_by("path")
            .first()
        )
    return Org.objects.filter(code=spec, is_active=True).first()


def _government(org: Org) -> Org | None:
    return (
        Org.objects.filter(path__in=ancestor_paths(org.path), kind__in=GOVERNMENT_KINDS)
        .order_by("-depth")
        .first()
    )


def holders(role: str, org: Org) -> list[User]:
    """Active users holding ``role`` granted at ``org`` itself; failing that, at the nearest org above it."""
    paths = ancestor_paths(org.path)
    rows = (
        User.objects.filter(is_active=True, grants__role__code=role, grants__org__path__in=paths)
        .values_list("id", "grants__org__path")
        .distinct()
    )
    by_depth: dict[int, set[int]] = {}
    for user_id, path in rows:
        by_depth.setdefault(len(path), set()).add(user_id)
    if not by_depth:
        return []
    nearest = by_depth[max(by_depth)]
    return list(User.objects.filter(id__in=nearest).order_by("username"))


def approvers(specs: tuple[Approver, ...], project_org: Org) -> list[User]:
    """Every user a step's approver specs name, in a stable order, without duplicates."""
    found: dict[int, User] = {}
    for spec in specs:
        if spec.user:
            user = User.objects.filter(username=spec.user, is_active=True).first()
            if user is not None:
                found.setdefault(user.id, user)
            continue
        org = target_org(project_org, spec.org)
        if org is not None:
            for user in holders(spec.role, org):
                found.setdefault(user.id, user)
    return list(found.values())


def delegate_of(user: User, day: date) -> User | None:
    """The delegate receiving ``user``'s tasks on ``day``, following a chain of delegations (bounded)."""
    current, seen = user, {user.id}
    for _ in range(5):
        row = (
            Delegation.objects.filter(user=current, active=True, starts_on__lte=day, ends_on__gte=day)
            .select_related("delegate")
            .order_by("-created_at")
            .first()
        )
        if row is None or row.delegate_id in seen or not row.delegate.is_active:
            break
        current = row.delegate
        seen.add(current.id)
    return None if current.id == user.id else current


def administrators(project_org: Org) -> list[User]:
    """The org's configuration administrators (nearest first): where a step with nobody to approve goes."""
    return holders("config_admin", project_org)


def qualified(user: Any, project_org: Org) -> bool:
    """May ``user`` receive an approval task of a project at ``project_org`` (转办, 加签)?"""
    from accounts.permissions import can

    return bool(user and user.is_active and can(user, "approval.act", project_org))
