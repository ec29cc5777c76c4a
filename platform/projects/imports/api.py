"""Ledger import endpoints: thin — parse input, call a selector or service, serialise the job."""

from __future__ import annotations

from urllib.parse import quote

from django.http import FileResponse, HttpResponse
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    extend_schema_field,
    inline_serializer,
)
from rest_framework import serializers, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from accounts import permissions
from core.api import validated
from core.errors import NotFound, PermissionDenied
from orgs.models import Org

from ..models import ImportJob
from . import selectors, services

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
ERRORS_SHOWN = 500

_ERROR_BODY = inline_serializer(
    "ImportErrorBody",
    {"code": serializers.CharField(), "message": serializers.CharField(), "fields": serializers.DictField()},
)


class ImportErrorSerializer(serializers.Serializer):
    row = serializers.IntegerField(allow_null=True, help_text="Excel 行号；为空表示整个文件的问题（如表头）")
    column = serializers.CharField(help_text="列名；为空表示整行")
    message = serializers.CharField()


_STATUSES = "、".join(f"{value}（{label}）" for value, label in ImportJob.Status.choices)


class ImportJobSerializer(serializers.ModelSerializer):
    # Plain text, not an enum: "status" enums of other resources would collide in the schema's component names.
    status = serializers.CharField(read_only=True, help_text=f"状态：{_STATUSES}")
    status_display = serializers.CharField(source="get_status_display", read_only=True)
    project_type = serializers.CharField(source="project_type.code", read_only=True)
    project_type_name = serializers.CharField(source="project_type.name", read_only=True)
    org = serializers.CharField(source="org.code", read_only=True)
    org_name = serializers.CharField(source="org.name", read_only=True)
    created_by = serializers.CharField(source="created_by.username", read_only=True, default="")
    percent = serializers.IntegerField(read_only=True)
    error_count = serializers.SerializerMethodField()
    errors = serializers.SerializerMethodField()
    has_report = serializers.SerializerMethodField()

    class Meta:
        model = ImportJob
        fields = [
            "id",
            "status",
            "status_display",
            "project_type",
            "project_type_name",
            "org",
            "org_name",
            "filename",
            "total_rows",
            "ok_rows",
            "failed_rows",
            "progress",
            "percent",
            "message",
            "error_count",
            "errors",
            "has_report",
            "created_by",
            "created_at",
            "validated_at",
            "finished_at",
        ]
        read_only_fields = fields

    def get_error_count(self, job: ImportJob) -> int:
        return len(job.errors or [])

    @extend_schema_field(ImportErrorSerializer(many=True))
    def get_errors(self, job: ImportJob) -> list[dict]:
        """The first 500 problems; the error report holds them all."""
        return ImportErrorSerializer((job.errors or [])[:ERRORS_SHOWN], many=True).data

    def get_has_report(self, job: ImportJob) -> bool:
        return bool(job.report)


class ImportUploadSerializer(serializers.Serializer):
    type = serializers.CharField(help_text="项目类型编码")
    file = serializers.FileField(help_text=".xlsx，不超过 10 MB、5000 行")
    org = serializers.CharField(required=False, help_text="导入单位的机构编码；默认为本人所在单位")


def _org(request, code: str | None) -> Org:
    if code:
        return permissions.get_visible(request.user, "project.create", Org.objects.all(), code=code)
    org = selectors.import_org_for(request.user)
    if org is None:
        raise PermissionDenied("您没有“创建项目”的权限。", code="permission_denied")
    return org


class ProjectImportViewSet(viewsets.GenericViewSet):
    """台账批量导入：上传 .xlsx → 逐行校验（不写入）→ 确认后一次性导入（全部成功或全部撤销）。"""

    serializer_class = ImportJobSerializer
    filter_backends: list = []  # newest first, paginated; no search or ordering to advertise

    def get_queryset(self):
        return selectors.import_job_list(user=self.request.user)

    @extend_schema(responses={200: ImportJobSerializer(many=True)})
    def list(self, request):
        page = self.paginate_queryset(selectors.import_job_list(user=request.user))
        return self.get_paginated_response(ImportJobSerializer(page, many=True).data)

    @extend_schema(responses={200: ImportJobSerializer, 404: _ERROR_BODY})
    def retrieve(self, request, pk=None):
        return Response(ImportJobSerializer(selectors.import_job_get(user=request.user, pk=pk)).data)

    @extend_schema(
        request={"multipart/form-data": ImportUploadSerializer},
        responses={201: ImportJobSerializer, 400: _ERROR_BODY, 403: _ERROR_BODY, 404: _ERROR_BODY},
    )
    def create(self, request):
        """上传文件并开始校验（异步）；返回导入任务，轮询其状态与进度。"""
        data = validated(ImportUploadSerializer, request.data)
        org = _org(request, data.get("org"))
        ptype = selectors.import_type_get(org=org, code=data["type"])
        job = services.import_job_create(actor=request.user, org=org, ptype=ptype, upload=data["file"])
        job.refresh_from_db()
        return Response(ImportJobSerializer(job).data, status=201)

    @extend_schema(
        responses={(200, XLSX): OpenApiResponse(bytes, description="错误报告 .xlsx"), 404: _ERROR_BODY}
    )
    @action(detail=True, methods=["get"])
    def report(self, request, pk=None):
        """下载错误报告：原表格，每行末尾加“错误说明”列，出错单元格标红并附批注。"""
        job = selectors.import_job_get(user=request.user, pk=pk)
        if not job.report:
            raise NotFound("该导入没有错误报告。", code="no_report")
        return FileResponse(
            job.report.open("rb"), as_attachment=True, filename=f"错误报告-{job.filename}", content_type=XLSX
        )

    @extend_schema(request=None, responses={202: ImportJobSerializer, 404: _ERROR_BODY, 409: _ERROR_BODY})
    @action(detail=True, methods=["post"])
    def confirm(self, request, pk=None):
        """确认导入：仅校验全部通过的任务可确认；导入在后台一次性完成。"""
        job = selectors.import_job_get(user=request.user, pk=pk)
        job = services.import_job_confirm(actor=request.user, job=job)
        job.refresh_from_db()
        return Response(ImportJobSerializer(job).data, status=202)

    @extend_schema(request=None, responses={200: ImportJobSerializer, 404: _ERROR_BODY, 409: _ERROR_BODY})
    @action(detail=True, methods=["post"])
    def cancel(self, request, pk=None):
        """取消导入并删除上传的文件（导入中或已导入的任务不能取消）。"""
        job = services.import_job_cancel(
            actor=request.user, job=selectors.import_job_get(user=request.user, pk=pk)
        )
        return Response(ImportJobSerializer(job).data)

    @extend_schema(
        parameters=[OpenApiParameter("type", str, required=True, description="项目类型编码")],
        responses={(200, XLSX): OpenApiResponse(bytes, description="导入模板 .xlsx"), 404: _ERROR_BODY},
    )
    @action(detail=False, methods=["get"])
    def template(self, request):
        """下载某项目类型的导入模板（表头为立项表单字段，另附“填写说明”“机构编码”两张表）。"""
        org = _org(request, request.query_params.get("org"))
        ptype = selectors.import_type_get(org=org, code=request.query_params.get("type", ""))
        content = services.import_template(actor=request.user, ptype=ptype)
        return xlsx_response(content, f"{ptype.name}-导入模板.xlsx")


def xlsx_response(content: bytes, filename: str) -> HttpResponse:
    """An .xlsx download whose Chinese file name survives every browser (RFC 5987)."""
    response = HttpResponse(content, content_type=XLSX)
    response["Content-Disposition"] = (
        f"attachment; filename=\"import.xlsx\"; filename*=UTF-8''{quote(filename)}"
    )
    return response
