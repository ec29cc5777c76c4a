"""Shared fixtures: a small province → city → two districts tree with users in each role."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from rest_framework.test import APIClient

from accounts.models import User
from orgs.models import Org

from .factories import PASSWORD, OrgFactory, ProjectFactory, UserFactory


@dataclass
class World:
    province: Org
    city: Org
    district_a: Org
    district_b: Org
    bureau_a: Org
    bureau_b: Org
    users: dict[str, User]
    projects_a: list
    projects_b: list


def _tree() -> dict[str, Org]:
    province = OrgFactory(name="浙江省", kind="province", code="330000", division_code="330000")
    city = OrgFactory(parent=province, name="杭州市", kind="city", code="330100", division_code="330100")
    district_a = OrgFactory(parent=city, name="西湖区", kind="county", code="330106", division_code="330106")
    district_b = OrgFactory(parent=city, name="上城区", kind="county", code="330102", division_code="330102")
    bureau_a = OrgFactory(parent=district_a, name="西湖区住建局", code="330106-zjj")
    bureau_b = OrgFactory(parent=district_b, name="上城区住建局", code="330102-zjj")
    return {
        "province": province,
        "city": city,
        "district_a": district_a,
        "district_b": district_b,
        "bureau_a": bureau_a,
        "bureau_b": bureau_b,
    }


@pytest.fixture
def world(db) -> World:
    orgs = _tree()
    spec = {
        "sysadmin": ("province", "sys_admin"),
        "secadmin": ("province", "sec_admin"),
        "auditor": ("province", "audit_admin"),
        "clerk_a": ("bureau_a", "staff"),
        "clerk_b": ("bureau_b", "staff"),
        "leader_a": ("district_a", "leader"),
        "leader_b": ("district_b", "leader"),
        "regulator": ("city", "regulator"),
        "sysadmin_a": ("district_a", "sys_admin"),
        "auditor_a": ("district_a", "audit_admin"),
        "nobody": ("bureau_a", None),
    }
    users = {
        name: UserFactory(username=name, org=orgs[where], roles=(role,) if role else ())
        for name, (where, role) in spec.items()
    }
    projects_a = [
        ProjectFactory(actor=users["clerk_a"], org=orgs["bureau_a"], name="西湖区翠苑一区老旧小区改造"),
        ProjectFactory(actor=users["clerk_a"], org=orgs["bureau_a"], name="西湖区文三路道路提升"),
    ]
    projects_b = [
        ProjectFactory(actor=users["clerk_b"], org=orgs["bureau_b"], name="上城区紫阳街道老旧小区整治")
    ]
    return World(users=users, projects_a=projects_a, projects_b=projects_b, **orgs)


@pytest.fixture
def api():
    """An API client; `api.as_user(user)` signs in with a real token obtained through the API."""

    class Client(APIClient):
        def as_user(self, user: User) -> Client:
            response = self.post(
                "/api/v1/auth/token/", {"username": user.username, "password": PASSWORD}, format="json"
            )
            assert response.status_code == 200, response.content
            self.credentials(HTTP_AUTHORIZATION=f"Bearer {response.json()['token']}")
            return self

    return Client()
