"""Staff pages for the ledger import: choose a type, download its template, upload; follow a job's progress
(HTMX polling while a task works on it), read its first errors, download the report, confirm or cancel."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import FileResponse, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from core.errors import Conflict, NotFound, PermissionDenied, ValidationFailed

from ..models import ImportJob
from . import selectors, services
from .api import XLSX, xlsx_response
from .workbook import MAX_BYTES, MAX_ROWS

ERRORS_SHOWN = 50


def _org(request: HttpRequest):
    org = selectors.import_org_for(request.user)
    if org is None:
        raise PermissionDenied(_("您没有“创建项目”的权限。"), code="permission_denied")
    return org


def _index(request: HttpRequest, *, error: str = "", chosen: str = "", status: int = 200) -> HttpResponse:
    org = _org(request)
    types = selectors.import_type_list(org=org)
    return render(
        request,
        "projects/imports/index.html",
        {
            "org": org,
            "types": types,
            "chosen": chosen or (types[0].code if types else ""),
            "jobs": selectors.import_job_list(user=request.user)[:10],
            "error": error,
            "max_mb": MAX_BYTES // 1024 // 1024,
            "max_rows": MAX_ROWS,
        },
        status=status,
    )


@login_required
def import_index(request: HttpRequest) -> HttpResponse:
    """Choose a project type, download its template, upload a filled file (which starts validation)."""
    if request.method != "POST":
        return _index(request)
    org = _org(request)
    code = request.POST.get("type", "")
    upload = request.FILES.get("file")
    if upload is None:
        return _index(request, error=_("请选择要上传的 .xlsx 文件。"), chosen=code, status=400)
    try:
        ptype = selectors.import_type_get(org=org, code=code)
        job = services.import_job_create(actor=request.user, org=org, ptype=ptype, upload=upload)
    except (ValidationFailed, NotFound) as exc:
        return _index(request, error=exc.message, chosen=code, status=400)
    return redirect("project_imports:job", pk=job.pk)


@login_required
@require_GET
def import_template_download(request: HttpRequest) -> HttpResponse:
    """The chosen type's .xlsx template."""
    ptype = selectors.import_type_get(org=_org(request), code=request.GET.get("type", ""))
    content = services.import_template(actor=request.user, ptype=ptype)
    return xlsx_response(content, _("%(type)s-导入模板.xlsx") % {"type": ptype.name})


def _job_context(job: ImportJob) -> dict:
    errors = job.errors or []
    return {
        "job": job,
        "errors": errors[:ERRORS_SHOWN],
        "error_count": len(errors),
        "errors_hidden": max(0, len(errors) - ERRORS_SHOWN),
        "can_confirm": job.status == ImportJob.Status.VALIDATED and not errors,
        "can_cancel": job.status
        in (
            ImportJob.Status.UPLOADED,
            ImportJob.Status.VALIDATING,
            ImportJob.Status.VALIDATED,
            ImportJob.Status.FAILED,
            ImportJob.Status.ERROR,
        ),
    }


@login_required
@require_GET
def import_job_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """A job: status, progress (polled while running), the first errors, report, confirm and cancel."""
    job = selectors.import_job_get(user=request.user, pk=pk)
    return render(request, "projects/imports/job.html", _job_context(job))


@login_required
@require_GET
def import_job_status(request: HttpRequest, pk: int) -> HttpResponse:
    """The job panel alone, for HTMX polling; it stops polling itself once the job is finished."""
    job = selectors.import_job_get(user=request.user, pk=pk)
    return render(request, "projects/imports/_job.html", _job_context(job))


@login_required
@require_GET
def import_job_report(request: HttpRequest, pk: int) -> HttpResponse:
    """The error report .xlsx."""
    job = selectors.import_job_get(user=request.user, pk=pk)
    if not job.report:
        raise NotFound(_("该导入没有错误报告。"), code="no_report")
    return FileResponse(
        job.report.open("rb"),
        as_attachment=True,
        filename=_("错误报告-%(filename)s") % {"filename": job.filename},
        content_type=XLSX,
    )


@login_required
@require_POST
def import_job_confirm(request: HttpRequest, pk: int) -> HttpResponse:
    """Confirm a fully valid job: the import starts in the background."""
    job = selectors.import_job_get(user=request.user, pk=pk)
    try:
        services.import_job_confirm(actor=request.user, job=job)
    except Conflict as exc:
        messages.error(request, exc.message)
    return redirect("project_imports:job", pk=job.pk)


@login_required
@require_POST
def import_job_cancel(request: HttpRequest, pk: int) -> HttpResponse:
    """Discard a job and its stored file."""
    job = selectors.import_job_get(user=request.user, pk=pk)
    try:
        services.import_job_cancel(actor=request.user, job=job)
        messages.success(request, _("已取消导入，上传的文件已删除。"))
    except Conflict as exc:
        messages.error(request, exc.message)
        return redirect("project_imports:job", pk=job.pk)
    return redirect("project_imports:index")
