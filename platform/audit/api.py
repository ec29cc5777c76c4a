"""Audit endpoints for the 审计管理员: read the trail of their subtree, verify the chain, export."""

from __future__ import annotations

from django.db import transaction
from django.http import StreamingHttpResponse
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from accounts import permissions

from . import services
from .models import AuditEvent


class AuditEventSerializer(serializers.ModelSerializer):
    org = serializers.CharField(source="org.code", allow_null=True, default=None)

    class Meta:
        model = AuditEvent
        fields = [
            "id",
            "occurred_at",
            "actor_name",
            "org",
            "action",
            "object_type",
            "object_id",
            "object_repr",
            "before",
            "after",
            "request_id",
            "client_ip",
            "channel",
            "prev_hash",
            "hash",
        ]


class AuditEventViewSet(viewsets.GenericViewSet):
    """审计日志（只读、哈希链防篡改）。"""

    serializer_class = AuditEventSerializer
    filterset_fields = ["action", "actor_name", "object_type", "object_id", "request_id"]

    def get_queryset(self):
        return permissions.visible(
            self.request.user, "audit.view", AuditEvent.objects.select_related("org").order_by("-id")
        )

    def list(self, request):
        page = self.paginate_queryset(self.filter_queryset(self.get_queryset()))
        return self.get_paginated_response(AuditEventSerializer(page, many=True).data)

    def retrieve(self, request, pk=None):
        event = permissions.get_visible(request.user, "audit.view", AuditEvent.objects.all(), pk=pk)
        return Response(AuditEventSerializer(event).data)

    @extend_schema(
        responses=inline_serializer(
            "ChainReport",
            {
                "ok": serializers.BooleanField(),
                "checked": serializers.IntegerField(),
                "first_bad_id": serializers.IntegerField(allow_null=True),
                "reason": serializers.CharField(),
            },
        )
    )
    @action(detail=False, methods=["post"])
    def verify(self, request):
        """重新计算整条哈希链，报告第一处断裂。"""
        permissions.require(request.user, "audit.view")
        return Response(services.audit_verify().as_dict())

    @extend_schema(responses={(200, "application/x-ndjson"): bytes})
    @action(detail=False, methods=["get"])
    def export(self, request):
        """导出为 JSON Lines；导出本身记入审计日志。"""
        permissions.require(request.user, "audit.export")
        qs = permissions.visible(request.user, "audit.export", AuditEvent.objects.select_related("org"))
        with transaction.atomic():
            services.audit_record(
                actor=request.user,
                action="audit.export",
                object_type="audit.auditevent",
                after={"count": qs.count()},
            )
        lines = (services.export_line(event) for event in qs.order_by("id").iterator(chunk_size=2000))
        response = StreamingHttpResponse(lines, content_type="application/x-ndjson; charset=utf-8")
        response["Content-Disposition"] = 'attachment; filename="audit.jsonl"'
        return response
