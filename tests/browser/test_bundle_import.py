"""The studio's import page in Chromium at phone and desktop widths: upload a bundle with an error and see it under
its line, fix it in place, preview the diff, confirm, see what was loaded."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from playwright.sync_api import expect

from tests.bundles.conftest import line_of

from .conftest import screenshot
from .test_form_fill import _login

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

ROOT = Path(__file__).resolve().parents[2]
DOCS = ROOT / "docs" / "screenshots"
LAOJIU = ROOT / "examples" / "bundles" / "laojiu.yaml"


def test_import_a_bundle_fix_its_error_preview_and_load(world, config_admin, live_server, page):
    from projects.models import ProjectType

    good = LAOJIU.read_text(encoding="utf-8")
    broken = good.replace(
        "title: 项目总投资\n          x-field: money\n", "title: 项目总投资\n          x-field: monye\n"
    )
    number = line_of(broken, "x-field: monye")
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    _login(page, live_server, config_admin.username)
    page.goto(f"{live_server.url}/studio/import/")
    expect(page.get_by_role("heading", name="导入配置包或规则包")).to_be_visible()
    page.locator("#bi-file").set_input_files(
        {"name": "laojiu.yaml", "mimeType": "application/x-yaml", "buffer": broken.encode()}
    )
    page.locator("#check-run").click()

    line = page.locator(f"#L{number}")
    expect(line).to_have_class("bad")
    expect(line.locator(".line-problem")).to_contain_text("monye")
    expect(page.locator("#problems")).to_contain_text(f"第 {number} 行")
    page.locator(f'#problems a[href="#L{number}"]').click()
    expect(line).to_be_in_viewport()
    assert page.evaluate("document.documentElement.scrollWidth") <= page.viewport_size["width"]
    path = screenshot(page, "studio-import-problem")
    DOCS.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(path, DOCS / f"studio-import-problem-{page.viewport_name}.png")

    # fix it in the text box (which holds the file) and check again
    text = page.locator("#bi-text")
    assert "x-field: monye" in text.input_value()
    text.fill(text.input_value().replace("x-field: monye", "x-field: money"))
    page.locator("#check-run").click()
    expect(page.locator("#bundle-import[data-step=preview]")).to_be_attached()
    expect(page.locator("#bundle-diff")).to_contain_text("+ 项目类型 laojiu")
    expect(page.locator("#preview table")).to_contain_text("新建")
    assert not ProjectType.objects.exists()
    assert page.evaluate("document.documentElement.scrollWidth") <= page.viewport_size["width"]
    path = screenshot(page, "studio-import-preview")
    shutil.copyfile(path, DOCS / f"studio-import-preview-{page.viewport_name}.png")

    page.locator("#confirm-load").click()
    expect(page.locator("#load-report")).to_contain_text("新建 4 项")
    assert ProjectType.objects.get(code="laojiu").published().number == 1
    assert not errors, errors
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= page.viewport_size["width"], "the page scrolls sideways"
    path = screenshot(page, "studio-import-loaded")
    shutil.copyfile(path, DOCS / f"studio-import-loaded-{page.viewport_name}.png")


def test_export_page_downloads_a_type_and_the_org(world, config_admin, live_server, page):
    from bundles import bundle_parse
    from bundles.services import bundle_load

    bundle_load(
        actor=None,
        bundle=bundle_parse(LAOJIU.read_text(encoding="utf-8"), filename="laojiu.yaml"),
        org=world.city,
    )
    _login(page, live_server, config_admin.username)
    page.goto(f"{live_server.url}/studio/export/")
    expect(page.get_by_role("heading", name="导出配置")).to_be_visible()
    with page.expect_download() as download:
        page.locator("#export-types a").first.click()
    assert download.value.suggested_filename == "taizhang-type-laojiu.yaml"
    text = Path(download.value.path()).read_text(encoding="utf-8")
    assert [t["code"] for t in bundle_parse(text).project_types] == ["laojiu"]
    with page.expect_download() as download:
        page.locator("#export-org").click()
    assert download.value.suggested_filename == "taizhang-org-330100.yaml"
    assert page.evaluate("document.documentElement.scrollWidth") <= page.viewport_size["width"]
    path = screenshot(page, "studio-import-export")
    shutil.copyfile(path, DOCS / f"studio-import-export-{page.viewport_name}.png")
