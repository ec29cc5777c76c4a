"""The studio's flow designer: the page, the live preview (SVG and publish-time problems with their paths), adding
and removing whole flows, flow-level settings, saving into the draft without touching other keys, the diff shown
before publishing, publishing a version new approvals use, and permissions and bad input as 4xx (never a 500)."""

from __future__ import annotations

import copy

import pytest
from django.test import Client

from tests.admin_ui.helpers import client_for, post_json
from tests.workflow.conftest import FLOWS

pytestmark = pytest.mark.django_db

BASE = "/studio/flows/flowtype/"


def _flows() -> list:
    return copy.deepcopy(FLOWS)


def test_page_shows_the_flows_and_their_diagrams(flows, config_admin):
    response = client_for(config_admin).get(BASE)
    assert response.status_code == 200
    html = response.content.decode()
    assert "流程设计器" in html and "flow_designer.js" in html
    assert "财政局会签" in html and "<svg" in html
    assert 'data-can-edit="true"' in html


def test_preview_svg_follows_the_condition(flows, config_admin):
    client = client_for(config_admin)
    first = post_json(client, BASE + "preview/", {"flows": _flows()})
    assert first.status_code == 200
    body = first.json()
    assert len(body["svg"]) == 3 and all(s.startswith("<svg") for s in body["svg"])
    assert body["problems"] == []
    assert "1000万" in body["svg"][0]
    edited = _flows()
    edited[0]["steps"][1]["when"] = "预算 > 500万"
    second = post_json(client, BASE + "preview/", {"flows": edited}).json()
    assert second["svg"][0] != body["svg"][0]
    assert "500万" in second["svg"][0] and "1000万" not in second["svg"][0]
    assert second["svg"][1] == body["svg"][1]


def test_preview_problems_name_their_paths(flows, config_admin):
    client = client_for(config_admin)
    bad = _flows()
    bad[0]["steps"][0]["approvers"][0]["role"] = "nosuchrole"
    bad[0]["steps"][1]["when"] = "预算 >"
    bad[1]["steps"][0]["next"] = "cw"
    bad[1]["steps"][1]["next"] = "ks"
    bad[2]["steps"][0]["sla"] = "明天"
    body = post_json(client, BASE + "preview/", {"flows": bad}).json()
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
    response = post_json(client_for(config_admin), BASE + "save/", {"flows": edited})
    assert response.status_code == 200, response.content
    assert response.json()["status"] == "draft"
    draft = ptype.draft()
    assert draft is not None and draft.number == 2
    assert draft.config["flows"][0]["steps"][1]["when"] == "预算 > 500万"
    assert {k: v for k, v in draft.config.items() if k != "flows"} == {
        k: v for k, v in before.items() if k != "flows"
    }
    # saving again replaces the same draft
    post_json(client_for(config_admin), BASE + "save/", {"flows": edited})
    assert ptype.versions.filter(status="draft").count() == 1
    # the page now edits the draft
    html = client_for(config_admin).get(BASE).content.decode()
    assert "预算 &gt; 500万" in html or "500万" in html


def test_publish_makes_a_version_new_approvals_use(flows, config_admin):
    from workflow import services as wf

    edited = _flows()
    edited[0]["steps"][1]["when"] = "预算 > 500万"
    client = client_for(config_admin)
    refused = post_json(client, BASE + "publish/", {"flows": edited})
    assert refused.status_code == 400 and "confirm" in refused.json()["fields"]
    response = post_json(client, BASE + "publish/", {"flows": edited, "confirm": True})
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
    response = post_json(client_for(config_admin), BASE + "publish/", {"flows": bad, "confirm": True})
    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "config_invalid" and "flows[0].steps[1].when" in body["fields"]
    assert flows.ptype.published().number == 1


def test_a_clerk_may_view_but_not_save(flows):
    client = client_for(flows.clerk)
    page = client.get(BASE)
    assert page.status_code == 200 and 'data-can-edit="false"' in page.content.decode()
    assert post_json(client, BASE + "preview/", {"flows": _flows()}).status_code == 200
    denied = post_json(client, BASE + "save/", {"flows": _flows()})
    assert denied.status_code == 403 and denied.json()["code"]
    assert post_json(client, BASE + "publish/", {"flows": _flows(), "confirm": True}).status_code == 403
    assert flows.ptype.draft() is None


def test_anonymous_unknown_type_and_bad_input(flows, config_admin):
    anonymous = Client()
    assert anonymous.get(BASE).status_code == 302
    assert post_json(anonymous, BASE + "preview/", {"flows": []}).status_code == 403
    client = client_for(config_admin)
    assert client.get("/studio/flows/nosuchtype/").status_code == 404
    assert post_json(client, "/studio/flows/nosuchtype/preview/", {"flows": []}).status_code == 404
    for url in ("preview/", "save/", "publish/"):
        bad = post_json(client, BASE + url, "{not json")
        assert bad.status_code == 400
        assert set(bad.json()) == {"code", "message", "fields"}
    assert post_json(client, BASE + "preview/", [1, 2]).status_code == 400
    missing = post_json(client, BASE + "preview/", {"flows": "x"})
    assert missing.status_code == 400 and "flows" in missing.json()["fields"]
    odd = post_json(client, BASE + "preview/", {"flows": [1, {"steps": [3, {"sla": "x", "approvers": 5}]}]})
    assert odd.status_code == 200 and odd.json()["problems"]
    assert client.get(BASE + "preview/").status_code == 405


def _new_flow(transition: str = "验收审批", steps: list | None = None) -> dict:
    step = {
        "code": "step1",
        "name": "步骤 1",
        "mode": "或签",
        "approvers": [{"role": "approver", "org": "本单位"}],
    }
    return {
        "code": "flowtype_yanshou",
        "name": transition,
        "transition": transition,
        "steps": [step] if steps is None else steps,
    }


def test_page_offers_the_add_flow_bar_and_flow_settings_to_editors(flows, config_admin):
    response = client_for(config_admin).get(BASE)
    html = response.content.decode()
    assert 'id="fd-add"' in html and "publish-preview/" in html and 'id="fd-autosave"' in html
    data = response.context["data"]
    assert data["noApprover"] == ["转管理员", "自动通过"] and data["typeCode"] == "flowtype"
    assert data["transitionCodes"]["验收审批"] == "yanshou"
    assert response.context["i18n"]["addFlow"] == "新增流程"
    readonly = client_for(flows.clerk).get(BASE).content.decode()
    assert (
        'id="fd-add"' not in readonly and "publish-preview/" not in readonly and "fd-autosave" not in readonly
    )


def test_a_flow_added_without_steps_is_a_problem_until_it_has_one(flows, config_admin):
    client = client_for(config_admin)
    edited = [*_flows(), _new_flow(steps=[])]
    body = post_json(client, BASE + "preview/", {"flows": edited}).json()
    assert len(body["svg"]) == 4 and body["svg"][3].startswith("<svg")
    paths = {p["path"]: p["message"] for p in body["problems"]}
    assert paths == {"flows[3].steps": "至少需要一个审批步骤"}
    edited[3] = _new_flow()
    assert post_json(client, BASE + "preview/", {"flows": edited}).json()["problems"] == []
    # a second flow for a transition that already has one is named at its transition
    twice = [*_flows(), _new_flow(transition="立项审批")]
    paths = {
        p["path"]: p["message"]
        for p in post_json(client, BASE + "preview/", {"flows": twice}).json()["problems"]
    }
    assert "一个环节只能配置一个流程" in paths["flows[3].transition"]
    # the added flow is saved into the draft and published with the type
    assert post_json(client, BASE + "save/", {"flows": edited}).status_code == 200
    assert [f["transition"] for f in flows.ptype.draft().config["flows"]][-1] == "验收审批"
    published = post_json(client, BASE + "publish/", {"confirm": True})
    assert published.status_code == 200, published.content
    flows.ptype.refresh_from_db()
    assert len(flows.ptype.published().config["flows"]) == 4


def test_a_removed_flow_leaves_the_draft(flows, config_admin):
    client = client_for(config_admin)
    edited = _flows()
    removed = edited.pop(1)
    body = post_json(client, BASE + "preview/", {"flows": edited}).json()
    assert len(body["svg"]) == 2 and body["problems"] == []
    assert post_json(client, BASE + "save/", {"flows": edited}).status_code == 200
    codes = [f["code"] for f in flows.ptype.draft().config["flows"]]
    assert removed["code"] not in codes and len(codes) == 2
    # every flow removed: no approvals needed, nothing to report
    none = post_json(client, BASE + "preview/", {"flows": []}).json()
    assert none == {"svg": [], "problems": []}
    assert post_json(client, BASE + "save/", {"flows": []}).status_code == 200
    assert flows.ptype.draft().config["flows"] == []
    html = client.get(BASE).content.decode()
    assert 'id="fd-empty"' in html and 'id="fd-empty" hidden' not in html


def test_flow_level_settings_are_checked_and_saved(flows, config_admin):
    client = client_for(config_admin)
    edited = _flows()
    edited[0].update(
        name="立项审批（新）",
        code="lixiang2",
        no_approver="自动通过",
        skip_repeated=False,
        resume_at_returner=False,
    )
    assert post_json(client, BASE + "preview/", {"flows": edited}).json()["problems"] == []
    response = post_json(client, BASE + "save/", {"flows": edited})
    assert response.status_code == 200, response.content
    saved = flows.ptype.draft().config["flows"][0]
    assert saved["no_approver"] == "自动通过" and saved["skip_repeated"] is False
    assert (
        saved["resume_at_returner"] is False
        and saved["name"] == "立项审批（新）"
        and saved["code"] == "lixiang2"
    )
    # the page edits what was saved
    assert client.get(BASE).context["data"]["flows"][0]["no_approver"] == "自动通过"
    bad = _flows()
    bad[0]["no_approver"] = "随便"
    bad[1]["code"] = ""
    bad[2]["transition"] = "结项审批"
    paths = {p["path"] for p in post_json(client, BASE + "preview/", {"flows": bad}).json()["problems"]}
    assert {"flows[0].no_approver", "flows[1].code", "flows[2].transition"} <= paths


def test_publish_preview_lists_the_changes_and_the_records_reached(flows, config_admin):
    flows.project("8000000.00")
    flows.project("3000000.00")
    client = client_for(config_admin)
    unchanged = post_json(client, BASE + "publish-preview/", {"flows": _flows()})
    assert unchanged.status_code == 200, unchanged.content
    assert unchanged.json()["changes"] == [] and unchanged.json()["published"] == 1
    edited = _flows()
    edited[0]["steps"][1]["when"] = "预算 > 500万"
    edited[1]["no_approver"] = "自动通过"
    del edited[2]
    edited.append(_new_flow())
    body = post_json(client, BASE + "publish-preview/", {"flows": edited}).json()
    changes = "\n".join(body["changes"])
    assert "财政局会签" in changes and "条件 预算 > 1000万 → 预算 > 500万" in changes
    assert "无审批人时" in changes and "自动通过" in changes
    assert "- 流程" in changes and "+ 流程 验收审批（flowtype_yanshou，1 个步骤）" in changes
    assert body["counts"] == {"projects": 2, "running_approvals": 0, "overrides": 0}
    assert any("现有项目 2 个" in line for line in body["affected"])
    # without flows in the body: the draft's (here the published) flows
    assert post_json(client, BASE + "publish-preview/", {}).json()["changes"] == []
    # nothing is written by a preview
    assert flows.ptype.draft() is None


def test_publish_preview_is_for_those_who_may_publish(flows, config_admin):
    denied = post_json(client_for(flows.clerk), BASE + "publish-preview/", {"flows": _flows()})
    assert denied.status_code == 403 and set(denied.json()) == {"code", "message", "fields"}
    assert post_json(Client(), BASE + "publish-preview/", {"flows": _flows()}).status_code == 403
    client = client_for(config_admin)
    assert client.get(BASE + "publish-preview/").status_code == 405
    assert post_json(client, BASE + "publish-preview/", "{not json").status_code == 400
    assert post_json(client, BASE + "publish-preview/", {"flows": "x"}).status_code == 400
    malformed = post_json(client, BASE + "publish-preview/", {"flows": [1, {"steps": []}]})
    assert malformed.status_code == 400 and malformed.json()["code"] == "config_invalid"
    # a flow still being edited is described as it stands, never a 500
    odd = post_json(
        client, BASE + "publish-preview/", {"flows": [{"steps": [3, {"sla": "x", "approvers": 5}]}]}
    )
    assert odd.status_code == 200 and set(odd.json()) >= {"changes", "affected", "counts"}
    assert post_json(client, "/studio/flows/nosuchtype/publish-preview/", {"flows": []}).status_code == 404
