"""The rule editor in Chromium at phone and desktop widths: a typo is underlined at its column with the server's
did-you-mean, fixing it clears the diagnostic and shows the verdict, 试算 explains the value on one project and
影响范围 lists the project that would fire."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from playwright.sync_api import expect

from tests.rules.rule_fixtures import laojiu_project, pay

from .conftest import screenshot
from .test_form_fill import _login

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

DOCS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"


def test_rule_editor_diagnostics_verdict_try_and_impact(
    world, project_type, valid_data, config_admin, live_server, page
):
    overspent = laojiu_project(world, project_type, valid_data, 项目名称="西湖区超支小区")
    pay(world, overspent, "1100000.00")
    laojiu_project(world, project_type, valid_data, 项目名称="西湖区正常小区")

    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.on("response", lambda r: errors.append(f"{r.status} {r.url}") if r.status >= 400 else None)
    _login(page, live_server, config_admin.username)
    page.goto(f"{live_server.url}/studio/rules/")
    expect(page.get_by_role("heading", name="规则编辑器")).to_be_visible()
    expect(page.locator("#rule-editor[data-ready=true]")).to_be_attached()

    editor = page.locator("#rule-codemirror .cm-content")
    editor.click()
    page.keyboard.type("预算 > 0 且 超支律 > 5%")
    page.keyboard.press("Escape")  # close the completion list

    underline = page.locator(".cm-lintRange-error")
    expect(underline).to_have_count(1)
    expect(underline).to_have_text("超支律")
    # the underline starts exactly where 超支律 starts in the line: 9 characters in, i.e. column 10
    start = page.evaluate(
        """() => {
            const line = document.querySelector('#rule-codemirror .cm-line');
            const mark = line.querySelector('.cm-lintRange-error');
            const walker = document.createTreeWalker(line, NodeFilter.SHOW_TEXT);
            let offset = 0, node;
            while ((node = walker.nextNode())) {
                if (mark.contains(node)) return offset;
                offset += node.length;
            }
            return -1;
        }"""
    )
    assert start == 9
    problems = page.locator("#rule-diagnostics li")
    expect(problems).to_have_count(1)
    expect(problems).to_contain_text("第1行第10列")
    expect(problems).to_contain_text("超支率")
    underline.hover()
    expect(page.locator(".cm-tooltip-lint")).to_contain_text("超支率")
    screenshot(page, "studio-rule-editor-typo")
    expect(page.locator("#rule-verdict")).to_have_text("")

    editor.click()
    page.keyboard.press("Control+a")
    page.keyboard.type("超支率 > 5%")
    page.keyboard.press("Escape")
    expect(page.locator(".cm-lintRange-error")).to_have_count(0)
    expect(problems).to_have_count(0)
    expect(page.locator("#rule-verdict")).to_have_text("在数据库中执行")
    # highlighted from the server's vocabulary: the indicator, the operator and the percentage are styled tokens
    expect(page.locator("#rule-codemirror .cm-line span")).to_have_count(3)

    page.locator("#try-project").select_option(label="西湖区超支小区（西湖区住建局）")
    page.locator("#try-run").click()
    result = page.locator("#try-result")
    expect(result).to_contain_text("取值：是（会触发）")
    expect(result.locator("ul.trace code").first).to_have_text("超支率 > 5%")
    expect(result).to_contain_text("超支率 → 0.1")

    page.locator("#impact-org").select_option(label="杭州市")
    page.locator("#impact-run").click()
    impact = page.locator("#impact-result")
    expect(impact).to_contain_text("共 1 个项目会触发")
    expect(impact.locator("ul.hits a")).to_have_text(["西湖区超支小区"])
    expect(impact).not_to_contain_text("西湖区正常小区")

    assert not errors, errors
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= page.viewport_size["width"], "the page scrolls sideways"
    path = screenshot(page, "studio-rule-editor")
    DOCS.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(path, DOCS / f"studio-rule-editor-{page.viewport_name}.png")
