"""Org endpoints: the tree as the caller may see it; creating and editing nodes through the services."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import serializers, viewsets
from rest_framework.response import Response

from accounts import permissions
from core.api import validated

from . import services
from .models import Org


class OrgSerializer(serializers.ModelSerializer):
    parent = serializers.SerializerMethodField()
    kind_display = serializers.CharField(source="get_kind_display", read_only=True)

    class Meta:
        model = Org
        fields = [
            "id",
            "code",
            "name",
            "kind",
            "kind_display",
            "division_code",
            "uscc",
            "depth",
            "parent",
            "is_active",
        ]
        read_only_fields = fields

    def get_parent(self, org: Org) -> str | None:
        parent_path = org.path[: -Org.steplen]
        return self.context.get("codes_by_path", {}).get(parent_path) if parent_path else None


class OrgCreateSerializer(serializers.Serializer):
    parent = serializers.CharField(help_text="上级机构编码")
    name = serializers.CharField(max_length=100, allow_blank=True)
    kind = serializers.CharField(allow_blank=True)
    code = serializers.CharField(max_length=32, allow_blank=True)
    division_code = serializers.CharField(required=False, allow_blank=True, default="")
    uscc = serializers.CharField(required=False, allow_blank=True, default="")


class OrgUpdateSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=100, required=False)
    code = serializers.CharField(max_length=32, required=False)
    division_code = serializers.CharField(required=False, allow_blank=True)
    uscc = serializers.CharField(required=False, allow_blank=True)
    is_active = serializers.BooleanField(required=False)


class OrgViewSet(viewsets.GenericViewSet):
    """机构树：只列出您有权查看的子树。"""

    serializer_class = OrgSerializer
    filterset_fields = ["kind", "division_code"]
    search_fields = ["name", "code", "division_code"]
    lookup_field = "code"

    def get_queryset(self):
        return permissions.visible(self.request.user, "org.view", Org.objects.order_by("path"))

    def _context(self, orgs) -> dict:
        parents = {o.path[: -Org.steplen] for o in orgs if o.depth > 1}
        codes = dict(Org.objects.filter(path__in=parents).values_list("path", "code"))
        return {"codes_by_path": codes}

    def list(self, request):
        page = self.paginate_queryset(self.filter_queryset(self.get_queryset()))
        return self.get_paginated_response(OrgSerializer(page, many=True, context=self._context(page)).data)

    def retrieve(self, request, code=None):
        org = permissions.get_visible(request.user, "org.view", Org.objects.all(), code=code)
        return Response(OrgSerializer(org, context=self._context([org])).data)

    @extend_schema(request=OrgCreateSerializer, responses={201: OrgSerializer})
    def create(self, request):
        data = validated(OrgCreateSerializer, request.data)
        parent = permissions.get_visible(request.user, "org.view", Org.objects.all(), code=data.pop("parent"))
        org = services.org_create(actor=request.user, parent=parent, **data)
        return Response(OrgSerializer(org, context=self._context([org])).data, status=201)

    @extend_schema(request=OrgUpdateSerializer, responses={200: OrgSerializer})
    def partial_update(self, request, code=None):
        data = validated(OrgUpdateSerializer, request.data)
        org = permissions.get_visible(request.user, "org.view", Org.objects.all(), code=code)
        org = services.org_update(actor=request.user, org=org, **data)
        return Response(OrgSerializer(org, context=self._context([org])).data)
