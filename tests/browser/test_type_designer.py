"""The project type designer in Chromium at phone and desktop widths: a district administrator overrides the city's
老旧小区改造, changes a threshold and adds an indicator (a typo is pointed at by its column), sees the 生效配置 panel
mark them 修改 / 新增, and publishes after reading the diff and ticking the confirmation."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from playwright.sync_api import expect

from tests.admin_ui.test_type_designer import district_admin  # noqa: F401

from .conftest import screenshot
from .test_form_fill import _login

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

DOCS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"


def _keep(page, path: Path, name: str) -> None:
    DOCS.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(path, DOCS / f"{name}-{page.viewport_name}.png")


def _no_sideways_scroll(page) -> None:
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= page.viewport_size["width"], "the page scrolls sideways"


def test_override_change_threshold_add_indicator_and_publish(
    world,
    project_type,
    district_admin,  # noqa: F811
    live_server,
    page,
):
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.on("response", lambda r: errors.append(f"{r.status} {r.url}") if r.status >= 400 else None)
    from projects import services

    services.project_type_create(
        actor=district_admin, org=world.district_a, code="xihu-micro", config={"name": "西湖区微更新"}
    )
    _login(page, live_server, district_admin.username)

    page.goto(f"{live_server.url}/studio/types/")
    expect(page.get_by_role("heading", name="项目类型", exact=True)).to_be_visible()
    inherited = page.locator("#td-inherited")
    expect(inherited).to_contain_text("老旧小区改造")
    expect(inherited).to_contain_text("由 杭州市 定义")
    _no_sideways_scroll(page)
    _keep(page, screenshot(page, "studio-type-list"), "studio-type-list")

    page.locator('[data-override="laojiu"]').click()
    page.wait_for_url(f"{live_server.url}/studio/types/laojiu-330106/")
    expect(page.locator("#type-designer[data-ready=true]")).to_be_attached()
    expect(page.locator("#td-override-note")).to_contain_text("杭州市")
    thresholds_row = page.locator('#td-effective-list dt[data-key="thresholds"]')
    expect(thresholds_row.locator(".td-badge")).to_have_text("继承")

    # change a threshold: copy the inherited ones into this org, then edit
    page.locator('[data-focus="edit-thresholds"]').click()
    value = page.locator('[data-path="thresholds.超支预警线"]')
    expect(value).to_have_value("0.05")
    expect(page.locator('[data-focus="restore-thresholds"]')).to_be_focused()
    value.fill("0.08")
    expect(thresholds_row.locator(".td-badge")).to_have_text("修改")
    expect(thresholds_row).to_have_class("td-changed")
    changed = page.locator('#td-effective-list dd[data-key="thresholds"] li.td-mark-修改')
    expect(changed).to_contain_text("超支预警线：0.08")

    # add an indicator; a typo is pointed at by its column
    page.locator('[data-focus="edit-indicators"]').click()
    page.locator('[data-focus="add-indicator"]').click()
    name = page.locator('[data-path="indicators[4].name"]')
    expect(name).to_be_focused()
    name.fill("户均支出")
    expr = page.locator('[data-path="indicators[4].expr"]')
    expr.fill("已支出 / 改造户树")
    problem = page.locator('[data-field="indicators[4].expr"] .td-dsl-problem')
    expect(problem).to_have_attribute("data-column", "7")
    expect(problem).to_contain_text("第1行第7列")
    expect(expr).to_have_attribute("aria-invalid", "true")
    screenshot(page, "studio-type-designer-problem")
    expr.fill("已支出 / 改造户数")
    expect(problem).to_have_count(0)
    added = page.locator('#td-effective-list dd[data-key="indicators"] li.td-mark-新增')
    expect(added).to_contain_text("户均支出 = 已支出 / 改造户数 · 数值")
    expect(page.locator('#td-effective-list dt[data-key="stages"] .td-badge')).to_have_text("继承")
    expect(page.locator("#td-summary")).to_have_text("没有发现问题，可以发布。")
    expect(page.locator("#td-saved")).to_contain_text("草稿已自动保存（版本 1）")

    # publish: the diff and the records affected, then the confirmation
    page.locator("#td-preview").click()
    diff = page.locator("#td-diff")
    expect(diff).to_contain_text("尚未发布过")
    expect(diff).to_contain_text("+ 指标 户均支出")
    expect(page.locator("#td-affected")).to_contain_text("现有项目 0 个")
    page.locator("#td-publish").click()
    expect(page.locator("#td-result")).to_have_text("请先勾选确认发布。")
    _no_sideways_scroll(page)
    page.evaluate("window.scrollTo(0, 0)")
    _keep(page, screenshot(page, "studio-type-designer"), "studio-type-designer")
    page.locator("#td-confirm").check()
    page.locator("#td-publish").click()
    expect(page.locator("#td-result")).to_have_text("已发布版本 1。")
    expect(page.locator('#td-versions li[data-number="1"]')).to_contain_text("已发布")

    from projects.models import ProjectType

    ptype = ProjectType.objects.get(code="laojiu-330106")
    published = ptype.published()
    assert published.config["thresholds"]["超支预警线"] == "0.08"
    assert [i["name"] for i in published.config["indicators"]][-1] == "户均支出"
    assert published.origin["indicators"] == "修改"
    assert not errors, errors


def test_own_type_reorders_stages_from_the_keyboard_and_views_a_version(
    world,
    project_type,
    district_admin,  # noqa: F811
    live_server,
    page,
):
    from projects import services

    ptype = services.project_type_create(
        actor=district_admin, org=world.district_a, code="xihu-micro", config={"name": "西湖区微更新"}
    )
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    _login(page, live_server, district_admin.username)
    page.goto(f"{live_server.url}/studio/types/xihu-micro/")
    expect(page.locator("#type-designer[data-ready=true]")).to_be_attached()
    expect(page.locator('#td-effective-list dt[data-key="name"] .td-badge')).to_have_text("本级")
    expect(page.get_by_text("在本级修改")).to_have_count(0)  # an own type edits its config directly

    page.locator('[data-path="stages[0].code"]').fill("立项")
    down = page.locator('[data-focus="down-stages-0"]')
    down.focus()
    page.keyboard.press("Enter")
    expect(page.locator('[data-path="stages[1].code"]')).to_have_value("立项")
    assert page.evaluate("document.activeElement.dataset.focus") == "down-stages-1"
    expect(page.locator("#td-saved")).to_contain_text("草稿已自动保存（版本 1）")
    ptype.refresh_from_db()
    assert [s["code"] for s in ptype.draft().config["stages"]][:2] == ["执行", "立项"]
    # the problems are shown next to their fields: no 立项申请 form yet
    expect(page.locator('[data-field="forms.立项申请"] .td-problem')).to_contain_text("必须指定立项申请表单")

    page.locator('#td-versions li[data-number="1"] a').click()
    expect(page.get_by_role("heading", name="版本 v1")).to_be_visible()
    expect(page.locator("#type-version")).to_contain_text("执行")
    assert not errors, errors
