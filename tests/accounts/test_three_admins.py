"""三员分立: the system, security and audit administrators cannot do one another's jobs."""

from __future__ import annotations

import pytest

from accounts import services
from accounts.models import Role
from core.errors import PermissionDenied, ValidationFailed
from tests.factories import PASSWORD, UserFactory

pytestmark = pytest.mark.django_db


def test_system_admin_cannot_grant_roles(world, api):
    response = api.as_user(world.users["sysadmin"]).post(
        "/api/v1/grants/", {"user": "nobody", "role": "staff", "org": "330106-zjj"}, format="json"
    )
    assert response.status_code == 403
    assert response.json()["code"] == "permission_denied"


def test_system_admin_cannot_read_audit(world, api):
    client = api.as_user(world.users["sysadmin"])
    assert client.get("/api/v1/audit-events/").json()["count"] == 0
    assert client.post("/api/v1/audit-events/verify/").status_code == 403
    assert client.get("/api/v1/audit-events/export/").status_code == 403


def test_security_admin_grants_but_cannot_open_accounts_or_read_audit(world, api):
    client = api.as_user(world.users["secadmin"])
    ok = client.post(
        "/api/v1/grants/", {"user": "nobody", "role": "staff", "org": "330106-zjj"}, format="json"
    )
    assert ok.status_code == 201, ok.content
    created = client.post(
        "/api/v1/users/", {"username": "newbie", "password": PASSWORD, "org": "330106"}, format="json"
    )
    assert created.status_code == 403
    assert client.get("/api/v1/audit-events/").json()["count"] == 0


def test_audit_admin_reads_audit_but_cannot_change_anything(world, api):
    client = api.as_user(world.users["auditor"])
    assert client.get("/api/v1/audit-events/").json()["count"] > 0
    assert client.post("/api/v1/audit-events/verify/").json()["ok"] is True
    assert (
        client.post(
            "/api/v1/users/", {"username": "x1x", "password": PASSWORD, "org": "330106"}, format="json"
        ).status_code
        == 403
    )
    assert (
        client.post(
            "/api/v1/grants/", {"user": "nobody", "role": "staff", "org": "330106"}, format="json"
        ).status_code
        == 403
    )
    assert (
        client.patch(f"/api/v1/projects/{world.projects_a[0].pk}/", {"name": "x"}, format="json").status_code
        == 404
    )


def test_no_user_holds_two_of_the_three(world):
    with pytest.raises(ValidationFailed) as err:
        services.grant_create(
            actor=world.users["secadmin"],
            user=world.users["sysadmin_a"],
            role=Role.objects.get(code="audit_admin"),
            org=world.district_a,
        )
    assert err.value.code == "three_admins_conflict"
    assert "三员分立" in err.value.message


def test_nobody_grants_themselves(world):
    with pytest.raises(PermissionDenied):
        services.grant_create(
            actor=world.users["secadmin"],
            user=world.users["secadmin"],
            role=Role.objects.get(code="staff"),
            org=world.province,
        )


def test_system_admin_cannot_take_over_security_or_audit_accounts(world):
    for victim in ("secadmin", "auditor"):
        with pytest.raises(PermissionDenied):
            services.user_set_password(
                actor=world.users["sysadmin"], user=world.users[victim], password="Hijack@2026-xyz"
            )
    services.user_set_password(
        actor=world.users["sysadmin"], user=world.users["clerk_a"], password="Reset@2026-abcd"
    )


def test_roles_own_disjoint_duties():
    from accounts.roles import BUILTIN_ROLES, THREE_ADMINS

    duties = {
        "sys_admin": {"user.manage", "org.manage"},
        "sec_admin": {"grant.manage", "security.manage"},
        "audit_admin": {"audit.view", "audit.export"},
    }
    for owner, owned in duties.items():
        for role in BUILTIN_ROLES.values():
            if role.code != owner:
                assert not (owned & role.actions), f"{role.code} holds {owner}'s duty"
    assert set(THREE_ADMINS) == set(duties)


def test_new_user_has_no_power_until_granted(world):
    user = UserFactory(org=world.bureau_a)
    assert services.permissions.actions_of(user) == set()
