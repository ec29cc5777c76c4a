"""An administrator imports an existing ledger on a phone and a desktop: a file with errors is reported row by row
with a downloadable report; the fixed file validates (the page follows progress by itself) and is confirmed."""

from __future__ import annotations

import io

import pytest
from openpyxl import load_workbook

from projects.imports import services
from projects.models import ImportJob, Project
from tests.factories import PASSWORD
from tests.projects.test_import import good_row, xlsx_bytes

from .conftest import screenshot

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _login(page, live_server, username: str) -> None:
    page.goto(f"{live_server.url}/accounts/login/")
    page.get_by_label("用户名").fill(username)
    page.get_by_label("密码").fill(PASSWORD)
    page.get_by_role("button", name="登录").click()
    page.wait_for_url(f"{live_server.url}/")


def _book(download):
    assert download.suggested_filename.endswith(".xlsx")
    return load_workbook(io.BytesIO(download.path().read_bytes()))


def _choose(page, rows: list[dict]) -> None:
    page.set_input_files(
        "#file", files=[{"name": "存量台账.xlsx", "mimeType": XLSX, "buffer": xlsx_bytes(rows)}]
    )


def test_import_ledger_with_errors_then_fixed_and_confirmed(
    world, project_type, live_server, page, monkeypatch
):
    _login(page, live_server, "clerk_a")
    page.goto(f"{live_server.url}/projects/import/")
    assert page.get_by_label("项目类型").input_value() == "laojiu"
    with page.expect_download() as template:
        page.get_by_role("button", name="下载导入模板").click()
    header = [c.value for c in _book(template.value).worksheets[0][1]]
    assert header[:3] == ["机构编码", "项目代码", "项目名称"]
    screenshot(page, "import-index")

    rows = [good_row(i) for i in range(1, 6)]
    rows[1]["建设单位统一社会信用代码"] = "913301005000000003"
    rows[3]["联系人"] = ""
    _choose(page, rows)
    page.get_by_role("button", name="上传并校验").click()
    page.wait_for_url("**/projects/import/*/")
    page.get_by_text("校验未通过").first.wait_for()
    table = page.locator(".imp-table tbody tr")
    assert table.count() == 2
    assert "第 3 行" in table.nth(0).inner_text() and "统一社会信用代码" in table.nth(0).inner_text()
    assert "第 5 行" in table.nth(1).inner_text() and "联系人" in table.nth(1).inner_text()
    assert page.get_by_role("button", name="确认导入").count() == 0
    with page.expect_download() as report:
        page.get_by_role("link", name="下载错误报告").click()
    sheet = _book(report.value).worksheets[0]
    assert sheet.cell(row=1, column=sheet.max_column).value == "错误说明"
    assert (
        sheet.cell(row=3, column=sheet.max_column).value and sheet.cell(row=5, column=sheet.max_column).value
    )
    screenshot(page, "import-errors")

    # The fixed file: validation is left queued, so the page must follow it by polling on its own.
    queued: list[int] = []
    monkeypatch.setattr(services, "_enqueue", lambda step, job_id: queued.append(job_id))
    page.get_by_role("link", name="重新上传").click()
    _choose(page, [good_row(i) for i in range(1, 6)])
    page.get_by_role("button", name="上传并校验").click()
    page.wait_for_url("**/projects/import/*/")
    assert page.locator("#job").get_attribute("hx-trigger") == "every 1s"
    page.get_by_role("progressbar").wait_for()
    assert "排队等待校验" in page.locator("#job").inner_text()
    screenshot(page, "import-validating")
    services.import_job_validate(job_id=queued[0])
    confirm = page.get_by_role("button", name="确认导入")
    confirm.wait_for()
    assert page.locator("#job").get_attribute("hx-trigger") is None  # polling stopped
    assert "全部 5 行校验通过" in page.locator("#job").inner_text()
    assert Project.objects.filter(name__startswith="西湖区翠苑").count() == 1  # the fixture's only
    screenshot(page, "import-valid")

    monkeypatch.undo()  # the import task runs in-process again
    confirm.click()
    page.get_by_text("已导入 5 个项目").wait_for()
    assert ImportJob.objects.get(pk=queued[0]).status == ImportJob.Status.DONE
    assert Project.objects.filter(name__startswith="西湖区翠苑").count() == 6
    screenshot(page, "import-done")
