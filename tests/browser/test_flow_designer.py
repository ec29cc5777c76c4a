"""The flow designer in Chromium at phone and desktop widths: changing the 财政局会签 step's condition redraws the
diagram, a bad condition is reported next to its field, reordering works from the keyboard, and saving writes the
draft."""

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
    path = screenshot(page, "studio-flow-designer")
    DOCS.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(path, DOCS / f"studio-flow-designer-{page.viewport_name}.png")
