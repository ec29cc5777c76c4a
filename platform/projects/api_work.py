"""API for working on a project and for project types: create from a type, stages, money, progress, forms.

The ledger list and export live in `projects.api`; this module holds everything a clerk or a configuration
administrator does to one project or type. Thin: validate input shape, call a service, serialise.
"""

from __future__ import annotations

from django.core.serializers.json import DjangoJSONEncoder
from django.utils import timezone
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from accounts import permissions
from core.api import MoneyField, validated
from core.errors import NotFound
from orgs.models import Org
from workflow.services import stage_request

from . import selectors, selectors_types, services
from .indicators import project_indicators
from .models import (
    BudgetLine,
    CheckIn,
    Contract,
    Expenditure,
    Milestone,
    ProjectType,
    ProjectTypeVersion,
    Task,
)

MONEY = {"max_digits": 18, "decimal_places": 2, "coerce_to_string": True}


class ProjectTypeSerializer(serializers.ModelSerializer):
    org = serializers.CharField(source="org.code")
    base = serializers.CharField(source="base.code", allow_null=True, default=None)
    version = serializers.SerializerMethodField()

    class Meta:
        model = ProjectType
        fields = ["code", "name", "org", "base", "version"]

    def get_version(self, ptype: ProjectType) -> dict | None:
        version = ptype.published()
        return ProjectTypeVersionSerializer(version).data if version else None


class ProjectTypeVersionSerializer(serializers.ModelSerializer):
    class Meta:
        model = ProjectTypeVersion
        fields = ["number", "status", "config", "effective", "origin", "content_hash", "published_at"]


class TypeCreateSerializer(serializers.Serializer):
    org = serializers.CharField()
    code = serializers.CharField(allow_blank=True)
    base = serializers.CharField(
        required=False, allow_blank=True, help_text="继承的上级项目类型编码（覆盖时）"
    )
    config = serializers.JSONField(encoder=DjangoJSONEncoder, help_text="配置；覆盖时只写改动")


class ConfigSerializer(serializers.Serializer):
    config = serializers.JSONField(encoder=DjangoJSONEncoder)


class ProjectFromTypeSerializer(serializers.Serializer):
    org = serializers.CharField(required=False, help_text="建设单位机构编码，默认本人所属机构")
    code = serializers.CharField(required=False, allow_blank=True, default="")
    data = serializers.JSONField(encoder=DjangoJSONEncoder, help_text="立项申请表单数据")


class ProjectTypeViewSet(viewsets.GenericViewSet):
    """项目类型：查看适用于本单位的类型；配置管理员创建、覆盖、保存草稿、发布；经办人按类型立项。"""

    serializer_class = ProjectTypeSerializer
    lookup_field = "code"

    def get_queryset(self):
        return selectors_types.project_type_list(user=self.request.user)

    def list(self, request):
        page = self.paginate_queryset(self.get_queryset())
        return self.get_paginated_response(ProjectTypeSerializer(page, many=True).data)

    def retrieve(self, request, code=None):
        return Response(
            ProjectTypeSerializer(selectors_types.project_type_get(user=request.user, code=code)).data
        )

    @extend_schema(request=TypeCreateSerializer, responses={201: ProjectTypeSerializer})
    def create(self, request):
        data = validated(TypeCreateSerializer, request.data)
        org = permissions.get_visible(request.user, "config.manage", Org.objects.all(), code=data["org"])
        if data.get("base"):
            base = selectors_types.project_type_get(user=request.user, code=data["base"])
            ptype = services.project_type_override(
                actor=request.user, base=base, org=org, code=data["code"], delta=data["config"]
            )
        else:
            ptype = services.project_type_create(
                actor=request.user, org=org, code=data["code"], config=data["config"]
            )
        return Response(ProjectTypeSerializer(ptype).data, status=201)

    @extend_schema(request=ConfigSerializer, responses=ProjectTypeVersionSerializer)
    @action(detail=True, methods=["put"])
    def draft(self, request, code=None):
        data = validated(ConfigSerializer, request.data)
        ptype = selectors_types.project_type_get(user=request.user, code=code)
        return Response(
            ProjectTypeVersionSerializer(
                services.project_type_draft_save(actor=request.user, ptype=ptype, config=data["config"])
            ).data
        )

    @extend_schema(request=None, responses=ProjectTypeVersionSerializer)
    @action(detail=True, methods=["post"])
    def publish(self, request, code=None):
        ptype = selectors_types.project_type_get(user=request.user, code=code)
        return Response(
            ProjectTypeVersionSerializer(services.project_type_publish(actor=request.user, ptype=ptype)).data
        )

    @extend_schema(request=ProjectFromTypeSerializer, responses={201: dict})
    @action(detail=True, methods=["post"])
    def projects(self, request, code=None):
        """按此类型的立项申请表单创建项目（固定类型与表单版本）。"""
        data = validated(ProjectFromTypeSerializer, request.data)
        ptype = selectors_types.project_type_get(user=request.user, code=code, action="project.create")
        org_code = data.get("org") or (request.user.org.code if request.user.org else "")
        org = permissions.get_visible(request.user, "project.create", Org.objects.all(), code=org_code)
        project = services.project_create_from_type(
            actor=request.user, org=org, ptype=ptype, data=data["data"], code=data["code"]
        )
        return Response(ProjectWorkSerializer(project).data, status=201)


class ProjectWorkSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    code = serializers.CharField()
    name = serializers.CharField()
    stage = serializers.CharField()
    budget = serializers.DecimalField(**MONEY)
    allocated_total = serializers.DecimalField(**MONEY)
    spent_total = serializers.DecimalField(**MONEY)
    contract_total = serializers.DecimalField(**MONEY)
    progress = serializers.DecimalField(max_digits=5, decimal_places=4, coerce_to_string=True)
    version = serializers.IntegerField()


class StageSerializer(serializers.Serializer):
    to_stage = serializers.CharField()
    note = serializers.CharField(required=False, allow_blank=True, default="")


class BudgetLineSerializer(serializers.ModelSerializer):
    amount = MoneyField(help_text="金额（元）")

    class Meta:
        model = BudgetLine
        fields = ["id", "year", "fund_source", "amount", "subject", "note"]
        read_only_fields = ["id"]


class ExpenditureSerializer(serializers.ModelSerializer):
    amount = MoneyField(help_text="金额（元）")
    paid_on = serializers.CharField(help_text="YYYY-MM-DD")

    class Meta:
        model = Expenditure
        fields = ["id", "voucher_no", "paid_on", "payee", "amount", "budget_line", "contract", "note"]
        read_only_fields = ["id"]
        extra_kwargs = {"budget_line": {"required": False}, "contract": {"required": False}}


class ContractSerializer(serializers.ModelSerializer):
    amount = MoneyField(help_text="合同金额（元）")
    signed_on = serializers.CharField()

    class Meta:
        model = Contract
        fields = [
            "id",
            "code",
            "name",
            "kind",
            "counterparty",
            "counterparty_uscc",
            "amount",
            "signed_on",
            "procurement",
        ]
        read_only_fields = ["id"]


class MilestoneSerializer(serializers.ModelSerializer):
    planned_date = serializers.CharField()
    weight = serializers.CharField(required=False, default="1")

    class Meta:
        model = Milestone
        fields = ["id", "name", "planned_date", "actual_date", "weight"]
        read_only_fields = ["id", "actual_date"]


class TaskSerializer(serializers.ModelSerializer):
    parent_code = serializers.CharField(required=False, allow_blank=True, default="")
    percent = serializers.CharField(required=False, allow_blank=True)
    weight = serializers.CharField(required=False, default="1")

    class Meta:
        model = Task
        fields = [
            "code",
            "name",
            "parent_code",
            "weight",
            "percent",
            "planned_start",
            "planned_end",
            "actual_start",
            "actual_end",
        ]


class CheckInSerializer(serializers.ModelSerializer):
    class Meta:
        model = CheckIn
        fields = ["id", "milestone", "note", "photo", "latitude", "longitude", "checked_at"]
        read_only_fields = ["id", "checked_at"]


class FormSubmitSerializer(serializers.Serializer):
    role = serializers.CharField(help_text="表单用途，如 验收申请、每日简报")
    data = serializers.JSONField(encoder=DjangoJSONEncoder)
    date = serializers.DateField(required=False, help_text="每日简报日期，默认今天")


def _rows(serializer_class, items) -> list[dict]:
    return [
        {**serializer_class(i).data, **({"amount": str(i.amount)} if hasattr(i, "amount") else {})}
        for i in items
    ]


class ProjectWorkViewSet(viewsets.GenericViewSet):
    """对单个项目的操作：阶段、资金、合同、进度、打卡、填报、指标。"""

    serializer_class = ProjectWorkSerializer

    def get_queryset(self):
        return selectors.project_list(user=self.request.user)

    def _project(self, request, pk, action_name: str = "project.view"):
        project = selectors.project_get(user=request.user, pk=pk)
        if action_name != "project.view":
            permissions.require(request.user, action_name, project)
        return project

    @extend_schema(request=StageSerializer, responses=ProjectWorkSerializer)
    @action(detail=True, methods=["post"])
    def stage(self, request, pk=None):
        data = validated(StageSerializer, request.data)
        project, approval = stage_request(actor=request.user, project=self._project(request, pk), **data)
        body = ProjectWorkSerializer(project).data
        body["approval"] = approval.pk if approval is not None else None
        return Response(body, status=202 if approval is not None else 200)

    @extend_schema(responses=dict)
    @action(detail=True, methods=["get"])
    def indicators(self, request, pk=None):
        project = self._project(request, pk)
        today = timezone.localdate()
        values = project_indicators(project, today=today)
        return Response(
            {
                "indicators": [
                    {
                        "name": v.name,
                        "value": None if v.value is None else str(v.value),
                        "shown": v.shown,
                        "format": v.format,
                        "expr": v.expr,
                    }
                    for v in values
                ],
                "planned_progress": str(services.planned_progress(project, today) or ""),
                "days_late": services.days_late(project, today),
                "missing_forms": services.stage_missing_forms(project),
            }
        )

    def _list_or_create(self, request, pk, serializer_class, related: str, create):
        project = self._project(request, pk)
        if request.method == "GET":
            return Response(_rows(serializer_class, getattr(project, related).all()))
        data = validated(serializer_class, request.data)
        row = create(project, data)
        project.refresh_from_db()
        return Response(
            {"item": _rows(serializer_class, [row])[0], "project": ProjectWorkSerializer(project).data},
            status=201,
        )

    @extend_schema(request=BudgetLineSerializer, responses={201: dict})
    @action(detail=True, methods=["get", "post"], url_path="budget-lines")
    def budget_lines(self, request, pk=None):
        return self._list_or_create(
            request,
            pk,
            BudgetLineSerializer,
            "budget_lines",
            lambda p, d: services.budget_line_add(actor=request.user, project=p, **d),
        )

    @extend_schema(request=ExpenditureSerializer, responses={201: dict})
    @action(detail=True, methods=["get", "post"])
    def expenditures(self, request, pk=None):
        def create(project, data):
            line, contract = data.pop("budget_line", None), data.pop("contract", None)
            if (line is not None and line.project_id != project.pk) or (
                contract is not None and contract.project_id != project.pk
            ):
                raise NotFound("预算明细或合同不属于本项目。")
            return services.expenditure_record(
                actor=request.user, project=project, budget_line=line, contract=contract, **data
            )

        return self._list_or_create(request, pk, ExpenditureSerializer, "expenditures", create)

    @extend_schema(request=ContractSerializer, responses={201: dict})
    @action(detail=True, methods=["get", "post"])
    def contracts(self, request, pk=None):
        return self._list_or_create(
            request,
            pk,
            ContractSerializer,
            "contracts",
            lambda p, d: services.contract_record(actor=request.user, project=p, **d),
        )

    @extend_schema(request=MilestoneSerializer, responses={201: dict})
    @action(detail=True, methods=["get", "post"])
    def milestones(self, request, pk=None):
        return self._list_or_create(
            request,
            pk,
            MilestoneSerializer,
            "milestones",
            lambda p, d: services.milestone_add(actor=request.user, project=p, **d),
        )

    @extend_schema(request=TaskSerializer, responses={201: dict})
    @action(detail=True, methods=["get", "post"])
    def tasks(self, request, pk=None):
        return self._list_or_create(
            request,
            pk,
            TaskSerializer,
            "tasks",
            lambda p, d: services.task_save(actor=request.user, project=p, **d),
        )

    @extend_schema(request=FormSubmitSerializer, responses={201: dict})
    @action(detail=True, methods=["post"])
    def forms(self, request, pk=None):
        """提交本项目的阶段表单（验收申请等）或每日简报。"""
        data = validated(FormSubmitSerializer, request.data)
        project = self._project(request, pk)
        if data["role"] == "每日简报":
            report = services.daily_report_submit(
                actor=request.user,
                project=project,
                day=data.get("date") or timezone.localdate(),
                data=data["data"],
            )
            submission = report.submission
        else:
            submission = services.project_form_submit(
                actor=request.user, project=project, role=data["role"], data=data["data"]
            )
        return Response({"submission": submission.pk, "status": submission.status}, status=201)
