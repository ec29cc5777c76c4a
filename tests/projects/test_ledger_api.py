"""GET /api/v1/projects/ (the ledger with totals) and /api/v1/projects/export/ (.xlsx): filters, errors,
isolation, number formats and a query count that does not grow with the page size."""

from __future__ import annotations

import io
import zipfile
from datetime import date, datetime
from decimal import Decimal

import pytest
from openpyxl import load_workbook

from audit.models import AuditEvent
from projects import services
from projects.models import Project

from . import test_ledger

pytestmark = pytest.mark.django_db
ledger = test_ledger.ledger  # the shared fixture: projects of both districts in every stage


def _xlsx(response):
    assert response.status_code == 200, getattr(response, "content", b"")[:500]
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    content = b"".join(response.streaming_content)
    return content, load_workbook(io.BytesIO(content))


def test_list_returns_page_and_totals_of_the_whole_filtered_set(ledger, api):
    client = api.as_user(ledger.world.users["leader_a"])
    body = client.get("/api/v1/projects/", {"page_size": 2, "ordering": "budget"}).json()
    assert body["count"] == 4 and len(body["results"]) == 2
    assert "page=2" in body["next"] and body["previous"] is None
    assert body["totals"] == {
        "count": 4,
        "budget": "17300000.00",
        "allocated": "1600300.00",
        "spent": "1900000.85",
        "execution_rate": "0.1098",
        "overspend": "200000.10",
    }
    row = body["results"][0]
    assert row["budget"] == "1000000.00" and isinstance(row["spent_total"], str)
    assert row["url"] == f"/projects/{row['id']}/"
    page2 = client.get(body["next"]).json()
    assert page2["totals"] == body["totals"] and page2["previous"] is not None


def test_list_row_shape(ledger, api):
    client = api.as_user(ledger.world.users["leader_a"])
    rows = {r["code"]: r for r in client.get("/api/v1/projects/").json()["results"]}
    p1, p4 = rows[ledger.p1.code], rows[ledger.p4.code]
    assert p1["execution_rate"] == "0.7000" and p1["is_overdue"] is True and p1["overspend"] == "0.00"
    assert p1["org"] == "330106-zjj" and p1["org_name"] == "西湖区住建局" and p1["type"] is None
    assert p4["type"] == "laojiu" and p4["type_name"] == "老旧小区改造"
    assert rows[ledger.p2.code]["overspend"] == "200000.10"


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"org": "330106-gck"}, {"p3"}),
        ({"type": "laojiu"}, {"p4"}),
        ({"stage": "执行", "year": "2025"}, {"p1"}),
        ({"fund_source": "中央财政"}, {"p1", "p3"}),
        ({"overdue": "true"}, {"p1"}),
        ({"has_alerts": "false"}, {"p1", "p2", "p3", "p4"}),
        ({"search": "cyyq"}, {"p1", "p4"}),
    ],
)
def test_list_filters(ledger, api, params, expected):
    client = api.as_user(ledger.world.users["leader_a"])
    body = client.get("/api/v1/projects/", params).json()
    assert {r["code"] for r in body["results"]} == {getattr(ledger, p).code for p in expected}
    assert body["totals"]["count"] == len(expected)


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"year": "x"}, "year"),
        ({"overdue": "perhaps"}, "overdue"),
        ({"fund_source": "金子"}, "fund_source"),
        ({"ordering": "owner__password"}, "ordering"),
        ({"type": "nope"}, "type"),
        ({"stage": "未知"}, "stage"),
        ({"page": "0"}, "page"),
        ({"page_size": "100000"}, "page_size"),
    ],
)
def test_bad_parameters_are_400_with_fields(ledger, api, params, field):
    response = api.as_user(ledger.world.users["leader_a"]).get("/api/v1/projects/", params)
    assert response.status_code == 400
    body = response.json()
    assert set(body) == {"code", "message", "fields"} and body["code"] == "validation_failed"
    assert field in body["fields"]


def test_page_past_the_end_is_404(ledger, api):
    response = api.as_user(ledger.world.users["leader_a"]).get("/api/v1/projects/", {"page": 99})
    assert response.status_code == 404 and response.json()["code"] == "not_found"


def test_api_never_shows_the_other_district_even_in_totals(ledger, api):
    client = api.as_user(ledger.world.users["clerk_b"])
    body = client.get("/api/v1/projects/").json()
    assert [r["code"] for r in body["results"]] == [ledger.pb.code]
    assert body["totals"]["budget"] == "1000000.00"
    assert client.get("/api/v1/projects/", {"org": "330106-zjj"}).json()["totals"]["count"] == 0


def test_schema_documents_the_ledger_parameters(client):
    schema = client.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json").json()
    listing = schema["paths"]["/api/v1/projects/"]["get"]
    names = {p["name"] for p in listing["parameters"]}
    assert {
        "org",
        "type",
        "stage",
        "year",
        "fund_source",
        "overdue",
        "has_alerts",
        "search",
        "ordering",
    } <= names
    assert {"page", "page_size"} <= names
    export = schema["paths"]["/api/v1/projects/export/"]["get"]
    assert (
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
        in export["responses"]["200"]["content"]
    )


def test_export_is_the_filtered_set_with_numbers_and_dates(ledger, api):
    client = api.as_user(ledger.world.users["leader_a"])
    content, wb = _xlsx(
        client.get("/api/v1/projects/export/", {"fund_source": "中央财政", "ordering": "code"})
    )
    ws = wb["统一项目台账"]
    rows = list(ws.iter_rows(values_only=True))
    header = list(rows[0])
    assert header[:3] == ["项目代码", "项目名称", "建设单位"] and "预算（元）" in header
    assert [r[0] for r in rows[1:]] == sorted([ledger.p1.code, ledger.p3.code])
    cells = {c.value: c for c in ws[1]}
    by_code = {r[0].value: r for r in ws.iter_rows(min_row=2)}
    p1 = by_code[ledger.p1.code]
    budget = p1[header.index("预算（元）")]
    spent = p1[header.index("已支出（元）")]
    assert budget.data_type == "n" and budget.number_format == "#,##0.00"
    assert Decimal(str(spent.value)) == Decimal("700000.75")
    rate = p1[header.index("执行率")]
    assert rate.number_format == "0.00%" and Decimal(str(rate.value)) == Decimal("0.7000")
    end = p1[header.index("计划完工")]
    assert end.is_date and end.number_format == "yyyy-mm-dd"
    assert isinstance(end.value, datetime | date) and end.value.date() == ledger.p1.planned_end
    assert p1[header.index("是否逾期")].value == "是"
    assert cells["项目代码"].font.b
    # Written from Decimal: the sheet's XML holds the exact decimal text, never a float's expansion.
    with zipfile.ZipFile(io.BytesIO(content)) as archive:
        sheet = next(n for n in archive.namelist() if n.startswith("xl/worksheets/sheet"))
        xml = archive.read(sheet).decode()
    assert "<v>700000.75</v>" in xml
    about = {r[0]: r[1] for r in wb["说明"].iter_rows(values_only=True) if r and r[0]}
    assert about["资金来源"] == "中央财政" and about["项目数"] == 2


def test_export_only_contains_own_district_and_is_audited(ledger, api):
    client = api.as_user(ledger.world.users["leader_a"])
    _content, wb = _xlsx(client.get("/api/v1/projects/export/", {"search": "老旧小区"}))
    names = {r[1] for r in wb.worksheets[0].iter_rows(min_row=2, values_only=True)}
    assert names == {ledger.p1.name, ledger.p4.name}
    event = AuditEvent.objects.filter(action="project.export").order_by("-id").first()
    assert event.after == {"count": 2, "filters": {"search": "老旧小区"}}
    assert event.actor == ledger.world.users["leader_a"]


def test_export_bad_filter_is_400_and_not_audited(ledger, api):
    before = AuditEvent.objects.filter(action="project.export").count()
    response = api.as_user(ledger.world.users["leader_a"]).get(
        "/api/v1/projects/export/", {"year": "二〇二六"}
    )
    assert response.status_code == 400 and "year" in response.json()["fields"]
    assert AuditEvent.objects.filter(action="project.export").count() == before


def test_export_without_permission_is_403(ledger, api):
    # 配置管理员 may view projects but not export them
    from accounts.models import Role
    from accounts.services import grant_create
    from tests.factories import UserFactory

    viewer = UserFactory(username="viewer_a", org=ledger.world.bureau_a)
    grant_create(actor=None, user=viewer, role=Role.objects.get(code="approver"), org=ledger.world.bureau_a)
    client = api.as_user(viewer)
    assert client.get("/api/v1/projects/").json()["count"] == 4
    assert client.get("/api/v1/projects/export/").status_code == 403


def test_text_never_becomes_a_formula(ledger, api):
    clerk = ledger.world.users["clerk_a"]
    services.project_update(actor=clerk, project=ledger.p3, name='=HYPERLINK("http://x","点我")')
    _content, wb = _xlsx(api.as_user(clerk).get("/api/v1/projects/export/", {"org": "330106-gck"}))
    cell = wb.worksheets[0]["B2"]
    assert cell.data_type == "s" and cell.value.startswith("=HYPERLINK")


@pytest.fixture
def many(ledger):
    clerk = ledger.world.users["clerk_a"]
    for i in range(60):
        services.project_create(
            actor=clerk, org=ledger.world.bureau_a, name=f"批量项目{i:02d}", budget="10.00"
        )
    return ledger


@pytest.mark.parametrize("size", [5, 50])
def test_api_query_count_is_constant_in_page_size(many, api, django_assert_num_queries, size):
    client = api.as_user(many.world.users["leader_a"])
    # token, grants, 2 × catalogue (types, stages), org subtree, totals, page rows
    with django_assert_num_queries(7):
        body = client.get("/api/v1/projects/", {"page_size": size, "org": "330106"}).json()
    assert len(body["results"]) == size


@pytest.mark.parametrize("size", [5, 50])
def test_page_query_count_is_constant_in_page_size(many, client, django_assert_num_queries, size):
    client.force_login(many.world.users["leader_a"])
    # session, user, grants, 2 × catalogue, totals, page rows, org choices, the user's org (page header),
    # the header's alert badge and its approval badge
    with django_assert_num_queries(11):
        response = client.get("/projects/", {"page_size": size, "search": "批量"})
    assert response.status_code == 200
    assert response.content.decode().count('class="ledger-row') == size


def test_unbudgeted_project_has_no_rate(ledger, api):
    Project.objects.filter(pk=ledger.p3.pk).update(budget=Decimal("0.00"))
    client = api.as_user(ledger.world.users["leader_a"])
    row = client.get("/api/v1/projects/", {"org": "330106-gck"}).json()["results"][0]
    assert row["execution_rate"] is None
