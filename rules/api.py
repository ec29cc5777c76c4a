"""API of the rules app: alerts and their closed loop, notifications, rule packs (test, preview, load) and the policy
library. Thin: read through ``rules.selectors``, write through ``rules.services``, serialise the result.

Scope follows the project API: an alert outside the user's scope answers 404, never 403. Every error is the usual
4xx ``{code, message, fields}`` body (a blocked write elsewhere is 409 ``rule_blocked``).
"""

from __future__ import annotations

import dataclasses
from typing import Any

from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import serializers, viewsets
from rest_framework.decorators import action
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.response import Response

from accounts import permissions
from core.api import DecimalJSONParser, validated
from core.errors import ValidationFailed
from orgs.models import Org

from . import selectors
from .models import (
    Alert,
    AlertStatus,
    Notification,
    Regulation,
    RulePack,
    Severity,
)
from .serializers import (
    AlertDetailSerializer,
    AlertRectifySerializer,
    AlertRejectSerializer,
    AlertSerializer,
    AlertStepSerializer,
    NotificationReadSerializer,
    NotificationSerializer,
    PackLoadSerializer,
    PackSourceSerializer,
    RegulationSerializer,
    RulePackDetailSerializer,
    RulePackSerializer,
)
from .services import alerts as alert_services

MAX_PACK_BYTES = 1024 * 1024
MAX_SIGNATURE_BYTES = 16 * 1024


# Alerts ---------------------------------------------------------------------------------------------------------


_ALERT_FILTERS = [
    OpenApiParameter(
        "tab", str, enum=["all", "todo"], description="all（默认）或 todo：当前用户此刻可处理的预警"
    ),
    OpenApiParameter("status", str, enum=list(AlertStatus.values)),
    OpenApiParameter("severity", str, enum=list(Severity.values)),
    OpenApiParameter("project", int, description="项目编号"),
    OpenApiParameter("org", str, description="机构编码：该机构及其下级的项目"),
    OpenApiParameter("search", str, description="预警内容、项目名称或代码"),
]


class AlertViewSet(viewsets.GenericViewSet):
    """预警：用户可查看范围内的预警（按项目所属机构），及其闭环处理：确认、整改、核销、退回。"""

    serializer_class = AlertSerializer
    queryset = Alert.objects.none()  # reads go through rules.selectors
    filter_backends: list = []
    parser_classes = [DecimalJSONParser, FormParser, MultiPartParser]

    def _get(self, pk: Any) -> Alert:
        return selectors.alert_get(user=self.request.user, pk=pk)

    def _answer(self, pk: Any) -> Response:
        return Response(AlertDetailSerializer(self._get(pk), context={"request": self.request}).data)

    @extend_schema(parameters=_ALERT_FILTERS, responses=AlertSerializer(many=True))
    def list(self, request):
        filters, errors = selectors.alert_filters_parse(request.query_params, default_tab="all")
        if errors:
            raise ValidationFailed("筛选条件有误，请修改后重试。", fields=errors)
        page = self.paginate_queryset(selectors.alert_list(user=request.user, filters=filters))
        return self.get_paginated_response(AlertSerializer(page, many=True).data)

    @extend_schema(responses=AlertDetailSerializer)
    def retrieve(self, request, pk=None):
        return self._answer(pk)

    @extend_schema(request=AlertStepSerializer, responses=AlertDetailSerializer)
    @action(detail=True, methods=["post"])
    def acknowledge(self, request, pk=None):
        data = validated(AlertStepSerializer, request.data)
        alert_services.alert_acknowledge(
            actor=request.user,
            alert=self._get(pk),
            note=data["note"],
            expected_version=data["expected_version"],
        )
        return self._answer(pk)

    @extend_schema(request={"multipart/form-data": AlertRectifySerializer}, responses=AlertDetailSerializer)
    @action(detail=True, methods=["post"])
    def rectify(self, request, pk=None):
        data = validated(AlertRectifySerializer, request.data)
        alert_services.alert_rectify(
            actor=request.user,
            alert=self._get(pk),
            cause=data["cause"],
            action=data["action"],
            deadline=data["deadline"],
            evidence=data.get("evidence"),
            expected_version=data["expected_version"],
        )
        return self._answer(pk)

    @extend_schema(request=AlertStepSerializer, responses=AlertDetailSerializer)
    @action(detail=True, methods=["post"])
    def close(self, request, pk=None):
        data = validated(AlertStepSerializer, request.data)
        alert_services.alert_close(
            actor=request.user,
            alert=self._get(pk),
            note=data["note"],
            expected_version=data["expected_version"],
        )
        return self._answer(pk)

    @extend_schema(request=AlertRejectSerializer, responses=AlertDetailSerializer)
    @action(detail=True, methods=["post"])
    def reject(self, request, pk=None):
        data = validated(AlertRejectSerializer, request.data)
        alert_services.alert_reject(
            actor=request.user,
            alert=self._get(pk),
            note=data["note"],
            expected_version=data["expected_version"],
        )
        return self._answer(pk)


# Notifications --------------------------------------------------------------------------------------------------


class NotificationViewSet(viewsets.GenericViewSet):
    """通知：当前用户自己的站内通知（预警触发、升级、整改待核销、退回…）。"""

    serializer_class = NotificationSerializer
    queryset = Notification.objects.none()
    filter_backends: list = []

    @extend_schema(
        parameters=[OpenApiParameter("unread", bool, description="true：只看未读；false：只看已读")],
        responses=NotificationSerializer(many=True),
    )
    def list(self, request):
        raw = (request.query_params.get("unread") or "").strip().lower()
        if raw not in ("", "true", "false", "1", "0"):
            raise ValidationFailed("筛选条件有误。", fields={"unread": ["是否未读：应为 true 或 false"]})
        unread = None if raw == "" else raw in ("true", "1")
        page = self.paginate_queryset(selectors.notification_list(user=request.user, unread=unread))
        return self.get_paginated_response(NotificationSerializer(page, many=True).data)

    @extend_schema(
        request=NotificationReadSerializer,
        responses=inline_serializer("NotificationsRead", {"marked": serializers.IntegerField()}),
    )
    @action(detail=False, methods=["post"])
    def read(self, request):
        data = validated(NotificationReadSerializer, request.data)
        return Response({"marked": alert_services.notifications_read(actor=request.user, ids=data["ids"])})


# Rule packs -----------------------------------------------------------------------------------------------------


_PROBLEMS = inline_serializer(
    "PackProblem",
    {
        "file": serializers.CharField(),
        "line": serializers.IntegerField(allow_null=True),
        "path": serializers.CharField(),
        "message": serializers.CharField(),
    },
    many=True,
)
_TEST_REPORT = inline_serializer(
    "PackTestReport",
    {
        "ok": serializers.BooleanField(),
        "filename": serializers.CharField(),
        "code": serializers.CharField(),
        "version": serializers.CharField(),
        "checksum": serializers.CharField(),
        "passed": serializers.IntegerField(),
        "failed": serializers.IntegerField(),
        "cases": serializers.ListField(child=serializers.DictField()),
        "problems": _PROBLEMS,
    },
)
_PREVIEW = inline_serializer(
    "PackPreview",
    {
        "org": serializers.CharField(),
        "code": serializers.CharField(),
        "version": serializers.CharField(),
        "active_version": serializers.CharField(),
        "today": serializers.DateField(),
        "rules": serializers.ListField(child=serializers.DictField()),
        "removed": serializers.ListField(child=serializers.ListField()),
    },
)


def _read(upload: Any, limit: int, field: str, label: str) -> bytes | None:
    if upload is None:
        return None
    if upload.size > limit:
        raise ValidationFailed(f"{label}过大。", fields={field: [f"{label}：不能超过 {limit // 1024} KB"]})
    return upload.read()


def _source(data: dict) -> tuple[bytes, str]:
    upload = data.get("file")
    if upload is not None:
        source = _read(upload, MAX_PACK_BYTES, "file", "规则包文件") or b""
        name = data.get("filename") or getattr(upload, "name", "")
    else:
        source = (data.get("source") or "").encode("utf-8")
        name = data.get("filename") or ""
        if len(source) > MAX_PACK_BYTES:
            raise ValidationFailed("规则包过大。", fields={"source": ["规则包：不能超过 1024 KB"]})
    if not source.strip():
        raise ValidationFailed(
            "请提交规则包文件。", fields={"file": ["规则包文件：请上传 file 或提交 source"]}
        )
    return source, str(name)[:200]


def _test_report(report: Any) -> dict:
    return {
        "ok": report.ok,
        "filename": report.filename,
        "code": report.code,
        "version": report.version,
        "checksum": report.checksum,
        "passed": report.passed,
        "failed": report.failed,
        "cases": [
            {
                "name": c.name,
                "target": c.target,
                "ok": c.ok,
                "error": c.error,
                "outcomes": [dataclasses.asdict(o) for o in c.outcomes],
            }
            for c in report.cases
        ],
        "problems": [p.to_dict() for p in report.failures()],
    }


def _preview(preview: Any) -> dict:
    body = dataclasses.asdict(preview)
    body["today"] = preview.today.isoformat() if preview.today else None
    return body


class RulePackViewSet(viewsets.GenericViewSet):
    """政策规则包：监管人员查看在其机构适用的规则包；测试、预览影响、加载（全部通过才载入）。"""

    serializer_class = RulePackSerializer
    queryset = RulePack.objects.none()
    filter_backends: list = []
    parser_classes = [DecimalJSONParser, FormParser, MultiPartParser]

    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)
        permissions.require(request.user, "rulepack.manage")

    def _org(self, code: str) -> Org:
        if not code:
            raise ValidationFailed("请指定适用机构。", fields={"org": ["适用机构：请填写机构编码"]})
        return permissions.get_visible(self.request.user, "rulepack.manage", Org.objects.all(), code=code)

    def list(self, request):
        page = self.paginate_queryset(selectors.pack_list(user=request.user))
        return self.get_paginated_response(RulePackSerializer(page, many=True).data)

    @extend_schema(responses=RulePackDetailSerializer)
    def retrieve(self, request, pk=None):
        return Response(RulePackDetailSerializer(selectors.pack_get(user=request.user, pk=pk)).data)

    @extend_schema(
        request={"multipart/form-data": PackSourceSerializer, "application/json": PackSourceSerializer},
        responses=_TEST_REPORT,
    )
    @action(detail=False, methods=["post"])
    def test(self, request):
        """Run the pack's embedded tests without loading it (with ``org``: also on every type in its scope)."""
        from .services import packs as pack_services

        data = validated(PackSourceSerializer, request.data)
        source, name = _source(data)
        org = self._org(data["org"]) if data.get("org") else None
        return Response(_test_report(pack_services.pack_test(source=source, filename=name, org=org)))

    @extend_schema(
        request={"multipart/form-data": PackLoadSerializer, "application/json": PackLoadSerializer},
        responses=_PREVIEW,
    )
    @action(detail=False, methods=["post"])
    def preview(self, request):
        """Per rule: the projects that would newly fire and those whose open alert would stop firing."""
        from .services import packs as pack_services

        data = validated(PackLoadSerializer, request.data)
        source, name = _source(data)
        preview = pack_services.pack_preview(
            actor=request.user, org=self._org(data["org"]), source=source, filename=name
        )
        return Response(_preview(preview))

    @extend_schema(
        request={"multipart/form-data": PackLoadSerializer, "application/json": PackLoadSerializer},
        responses={201: RulePackDetailSerializer},
    )
    @action(detail=False, methods=["post"])
    def load(self, request):
        """Load the pack at ``org`` (all or nothing). 400 with ``fields`` keyed by ``file:line: path``."""
        from .services import packs as pack_services

        data = validated(PackLoadSerializer, request.data)
        source, name = _source(data)
        signature = _read(data.get("signature"), MAX_SIGNATURE_BYTES, "signature", "签名文件")
        pack = pack_services.pack_load(
            actor=request.user, org=self._org(data["org"]), source=source, filename=name, signature=signature
        )
        fresh = selectors.pack_get(user=request.user, pk=pack.pk)
        return Response(RulePackDetailSerializer(fresh).data, status=201)


# The policy library ---------------------------------------------------------------------------------------------


class RegulationViewSet(viewsets.ReadOnlyModelViewSet):
    """法规政策库：规则包所依据的法规及其条款（所有登录用户可读）。"""

    serializer_class = RegulationSerializer
    queryset = Regulation.objects.prefetch_related("articles").order_by("title")
    filter_backends: list = []
