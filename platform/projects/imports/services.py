"""Bulk import of an existing ledger from Excel: upload → validate (no writes) → confirm → import all or nothing.

Each step is one service (permission → validate → write → audit event); pages, the API and the Celery tasks call
them. Validation and import run as tasks because a 5 000-row file takes a while; both update `progress` so pages
can show a bar. Nothing reaches the ledger until a job that validated with zero errors is confirmed, and the
import then creates every project through :func:`projects.services.project_create_from_type` inside one
transaction: one refused row rolls back every row before it.
"""

from __future__ import annotations

import hashlib
import logging
import uuid
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from django.core.files.base import ContentFile
from django.db import DEFAULT_DB_ALIAS, DatabaseError, connection, connections, transaction
from django.utils import timezone

from accounts import permissions
from audit.services import audit_record
from core.errors import Conflict, ServiceError, ValidationFailed
from orgs.models import Org

from ..models import ImportJob, ProjectType
from ..services.typed import project_create_from_type
from . import selectors
from .checks import ImportPlan, Problem, RowChecker, duplicate_codes, import_plan
from .columns import CODE, ORG, HeaderMap, ParsedRow, map_header, parse_row
from .workbook import MAX_BYTES, SheetError, error_report, read_sheet, template_workbook, upload_problem

if TYPE_CHECKING:
    from django.core.files.uploadedfile import UploadedFile

    from accounts.models import User

log = logging.getLogger(__name__)

PROGRESS_EVERY = 100  # rows between progress writes: often enough for a bar, rare enough not to slow the run
_CANCELLABLE = (
    ImportJob.Status.UPLOADED,
    ImportJob.Status.VALIDATING,
    ImportJob.Status.VALIDATED,
    ImportJob.Status.FAILED,
    ImportJob.Status.ERROR,
)
Status = ImportJob.Status


def import_template(*, actor: User | None, ptype: ProjectType) -> bytes:
    """The .xlsx template for importing projects of `ptype`: a read, nothing is recorded."""
    permissions.check(actor, "project.create")
    plan = import_plan(ptype)
    orgs = selectors.import_org_choices(user=actor, ptype=ptype) if actor is not None else []
    return template_workbook(plan.columns, orgs, type_name=ptype.name)


def _read_upload(upload: UploadedFile) -> bytes:
    """The upload's bytes, refusing an oversized one before reading its body into memory."""
    if upload.size is not None and upload.size > MAX_BYTES:
        message = f"文件不能超过 {MAX_BYTES // 1024 // 1024} MB，请分批导入。"
        raise ValidationFailed(message, code="bad_file", fields={"file": [message]})
    upload.seek(0)
    return upload.read(MAX_BYTES + 1)


@transaction.atomic
def import_job_create(*, actor: User | None, org: Org, ptype: ProjectType, upload: UploadedFile) -> ImportJob:
    """Store an uploaded .xlsx as a job for `ptype` at `org` and queue its validation; nothing else is written."""
    permissions.check(actor, "project.create", org)
    if not org.path.startswith(ptype.org.path):
        raise ValidationFailed("该项目类型不适用于此单位。", fields={"type": ["项目类型未在此单位启用"]})
    plan = import_plan(ptype)
    name = str(getattr(upload, "name", "") or "")
    content = _read_upload(upload)
    problem = upload_problem(name, content)
    if problem is not None:
        raise ValidationFailed(problem, code="bad_file", fields={"file": [problem]})
    job = ImportJob(
        org=org,
        project_type=ptype,
        type_version=plan.version,
        filename=name.rsplit("/", 1)[-1][:255],
        sha256=hashlib.sha256(content).hexdigest(),
        created_by=actor,
    )
    job.upload.save(f"{uuid.uuid4().hex}.xlsx", ContentFile(content), save=False)
    job.save()
    audit_record(
        actor=actor,
        action="project_import.upload",
        obj=job,
        org=org,
        after={
            "type": ptype.code,
            "type_version": plan.version.number,
            "file": job.filename,
            "sha256": job.sha256,
        },
    )
    transaction.on_commit(lambda: _enqueue("validate", job.pk))
    return job


def _enqueue(step: str, job_id: int) -> None:
    # Deferred import: the tasks module imports these services (a real cycle).
    from .tasks import import_run_task, import_validate_task

    (import_validate_task if step == "validate" else import_run_task).delay(job_id)


def _error(row: int | None, key: str, message: str, plan: ImportPlan, header: HeaderMap) -> dict[str, Any]:
    column = plan.column(key) if key else None
    return {
        "row": row,
        "column": column.title if column else "",
        "col": header.positions.get(key) if key else None,
        "message": message,
    }


def _job_problem(message: str) -> dict[str, Any]:
    return {"row": None, "column": "", "col": None, "message": message}


def _progress_writer(job_id: int) -> Callable[[int, int], None]:
    """Progress of a validation, written at once (validation holds no transaction open)."""

    def write(done: int, total: int) -> None:
        ImportJob.objects.filter(pk=job_id).update(progress=done, total_rows=total)

    return write


def _check_file(job: ImportJob, content: bytes, progress: Callable[[int, int], None]) -> dict[str, Any]:
    """Every problem of the file, header first, then row by row; writes only progress."""
    plan = import_plan(job.project_type)
    if plan.version.pk != job.type_version_id:
        raise SheetError("项目类型已发布新版本，请下载新模板后重新上传。")
    sheet = read_sheet(content)
    header = map_header(sheet.headers, plan.columns)
    outcome: dict[str, Any] = {"total": len(sheet.rows), "ok": 0, "failed": 0, "errors": [], "header": header}
    if header.problems:
        for message in header.problems:
            col = next((i for i, h in enumerate(sheet.headers) if h and f"「{h}」" in message), None)
            outcome["errors"].append({**_job_problem(message), "col": col})
        return outcome
    if not sheet.rows:
        outcome["errors"].append(_job_problem("文件中没有数据行：请在第 2 行起每行填写一个项目。"))
        return outcome
    total = len(sheet.rows)
    progress(0, total)
    rows = [parse_row(number, cells, header, plan.columns) for number, cells in sheet.rows]
    duplicates = duplicate_codes(rows)
    checker = RowChecker(actor=job.created_by, plan=plan)
    for done, row in enumerate(rows, start=1):
        problems: list[Problem] = checker.check(row)
        if row.number in duplicates and not any(k == CODE for k, _m in problems):
            problems.append((CODE, duplicates[row.number]))
        if problems:
            outcome["failed"] += 1
            outcome["errors"] += [_error(row.number, k, m, plan, header) for k, m in problems]
        else:
            outcome["ok"] += 1
        if done % PROGRESS_EVERY == 0 and done < total:
            progress(done, total)
    return outcome


def import_job_validate(*, job_id: int) -> ImportJob | None:
    """Check every row of a job's file as the import would, without writing any project; builds the error report.

    Not one transaction on purpose: progress must be visible to pages while it runs. Only `progress` is written
    until the end; the result is one conditional update, so a job cancelled meanwhile stays cancelled. Idempotent:
    a job that already finished validating is left alone.
    """
    job = ImportJob.objects.select_related("project_type", "created_by", "org").filter(pk=job_id).first()
    if job is None or job.status not in (Status.UPLOADED, Status.VALIDATING):
        return job
    ImportJob.objects.filter(pk=job.pk).update(
        status=Status.VALIDATING, progress=0, updated_at=timezone.now()
    )
    with job.upload.open("rb") as stored:
        content = stored.read()
    try:
        outcome = _check_file(job, content, _progress_writer(job.pk))
    except (SheetError, ServiceError) as exc:
        outcome = {"total": 0, "ok": 0, "failed": 0, "errors": [_job_problem(str(exc))], "header": None}
    except Exception:  # a bug must not leave the job spinning for ever; the operators get the traceback
        log.exception("import job %s: validation crashed", job.pk)
        outcome = {
            "total": 0,
            "ok": 0,
            "failed": 0,
            "errors": [_job_problem("校验时发生内部错误，请联系管理员。")],
        }
    errors = outcome["errors"]
    header = outcome.get("header")
    report_name = ""
    if errors:
        try:
            report = error_report(content, errors, error_column=header.error_column if header else None)
            report_name = job.report.storage.save(
                job.report.field.generate_filename(job, f"import-{job.pk}-report.xlsx"), ContentFile(report)
            )
        except Exception:  # an unreadable file still gets its errors listed on the page
            log.warning("import job %s: no error report", job.pk, exc_info=True)
    if errors:
        job_level = [e["message"] for e in errors if e["row"] is None]
        message = (
            "；".join(job_level)
            if job_level
            else f"{outcome['total']} 行中有 {outcome['failed']} 行存在错误，请下载错误报告修改后重新上传。"
        )
    else:
        message = f"全部 {outcome['total']} 行校验通过，确认后将一次性导入。"
    ImportJob.objects.filter(pk=job.pk, status=Status.VALIDATING).update(
        status=Status.FAILED if errors else Status.VALIDATED,
        total_rows=outcome["total"],
        ok_rows=outcome["ok"],
        failed_rows=outcome["failed"],
        progress=outcome["total"],
        errors=errors,
        message=message,
        report=report_name,
        validated_at=timezone.now(),
        updated_at=timezone.now(),
    )
    job.refresh_from_db()
    return job


@transaction.atomic
def import_job_confirm(*, actor: User | None, job: ImportJob) -> ImportJob:
    """Confirm a job that validated with zero errors and queue its import; anything else is refused (409)."""
    permissions.check(actor, "project.create", job.org)
    job = ImportJob.objects.select_for_update().select_related("project_type", "org").get(pk=job.pk)
    if job.status != Status.VALIDATED or job.failed_rows or job.errors:
        raise Conflict(
            f"只有校验全部通过的导入才能确认（当前状态：{job.get_status_display()}）。",
            code="import_not_ready",
        )
    current = job.project_type.published()
    if current is None or current.pk != job.type_version_id:
        raise Conflict("项目类型已发布新版本，请下载新模板后重新上传。", code="type_version_changed")
    job.status, job.confirmed_by, job.progress, job.started_at = Status.IMPORTING, actor, 0, None
    job.save(update_fields=["status", "confirmed_by", "progress", "started_at", "updated_at"])
    audit_record(
        actor=actor,
        action="project_import.start",
        obj=job,
        org=job.org,
        after={
            "type": job.project_type.code,
            "rows": job.total_rows,
            "file": job.filename,
            "sha256": job.sha256,
        },
    )
    transaction.on_commit(lambda: _enqueue("run", job.pk))
    return job


@transaction.atomic
def import_job_cancel(*, actor: User | None, job: ImportJob) -> ImportJob:
    """Discard a job that is not importing or imported: its stored file and report are deleted."""
    permissions.check(actor, "project.create", job.org)
    job = ImportJob.objects.select_for_update().get(pk=job.pk)
    if job.status not in _CANCELLABLE:
        raise Conflict(f"“{job.get_status_display()}”的导入不能取消。", code="import_not_cancellable")
    before = job.status
    files = [f.name for f in (job.upload, job.report) if f]
    job.status, job.message = Status.CANCELLED, "已取消，上传的文件已删除。"
    job.upload, job.report = "", ""
    job.save(update_fields=["status", "message", "upload", "report", "updated_at"])
    audit_record(
        actor=actor, action="project_import.cancel", obj=job, org=job.org, before={"status": before}, after={}
    )
    storage = ImportJob._meta.get_field("upload").storage

    def delete_files() -> None:
        for name in files:
            storage.delete(name)

    transaction.on_commit(delete_files)
    return job


class _RowRefused(Exception):
    """One row the import could not create: the whole transaction rolls back."""

    def __init__(self, row: ParsedRow, column: str, message: str) -> None:
        super().__init__(message)
        self.row, self.column, self.message = row, column, message


class _SideProgress:
    """Writes progress on a second database connection, so pages see it while the import's one transaction is
    still open (the projects it creates stay invisible until commit). PostgreSQL only, and only when the import
    is not nested in a caller's transaction: the job row must not be locked by the connection that waits on it."""

    def __init__(self, job_id: int) -> None:
        self.job_id = job_id
        self.conn = None
        if connection.vendor == "postgresql" and not connection.in_atomic_block:
            self.conn = connections.create_connection(DEFAULT_DB_ALIAS)

    def __call__(self, done: int, total: int) -> None:
        if self.conn is None:
            return
        try:
            with self.conn.cursor() as cursor:
                cursor.execute("SET lock_timeout = '2s'")
                cursor.execute(
                    f"UPDATE {ImportJob._meta.db_table} SET progress = %s WHERE id = %s", [done, self.job_id]
                )
        except DatabaseError:
            log.warning("import job %s: progress not written", self.job_id, exc_info=True)
            self.close()

    def close(self) -> None:
        if self.conn is not None:
            self.conn.close()
            self.conn = None


def _import_rows(job: ImportJob, content: bytes, progress: Callable[[int, int], None]) -> list[str]:
    plan = import_plan(job.project_type)
    if plan.version.pk != job.type_version_id:
        raise ValidationFailed("项目类型已发布新版本，请下载新模板后重新上传。", code="type_version_changed")
    if hashlib.sha256(content).hexdigest() != job.sha256:
        raise ValidationFailed("上传的文件已被改动，请重新上传。", code="file_changed")
    sheet = read_sheet(content)
    header = map_header(sheet.headers, plan.columns)
    if header.problems:
        raise ValidationFailed(header.problems[0], code="bad_header")
    checker = RowChecker(actor=job.confirmed_by, plan=plan)
    titles = {c.key: c.title for c in plan.columns}
    codes: list[str] = []
    for done, (number, cells) in enumerate(sheet.rows, start=1):
        row = parse_row(number, cells, header, plan.columns)
        if row.problems:
            key, message = next(iter(row.problems.items()))
            raise _RowRefused(row, titles[key], message)
        org = checker.org(row.org_code)
        if isinstance(org, str):
            raise _RowRefused(row, titles[ORG], org)
        try:
            project = project_create_from_type(
                actor=job.confirmed_by, org=org, ptype=job.project_type, data=row.data, code=row.code
            )
        except ServiceError as exc:
            field, messages = next(iter(exc.fields.items()), ("", [exc.message]))
            key = CODE if field == "code" else field.split(".", 1)[0].split("[", 1)[0]
            raise _RowRefused(row, titles.get(key, ""), messages[0]) from exc
        codes.append(project.code)
        if done % PROGRESS_EVERY == 0:
            progress(done, len(sheet.rows))
    return codes


def import_job_run(*, job_id: int) -> ImportJob | None:
    """Create every project of a confirmed job in ONE transaction, or none: a refused row rolls all back and the
    job records which row and why. Idempotent: only a confirmed job not yet started is run, once."""
    job = ImportJob.objects.select_related("project_type", "org", "confirmed_by").filter(pk=job_id).first()
    if job is None or job.status != Status.IMPORTING:
        return job
    claimed = ImportJob.objects.filter(pk=job.pk, status=Status.IMPORTING, started_at__isnull=True).update(
        started_at=timezone.now(), progress=0
    )
    if not claimed:
        return job
    with job.upload.open("rb") as stored:
        content = stored.read()
    side = _SideProgress(job.pk)
    failure: dict[str, Any] | None = None
    try:
        with transaction.atomic():
            codes = _import_rows(job, content, side)
            ImportJob.objects.filter(pk=job.pk).update(
                status=Status.DONE,
                progress=len(codes),
                ok_rows=len(codes),
                message=f"已导入 {len(codes)} 个项目。",
                finished_at=timezone.now(),
                updated_at=timezone.now(),
            )
            audit_record(
                actor=job.confirmed_by,
                action="project_import.finish",
                obj=job,
                org=job.org,
                after={"created": len(codes), "codes": codes[:200], "file": job.filename},
            )
    except _RowRefused as refused:
        failure = {
            "errors": [
                {"row": refused.row.number, "column": refused.column, "col": None, "message": refused.message}
            ],
            "message": f"第 {refused.row.number} 行：{refused.message}。导入已全部撤销，未写入任何项目。",
        }
    except (ServiceError, SheetError) as exc:
        failure = {"errors": [_job_problem(str(exc))], "message": f"{exc}导入已全部撤销，未写入任何项目。"}
    except Exception:  # a bug: the transaction rolled back; record it rather than leave the job "importing"
        log.exception("import job %s: import crashed", job.pk)
        failure = {
            "errors": [_job_problem("导入时发生内部错误。")],
            "message": "导入时发生内部错误，已全部撤销，未写入任何项目。请联系管理员。",
        }
    finally:
        side.close()
    if failure is not None:
        with transaction.atomic():
            ImportJob.objects.filter(pk=job.pk).update(
                status=Status.ERROR,
                errors=failure["errors"],
                message=failure["message"],
                finished_at=timezone.now(),
                updated_at=timezone.now(),
            )
            audit_record(
                actor=job.confirmed_by,
                action="project_import.fail",
                obj=job,
                org=job.org,
                after={"message": failure["message"]},
            )
    job.refresh_from_db()
    return job
