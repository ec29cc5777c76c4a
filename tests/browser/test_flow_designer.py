"""The flow designer in Chromium at phone and desktop widths: changing the 财政局会签 step's condition redraws the
diagram, a bad condition is reported next to its field, reordering works from the keyboard, and saving writes the
draft; whole flows are added and removed, flow-level settings edited and autosaved (a failed save keeps what was
typed), and the diff against the published version is shown above the confirmation before publishing."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from playwright.sync_api import expect

from tests.workflow.conftest import flows  # noqa: F401

from .conftest import screenshot
from .test_form_fill import _login

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

DOCS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"
WHEN = '[data-path="flows[0].steps[1].when"]'


def test_flow_designer_live_diagram_problems_and_save(flows, config_admin, live_server, page):  # noqa: F811
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.on("response", lambda r: errors.append(f"{r.status} {r.url}") if r.status >= 400 else None)
    _login(page, live_server, config_admin.username)
    page.goto(f"{live_server.url}/studio/flows/flowtype/")
    expect(page.get_by_role("heading", name="流程设计器")).to_be_visible()
    expect(page.locator("#flow-designer[data-ready=true]")).to_be_attached()
    expect(page.locator("#fd-summary")).to_have_text("没有发现问题，可以发布。")

    diagram = page.locator(".fd-flow").first.locator(".wf-diagram svg")
    expect(diagram).to_contain_text("预算 > 1000万")
    when = page.locator(WHEN)
    expect(when).to_have_value("预算 > 1000万")
    when.fill("预算 > 500万")
    expect(diagram).to_contain_text("预算 > 500万")
    expect(diagram).not_to_contain_text("1000万")

    when.fill("预算 >")
    problem = page.locator('[data-field="flows[0].steps[1].when"] .fd-problem')
    expect(problem).to_be_visible()
    expect(problem).to_contain_text("条件第 1 行")
    expect(when).to_have_attribute("aria-invalid", "true")
    expect(page.locator("#fd-summary")).to_contain_text("发现 1 处问题")
    screenshot(page, "studio-flow-designer-problem")

    when.fill("预算 > 500万")
    expect(problem).to_have_count(0)

    # reorder from the keyboard: move the 财政局会签 step down, then back up
    down = page.locator('[data-key="down-0-1"]')
    down.focus()
    page.keyboard.press("Enter")
    expect(page.locator('[data-path="flows[0].steps[2].name"]')).to_have_value("财政局会签")
    focused = page.evaluate("document.activeElement.dataset.key")
    assert focused == "up-0-2"
    page.keyboard.press("Enter")
    expect(page.locator('[data-path="flows[0].steps[1].name"]')).to_have_value("财政局会签")
    expect(page.locator("#fd-summary")).to_have_text("没有发现问题，可以发布。")

    page.locator("#fd-save").click()
    expect(page.locator("#fd-result")).to_have_text("已保存为草稿（版本 2）。")
    draft = flows.ptype.draft()
    assert draft is not None and draft.config["flows"][0]["steps"][1]["when"] == "预算 > 500万"
    assert draft.config["forms"] == flows.ptype.published().config["forms"]

    assert not errors, errors
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= page.viewport_size["width"], "the page scrolls sideways"
    page.evaluate("window.scrollTo(0, 0)")
    screenshot(page, "studio-flow-designer-edited")


def test_flow_designer_add_remove_settings_autosave_diff(flows, config_admin, live_server, page):  # noqa: F811
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.on("response", lambda r: errors.append(f"{r.status} {r.url}") if r.status >= 400 else None)
    flows.project("8000000.00")
    _login(page, live_server, config_admin.username)
    page.goto(f"{live_server.url}/studio/flows/flowtype/")
    expect(page.locator("#flow-designer[data-ready=true]")).to_be_attached()
    holders = page.locator("#fd-flows > .fd-flow")
    expect(holders).to_have_count(3)
    preview = page.locator("#fd-publish-preview")
    expect(preview).to_contain_text("与已发布版本相比没有变化")
    expect(preview).to_contain_text("该类型现有项目 1 个")
    status = page.locator("#fd-autosave")

    # a flow-level setting, autosaved into the draft
    page.locator('[data-path="flows[0].no_approver"]').select_option("自动通过")
    page.locator('[data-path="flows[0].skip_repeated"]').uncheck()
    expect(status).to_contain_text("已自动保存")
    expect(status).to_have_attribute("data-state", "saved")
    saved = flows.ptype.draft().config["flows"][0]
    assert saved["no_approver"] == "自动通过" and saved["skip_repeated"] is False
    expect(preview).to_contain_text("无审批人时 （无） → 自动通过")

    # add a flow for the one transition left: code and name prefilled, one starting step, its diagram drawn
    pick = page.locator("#fd-add-transition")
    expect(pick.locator("option")).to_have_text(["验收审批"])
    page.get_by_role("button", name="新增流程").click()
    expect(holders).to_have_count(4)
    expect(page.locator('[data-path="flows[3].code"]')).to_have_value("flowtype_yanshou")
    expect(page.locator('[data-path="flows[3].name"]')).to_be_focused()
    expect(holders.nth(3).locator(".wf-diagram svg")).to_contain_text("步骤 1")
    expect(page.get_by_role("button", name="新增流程")).to_be_disabled()
    expect(page.locator("#fd-add")).to_contain_text("四个审批环节都已配置流程")
    page.locator('[data-path="flows[3].name"]').fill("竣工验收审批")
    expect(preview).to_contain_text("+ 流程 竣工验收审批（flowtype_yanshou，1 个步骤）")
    # without a step it cannot be published: the problem is shown where the steps go
    page.locator('[data-key="rm-3-0"]').click()
    problem = page.locator('[data-slot="flows[3].steps"] .fd-problem')
    expect(problem).to_have_text("至少需要一个审批步骤")
    page.locator('[data-key="add-3"]').click()
    expect(problem).to_have_count(0)
    expect(status).to_contain_text("已自动保存")
    expect(page.locator("#fd-summary")).to_have_text("没有发现问题，可以发布。")
    assert [f["code"] for f in flows.ptype.draft().config["flows"]][-1] == "flowtype_yanshou"
    # an approver named by user instead of role
    page.locator('[data-path="flows[3].steps[0].approvers[0].@kind"]').select_option("user")
    page.locator('[data-path="flows[3].steps[0].approvers[0].user"]').fill("ks1")
    expect(holders.nth(3).locator(".wf-diagram svg")).to_contain_text("ks1")
    expect(page.locator("#fd-summary")).to_have_text("没有发现问题，可以发布。")

    # a failed save keeps what was typed and says so; the next save writes it
    page.route("**/save/", lambda route: route.abort())
    page.locator('[data-path="flows[0].name"]').fill("立项审批（改）")
    expect(status).to_contain_text("保存失败")
    expect(status).to_have_attribute("data-state", "error")
    expect(page.locator('[data-path="flows[0].name"]')).to_have_value("立项审批（改）")
    page.unroute("**/save/")
    page.locator("#fd-save").click()
    expect(page.locator("#fd-result")).to_have_text("已保存为草稿（版本 2）。")
    expect(status).to_contain_text("已自动保存")
    assert flows.ptype.draft().config["flows"][0]["name"] == "立项审批（改）"

    # remove a flow: nothing happens unless confirmed
    remove = page.locator('[data-key="rmf-2"]')
    expect(remove).to_have_accessible_name("删除流程 变更审批")
    page.once("dialog", lambda dialog: dialog.dismiss())
    remove.click()
    expect(holders).to_have_count(4)
    page.once("dialog", lambda dialog: dialog.accept())
    remove.click()
    expect(holders).to_have_count(3)
    expect(page.locator('[data-path="flows[2].code"]')).to_have_value("flowtype_yanshou")
    expect(holders.nth(2).locator(".wf-diagram svg")).to_contain_text("步骤 1")
    expect(pick.locator("option")).to_have_text(["变更审批"])
    expect(preview).to_contain_text("- 流程 变更审批（biangeng）")

    # the diff of a changed condition is shown above the confirmation, then published
    page.locator(WHEN).fill("预算 > 500万")
    expect(preview).to_contain_text("条件 预算 > 1000万 → 预算 > 500万")
    expect(status).to_contain_text("已自动保存")
    assert preview.bounding_box()["y"] < page.locator("#fd-confirm").bounding_box()["y"]
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= page.viewport_size["width"], "the page scrolls sideways"
    page.evaluate("window.scrollTo(0, 0)")
    path = screenshot(page, "studio-flow-designer")
    DOCS.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(path, DOCS / f"studio-flow-designer-{page.viewport_name}.png")
    page.locator("#fd-status-h").scroll_into_view_if_needed()
    screenshot(page, "studio-flow-designer-publish")
    page.locator("#fd-confirm").check()
    page.locator("#fd-publish").click()
    expect(page.locator("#fd-result")).to_have_text("已发布版本 2。")
    expect(preview).to_contain_text("与已发布版本相比没有变化")
    published = flows.ptype.published()
    assert published.number == 2
    assert [f["code"] for f in published.config["flows"]] == ["lixiang", "zhichu", "flowtype_yanshou"]
    assert published.config["flows"][0]["no_approver"] == "自动通过"
    assert published.config["flows"][2]["steps"][0]["approvers"] == [{"user": "ks1"}]
    assert not errors, errors
