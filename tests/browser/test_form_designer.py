"""The form designer in Chromium at phone and desktop widths: on the 老旧小区改造 立项 form an administrator adds a
conditional field and a computed field, sees a typo marked at its column, sees the preview show the conditional field
when its condition holds and compute the new value, publishes with the diff and a confirmation, and a clerk then
creates a project through the staff pages on the new version."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
from playwright.sync_api import expect

from forms.models import Form
from projects.models import Project
from tests.browser.steps import start_laojiu_initiation, submit_laojiu_initiation

from .conftest import SCREENSHOTS as SHOTS
from .conftest import screenshot
from .test_form_fill import _login

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

DOCS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"


def _add(page, label: str, kind: str, section: str) -> None:
    page.locator("#fm-new-label").fill(label)
    page.locator("#fm-new-type").select_option(kind)
    page.locator("#fm-new-section").select_option(label=section)
    page.locator("#fm-add-field").click()
    expect(page.locator(f'.fm-row.open[data-name="{label}"]')).to_be_visible()


def test_form_designer_conditional_and_computed_fields_publish_and_use(
    world, project_type, config_admin, live_server, page
):
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.on("response", lambda r: errors.append(f"{r.status} {r.url}") if r.status >= 400 else None)
    _login(page, live_server, config_admin.username)
    page.goto(f"{live_server.url}/studio/forms/")
    page.get_by_role("link", name="老旧小区改造项目立项申请").click()
    expect(page.get_by_role("heading", name="表单设计器")).to_be_visible()
    expect(page.locator("#form-designer[data-ready=true]")).to_be_attached()
    expect(page.locator("#fm-summary")).to_have_text("没有发现问题，可以发布。")
    preview = page.frame_locator("#fm-frame-phone")
    expect(preview.locator('[data-path="项目名称"]')).to_be_visible()

    # a conditional pair: 临时安置户数 shows when 是否需要临时安置 is 是
    _add(page, "是否需要临时安置", "yesno", "建设安排")
    _add(page, "临时安置户数", "integer", "建设安排")
    editor = page.locator('.fm-row[data-name="临时安置户数"] [data-editor-for="visible_if"]')
    condition = editor.locator(".cm-content")
    expect(condition).to_have_attribute("aria-label", "显示条件（DSL，留空表示总是显示）")
    condition.fill("是否需要临时安直 = true")
    diagnostic = page.locator('.fm-row[data-name="临时安置户数"] .fm-diag-item')
    expect(diagnostic).to_be_visible()
    expect(diagnostic).to_have_attribute("data-column", "1")
    expect(diagnostic.locator("mark")).to_have_text("是否需要临时安直")
    expect(diagnostic).to_contain_text("第 1 行第 1 列")
    expect(condition).to_have_attribute("aria-invalid", "true")
    # the CodeMirror editor highlights the DSL and underlines the typo on its exact span
    lint = condition.locator(".cm-lintRange-error")
    expect(lint).to_have_text("是否需要临时安直")
    keyword = condition.locator("span", has_text=re.compile("^true$"))
    expect(keyword).to_have_css("color", "rgb(130, 80, 223)")
    expect(page.locator("#fm-summary")).to_contain_text("发现 1 处问题")
    shot = SHOTS / f"studio-form-designer-diagnostic-{page.viewport_name}.png"
    page.locator('.fm-row[data-name="临时安置户数"]').screenshot(path=str(shot))
    condition.fill("是否需要临时安置 = true")
    expect(diagnostic).to_have_count(0)
    expect(lint).to_have_count(0)
    expect(condition.locator("span", has_text=re.compile("^是否需要临时安置$"))).to_have_css(
        "color", "rgb(17, 99, 41)"
    )
    condition.press("Tab")  # Tab is not trapped: it leaves the editor
    assert page.evaluate("!document.activeElement.closest('.cm-editor')")

    # a computed field in the 投资与资金 section
    _add(page, "户均投资估算", "computed", "投资与资金")
    formula = page.locator('.fm-row[data-name="户均投资估算"] [data-editor-for="computed"] .cm-content')
    formula.press_sequentially("项目总")  # completion offers the form's own field names
    expect(page.locator(".cm-tooltip-autocomplete")).to_contain_text("项目总投资")
    formula.fill("round(项目总投资 / 改造户数, 2)")
    expect(formula.locator("span", has_text=re.compile("^round$"))).to_have_css("color", "rgb(149, 56, 0)")
    expect(page.locator("#fm-summary")).to_have_text("没有发现问题，可以发布。")

    # the preview: the conditional field appears when its condition holds, the computed value shows
    expect(preview.locator('[data-path="临时安置户数"]')).to_be_attached()
    expect(preview.locator('[data-path="临时安置户数"]')).to_be_hidden()
    preview.locator('[data-path="是否需要临时安置"] input[value="true"]').check()
    expect(preview.locator('[data-path="临时安置户数"]')).to_be_visible()
    preview.get_by_label("项目总投资").fill("680")
    preview.get_by_label("改造户数").fill("520")
    expect(preview.locator('[data-computed="户均投资估算"]')).to_have_text("13,076.92")
    expect(page.locator("#fm-save-status")).to_contain_text("已自动保存为草稿 v2")
    page.get_by_role("tab", name="电脑").click()
    desktop = page.frame_locator("#fm-frame-desktop")
    expect(desktop.locator('[data-path="临时安置户数"]')).to_be_visible()
    expect(desktop.locator('[data-computed="户均投资估算"]')).to_have_text("13,076.92")
    page.get_by_role("tab", name="手机").click()

    # keyboard reordering: move the new field up and back down
    row = page.locator('.fm-row[data-name="临时安置户数"]')
    row.focus()
    page.keyboard.press("Alt+ArrowUp")
    names = page.locator(".fm-bucket").nth(2).locator(".fm-row")
    expect(names.nth(names.count() - 2)).to_have_attribute("data-name", "临时安置户数")
    assert page.evaluate("document.activeElement.dataset.name") == "临时安置户数"
    page.locator('[data-key="down-临时安置户数"]').click()
    expect(names.last).to_have_attribute("data-name", "临时安置户数")

    # the advanced tab shows the same definition; invalid JSON is reported and kept
    page.get_by_role("tab", name="高级（JSON）").click()
    schema_text = page.locator("#fm-json-schema")
    expect(schema_text).to_have_value(re.compile("户均投资估算"))
    text = schema_text.input_value()
    schema_text.fill(text[:-1])
    json_error = page.locator("#fm-json-schema-error")
    expect(json_error).to_contain_text("JSON 格式错误（第")
    expect(schema_text).to_have_value(text[:-1])  # the text is kept
    schema_text.fill(text.replace('"title": "临时安置户数"', '"title": "临时安置户数（户）"'))
    expect(json_error).to_have_text("已同步到设计视图。")
    page.get_by_role("tab", name="设计").click()
    expect(row.locator(".fm-row-label")).to_have_text("临时安置户数（户）")
    expect(page.locator("#fm-save-status")).to_contain_text("已自动保存为草稿 v2")

    # publish: the diff lists the new fields, and a confirmation is needed
    page.locator("#fm-publish-open").click()
    changes = page.locator("#fm-changes")
    expect(changes).to_contain_text("临时安置户数")
    expect(changes).to_contain_text("户均投资估算")
    expect(changes).to_contain_text("是否需要临时安置")
    expect(page.locator("#fm-affected")).to_contain_text("新填报")
    page.locator("#fm-publish").click()
    expect(page.locator("#fm-result")).to_have_text("请先勾选确认发布。")
    screenshot(page, "studio-form-designer-publish")
    page.locator("#fm-confirm").check()
    page.locator("#fm-publish").click()
    expect(page.locator("#fm-result")).to_contain_text("已发布版本 v2")
    assert Form.objects.get(code="laojiu-lixiang").published().number == 2

    page.locator('[data-key="edit-临时安置户数"]').click()
    preview.locator('[data-path="是否需要临时安置"]').scroll_into_view_if_needed()
    assert not errors, errors
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= page.viewport_size["width"], "the page scrolls sideways"
    page.evaluate("window.scrollTo(0, 0)")
    path = screenshot(page, "studio-form-designer")
    DOCS.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(path, DOCS / f"studio-form-designer-{page.viewport_name}.png")

    # a clerk creates a project through the staff pages: it pins the new version
    page.context.clear_cookies()
    _login(page, live_server, "clerk_a")
    start_laojiu_initiation(page, "翠苑四区老旧小区改造", "翠苑四区")
    lodging = page.locator('[data-path="临时安置户数"]')
    expect(lodging).to_be_hidden()
    page.locator('[data-path="是否需要临时安置"] input[value="true"]').check()
    expect(lodging).to_be_visible()
    lodging.get_by_label("临时安置户数").fill("12")
    expect(page.locator('[data-computed="户均投资估算"]')).to_have_text("13,076.92")
    submit_laojiu_initiation(page)
    project = Project.objects.get(name="翠苑四区老旧小区改造")
    assert project.form_version.number == 2
    assert project.data["临时安置户数"] == 12


def test_read_only_view_versions_and_draft_from_an_earlier_version(
    world, published_form, config_admin, live_server, page
):
    from forms import services

    v1 = published_form.published()
    schema = {**v1.schema, "properties": {**v1.schema["properties"]}}
    schema["properties"]["备用联系人"] = {"type": "string", "title": "备用联系人", "x-field": "text"}
    services.form_draft_save(actor=config_admin, form=published_form, schema=schema, ui_schema=v1.ui_schema)
    services.form_publish(actor=config_admin, form=published_form)
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))

    # a clerk holds config.view only: the designer opens read-only
    _login(page, live_server, "clerk_a")
    page.goto(f"{live_server.url}/studio/forms/laojiu-lixiang/")
    expect(page.locator("#form-designer[data-ready=true]")).to_be_attached()
    expect(page.locator("#fm-readonly")).to_be_visible()
    expect(page.locator("#fm-add")).to_have_count(0)
    expect(page.locator("#fm-publish-open")).to_have_count(0)
    page.locator('[data-key="edit-项目名称"]').click()
    expect(page.locator('.fm-row[data-name="项目名称"] [data-prop="title"]')).to_be_disabled()
    expect(page.frame_locator("#fm-frame-phone").locator('[data-path="备用联系人"]')).to_be_attached()

    # the administrator views v1 and starts a draft from it
    page.context.clear_cookies()
    _login(page, live_server, config_admin.username)
    page.goto(f"{live_server.url}/studio/forms/laojiu-lixiang/")
    page.get_by_role("tab", name="版本").click()
    versions = page.locator("#fm-versions li")
    expect(versions).to_have_count(2)
    screenshot(page, "studio-form-designer-versions")
    versions.filter(has_text="v1").get_by_role("link", name="查看").click()
    expect(page.locator("#fm-viewing")).to_contain_text("正在查看 v1")
    screenshot(page, "studio-form-designer-v1")
    expect(page.locator('.fm-row[data-name="备用联系人"]')).to_have_count(0)
    here = page.locator("#fm-draft-from-here")
    here.click()
    here.click()  # the second click confirms replacing any draft
    page.wait_for_url("**/studio/forms/laojiu-lixiang/")
    expect(page.locator("#fm-version-label")).to_have_text("草稿 v3")
    draft = published_form.draft()
    assert draft.number == 3 and "备用联系人" not in draft.schema["properties"]
    assert not errors, errors


def test_repeating_group_columns_and_drag_reorder(world, published_form, config_admin, live_server, page):
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    _login(page, live_server, config_admin.username)
    page.goto(f"{live_server.url}/studio/forms/laojiu-lixiang/")
    expect(page.locator("#form-designer[data-ready=true]")).to_be_attached()
    group = page.locator('.fm-row[data-name="资金来源"]')
    group.locator('[data-key="edit-资金来源"]').click()
    group.locator('[data-key="sub-new-label"]').fill("折合万元")
    group.locator('[data-key="sub-new-type"]').select_option("computed")
    group.locator('[data-key="sub-add"]').click()
    column = group.locator('[data-sub="折合万元"]')
    expect(column).to_be_visible()
    formula = column.locator('[data-editor-for="computed"] .cm-content')
    formula.fill("金额 /")
    expect(column.locator(".fm-diag-item")).to_be_visible()
    formula.fill("")
    column.locator("details.fm-names summary").click()
    column.locator('[data-insert="金额"]').click()
    expect(formula).to_have_text("金额")
    formula.press("End")
    formula.press_sequentially(" / 10000")
    expect(column.locator(".fm-diag-item")).to_have_count(0)
    expect(page.locator("#fm-summary")).to_have_text("没有发现问题，可以发布。")

    preview = page.frame_locator("#fm-frame-phone")
    preview.get_by_role("button", name="＋ 添加一行").click()
    row = preview.locator(".group-row").first
    expect(row).to_be_visible()
    row.get_by_label("金额").fill("123400")
    expect(row.locator('[data-computed="资金来源[0].折合万元"]')).to_have_text("12.34")
    expect(page.locator("#fm-save-status")).to_contain_text("已自动保存为草稿 v2")
    draft = published_form.draft()
    assert draft.ui_schema["fields"]["资金来源"]["item"]["fields"]["折合万元"] == {"computed": "金额 / 10000"}

    # drag a field by its handle to the top of its section
    first = page.locator(".fm-bucket").first.locator(".fm-row").first
    expect(first).to_have_attribute("data-name", "项目名称")
    page.locator('.fm-row[data-name="小区名称"] .fm-handle').drag_to(first.locator(".fm-handle"))
    expect(page.locator(".fm-bucket").first.locator(".fm-row").first).to_have_attribute(
        "data-name", "小区名称"
    )
    expect(page.locator("#fm-save-status")).to_contain_text("已自动保存为草稿 v2")
    assert published_form.draft().ui_schema["sections"][0]["fields"][0] == "小区名称"
    assert not errors, errors
