"""Business operations on users, grants and credentials: permission → validate → write → audit event."""

from __future__ import annotations

import re

from django.contrib.auth import authenticate
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import transaction
from rest_framework.authtoken.models import Token

from audit.services import audit_record, snapshot
from core.errors import PermissionDenied, Unauthenticated, ValidationFailed
from orgs.models import Org

from . import permissions
from .models import Grant, Role, User
from .roles import BUILTIN_ROLES, THREE_ADMINS

_USERNAME = re.compile(r"^[A-Za-z0-9_.@-]{3,150}$")
_MOBILE = re.compile(r"^1[3-9][0-9]{9}$")
_USER_AUDITED = ("username", "display_name", "phone", "email", "org", "is_active")


def _password_errors(password: str, user: User | None) -> list[str]:
    try:
        validate_password(password, user)
    except DjangoValidationError as exc:
        return [f"密码：{m}" for m in exc.messages]
    return []


@transaction.atomic
def user_create(
    *,
    actor: User | None,
    username: str,
    password: str,
    org: Org,
    display_name: str = "",
    phone: str = "",
    email: str = "",
) -> User:
    """Open an account at `org`. The new user can do nothing until a 安全管理员 grants a role."""
    permissions.check(actor, "user.manage", org)
    errors: dict[str, list[str]] = {}
    if not _USERNAME.match(username or ""):
        errors["username"] = ["用户名：3–150 位字母、数字或 _ . @ -"]
    elif User.objects.filter(username__iexact=username).exists():
        errors["username"] = [f"用户名：“{username}”已被使用"]
    if phone and not _MOBILE.match(phone):
        errors["phone"] = ["手机号：应为 11 位中国大陆手机号码"]
    candidate = User(username=username, display_name=display_name, email=email)
    if pw_errors := _password_errors(password, candidate):
        errors["password"] = pw_errors
    if errors:
        raise ValidationFailed("用户信息未通过校验。", fields=errors)
    user = User(username=username, display_name=display_name.strip(), phone=phone, email=email, org=org)
    user.set_password(password)
    user.save()
    audit_record(actor=actor, action="user.create", obj=user, org=org, after=snapshot(user, _USER_AUDITED))
    return user


def _holds_any(user: User, roles: tuple[str, ...]) -> set[str]:
    return set(user.grants.filter(role__code__in=roles).values_list("role__code", flat=True))


@transaction.atomic
def user_set_password(*, actor: User | None, user: User, password: str) -> None:
    """Set a password: the user's own, or by a 系统管理员, who may not take over a 安全/审计管理员's account."""
    if actor is not None and actor.pk != user.pk:
        permissions.require(actor, "user.manage", user)
        if _holds_any(user, ("sec_admin", "audit_admin")):
            raise PermissionDenied("三员分立：系统管理员不能重置安全管理员或审计管理员的密码。")
    if errors := _password_errors(password, user):
        raise ValidationFailed("密码不符合要求。", fields={"password": errors})
    user.set_password(password)
    user.save(update_fields=["password"])
    permissions.forget(user)
    audit_record(actor=actor, action="user.set_password", obj=user, org=user.org)


@transaction.atomic
def user_set_active(*, actor: User | None, user: User, active: bool) -> User:
    """Enable or disable an account; a disabled account can neither sign in nor use its tokens."""
    permissions.check(actor, "user.manage", user)
    if actor is not None and actor.pk == user.pk:
        raise ValidationFailed("不能停用自己的账号。")
    before = snapshot(user, _USER_AUDITED)
    user.is_active = active
    user.save(update_fields=["is_active"])
    audit_record(
        actor=actor,
        action="user.enable" if active else "user.disable",
        obj=user,
        org=user.org,
        before=before,
        after=snapshot(user, _USER_AUDITED),
    )
    return user


@transaction.atomic
def grant_create(*, actor: User | None, user: User, role: Role, org: Org) -> Grant:
    """Give `user` the `role` over `org`'s subtree, enforcing 三员分立."""
    permissions.check(actor, "grant.manage", org)
    if actor is not None:
        if actor.pk == user.pk:
            raise PermissionDenied("不能给自己分配角色。")
        if not permissions.can(actor, "user.view", user):
            raise PermissionDenied("只能给本辖区内的用户分配角色。")
    if role.code in THREE_ADMINS:
        others = _holds_any(user, THREE_ADMINS) - {role.code}
        if others:
            names = "、".join(BUILTIN_ROLES[c].name for c in sorted(others))
            raise ValidationFailed(
                f"三员分立：该用户已是{names}，不能再担任{role.name}。",
                code="three_admins_conflict",
                fields={"role": [f"与{names}互斥"]},
            )
    if Grant.objects.filter(user=user, role=role, org=org).exists():
        raise ValidationFailed("该用户在此机构已有此角色。", fields={"role": ["重复授权"]})
    grant = Grant.objects.create(user=user, role=role, org=org, granted_by=actor)
    permissions.forget(user)
    audit_record(
        actor=actor,
        action="grant.create",
        obj=grant,
        org=org,
        after={"user": user.username, "role": role.code, "org": org.code},
    )
    return grant


@transaction.atomic
def grant_revoke(*, actor: User | None, grant: Grant) -> None:
    """Take a role back."""
    permissions.check(actor, "grant.manage", grant.org)
    if actor is not None and actor.pk == grant.user_id:
        raise PermissionDenied("不能撤销自己的角色。")
    before = {"user": grant.user.username, "role": grant.role_id, "org": grant.org.code}
    audit_record(actor=actor, action="grant.revoke", obj=grant, org=grant.org, before=before)
    grant.delete()
    permissions.forget(grant.user)


def token_issue(*, username: str, password: str, request=None) -> Token:
    """Exchange a username and password for an API token.

    Not one transaction as a whole: a failed attempt's audit event (written by the login-failed
    signal) must survive the error raised here.
    """
    user = authenticate(request, username=username, password=password)
    if user is None:
        raise Unauthenticated("用户名或密码错误，或账号已停用。")
    with transaction.atomic():
        token, _created = Token.objects.get_or_create(user=user)
        audit_record(actor=user, action="auth.token_issue", obj=user, org=user.org)
    return token


@transaction.atomic
def roles_sync() -> None:
    """Make the Role table match the built-in role definitions (run after every migrate)."""
    for spec in BUILTIN_ROLES.values():
        wanted = {
            "name": spec.name,
            "name_en": spec.name_en,
            "description": spec.description,
            "actions": sorted(spec.actions),
            "builtin": True,
        }
        current = Role.objects.filter(code=spec.code).values(*wanted).first()
        if current == wanted:
            continue
        Role.objects.update_or_create(code=spec.code, defaults=wanted)
        audit_record(
            actor=None,
            action="role.sync",
            object_type="accounts.role",
            object_id=spec.code,
            object_repr=spec.name,
            before=current,
            after=wanted,
        )
