"""Project endpoints: thin — parse input, call a selector or service, serialise the result."""

from __future__ import annotations

import csv
import io

from django.http import HttpResponse
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from accounts import permissions
from core.api import validated
from orgs.models import Org

from . import selectors, services
from .models import Project


class ProjectSerializer(serializers.ModelSerializer):
    org_name = serializers.CharField(source="org.name", read_only=True)
    budget = serializers.DecimalField(max_digits=18, decimal_places=2, coerce_to_string=True)

    class Meta:
        model = Project
        fields = [
            "id",
            "code",
            "name",
            "category",
            "stage",
            "budget",
            "description",
            "org",
            "org_name",
            "owner",
            "version",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields


class ProjectCreateSerializer(serializers.Serializer):
    org = serializers.CharField(help_text="机构编码")
    name = serializers.CharField(max_length=200, allow_blank=True)
    budget = serializers.DecimalField(max_digits=18, decimal_places=2, help_text="金额（元），字符串形式")
    category = serializers.CharField(required=False, default="基本建设")
    description = serializers.CharField(required=False, allow_blank=True, default="")
    code = serializers.CharField(required=False, allow_blank=True, default="")


class ProjectUpdateSerializer(serializers.Serializer):
    version = serializers.IntegerField(required=False, help_text="乐观锁：提交时的版本号")
    name = serializers.CharField(max_length=200, required=False)
    budget = serializers.DecimalField(max_digits=18, decimal_places=2, required=False)
    category = serializers.CharField(required=False)
    description = serializers.CharField(required=False, allow_blank=True)


class ProjectViewSet(viewsets.GenericViewSet):
    """统一项目台账：列表（搜索、筛选）、详情、创建、修改、导出。"""

    serializer_class = ProjectSerializer
    filterset_fields = ["stage", "category", "org"]
    ordering_fields = ["created_at", "budget", "name", "code"]

    def get_queryset(self):
        return selectors.project_list(user=self.request.user)

    @extend_schema(parameters=[OpenApiParameter("search", str, description="按名称、代码、内容搜索")])
    def list(self, request):
        qs = self.filter_queryset(
            selectors.project_list(user=request.user, search=request.query_params.get("search", ""))
        )
        page = self.paginate_queryset(qs)
        return self.get_paginated_response(ProjectSerializer(page, many=True).data)

    def retrieve(self, request, pk=None):
        return Response(ProjectSerializer(selectors.project_get(user=request.user, pk=pk)).data)

    @extend_schema(request=ProjectCreateSerializer, responses={201: ProjectSerializer})
    def create(self, request):
        data = validated(ProjectCreateSerializer, request.data)
        org = permissions.get_visible(request.user, "project.create", Org.objects.all(), code=data.pop("org"))
        project = services.project_create(actor=request.user, org=org, **data)
        return Response(ProjectSerializer(project).data, status=201)

    @extend_schema(request=ProjectUpdateSerializer, responses={200: ProjectSerializer})
    def partial_update(self, request, pk=None):
        data = validated(ProjectUpdateSerializer, request.data)
        project = selectors.project_get(user=request.user, pk=pk)
        project = services.project_update(
            actor=request.user, project=project, expected_version=data.pop("version", None), **data
        )
        return Response(ProjectSerializer(project).data)

    @extend_schema(parameters=[OpenApiParameter("search", str)], responses={(200, "text/csv"): bytes})
    @action(detail=False, methods=["get"])
    def export(self, request):
        """导出为 CSV（UTF-8 BOM，Excel 可直接打开）；导出本身记入审计日志。"""
        rows = services.project_export(actor=request.user, search=request.query_params.get("search", ""))
        buffer = io.StringIO()
        buffer.write("\ufeff")
        writer = csv.writer(buffer)
        writer.writerow([label for _key, label in services.EXPORT_COLUMNS])
        for row in rows:
            writer.writerow([row[key] for key, _label in services.EXPORT_COLUMNS])
        response = HttpResponse(buffer.getvalue(), content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = 'attachment; filename="projects.csv"'
        return response
