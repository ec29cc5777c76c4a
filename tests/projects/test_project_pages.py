"""Project pages without a browser: start from a type, the one-screen detail page and its actions."""

from __future__ import annotations

import pytest

from projects import services
from projects.models import Expenditure, Project

pytestmark = pytest.mark.django_db


@pytest.fixture
def project(world, project_type, valid_data):
    return services.project_create_from_type(
        actor=world.users["clerk_a"], org=world.bureau_a, ptype=project_type, data=valid_data
    )


def test_new_project_offers_applicable_types_and_creates_from_the_form(world, client, project_type):
    client.force_login(world.users["clerk_a"])
    page = client.get("/projects/new/").content.decode()
    assert "老旧小区改造" in page
    form_page = client.get("/projects/new/laojiu/").content.decode()
    assert "项目总投资" in form_page and "提交立项" in form_page
    post = {
        "项目名称": "翠苑二区改造",
        "建设单位信用代码": "913301005000000002",
        "小区名称": "翠苑二区",
        "改造户数": "300",
        "项目总投资": "500",
        "资金来源[0].来源": "中央补助",
        "资金来源[0].金额": "5000000",
        "联系人": "陈静",
        "联系电话": "13800138000",
        "op": "submit",
    }
    response = client.post("/projects/new/laojiu/", post)
    assert response.status_code == 302, response.content.decode()[:3000]
    project = Project.objects.get(name="翠苑二区改造")
    assert response["Location"] == f"/projects/{project.pk}/"
    assert project.budget == 5000000


def test_new_project_form_errors_stay_on_the_page(world, client, project_type):
    client.force_login(world.users["clerk_a"])
    response = client.post("/projects/new/laojiu/", {"项目名称": "缺项", "op": "submit"})
    assert response.status_code == 400
    assert "必填" in response.content.decode()
    assert not Project.objects.filter(name="缺项").exists()


def test_detail_page_shows_everything_and_records_a_payment(world, client, project):
    client.force_login(world.users["clerk_a"])
    page = client.get(f"/projects/{project.pk}/").content.decode()
    for text in (
        "西湖区翠苑一区老旧小区改造工程",
        "预算执行率",
        "登记支出",
        "关键节点",
        "立项信息",
        "进入“执行”阶段",
    ):
        assert text in page
    response = client.post(
        f"/projects/{project.pk}/expenditures/",
        {"voucher_no": "PZ-100", "paid_on": "2026-04-01", "payee": "杭州某建设集团", "amount": "128000.00"},
    )
    assert response.status_code == 302
    assert Expenditure.objects.get().amount == 128000
    follow = client.get(f"/projects/{project.pk}/").content.decode()
    assert "支出已登记" in follow and "PZ-100" in follow


def test_detail_action_errors_are_shown_not_raised(world, client, project):
    client.force_login(world.users["clerk_a"])
    client.post(
        f"/projects/{project.pk}/expenditures/",
        {"voucher_no": "", "paid_on": "x", "payee": "", "amount": "-1"},
    )
    page = client.get(f"/projects/{project.pk}/").content.decode()
    assert "支出信息未通过校验" in page and "凭证号：不能为空" in page


def test_stage_move_and_stage_form_through_pages(world, client, project):
    client.force_login(world.users["clerk_a"])
    client.post(f"/projects/{project.pk}/stage/", {"to_stage": "执行"})
    client.post(f"/projects/{project.pk}/stage/", {"to_stage": "验收"})
    project.refresh_from_db()
    assert project.stage == "验收"
    response = client.post(
        f"/projects/{project.pk}/forms/验收申请/",
        {"验收日期": "2026-12-20", "验收结论": "合格", "op": "submit"},
    )
    assert response.status_code == 302
    client.post(f"/projects/{project.pk}/stage/", {"to_stage": "结项"})
    project.refresh_from_db()
    assert project.stage == "结项"


def test_other_district_gets_404_on_detail_and_actions(world, client, project):
    client.force_login(world.users["clerk_b"])
    assert client.get(f"/projects/{project.pk}/").status_code == 404
    response = client.post(
        f"/projects/{project.pk}/expenditures/",
        {"voucher_no": "X", "paid_on": "2026-04-01", "payee": "某", "amount": "1"},
    )
    assert response.status_code == 404
    assert not Expenditure.objects.exists()
