"""The studio's form designer: the page, live checks with DSL diagnostics at their column, the preview of the generated
page for an unsaved definition, autosave into the draft, the publish diff and its confirmation, failures that keep the
draft, read-only access, earlier versions and drafts started from them; bad input is a 4xx, never a 500."""

from __future__ import annotations

import copy
import json
import re

import pytest
from django.test import Client

from admin_ui.views import dsl_vocabulary
from audit.models import AuditEvent
from forms.models import FormVersion
from tests.admin_ui.helpers import client_for, post_json

pytestmark = pytest.mark.django_db

BASE = "/studio/forms/laojiu-lixiang/"


def _definition(form) -> dict:
    version = form.published()
    return {"schema": copy.deepcopy(version.schema), "ui_schema": copy.deepcopy(version.ui_schema)}


def _with_new_fields(form) -> dict:
    """The 老旧小区改造 form plus a conditional pair (临时安置) and a computed 户均投资估算."""
    body = _definition(form)
    props = body["schema"]["properties"]
    props["是否需要临时安置"] = {"type": "boolean", "title": "是否需要临时安置", "x-field": "yesno"}
    props["临时安置户数"] = {"type": "integer", "title": "临时安置户数", "x-field": "integer", "minimum": 1}
    props["户均投资估算"] = {
        "type": "number",
        "title": "户均投资估算",
        "x-field": "computed",
        "readOnly": True,
    }
    body["ui_schema"]["sections"][2]["fields"] += ["是否需要临时安置", "临时安置户数"]
    body["ui_schema"]["sections"][1]["fields"].append("户均投资估算")
    fields = body["ui_schema"]["fields"]
    fields["临时安置户数"] = {"visible_if": "是否需要临时安置 = true"}
    fields["户均投资估算"] = {"computed": "round(项目总投资 / 改造户数, 2)"}
    return body


def _page_data(html: str) -> dict:
    match = re.search(r'<script id="form-designer-data" type="application/json">(.*?)</script>', html, re.S)
    assert match, "the page carries its definition as JSON"
    return json.loads(match.group(1))


def _events(action: str) -> int:
    return AuditEvent.objects.filter(action=action).count()


def test_list_and_page_show_the_form(published_form, config_admin):
    client = client_for(config_admin)
    listing = client.get("/studio/forms/")
    assert listing.status_code == 200
    assert "老旧小区改造项目立项申请" in listing.content.decode()
    response = client.get(BASE)
    assert response.status_code == 200
    html = response.content.decode()
    assert "表单设计器" in html and "form_designer.js" in html
    assert 'data-editable="true"' in html
    data = _page_data(html)
    assert "资金来源" in data["schema"]["properties"] and data["editable"] is True
    assert data["version"] == 1 and data["status"] == "published"
    assert {"money", "computed", "group", "yesno"} <= {t["name"] for t in data["types"]}
    # the DSL editors highlight and complete with the rule editor's vocabulary (one source: dsl_vocabulary)
    vocabulary = data["vocabulary"]
    assert vocabulary == dsl_vocabulary("zh")
    assert {"且", "或", "true"} <= {k["word"] for k in vocabulary["keywords"]}
    assert "round" in {f["name"] for f in vocabulary["functions"]}
    assert {"NUMBER", "STRING", "DATE"} <= set(vocabulary["patterns"]) and "(" in vocabulary["punctuation"]


def test_check_points_at_the_column_of_a_typo(published_form, config_admin):
    body = _definition(published_form)
    body["ui_schema"]["fields"]["加装电梯数量"]["visible_if"] = "是否加装电题 = true"
    body["ui_schema"]["fields"]["资金合计"]["computed"] = "sum(资金来源.金额) +"
    response = post_json(client_for(config_admin), BASE + "check/", body)
    assert response.status_code == 200, response.content
    report = response.json()
    assert not report["ok"]
    diags = {d["path"]: d for d in report["diagnostics"]}
    typo = diags["ui_schema/fields/加装电梯数量/visible_if"]["errors"]
    assert typo and typo[0]["line"] == 1 and typo[0]["column"] == 1
    assert typo[0]["end_column"] == len("是否加装电题") + 1
    assert "是否加装电梯" in typo[0]["message"]  # the closest name is suggested
    dangling = diags["ui_schema/fields/资金合计/computed"]["errors"]
    assert dangling and dangling[0]["column"] >= len("sum(资金来源.金额) +")
    paths = {p["path"] for p in report["problems"]}
    assert "ui_schema/fields/加装电梯数量/visible_if" in paths
    assert {p["field"] for p in report["problems"]} >= {"加装电梯数量", "资金合计"}
    assert diags["ui_schema/fields/加装电梯数量/required_if"]["errors"] == []
    assert "改造户数" in report["names"]


def test_check_reports_a_computed_field_without_formula(published_form, config_admin):
    body = _definition(published_form)
    body["schema"]["properties"]["新计算"] = {"type": "number", "title": "新计算", "x-field": "computed"}
    report = post_json(client_for(config_admin), BASE + "check/", body).json()
    assert any(p["field"] == "新计算" and "computed" in p["message"] for p in report["problems"])


def test_preview_follows_conditions_and_computes(published_form, config_admin):
    client = client_for(config_admin)
    body = _with_new_fields(published_form)
    hidden = post_json(client, BASE + "preview/", {**body, "data": []})
    assert hidden.status_code == 200, hidden.content
    first = hidden.json()
    assert "临时安置户数" in first["html"] and "是否需要临时安置" in first["html"]
    assert first["state"]["visible"]["临时安置户数"] is False
    assert first["problems"] == 0
    shown = post_json(
        client,
        BASE + "preview/",
        {**body, "data": [["是否需要临时安置", "true"], ["项目总投资", "0.1"], ["改造户数", "3"]]},
    ).json()
    assert shown["state"]["visible"]["临时安置户数"] is True
    assert shown["state"]["computed"]["户均投资估算"] == "333.33"
    assert 'data-computed="户均投资估算"' in shown["html"] and "333.33" in shown["html"]
    # a repeating group's row is added in the sample values, and the total follows
    rows = post_json(
        client,
        BASE + "preview/",
        {
            **body,
            "data": [["资金来源[0].来源", "中央补助"], ["资金来源[0].金额", "100.10"]],
            "op": "add:资金来源",
        },
    ).json()
    assert rows["state"]["computed"]["资金合计"] == "100.10"
    assert 'data-row="1"' in rows["html"]


def test_preview_of_a_broken_definition_still_draws(published_form, config_admin):
    body = _with_new_fields(published_form)
    body["ui_schema"]["fields"]["临时安置户数"]["visible_if"] = "是否需要临时安置 ="
    body["ui_schema"]["fields"]["户均投资估算"]["computed"] = "项目总投资 /"
    response = post_json(client_for(config_admin), BASE + "preview/", {**body, "data": []})
    assert response.status_code == 200
    payload = response.json()
    assert payload["problems"] == 2
    assert "临时安置户数" in payload["html"] and "fm-preview-partial" in payload["html"]
    assert payload["state"]["visible"]["临时安置户数"] is True


def test_autosave_creates_then_updates_the_draft(published_form, config_admin):
    client = client_for(config_admin)
    body = _with_new_fields(published_form)
    before = _events("form.draft_save")
    response = post_json(client, BASE + "save/", body)
    assert response.status_code == 200, response.content
    assert response.json()["version"] == 2 and response.json()["status"] == "draft"
    draft = published_form.draft()
    assert "户均投资估算" in draft.schema["properties"]
    body["schema"]["properties"]["临时安置户数"]["maximum"] = 500
    again = post_json(client, BASE + "save/", body)
    assert again.json()["version"] == 2
    assert published_form.versions.filter(status="draft").count() == 1
    assert published_form.draft().schema["properties"]["临时安置户数"]["maximum"] == 500
    assert _events("form.draft_save") == before + 2
    # the page now opens the draft
    assert "户均投资估算" in _page_data(client.get(BASE).content.decode())["schema"]["properties"]


def test_publish_preview_lists_the_changes_and_the_records(published_form, config_admin):
    body = _with_new_fields(published_form)
    response = post_json(client_for(config_admin), BASE + "publish-preview/", body)
    assert response.status_code == 200, response.content
    payload = response.json()
    assert payload["published"] == 1 and payload["ok"] is True
    text = "\n".join(payload["changes"])
    assert "临时安置户数" in text and "户均投资估算" in text and "是否需要临时安置" in text
    assert payload["counts"] == {"submitted": 0, "drafts": 0, "projects": 0}
    assert any("新填报" in line for line in payload["affected"])


def test_publish_needs_confirmation_then_publishes_with_an_audit_event(published_form, config_admin):
    client = client_for(config_admin)
    body = _with_new_fields(published_form)
    refused = post_json(client, BASE + "publish/", body)
    assert refused.status_code == 400 and "confirm" in refused.json()["fields"]
    assert published_form.published().number == 1
    before = _events("form.publish")
    response = post_json(client, BASE + "publish/", {**body, "confirm": True})
    assert response.status_code == 200, response.content
    assert response.json()["version"] == 2
    assert published_form.published().number == 2
    assert "户均投资估算" in published_form.published().schema["properties"]
    assert _events("form.publish") == before + 1


def test_publish_failure_returns_problems_and_keeps_the_draft(published_form, config_admin):
    body = _with_new_fields(published_form)
    body["ui_schema"]["fields"]["临时安置户数"]["visible_if"] = "是否需要临时安置 = "
    response = post_json(client_for(config_admin), BASE + "publish/", {**body, "confirm": True})
    assert response.status_code == 400
    payload = response.json()
    assert payload["code"] == "definition_invalid"
    assert "ui_schema/fields/临时安置户数/visible_if" in payload["fields"]
    assert any(p["field"] == "临时安置户数" for p in payload["problems"])
    assert published_form.published().number == 1
    draft = published_form.draft()  # nothing is lost: the edit is in the draft
    assert draft.ui_schema["fields"]["临时安置户数"]["visible_if"] == "是否需要临时安置 = "


def test_read_only_user_views_but_cannot_write(published_form, world):
    client = client_for(world.users["clerk_a"])
    page = client.get(BASE)
    assert page.status_code == 200 and 'data-editable="false"' in page.content.decode()
    body = _with_new_fields(published_form)
    assert post_json(client, BASE + "check/", body).status_code == 200
    assert post_json(client, BASE + "preview/", body).status_code == 200
    for url in ("save/", "publish/", "versions/1/draft/"):
        response = post_json(client, BASE + url, {**body, "confirm": True})
        assert response.status_code == 403, url
    assert published_form.draft() is None


def test_anonymous_and_unknown_forms_are_refused(published_form, config_admin):
    anonymous = Client()
    assert post_json(anonymous, BASE + "check/", {}).status_code == 403
    client = client_for(config_admin)
    assert post_json(client, "/studio/forms/nosuch/check/", {"schema": {}}).status_code == 404
    assert post_json(client, BASE + "check/", "not json").status_code == 400
    assert post_json(client, BASE + "save/", {"schema": [], "ui_schema": {}}).status_code == 400


def test_versions_view_and_draft_from_an_earlier_version(published_form, config_admin):
    client = client_for(config_admin)
    body = _with_new_fields(published_form)
    assert post_json(client, BASE + "publish/", {**body, "confirm": True}).status_code == 200
    old = client.get(BASE + "versions/1/")
    assert old.status_code == 200
    html = old.content.decode()
    assert "正在查看 v1" in html and 'data-editable="false"' in html
    assert "户均投资估算" not in _page_data(html)["schema"]["properties"]
    assert client.get(BASE + "versions/9/").status_code == 404
    response = post_json(client, BASE + "versions/1/draft/", {})
    assert response.status_code == 200, response.content
    assert response.json()["version"] == 3
    draft = published_form.draft()
    assert draft.number == 3 and "户均投资估算" not in draft.schema["properties"]
    assert draft.schema == FormVersion.objects.get(form=published_form, number=1).schema
    assert post_json(client, BASE + "versions/9/draft/", {}).status_code == 404


def test_publishing_without_changes_is_refused(published_form, config_admin):
    response = post_json(
        client_for(config_admin), BASE + "publish/", {**_definition(published_form), "confirm": True}
    )
    assert response.status_code == 409 and response.json()["code"] == "no_changes"
    assert published_form.published().number == 1 and published_form.draft() is None


@pytest.mark.parametrize(
    "schema, ui",
    [
        ({"type": "object", "properties": {"甲": "不是对象"}}, {"fields": []}),
        ({"type": "object", "properties": []}, {"sections": "x", "order": [1, 2]}),
        (
            {"type": "object", "properties": {"甲": {"x-field": "nosuch"}}},
            {"fields": {"甲": {"computed": 1}}},
        ),
        (
            {"type": "object", "properties": {"甲": {"type": "number", "x-field": "money"}}},
            {"fields": {"乙": {}}},
        ),
    ],
)
def test_malformed_definitions_are_reported_not_500(published_form, config_admin, schema, ui):
    client = client_for(config_admin)
    body = {"schema": schema, "ui_schema": ui, "data": [["甲", "1"]]}
    report = post_json(client, BASE + "check/", body)
    assert report.status_code == 200 and report.json()["ok"] is False
    assert post_json(client, BASE + "preview/", body).status_code == 200
    assert post_json(client, BASE + "publish-preview/", body).status_code == 200
    assert post_json(client, BASE + "save/", body).status_code == 200
    failed = post_json(client, BASE + "publish/", {**body, "confirm": True})
    assert failed.status_code == 400 and failed.json()["problems"]
