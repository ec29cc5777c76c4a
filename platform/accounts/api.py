"""Account endpoints: who am I, users, roles, grants, and API tokens."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers, viewsets
from rest_framework.decorators import action
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from core.api import validated
from core.errors import ValidationFailed
from orgs.models import Org

from . import permissions, services
from .models import Grant, Role, User
from .roles import ACTIONS


class RoleSerializer(serializers.ModelSerializer):
    class Meta:
        model = Role
        fields = ["code", "name", "name_en", "description", "actions", "builtin"]


class GrantSerializer(serializers.ModelSerializer):
    user = serializers.CharField(source="user.username")
    role_name = serializers.CharField(source="role.name")
    org = serializers.CharField(source="org.code")
    org_name = serializers.CharField(source="org.name")

    class Meta:
        model = Grant
        fields = ["id", "user", "role", "role_name", "org", "org_name", "created_at"]


class UserSerializer(serializers.ModelSerializer):
    org = serializers.CharField(source="org.code", allow_null=True)

    class Meta:
        model = User
        fields = ["id", "username", "display_name", "phone", "email", "org", "is_active", "last_login"]


class UserCreateSerializer(serializers.Serializer):
    username = serializers.CharField(max_length=150)
    password = serializers.CharField(write_only=True, style={"input_type": "password"})
    org = serializers.CharField(help_text="机构编码")
    display_name = serializers.CharField(required=False, allow_blank=True, default="")
    phone = serializers.CharField(required=False, allow_blank=True, default="")
    email = serializers.EmailField(required=False, allow_blank=True, default="")


class GrantCreateSerializer(serializers.Serializer):
    user = serializers.CharField(help_text="用户名")
    role = serializers.CharField(help_text="角色编码")
    org = serializers.CharField(help_text="机构编码")


class TokenRequestSerializer(serializers.Serializer):
    username = serializers.CharField(max_length=150)
    password = serializers.CharField(max_length=256, style={"input_type": "password"})


class UserActiveSerializer(serializers.Serializer):
    is_active = serializers.BooleanField()


class MeApi(APIView):
    """当前用户、所属机构、角色授权和可执行的操作。"""

    @extend_schema(
        responses=inline_serializer(
            "Me",
            {
                "user": UserSerializer(),
                "grants": GrantSerializer(many=True),
                "actions": serializers.DictField(child=serializers.CharField()),
            },
        )
    )
    def get(self, request):
        grants = request.user.grants.select_related("role", "org")
        return Response(
            {
                "user": UserSerializer(request.user).data,
                "grants": GrantSerializer(grants, many=True).data,
                "actions": {a: ACTIONS[a] for a in sorted(permissions.actions_of(request.user))},
            }
        )


class TokenApi(APIView):
    """用用户名和密码换取 API 令牌（请求头 `Authorization: Bearer <token>`）。"""

    permission_classes = [AllowAny]
    authentication_classes: list = []

    @extend_schema(
        request=TokenRequestSerializer,
        responses=inline_serializer("TokenResponse", {"token": serializers.CharField()}),
    )
    def post(self, request):
        data = validated(TokenRequestSerializer, request.data)
        token = services.token_issue(username=data["username"], password=data["password"], request=request)
        return Response({"token": token.key})


class UserViewSet(viewsets.GenericViewSet):
    """用户：只列出您辖区内的账号。"""

    serializer_class = UserSerializer
    search_fields = ["username", "display_name"]
    filterset_fields = ["is_active"]
    lookup_field = "username"

    def get_queryset(self):
        return permissions.visible(
            self.request.user, "user.view", User.objects.select_related("org").order_by("id")
        )

    def list(self, request):
        page = self.paginate_queryset(self.filter_queryset(self.get_queryset()))
        return self.get_paginated_response(UserSerializer(page, many=True).data)

    def retrieve(self, request, username=None):
        user = permissions.get_visible(request.user, "user.view", User.objects.all(), username=username)
        return Response(UserSerializer(user).data)

    @extend_schema(request=UserCreateSerializer, responses={201: UserSerializer})
    def create(self, request):
        data = validated(UserCreateSerializer, request.data)
        org = permissions.get_visible(request.user, "org.view", Org.objects.all(), code=data.pop("org"))
        user = services.user_create(actor=request.user, org=org, **data)
        return Response(UserSerializer(user).data, status=201)

    @extend_schema(request=UserActiveSerializer, responses=UserSerializer)
    @action(detail=True, methods=["post"], url_path="active")
    def set_active(self, request, username=None):
        data = validated(UserActiveSerializer, request.data)
        user = permissions.get_visible(request.user, "user.view", User.objects.all(), username=username)
        user = services.user_set_active(actor=request.user, user=user, active=data["is_active"])
        return Response(UserSerializer(user).data)


class RoleViewSet(viewsets.ReadOnlyModelViewSet):
    """内置角色及其权限。"""

    serializer_class = RoleSerializer
    queryset = Role.objects.all()
    pagination_class = None


class GrantViewSet(viewsets.GenericViewSet):
    """角色授权：由安全管理员分配与撤销。"""

    serializer_class = GrantSerializer

    def get_queryset(self):
        qs = Grant.objects.select_related("user", "role", "org").order_by("id")
        return permissions.visible(self.request.user, "grant.manage", qs)

    def list(self, request):
        page = self.paginate_queryset(self.get_queryset())
        return self.get_paginated_response(GrantSerializer(page, many=True).data)

    @extend_schema(request=GrantCreateSerializer, responses={201: GrantSerializer})
    def create(self, request):
        data = validated(GrantCreateSerializer, request.data)
        user = permissions.get_visible(request.user, "user.view", User.objects.all(), username=data["user"])
        org = permissions.get_visible(request.user, "org.view", Org.objects.all(), code=data["org"])
        try:
            role = Role.objects.get(code=data["role"])
        except Role.DoesNotExist:
            raise ValidationFailed("角色不存在。", fields={"role": [f"未知角色“{data['role']}”"]}) from None
        grant = services.grant_create(actor=request.user, user=user, role=role, org=org)
        return Response(GrantSerializer(grant).data, status=201)

    def destroy(self, request, pk=None):
        grant = permissions.get_visible(request.user, "grant.manage", Grant.objects.all(), pk=pk)
        services.grant_revoke(actor=request.user, grant=grant)
        return Response(status=204)
