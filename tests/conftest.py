"""Shared fixtures (Django imports stay inside fixtures, so tests/dsl runs with no Django settings at all): a small province → city → two districts tree with users in each role."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest


@dataclass
class World:
    province: Any
    city: Any
    district_a: Any
    district_b: Any
    bureau_a: Any
    bureau_b: Any
    users: dict[str, Any]
    projects_a: list
    projects_b: list


def _tree() -> dict[str, Any]:
    from .factories import OrgFactory

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


@pytest.fixture(autouse=True)
def _chinese_first():
    """Each test starts in the default language: a page requested in English must not leak into the next test
    (Django keeps the last activated language on the thread)."""
    yield
    try:
        from django.utils import translation
    except ImportError:  # tests/dsl run without Django settings
        return
    try:
        translation.activate("zh-hans")
    except Exception:  # no settings configured: nothing to reset
        return


@pytest.fixture
def world(db) -> World:
    from .factories import ProjectFactory, UserFactory

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
    from rest_framework.test import APIClient

    from .factories import PASSWORD

    class Client(APIClient):
        def as_user(self, user) -> Client:
            response = self.post(
                "/api/v1/auth/token/", {"username": user.username, "password": PASSWORD}, format="json"
            )
            assert response.status_code == 200, response.content
            self.credentials(HTTP_AUTHORIZATION=f"Bearer {response.json()['token']}")
            return self

    return Client()


EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "forms" / "laojiu-lixiang.json"


@pytest.fixture
def example_definition() -> dict:
    return json.loads(EXAMPLE.read_text(encoding="utf-8"))


@pytest.fixture
def config_admin(world):
    from accounts.models import Role
    from accounts.services import grant_create
    from tests.factories import UserFactory

    user = UserFactory(username="config_city", org=world.city)
    grant_create(actor=None, user=user, role=Role.objects.get(code="config_admin"), org=world.city)
    return user


@pytest.fixture
def published_form(world, config_admin, example_definition):
    from forms import services

    form = services.form_create(
        actor=config_admin,
        org=world.city,
        code=example_definition["code"],
        name=example_definition["name"],
        purpose=example_definition["purpose"],
        schema=example_definition["schema"],
        ui_schema=example_definition["ui_schema"],
    )
    services.form_publish(actor=config_admin, form=form)
    return form


@pytest.fixture
def valid_data() -> dict:
    from decimal import Decimal

    return {
        "项目名称": "西湖区翠苑一区老旧小区改造工程",
        "建设单位信用代码": "913301005000000002",
        "小区名称": "翠苑一区",
        "建成年份": 1992,
        "改造户数": 1460,
        "改造类别": ["基础类", "完善类"],
        "项目总投资": Decimal("12800000.00"),
        "资金来源": [
            {"来源": "中央补助", "金额": Decimal("8000000.00")},
            {"来源": "市县配套", "金额": Decimal("4800000.00")},
        ],
        "计划工期": {"开始": "2026-03-01", "结束": "2026-12-31"},
        "是否加装电梯": True,
        "加装电梯数量": 6,
        "联系人": "陈静",
        "联系电话": "13800138000",
    }


from .project_fixtures import project_type  # noqa: E402, F401  (shared fixture)
