"""The rule editor's Done-when in Chromium at phone and desktop widths: write a rule with a typo and see the
underlined diagnostic, fix it, preview its impact, publish it as the next version of a policy rule pack."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from playwright.sync_api import expect

from tests.rules.rule_fixtures import laojiu_project, pack_text, pay

from .conftest import screenshot
from .test_form_fill import _login

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

DOCS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"


def test_write_fix_preview_and_publish_a_rule(world, project_type, valid_data, live_server, page):
    from rules.models import PackStatus, RulePack
    from rules.services.packs import pack_load

    pack_load(actor=None, org=world.city, source=pack_text(), filename="zijin.yaml")
    overspent = laojiu_project(world, project_type, valid_data, 项目名称="西湖区超支小区")
    pay(world, overspent, "1100000.00")
    laojiu_project(world, project_type, valid_data, 项目名称="西湖区正常小区")

    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.on("response", lambda r: errors.append(f"{r.status} {r.url}") if r.status >= 400 else None)
    _login(page, live_server, "regulator")
    page.goto(f"{live_server.url}/studio/rules/")
    expect(page.locator("#rule-editor[data-ready=true]")).to_be_attached()

    editor = page.locator("#rule-codemirror .cm-content")
    editor.click()
    page.keyboard.type("超支律 > 8%")
    page.keyboard.press("Escape")
    expect(page.locator(".cm-lintRange-error")).to_have_text("超支律")
    expect(page.locator("#rule-diagnostics li")).to_contain_text("超支率")

    editor.click()
    page.keyboard.press("Control+a")
    page.keyboard.type("超支率 > 8%")
    page.keyboard.press("Escape")
    expect(page.locator(".cm-lintRange-error")).to_have_count(0)
    expect(page.locator("#rule-verdict")).to_have_text("在数据库中执行")

    page.locator("#impact-run").click()
    expect(page.locator("#impact-result")).to_contain_text("共 1 个项目会触发")
    expect(page.locator("#impact-result ul.hits a")).to_have_text(["西湖区超支小区"])

    panel = page.locator("#publish-panel")
    panel.scroll_into_view_if_needed()
    expect(page.locator("#publish-pack")).to_have_value(f"{world.city.pk}|t-zijin")
    expect(page.locator("#publish-pack-code")).to_be_hidden()
    page.locator("#publish-code").fill("R2")
    page.locator("#publish-name").fill("严重超支")
    page.locator("#publish-severity").select_option("严重")
    page.locator("#publish-message").fill("{项目名称}超支{超支率:%}")
    expect(page.locator("#publish-confirm")).to_be_disabled()
    page.locator("#publish-preview").click()
    result = page.locator("#publish-result")
    expect(result).to_contain_text("将发布 t-zijin v2")
    expect(result).to_contain_text("R2")
    expect(result.locator("ul.hits a")).to_have_text(["西湖区超支小区"])
    confirm = page.locator("#publish-confirm")
    expect(confirm).to_be_enabled()
    expect(confirm).to_have_text("确认发布 t-zijin v2")
    path = screenshot(page, "studio-rule-publish-preview")
    shutil.copyfile(path, DOCS / f"studio-rule-publish-preview-{page.viewport_name}.png")

    confirm.click()
    expect(result).to_contain_text("已发布 t-zijin v2")
    expect(page.locator("#publish-pack-link")).to_be_visible()
    active = RulePack.objects.get(code="t-zijin", status=PackStatus.ACTIVE)
    assert active.version == "2"
    assert [r.code for r in active.rules.order_by("position")] == ["R1", "R2"]
    assert active.rules.get(code="R2").severity == "严重"

    assert not errors, errors
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= page.viewport_size["width"], "the page scrolls sideways"
    path = screenshot(page, "studio-rule-publish")
    DOCS.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(path, DOCS / f"studio-rule-publish-{page.viewport_name}.png")


def test_a_rule_that_fails_to_check_is_not_published(world, project_type, live_server, page):
    from rules.models import RulePack
    from rules.services.packs import pack_load

    pack_load(actor=None, org=world.city, source=pack_text(), filename="zijin.yaml")
    _login(page, live_server, "regulator")
    page.goto(f"{live_server.url}/studio/rules/")
    expect(page.locator("#rule-editor[data-ready=true]")).to_be_attached()
    page.locator("#rule-codemirror .cm-content").click()
    page.keyboard.type('预算 > "很多"')
    page.keyboard.press("Escape")
    page.locator("#publish-code").fill("R9")
    page.locator("#publish-name").fill("类型错误")
    page.locator("#publish-preview").click()
    expect(page.locator("#publish-result .error")).to_contain_text("未发布")
    expect(page.locator("#publish-result li").first).to_contain_text("rules[1].when")
    expect(page.locator("#publish-confirm")).to_be_disabled()
    assert list(RulePack.objects.values_list("version", flat=True)) == ["1"]
    assert page.evaluate("document.documentElement.scrollWidth") <= page.viewport_size["width"]
    path = screenshot(page, "studio-rule-publish-problems")
    shutil.copyfile(path, DOCS / f"studio-rule-publish-problems-{page.viewport_name}.png")
