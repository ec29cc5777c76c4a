"""Creating and editing orgs: validation in Chinese, permissions, audit, subtree queries."""

from __future__ import annotations

import pytest

from accounts import permissions
from audit.models import AuditEvent
from core.errors import PermissionDenied, ValidationFailed
from orgs import services
from orgs.models import Org

pytestmark = pytest.mark.django_db


def test_subtree_is_one_prefix_query(world, django_assert_num_queries):
    with django_assert_num_queries(1):
        names = set(Org.objects.filter(path__startswith=world.city.path).values_list("name", flat=True))
    assert names == {"杭州市", "西湖区", "上城区", "西湖区住建局", "上城区住建局"}


def test_division_code_must_match_parent(world):
    with pytest.raises(ValidationFailed) as err:
        services.org_create(
            actor=None,
            parent=world.city,
            name="滨江区",
            kind="county",
            code="330108x",
            division_code="320108",
        )
    assert err.value.fields["division_code"] == ["行政区划代码：代码“320108”不属于上级区划“330100”"]


def test_bureau_inherits_region_code(world):
    assert world.bureau_a.region_code == "330106"


def test_kind_nesting_is_enforced(world):
    with pytest.raises(ValidationFailed) as err:
        services.org_create(
            actor=None, parent=world.bureau_a, name="某市", kind="city", code="x-city", division_code="330200"
        )
    assert err.value.fields["parent"] == ["“市”不能设在委办局之下"]


def test_uscc_checksum_is_validated(world):
    with pytest.raises(ValidationFailed) as err:
        services.org_create(
            actor=None,
            parent=world.district_a,
            name="某局",
            kind="bureau",
            code="bad-uscc",
            uscc="913301005000000003",
        )
    assert err.value.fields["uscc"] == ["统一社会信用代码：格式或校验位不正确"]
    org = services.org_create(
        actor=None,
        parent=world.district_a,
        name="某局",
        kind="bureau",
        code="ok-uscc",
        uscc="913301005000000002",
    )
    assert org.uscc == "913301005000000002"


def test_district_admin_manages_only_own_subtree(world):
    admin_a = world.users["sysadmin_a"]
    created = services.org_create(
        actor=admin_a, parent=world.district_a, name="西湖区财政局", kind="bureau", code="330106-czj"
    )
    assert permissions.can(admin_a, "org.manage", created)
    with pytest.raises(PermissionDenied):
        services.org_create(
            actor=admin_a, parent=world.district_b, name="上城区财政局", kind="bureau", code="330102-czj"
        )
    event = AuditEvent.objects.filter(action="org.create").order_by("-id").first()
    assert event.actor == admin_a and event.after["code"] == "330106-czj"


def test_update_records_before_and_after(world):
    services.org_update(actor=world.users["sysadmin"], org=world.bureau_a, name="西湖区住房和城乡建设局")
    event = AuditEvent.objects.filter(action="org.update").order_by("-id").first()
    assert event.before["name"] == "西湖区住建局"
    assert event.after["name"] == "西湖区住房和城乡建设局"


def test_api_create_reports_fields_in_chinese(world, api):
    response = api.as_user(world.users["sysadmin"]).post(
        "/api/v1/orgs/",
        {"parent": "330100", "name": "", "kind": "county", "code": "?", "division_code": "12"},
        format="json",
    )
    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "validation_failed"
    assert set(body["fields"]) >= {"name", "code", "division_code"}
