"""The studio's flow designer: the page, the live preview (SVG and publish-time problems with their paths), saving
into the draft without touching other keys, publishing a version new approvals use, and permissions and bad input as
4xx (never a 500)."""

from __future__ import annotations

import copy
import json

import pytest
from django.test import Client

from tests.factories import PASSWORD
from tests.workflow.conftest import FLOWS

pytestmark = pytest.mark.django_db

BASE = "/studio/flows/flowtype/"


def _client(user) -> Client:
    client = Client(HTTP_ACCEPT_LANGUAGE="zh-hans")
    assert client.login(username=user.username, password=PASSWORD)
    return client


def _post(client: Client, url: str, body):
    data = body if isinstance(body, str | bytes) else json.dumps(body, ensure_ascii=False)
    return client.post(url, data=data, content_type="application/json")


def _flows() -> list:
    return copy.deepcopy(FLOWS)


def test_page_shows_the_flows_and_their_diagrams(flows, config_admin):
    response = _client(config_admin).get(BASE)
    assert response.status_code == 200
    html = response.content.decode()
    assert "流程设计器" in html and "flow_designer.js" in html
    assert "财政局会签" in html and "<svg" in html
    assert 'data-can-edit="true"' in html


def test_preview_svg_follows_the_condition(flows, config_admin):
    client = _client(config_admin)
    first = _post(client, BASE + "preview/", {"flows": _flows()})
    assert first.status_code == 200
    body = first.json()
    assert len(body["svg"]) == 3 and all(s.startswith("<svg") for s in body["svg"])
    assert body["problems"] == []
    assert "1000万" in body["svg"][0]
    edited = _flows()
    edited[0]["steps"][1]["when"] = "预算 > 500万"
    second = _post(client, BASE + "preview/", {"flows": edited}).json()
    assert second["svg"][0] != body["svg"][0]
    assert "500万" in second["svg"][0] and "1000万" not in second["svg"][0]
    assert second["svg"][1] == body["svg"][1]


def test_preview_problems_name_their_paths(flows, config_admin):
    client = _client(config_admin)
    bad = _flows()
    bad[0]["steps"][0]["approvers"][0]["role"] = "nosuchrole"
    bad[0]["steps"][1]["when"] = "预算 >"
    bad[1]["steps"][0]["next"] = "cw"
    bad[1]["steps"][1]["next"] = "ks"
    bad[2]["steps"][0]["sla"] = "明天"
    body = _post(client, BASE + "preview/", {"flows": bad}).json()
    paths = {p["path"]: p["message"] for p in body["problems"]}
    assert "角色“nosuchrole”不存在" in paths["flows[0].steps[0].approvers[0].role"]
    assert "flows[0].steps[1].when" in paths
    assert "流程有环" in paths["flows[1].steps"]
    assert "flows[2].steps[0].sla" in paths
    assert all(p.startswith("flows") for p in paths)
    # the diagrams are still drawn while the flows are being edited
    assert all(s.startswith("<svg") for s in body["svg"])


def test_save_replaces_only_flows_and_creates_a_draft(flows, config_admin):
    ptype = flows.ptype
    before = copy.deepcopy(ptype.published().config)
    assert ptype.draft() is None
    edited = _flows()
    edited[0]["steps"][1]["when"] = "预算 > 500万"
    response = _post(_client(config_admin), BASE + "save/", {"flows": edited})
    assert response.status_code == 200, response.content
    assert response.json()["status"] == "draft"
    draft = ptype.draft()
    assert draft is not None and draft.number == 2
    assert draft.config["flows"][0]["steps"][1]["when"] == "预算 > 500万"
    assert {k: v for k, v in draft.config.items() if k != "flows"} == {
        k: v for k, v in before.items() if k != "flows"
    }
    # saving again replaces the same draft
    _post(_client(config_admin), BASE + "save/", {"flows": edited})
    assert ptype.versions.filter(status="draft").count() == 1
    # the page now edits the draft
    html = _client(config_admin).get(BASE).content.decode()
    assert "预算 &gt; 500万" in html or "500万" in html


def test_publish_makes_a_version_new_approvals_use(flows, config_admin):
    from workflow import services as wf

    edited = _flows()
    edited[0]["steps"][1]["when"] = "预算 > 500万"
    client = _client(config_admin)
    refused = _post(client, BASE + "publish/", {"flows": edited})
    assert refused.status_code == 400 and "confirm" in refused.json()["fields"]
    response = _post(client, BASE + "publish/", {"flows": edited, "confirm": True})
    assert response.status_code == 200, response.content
    assert response.json()["version"] == 2
    flows.ptype.refresh_from_db()
    assert flows.ptype.published().number == 2
    # an 800万 project now needs the 财政局会签 (it did not under 预算 > 1000万)
    project = flows.project("8000000.00")
    assert project.type_version.number == 2
    project, instance = wf.stage_request(actor=flows.clerk, project=project, to_stage="执行")
    wf.task_approve(actor=flows.ks1, task=instance.tasks.get(assignee=flows.ks1, status="open"))
    instance.refresh_from_db()
    assert instance.current_step == "czj"


def test_publish_reports_service_errors_with_paths(flows, config_admin):
    bad = _flows()
    bad[0]["steps"][1]["when"] = "预算 >"
    response = _post(_client(config_admin), BASE + "publish/", {"flows": bad, "confirm": True})
    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "config_invalid" and "flows[0].steps[1].when" in body["fields"]
    assert flows.ptype.published().number == 1


def test_a_clerk_may_view_but_not_save(flows):
    client = _client(flows.clerk)
    page = client.get(BASE)
    assert page.status_code == 200 and 'data-can-edit="false"' in page.content.decode()
    assert _post(client, BASE + "preview/", {"flows": _flows()}).status_code == 200
    denied = _post(client, BASE + "save/", {"flows": _flows()})
    assert denied.status_code == 403 and denied.json()["code"]
    assert _post(client, BASE + "publish/", {"flows": _flows(), "confirm": True}).status_code == 403
    assert flows.ptype.draft() is None


def test_anonymous_unknown_type_and_bad_input(flows, config_admin):
    anonymous = Client()
    assert anonymous.get(BASE).status_code == 302
    assert _post(anonymous, BASE + "preview/", {"flows": []}).status_code == 403
    client = _client(config_admin)
    assert client.get("/studio/flows/nosuchtype/").status_code == 404
    assert _post(client, "/studio/flows/nosuchtype/preview/", {"flows": []}).status_code == 404
    for url in ("preview/", "save/", "publish/"):
        bad = _post(client, BASE + url, "{not json")
        assert bad.status_code == 400
        assert set(bad.json()) == {"code", "message", "fields"}
    assert _post(client, BASE + "preview/", [1, 2]).status_code == 400
    missing = _post(client, BASE + "preview/", {"flows": "x"})
    assert missing.status_code == 400 and "flows" in missing.json()["fields"]
    odd = _post(client, BASE + "preview/", {"flows": [1, {"steps": [3, {"sla": "x", "approvers": 5}]}]})
    assert odd.status_code == 200 and odd.json()["problems"]
    assert client.get(BASE + "preview/").status_code == 405
