"""Form endpoints: list forms, fetch a version, validate without saving, submit; configuration for administrators."""

from __future__ import annotations

from django.core.serializers.json import DjangoJSONEncoder
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import serializers, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from accounts import permissions
from core.api import validated
from core.errors import NotFound
from orgs.models import Org

from . import selectors, services
from .models import Form, FormVersion, Submission


class FormVersionSerializer(serializers.ModelSerializer):
    class Meta:
        model = FormVersion
        fields = ["number", "status", "schema", "ui_schema", "content_hash", "published_at"]


class FormSerializer(serializers.ModelSerializer):
    org = serializers.CharField(source="org.code")
    published_version = serializers.SerializerMethodField()

    class Meta:
        model = Form
        fields = ["code", "name", "purpose", "org", "project_type_code", "published_version"]

    def get_published_version(self, form: Form) -> int | None:
        version = form.published()
        return version.number if version else None


class FormCreateSerializer(serializers.Serializer):
    org = serializers.CharField(help_text="机构编码")
    code = serializers.CharField(max_length=64, allow_blank=True)
    name = serializers.CharField(max_length=100, allow_blank=True)
    purpose = serializers.CharField(required=False, default="其他")
    schema = serializers.JSONField(
        encoder=DjangoJSONEncoder,
    )
    ui_schema = serializers.JSONField(encoder=DjangoJSONEncoder, required=False, default=dict)


class DraftSerializer(serializers.Serializer):
    schema = serializers.JSONField(
        encoder=DjangoJSONEncoder,
    )
    ui_schema = serializers.JSONField(encoder=DjangoJSONEncoder, required=False, default=dict)


class DataSerializer(serializers.Serializer):
    data = serializers.JSONField(
        encoder=DjangoJSONEncoder, help_text="表单数据；金额请用字符串或 JSON 数字（按精确小数解析）"
    )


class SubmitSerializer(DataSerializer):
    org = serializers.CharField(required=False, help_text="填报单位编码，默认为本人所属机构")
    draft = serializers.BooleanField(required=False, default=False, help_text="true 时保存草稿（可不完整）")


class MigrationSerializer(serializers.Serializer):
    from_version = serializers.IntegerField()
    to_version = serializers.IntegerField()
    mapping = serializers.JSONField(encoder=DjangoJSONEncoder, required=False, default=dict)
    commit = serializers.BooleanField(required=False, default=False)


class SubmissionSerializer(serializers.ModelSerializer):
    form = serializers.CharField(source="form_version.form.code")
    form_version = serializers.IntegerField(source="form_version.number")
    org = serializers.CharField(source="org.code")

    class Meta:
        model = Submission
        fields = [
            "id",
            "form",
            "form_version",
            "org",
            "status",
            "data",
            "version",
            "created_at",
            "submitted_at",
        ]


def _errors(errors) -> list[dict]:
    return [{"path": e.path, "field": e.field_label, "message": str(e), "code": e.code} for e in errors]


class FormViewSet(viewsets.GenericViewSet):
    """表单：列表、版本结构、校验、提交；配置管理员可创建、保存草稿、发布、迁移数据。"""

    serializer_class = FormSerializer
    lookup_field = "code"

    def get_queryset(self):
        return selectors.form_list(user=self.request.user)

    def list(self, request):
        page = self.paginate_queryset(self.get_queryset())
        return self.get_paginated_response(FormSerializer(page, many=True).data)

    def retrieve(self, request, code=None):
        form = selectors.form_get(user=request.user, code=code)
        version = form.published()
        return Response(
            {**FormSerializer(form).data, "version": FormVersionSerializer(version).data if version else None}
        )

    @extend_schema(request=FormCreateSerializer, responses={201: FormSerializer})
    def create(self, request):
        data = validated(FormCreateSerializer, request.data)
        org = permissions.get_visible(request.user, "config.manage", Org.objects.all(), code=data.pop("org"))
        form = services.form_create(actor=request.user, org=org, **data)
        return Response(FormSerializer(form).data, status=201)

    @extend_schema(
        responses=FormVersionSerializer, parameters=[OpenApiParameter("number", int, OpenApiParameter.PATH)]
    )
    @action(detail=True, methods=["get"], url_path=r"versions/(?P<number>\d+)")
    def version(self, request, code=None, number=None):
        form = selectors.form_get(user=request.user, code=code)
        try:
            version = form.versions.get(number=int(number))
        except FormVersion.DoesNotExist:
            raise NotFound("该版本不存在。") from None
        return Response(FormVersionSerializer(version).data)

    @extend_schema(request=DraftSerializer, responses=FormVersionSerializer)
    @action(detail=True, methods=["put"])
    def draft(self, request, code=None):
        data = validated(DraftSerializer, request.data)
        form = selectors.form_get(user=request.user, code=code)
        version = services.form_draft_save(actor=request.user, form=form, **data)
        return Response(FormVersionSerializer(version).data)

    @extend_schema(request=None, responses=FormVersionSerializer)
    @action(detail=True, methods=["post"])
    def publish(self, request, code=None):
        form = selectors.form_get(user=request.user, code=code)
        return Response(FormVersionSerializer(services.form_publish(actor=request.user, form=form)).data)

    @extend_schema(
        request=DataSerializer,
        responses=inline_serializer(
            "ValidationResult",
            {
                "valid": serializers.BooleanField(),
                "errors": serializers.ListField(child=serializers.DictField()),
            },
        ),
    )
    @action(detail=True, methods=["post"])
    def validate(self, request, code=None):
        """只校验、不保存：返回按字段路径的中文错误。"""
        data = validated(DataSerializer, request.data)["data"]
        form = selectors.form_get(user=request.user, code=code)
        version = form.published()
        if version is None:
            raise NotFound("表单尚未发布。")
        errors = services.submission_validate(version=version, data=data)
        return Response({"valid": not errors, "errors": _errors(errors)})

    @extend_schema(request=SubmitSerializer, responses={201: SubmissionSerializer})
    @action(detail=True, methods=["post"])
    def submissions(self, request, code=None):
        data = validated(SubmitSerializer, request.data)
        form = selectors.form_get(user=request.user, code=code)
        org_code = data.get("org") or (request.user.org.code if request.user.org else "")
        org = permissions.get_visible(request.user, "project.edit", Org.objects.all(), code=org_code)
        submission = services.submission_save(
            actor=request.user, form=form, org=org, data=data["data"], submit=not data["draft"]
        )
        return Response(SubmissionSerializer(submission).data, status=201)

    @extend_schema(
        request=MigrationSerializer,
        responses=inline_serializer(
            "MigrationResult",
            {
                "total": serializers.IntegerField(),
                "passed": serializers.IntegerField(),
                "failed": serializers.ListField(child=serializers.DictField()),
            },
        ),
    )
    @action(detail=True, methods=["post"])
    def migrate(self, request, code=None):
        """按映射把旧版本的数据迁移到新版本：先预览（commit=false），确认后提交。"""
        data = validated(MigrationSerializer, request.data)
        form = selectors.form_get(user=request.user, code=code)
        kwargs = {
            "actor": request.user,
            "form": form,
            "from_number": data["from_version"],
            "to_number": data["to_version"],
            "mapping": data["mapping"],
        }
        if data["commit"]:
            return Response(services.submissions_migrate(**kwargs))
        return Response(services.submissions_migrate_preview(**kwargs))


class SubmissionViewSet(viewsets.GenericViewSet):
    """填报记录：本辖区内可见。"""

    serializer_class = SubmissionSerializer

    def get_queryset(self):
        return selectors.submission_list(user=self.request.user)

    def list(self, request):
        page = self.paginate_queryset(self.get_queryset())
        return self.get_paginated_response(SubmissionSerializer(page, many=True).data)

    def retrieve(self, request, pk=None):
        return Response(SubmissionSerializer(selectors.submission_get(user=request.user, pk=pk)).data)

    @extend_schema(request=SubmitSerializer, responses=SubmissionSerializer)
    def partial_update(self, request, pk=None):
        data = validated(SubmitSerializer, request.data)
        submission = selectors.submission_get(user=request.user, pk=pk, action="project.edit")
        submission = services.submission_save(
            actor=request.user,
            form=submission.form_version.form,
            org=submission.org,
            data=data["data"],
            submit=not data["draft"],
            submission=submission,
        )
        return Response(SubmissionSerializer(submission).data)
