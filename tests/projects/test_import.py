"""Bulk import of an existing ledger from Excel: validate every row without writing, then all or nothing."""

from __future__ import annotations

import io
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from openpyxl import Workbook, load_workbook

from audit.models import AuditEvent
from core.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from projects.imports import selectors, services
from projects.models import ImportJob, Project
from tests.factories import ProjectFactory

pytestmark = pytest.mark.django_db

HEADERS = [
    "机构编码",
    "项目代码",
    "项目名称",
    "建设单位统一社会信用代码",
    "小区名称",
    "建成年份",
    "改造户数",
    "改造类别",
    "项目总投资",
    "资金来源",
    "计划工期",
    "是否加装电梯",
    "加装电梯数量（部）",
    "联系人",
    "联系电话",
    "备注",
]


def good_row(i: int, org: str = "330106-zjj", code: str = "") -> dict:
    """A valid 老旧小区改造 row as a person would type it, with Excel-typed numbers where Excel would make them."""
    return {
        "机构编码": org,
        "项目代码": code,
        "项目名称": f"西湖区翠苑{i}区老旧小区改造工程",
        "建设单位统一社会信用代码": "913301005000000002",
        "小区名称": f"翠苑{i}区",
        "建成年份": 1992,
        "改造户数": 100 + i,
        "改造类别": "基础类、完善类",
        "项目总投资": "1280万元",
        "资金来源": "中央补助:8000000; 市县配套:4800000",
        "计划工期": "2026-03-01 至 2026-12-31",
        "是否加装电梯": "是",
        "加装电梯数量（部）": 6,
        "联系人": "陈静",
        "联系电话": 13800138000,
        "备注": "",
    }


def xlsx_bytes(rows: list[dict], headers: list[str] = HEADERS) -> bytes:
    book = Workbook()
    sheet = book.active
    sheet.append(headers)
    for row in rows:
        sheet.append([row.get(h) if row.get(h) != "" else None for h in headers])
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def xlsx_upload(
    rows: list[dict], headers: list[str] = HEADERS, name: str = "台账.xlsx"
) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, xlsx_bytes(rows, headers))


@pytest.fixture
def upload(world, project_type, django_capture_on_commit_callbacks):
    """Upload as clerk_a (西湖区住建局) and run the queued validation task, as the broker would."""

    def do(rows, *, user=None, org=None, headers=HEADERS) -> ImportJob:
        with django_capture_on_commit_callbacks(execute=True):
            job = services.import_job_create(
                actor=user or world.users["clerk_a"],
                org=org or world.bureau_a,
                ptype=project_type,
                upload=xlsx_upload(rows, headers),
            )
        job.refresh_from_db()
        return job

    return do


@pytest.fixture
def confirm(django_capture_on_commit_callbacks):
    def do(job: ImportJob, user) -> ImportJob:
        with django_capture_on_commit_callbacks(execute=True):
            services.import_job_confirm(actor=user, job=job)
        job.refresh_from_db()
        return job

    return do


def test_template_lists_form_titles_org_column_and_a_guide_sheet(world, project_type):
    content = services.import_template(actor=world.users["clerk_a"], ptype=project_type)
    book = load_workbook(io.BytesIO(content))
    assert book.sheetnames == ["项目台账", "填写说明", "机构编码"]
    header = [c.value for c in book["项目台账"][1]]
    assert header == HEADERS  # 资金合计 (computed) has no column
    guide = [[c.value for c in row] for row in book["填写说明"].iter_rows()]
    by_title = {row[0]: row for row in guide if row[0] in HEADERS}
    assert by_title["联系人"][1] == "必填" and by_title["备注"][1] == "选填"
    assert "中央补助:" in by_title["资金来源"][3] and "基础类、完善类、提升类" in by_title["改造类别"][3]
    assert by_title["是否加装电梯"][3].endswith("是、否")
    orgs = {row[0].value for row in book["机构编码"].iter_rows(min_row=2)}
    assert orgs == {"330106-zjj"}  # clerk_a may create projects only in 西湖区住建局


def test_good_file_imports_every_row_after_confirmation_and_nothing_before(world, upload, confirm):
    before = Project.objects.count()
    job = upload([good_row(i) for i in range(1, 4)] + [good_row(9, code="XH-2026-0009")])
    assert job.status == ImportJob.Status.VALIDATED, job.errors
    assert (job.total_rows, job.ok_rows, job.failed_rows, job.errors) == (4, 4, 0, [])
    assert not job.report
    assert Project.objects.count() == before

    job = confirm(job, world.users["clerk_a"])
    assert job.status == ImportJob.Status.DONE, job.message
    assert job.ok_rows == 4 and job.progress == 4
    created = Project.objects.filter(name__startswith="西湖区翠苑").exclude(pk=world.projects_a[0].pk)
    assert created.count() == 4
    nine = Project.objects.get(code="XH-2026-0009")
    assert nine.budget == Decimal("12800000.00") and nine.org == world.bureau_a
    assert nine.data["资金来源"][1] == {"来源": "市县配套", "金额": "4800000"}
    assert nine.data["联系电话"] == "13800138000" and nine.data["是否加装电梯"] is True
    assert str(nine.planned_end) == "2026-12-31" and nine.type_version_id == job.type_version_id
    actions = list(
        AuditEvent.objects.filter(object_type="projects.importjob")
        .order_by("id")
        .values_list("action", flat=True)
    )
    assert actions == ["project_import.upload", "project_import.start", "project_import.finish"]
    assert AuditEvent.objects.filter(action="project.create", object_id=str(nine.pk)).exists()


def test_bad_rows_are_reported_per_row_with_an_error_report_and_confirm_is_refused(world, upload, confirm):
    rows = [good_row(i) for i in range(1, 6)]
    rows[1]["建设单位统一社会信用代码"] = "913301005000000003"  # Excel row 3: wrong check digit
    rows[3]["联系人"] = ""  # Excel row 5: a required field left empty
    job = upload(rows)

    assert job.status == ImportJob.Status.FAILED
    assert (job.total_rows, job.ok_rows, job.failed_rows) == (5, 3, 2)
    assert [(e["row"], e["column"]) for e in job.errors] == [
        (3, "建设单位统一社会信用代码"),
        (5, "联系人"),
    ]
    assert "统一社会信用代码" in job.errors[0]["message"] and "联系人" in job.errors[1]["message"]

    report = load_workbook(io.BytesIO(job.report.read()))
    sheet = report.worksheets[0]
    error_col = len(HEADERS) + 1
    assert sheet.cell(row=1, column=error_col).value == "错误说明"
    notes = {r: sheet.cell(row=r, column=error_col).value for r in range(2, 7)}
    assert [r for r, note in notes.items() if note] == [3, 5]
    assert "统一社会信用代码" in notes[3] and "联系人" in notes[5]
    uscc = sheet.cell(row=3, column=HEADERS.index("建设单位统一社会信用代码") + 1)
    assert uscc.fill.fgColor.rgb.endswith("FFC7CE") and "统一社会信用代码" in uscc.comment.text
    assert sheet.cell(row=5, column=HEADERS.index("联系人") + 1).comment is not None
    assert sheet.cell(row=4, column=HEADERS.index("联系人") + 1).comment is None

    with pytest.raises(Conflict) as err:
        confirm(job, world.users["clerk_a"])
    assert err.value.code == "import_not_ready"
    assert Project.objects.filter(name__startswith="西湖区翠苑").count() == 1  # only the fixture's project


def test_cells_are_coerced_like_the_form_and_duplicate_codes_are_caught(world, upload):
    rows = [
        good_row(1, code="XH-0001"),
        good_row(2, code="XH-0001"),
        good_row(3, code=world.projects_a[0].code),
    ]
    rows[0]["资金来源"] = "中央补助 8000000"
    rows[1]["计划工期"] = "2026-12-31 至 2026-03-01"
    rows[2]["改造类别"] = "豪华类"
    job = upload(rows)
    problems = {(e["row"], e["column"]): e["message"] for e in job.errors}
    assert "应写成「来源:金额」" in problems[(2, "资金来源")]
    assert "开始日期不能晚于结束日期" in problems[(3, "计划工期")]
    assert "与第 2 行重复" in problems[(3, "项目代码")]
    assert "豪华类" in problems[(4, "改造类别")] and "已存在于台账中" in problems[(4, "项目代码")]


def test_money_total_must_match_sources_like_the_form_says(world, upload):
    row = good_row(1)
    row["项目总投资"] = 12800001  # 元: the DSL rule 资金来源合计 = 项目总投资 fails
    job = upload([row])
    assert [(e["row"], e["column"]) for e in job.errors] == [(2, "资金来源")]
    assert "资金来源合计应等于项目总投资" in job.errors[0]["message"]


def test_unknown_and_missing_columns_are_errors_of_the_whole_file(world, upload):
    headers = [h for h in HEADERS if h != "联系人"] + ["负责人"]
    job = upload([good_row(1)], headers=headers)
    assert job.status == ImportJob.Status.FAILED and job.ok_rows == 0
    messages = [e["message"] for e in job.errors]
    assert all(e["row"] is None for e in job.errors)
    assert any("「负责人」" in m for m in messages) and any("缺少必填列「联系人」" in m for m in messages)
    header = [c.value for c in load_workbook(io.BytesIO(job.report.read())).worksheets[0][1]]
    assert header[-1] == "错误说明"


def test_a_failure_during_the_import_leaves_nothing_written(world, upload, confirm):
    rows = [good_row(i, code=f"XH-2026-{i:04d}") for i in range(1, 6)]
    job = upload(rows)
    assert job.status == ImportJob.Status.VALIDATED
    # Between validation and confirmation someone registers a project with row 4's code.
    ProjectFactory(actor=world.users["clerk_a"], org=world.bureau_a, code="XH-2026-0003")
    before = Project.objects.count()
    events = AuditEvent.objects.count()

    job = confirm(job, world.users["clerk_a"])
    assert job.status == ImportJob.Status.ERROR
    assert "第 4 行" in job.message and "项目代码" in job.message and "未写入任何项目" in job.message
    assert job.errors[0]["row"] == 4 and job.errors[0]["column"] == "项目代码"
    assert Project.objects.count() == before
    assert not Project.objects.filter(code__in=["XH-2026-0001", "XH-2026-0002"]).exists()
    added = list(AuditEvent.objects.order_by("id").values_list("action", flat=True)[events:])
    assert added == ["project_import.start", "project_import.fail"]  # no project.create survived
    with pytest.raises(Conflict):
        confirm(job, world.users["clerk_a"])


def test_district_b_cannot_import_into_district_a_nor_see_its_jobs(world, project_type, upload, api):
    clerk_b = world.users["clerk_b"]
    with pytest.raises(PermissionDenied):
        services.import_job_create(
            actor=clerk_b, org=world.bureau_a, ptype=project_type, upload=xlsx_upload([])
        )
    job_b = upload([good_row(1)], user=clerk_b, org=world.bureau_b)  # 机构编码 330106-zjj is 西湖区
    assert job_b.status == ImportJob.Status.FAILED
    assert [(e["row"], e["column"]) for e in job_b.errors] == [(2, "机构编码")]
    assert "不在您“创建项目”的权限范围内" in job_b.errors[0]["message"]

    job_a = upload([good_row(1)])
    assert list(selectors.import_job_list(user=clerk_b)) == [job_b]
    with pytest.raises(NotFound):
        selectors.import_job_get(user=clerk_b, pk=job_a.pk)
    client = api.as_user(clerk_b)
    for path in (f"/api/v1/project-imports/{job_a.pk}/", f"/api/v1/project-imports/{job_a.pk}/report/"):
        response = client.get(path)
        assert response.status_code == 404 and response.json()["code"] == "not_found"
    response = client.post(f"/api/v1/project-imports/{job_a.pk}/confirm/")
    assert response.status_code == 404
    assert selectors.import_job_list(user=world.users["regulator"]).count() == 0  # no 创建项目 anywhere


def test_progress_advances_while_validating_and_importing(world, upload, confirm, monkeypatch):
    monkeypatch.setattr(services, "PROGRESS_EVERY", 2)
    seen: list[tuple[str, int, int]] = []
    writer = services._progress_writer

    def spy_writer(job_id):
        write = writer(job_id)

        def record(done, total):
            seen.append(("validate", done, total))
            write(done, total)
            assert ImportJob.objects.get(pk=job_id).progress == done

        return record

    class SpySide(services._SideProgress):
        def __call__(self, done, total):
            seen.append(("import", done, total))
            super().__call__(done, total)

    monkeypatch.setattr(services, "_progress_writer", spy_writer)
    monkeypatch.setattr(services, "_SideProgress", SpySide)
    job = upload([good_row(i) for i in range(1, 6)])
    assert seen == [("validate", 0, 5), ("validate", 2, 5), ("validate", 4, 5)]
    assert job.progress == 5 and job.percent == 100
    seen.clear()
    job = confirm(job, world.users["clerk_a"])
    assert job.status == ImportJob.Status.DONE
    assert seen == [("import", 2, 5), ("import", 4, 5)] and job.progress == 5


@pytest.mark.parametrize(
    ("name", "content", "expected"),
    [
        ("台账.csv", b"a,b\n1,2\n", "只支持 .xlsx"),
        ("台账.xlsx", "机构编码,项目名称\n".encode(), "不是有效的 .xlsx"),
        ("台账.xlsx", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 100, "旧版 .xls"),
        ("台账.xlsx", b"", "空的"),
    ],
)
def test_files_that_are_not_xlsx_are_refused_by_content(world, project_type, name, content, expected):
    with pytest.raises(ValidationFailed) as err:
        services.import_job_create(
            actor=world.users["clerk_a"],
            org=world.bureau_a,
            ptype=project_type,
            upload=SimpleUploadedFile(name, content),
        )
    assert err.value.code == "bad_file" and expected in err.value.fields["file"][0]
    assert ImportJob.objects.count() == 0


def test_size_and_row_limits(world, project_type, upload, monkeypatch):
    from projects.imports import workbook

    big = SimpleUploadedFile("台账.xlsx", b"PK" + b"\0" * (workbook.MAX_BYTES + 1))
    with pytest.raises(ValidationFailed) as err:
        services.import_job_create(
            actor=world.users["clerk_a"], org=world.bureau_a, ptype=project_type, upload=big
        )
    assert "10 MB" in err.value.message
    monkeypatch.setattr(workbook, "MAX_ROWS", 2)
    with pytest.raises(ValidationFailed) as err:
        upload([good_row(i) for i in range(3)])
    assert "超过 2 行" in err.value.message


def test_api_uploads_reports_and_confirms_with_error_bodies(
    world, project_type, api, django_capture_on_commit_callbacks
):
    client = api.as_user(world.users["clerk_a"])
    response = client.post(
        "/api/v1/project-imports/", {"type": "laojiu", "file": SimpleUploadedFile("x.txt", b"hi")}
    )
    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "bad_file" and "只支持 .xlsx" in body["fields"]["file"][0]

    rows = [good_row(1), good_row(2)]
    rows[1]["联系电话"] = "123"
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post("/api/v1/project-imports/", {"type": "laojiu", "file": xlsx_upload(rows)})
    assert response.status_code == 201, response.content
    job_id = response.json()["id"]
    detail = client.get(f"/api/v1/project-imports/{job_id}/").json()
    assert detail["status"] == "failed" and detail["failed_rows"] == 1 and detail["total_rows"] == 2
    assert (
        detail["errors"] == [{"row": 3, "column": "联系电话", "message": detail["errors"][0]["message"]}]
        and detail["has_report"]
    )
    report = client.get(f"/api/v1/project-imports/{job_id}/report/")
    assert report.status_code == 200 and report["Content-Type"].startswith("application/vnd.openxmlformats")
    refused = client.post(f"/api/v1/project-imports/{job_id}/confirm/")
    assert refused.status_code == 409 and refused.json()["code"] == "import_not_ready"

    with django_capture_on_commit_callbacks(execute=True):
        good = client.post(
            "/api/v1/project-imports/", {"type": "laojiu", "file": xlsx_upload([good_row(1)])}
        ).json()
    with django_capture_on_commit_callbacks(execute=True):
        confirmed = client.post(f"/api/v1/project-imports/{good['id']}/confirm/")
    assert confirmed.status_code == 202
    assert client.get(f"/api/v1/project-imports/{good['id']}/").json()["status"] == "done"
    assert client.get("/api/v1/project-imports/template/", {"type": "laojiu"}).status_code == 200
    assert (
        client.post("/api/v1/project-imports/", {"type": "nope", "file": xlsx_upload([])}).status_code == 404
    )

    schema = client.get("/api/schema/", HTTP_ACCEPT="application/json").json()["paths"]
    for path in (
        "/api/v1/project-imports/",
        "/api/v1/project-imports/{id}/",
        "/api/v1/project-imports/{id}/report/",
    ):
        assert path in schema
    assert "post" in schema["/api/v1/project-imports/{id}/confirm/"]


def test_cancel_discards_the_file_and_is_refused_once_imported(world, upload, confirm):
    job = upload([good_row(1)])
    name = job.upload.name
    storage = job.upload.storage
    assert storage.exists(name)
    services.import_job_cancel(actor=world.users["clerk_a"], job=job)
    job.refresh_from_db()
    assert job.status == ImportJob.Status.CANCELLED and not job.upload
    with pytest.raises(Conflict):
        confirm(job, world.users["clerk_a"])
    done = confirm(upload([good_row(2)]), world.users["clerk_a"])
    with pytest.raises(Conflict):
        services.import_job_cancel(actor=world.users["clerk_a"], job=done)


@pytest.mark.django_db(transaction=True)
def test_import_progress_is_committed_while_the_import_transaction_is_open(world, project_type, monkeypatch):
    monkeypatch.setattr(services, "PROGRESS_EVERY", 2)
    seen: list[int] = []

    class Peek(services._SideProgress):
        def __call__(self, done, total):
            super().__call__(done, total)
            from django.db import connections

            other = connections.create_connection("default")  # what a page polling the job would read
            try:
                with other.cursor() as cursor:
                    cursor.execute("SELECT progress FROM projects_importjob WHERE id = %s", [self.job_id])
                    seen.append(cursor.fetchone()[0])
                    cursor.execute("SELECT count(*) FROM projects_project WHERE code LIKE 'XH-P-%%'")
                    assert cursor.fetchone()[0] == 0  # the projects themselves are not visible yet
            finally:
                other.close()

    monkeypatch.setattr(services, "_SideProgress", Peek)
    job = services.import_job_create(
        actor=world.users["clerk_a"],
        org=world.bureau_a,
        ptype=project_type,
        upload=xlsx_upload([good_row(i, code=f"XH-P-{i:04d}") for i in range(1, 6)]),
    )
    job.refresh_from_db()
    assert job.status == ImportJob.Status.VALIDATED
    services.import_job_confirm(actor=world.users["clerk_a"], job=job)
    job.refresh_from_db()
    assert job.status == ImportJob.Status.DONE and seen == [2, 4]
    assert Project.objects.filter(code__startswith="XH-P-").count() == 5
