"""The rule editor's JSON endpoints: vocabulary from the DSL's own tables, diagnostics from ``dsl.diagnose`` with
exact positions and a did-you-mean, the SQL verdict, a trial run with its explanation, the impact in an org's
subtree, and permissions and bad input as 4xx JSON (never a 500)."""

from __future__ import annotations

import copy
from decimal import Decimal

import pytest
from django.test import Client

from projects import services
from tests.admin_ui.helpers import client_for, post_json
from tests.rules.rule_fixtures import laojiu_project, pay

pytestmark = pytest.mark.django_db

CHECK = "/studio/rules/check/"
TRY = "/studio/rules/try/"
IMPACT = "/studio/rules/impact/"
VOCABULARY = "/studio/rules/vocabulary/"


@pytest.fixture
def over(world, project_type, valid_data):
    """One 老旧小区改造 project at 西湖区 overspent by 10%, one at 上城区 within budget."""
    over = laojiu_project(world, project_type, valid_data, budget="1000000.00", 项目名称="西湖区超支小区")
    pay(world, over, "1100000.00")
    data = copy.deepcopy(valid_data) | {"项目名称": "上城区正常小区", "项目总投资": Decimal("1000000.00")}
    data["资金来源"] = [{"来源": "中央补助", "金额": Decimal("1000000.00")}]
    fine = services.project_create_from_type(
        actor=world.users["clerk_b"], org=world.bureau_b, ptype=project_type, data=data
    )
    return over, fine


def test_vocabulary_comes_from_the_catalogue_functions_and_keywords(world, project_type, config_admin):
    response = client_for(config_admin).get(VOCABULARY, {"type": "laojiu"})
    assert response.status_code == 200
    body = response.json()
    names = {n["name"]: n for n in body["names"]}
    assert names["超支率"]["indicator"] is True
    assert names["预算"]["type"] == "数值"
    assert "支出.金额" in names
    functions = {f["name"]: f for f in body["functions"]}
    assert "求和" in functions["sum"]["aliases"]
    keywords = {k["word"]: k["kind"] for k in body["keywords"]}
    assert keywords["且"] == "AND" and keywords["为空"] == "IS_NULL" and keywords["不为空"] == "NOT_NULL"
    assert "万" in body["patterns"]["NUMBER"] and "天" in body["patterns"]["NUMBER"]
    assert "“" in body["patterns"]["STRING"]
    assert "(" in body["punctuation"]


def test_check_reports_a_typo_at_its_exact_column_with_a_did_you_mean(world, project_type, config_admin):
    client = client_for(config_admin)
    response = post_json(client, CHECK, {"type": "laojiu", "source": "预算 > 0 且\n  超支律 > 5%"})
    assert response.status_code == 200
    body = response.json()
    assert body["ok"] is False and body["verdict"] is None
    [problem] = body["diagnostics"]
    assert (problem["line"], problem["column"], problem["end_line"], problem["end_column"]) == (2, 3, 2, 6)
    assert "超支率" in problem["message"] and "超支率" in problem["suggestions"]
    assert problem["code"].startswith("E")

    english = post_json(
        client_for(config_admin, "en"), CHECK, {"type": "laojiu", "source": "超支律 > 5%"}
    ).json()
    assert "did you mean" in english["diagnostics"][0]["message"]


def test_check_of_a_syntax_error_is_a_diagnostic_not_an_error(world, project_type, config_admin):
    response = post_json(client_for(config_admin), CHECK, {"type": "laojiu", "source": "预算 > > 5"})
    assert response.status_code == 200
    [problem] = response.json()["diagnostics"]
    assert (
        problem["line"] == 1 and problem["column"] == 4
    )  # the DSL points at the operator missing its operand


def test_check_gives_the_verdict_when_the_rule_type_checks(world, project_type, config_admin):
    client = client_for(config_admin)
    body = post_json(client, CHECK, {"type": "laojiu", "source": "超支率 > 5%"}).json()
    assert body["ok"] is True and body["diagnostics"] == []
    assert body["verdict"] == {"in_database": True, "text": "在数据库中执行"}
    not_bool = post_json(client, CHECK, {"type": "laojiu", "source": "预算 + 1"}).json()
    assert not_bool["ok"] is False and not_bool["diagnostics"]


def test_try_returns_the_value_and_the_explanation(world, project_type, config_admin, over):
    overspent, fine = over
    client = client_for(config_admin)
    body = post_json(client, TRY, {"type": "laojiu", "source": "超支率 > 5%", "project": overspent.pk}).json()
    assert body["ok"] is True and body["value"] is True and body["fires"] is True
    assert body["trace"]["text"] == "超支率 > 5%"
    assert [c["text"] for c in body["trace"]["children"]] == ["超支率", "5%"]
    assert body["trace"]["children"][0]["value"] == "0.1"
    assert "超支率" in body["text"] and "→" in body["text"]
    quiet = post_json(
        client, TRY, {"type": "laojiu", "source": "超支率 > 5%", "project": str(fine.pk)}
    ).json()
    assert quiet["value"] is False
    broken = post_json(client, TRY, {"type": "laojiu", "source": "超支律 > 5%", "project": fine.pk}).json()
    assert broken["ok"] is False and broken["diagnostics"]


def test_try_on_a_project_the_user_may_not_view_is_404(world, project_type, valid_data, over):
    overspent, fine = over
    client = client_for(world.users["clerk_a"])  # 西湖区: sees its own district only
    assert (
        post_json(
            client, TRY, {"type": "laojiu", "source": "超支率 > 5%", "project": overspent.pk}
        ).status_code
        == 200
    )
    response = post_json(client, TRY, {"type": "laojiu", "source": "超支率 > 5%", "project": fine.pk})
    assert response.status_code == 404
    assert response.json()["code"] == "not_found"
    missing = post_json(client, TRY, {"type": "laojiu", "source": "超支率 > 5%", "project": 999999})
    assert missing.status_code == 404
    bad = post_json(client, TRY, {"type": "laojiu", "source": "超支率 > 5%", "project": "abc"})
    assert bad.status_code == 400 and set(bad.json()) == {"code", "message", "fields"}
    assert "project" in bad.json()["fields"]


def test_impact_lists_the_firing_projects_of_the_org_subtree(world, project_type, config_admin, over):
    overspent, _fine = over
    client = client_for(config_admin)
    body = post_json(client, IMPACT, {"type": "laojiu", "source": "超支率 > 5%", "org": world.city.pk}).json()
    assert body["ok"] is True and body["count"] == 1
    assert [p["name"] for p in body["projects"]] == ["西湖区超支小区"]
    assert body["projects"][0]["url"] == f"/projects/{overspent.pk}/"
    everything = post_json(
        client, IMPACT, {"type": "laojiu", "source": "预算 > 0", "org": world.city.pk}
    ).json()
    assert everything["count"] == 2
    shangcheng = post_json(
        client, IMPACT, {"type": "laojiu", "source": "预算 > 0", "org": world.district_b.pk}
    ).json()
    assert [p["name"] for p in shangcheng["projects"]] == ["上城区正常小区"]
    outside = post_json(client, IMPACT, {"type": "laojiu", "source": "预算 > 0", "org": world.province.pk})
    assert outside.status_code == 404


def test_permissions(world, project_type, config_admin):
    anonymous = Client()
    assert anonymous.get(VOCABULARY, {"type": "laojiu"}).status_code == 403
    assert post_json(anonymous, CHECK, {"type": "laojiu", "source": "预算 > 0"}).status_code == 403
    nobody = client_for(world.users["nobody"])
    response = post_json(nobody, CHECK, {"type": "laojiu", "source": "预算 > 0"})
    assert response.status_code == 403 and response.json()["code"] == "permission_denied"
    assert nobody.get("/studio/rules/").status_code == 403
    page = client_for(config_admin).get("/studio/rules/")
    assert page.status_code == 200
    assert "规则编辑器" in page.content.decode() and "laojiu" in page.content.decode()
    assert client_for(world.users["regulator"]).get("/studio/rules/").status_code == 200


@pytest.mark.parametrize(
    ("body", "status", "field"),
    [
        ("not json", 400, None),
        ("[1, 2]", 400, None),
        ({"type": "laojiu"}, 400, "source"),
        ({"type": "laojiu", "source": 5}, 400, "source"),
        ({"type": "laojiu", "source": "预算 > 0" * 1000}, 400, "source"),
        ({"source": "预算 > 0"}, 400, "type"),
        ({"type": "no-such-type", "source": "预算 > 0"}, 404, None),
        ({"type": ["laojiu"], "source": "预算 > 0"}, 400, "type"),
    ],
)
def test_bad_input_is_a_4xx_json_error(world, project_type, config_admin, body, status, field):
    response = post_json(client_for(config_admin), CHECK, body)
    assert response.status_code == status, response.content
    payload = response.json()
    assert set(payload) == {"code", "message", "fields"}
    if field:
        assert field in payload["fields"]


def test_bad_type_in_vocabulary_and_wrong_method(world, project_type, config_admin):
    client = client_for(config_admin)
    assert client.get(VOCABULARY, {"type": "nope"}).status_code == 404
    assert client.get(VOCABULARY).status_code == 400
    assert client.get(CHECK).status_code == 405


def test_page_and_messages_in_english(world, project_type, config_admin):
    client = client_for(config_admin, "en")
    page = client.get("/studio/rules/").content.decode()
    assert "Rule editor" in page and "Try it" in page and "Show impact" in page
    assert "规则编辑器" not in page and "影响范围" not in page
    body = post_json(client, CHECK, {"type": "laojiu", "source": "超支率 > 5%"}).json()
    assert body["verdict"]["text"] == "Runs in the database"
    error = post_json(client, CHECK, {"type": "laojiu"}).json()
    assert error["message"] == "The rule condition is missing."
