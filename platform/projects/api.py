"""Project endpoints: thin — parse input, call a selector or service, serialise the result.

`list` and `export` are the unified ledger (统一项目台账): both read their filters through
`projects.ledger` so the API, the page and the Excel file always agree on what a filter means.
"""

from __future__ import annotations

from django.http import FileResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response
from rest_framework.utils.urls import remove_query_param, replace_query_param

from accounts import permissions
from core.api import validated
from orgs.models import Org

from . import selectors, services
from .ledger import (
    ORDERINGS,
    ledger_catalogue,
    ledger_filters_parse,
    ledger_page,
    ledger_page_parse,
    ledger_queryset,
    ledger_totals,
)
from .ledger.links import project_detail_url
from .ledger.xlsx import export_filename, ledger_xlsx_file
from .models import FundSource, Project

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


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


def _money(**kwargs) -> serializers.DecimalField:
    return serializers.DecimalField(max_digits=20, decimal_places=2, coerce_to_string=True, **kwargs)


class LedgerRowSerializer(serializers.ModelSerializer):
    """One ledger row: money as strings, 执行率 as a decimal string (0.4567 = 45.67 %), null without budget."""

    org = serializers.CharField(source="org.code", read_only=True, help_text="机构编码")
    org_name = serializers.CharField(source="org.name", read_only=True)
    type = serializers.SerializerMethodField(help_text="项目类型编码（未按类型立项的项目为 null）")
    type_name = serializers.SerializerMethodField()
    budget = _money()
    allocated_total = _money()
    spent_total = _money()
    contract_total = _money()
    overspend = _money(help_text="超支额：max(0, 已支出 − 预算)")
    execution_rate = serializers.DecimalField(
        max_digits=12, decimal_places=4, coerce_to_string=True, allow_null=True, help_text="已支出 / 预算"
    )
    is_overdue = serializers.BooleanField(help_text="计划完工日期已过且未到达其类型的最后阶段")
    url = serializers.SerializerMethodField(help_text="项目详情页")

    class Meta:
        model = Project
        fields = [
            "id",
            "code",
            "name",
            "org",
            "org_name",
            "type",
            "type_name",
            "category",
            "stage",
            "year",
            "budget",
            "allocated_total",
            "spent_total",
            "contract_total",
            "execution_rate",
            "overspend",
            "planned_start",
            "planned_end",
            "progress",
            "is_overdue",
            "owner",
            "version",
            "created_at",
            "updated_at",
            "url",
        ]
        read_only_fields = fields

    def get_type(self, p: Project) -> str | None:
        return p.type_version.type.code if p.type_version_id else None

    def get_type_name(self, p: Project) -> str | None:
        return p.type_version.type.name if p.type_version_id else None

    def get_url(self, p: Project) -> str:
        return project_detail_url(p.pk)


class LedgerTotalsSerializer(serializers.Serializer):
    count = serializers.IntegerField()
    budget = _money(help_text="预算合计")
    allocated = _money(help_text="已下达合计")
    spent = _money(help_text="已支出合计")
    execution_rate = serializers.DecimalField(
        max_digits=12,
        decimal_places=4,
        coerce_to_string=True,
        allow_null=True,
        help_text="已支出合计 / 预算合计",
    )
    overspend = _money(help_text="超支额合计：Σ max(0, 已支出 − 预算)")


class LedgerPageSerializer(serializers.Serializer):
    count = serializers.IntegerField()
    next = serializers.URLField(allow_null=True)
    previous = serializers.URLField(allow_null=True)
    results = LedgerRowSerializer(many=True)
    totals = LedgerTotalsSerializer(help_text="筛选结果全体（不只是本页）的合计")


_ORDER_HELP = "排序字段（前加 - 为降序）：" + "、".join(f"{k}（{v}）" for k, v in ORDERINGS.items())
LEDGER_PARAMETERS = [
    OpenApiParameter(
        "org", str, description="机构编码：该机构及其全部下级（须在您的可见范围内，否则结果为空）"
    ),
    OpenApiParameter("type", str, description="项目类型编码（含继承它的下级类型）；未知编码返回 400"),
    OpenApiParameter("stage", str, description="阶段，如 立项、执行、验收、结项；未知阶段返回 400"),
    OpenApiParameter("year", int, description="立项年度，如 2026"),
    OpenApiParameter(
        "fund_source", str, enum=list(FundSource.values), description="资金来源：有该来源预算明细的项目"
    ),
    OpenApiParameter("overdue", bool, description="true：计划完工日期已过且未到达最后阶段；false：其余项目"),
    OpenApiParameter(
        "has_alerts",
        bool,
        description="true：有未关闭预警的项目。预警模块上线前，以台账内置预警（逾期、超支）判断",
    ),
    OpenApiParameter(
        "search", str, description="按名称、代码、拼音全拼或首字母搜索（如 cyyq 找到 翠苑一区）"
    ),
    OpenApiParameter(
        "ordering",
        str,
        enum=[o for k in ORDERINGS for o in (k, f"-{k}")],
        description=_ORDER_HELP + "；默认 -updated_at",
    ),
]
PAGE_PARAMETERS = [
    OpenApiParameter("page", int, description="页码，从 1 开始"),
    OpenApiParameter("page_size", int, description="每页条数，1–500，默认 50"),
]


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
    """统一项目台账：列表（筛选、搜索、排序、合计）、详情、创建、修改、导出 Excel。"""

    serializer_class = ProjectSerializer
    filter_backends: list = []  # the ledger filters itself (projects.ledger); no generic backends
    pagination_class = None

    def get_queryset(self):
        return selectors.project_list(user=self.request.user)

    @extend_schema(
        parameters=LEDGER_PARAMETERS + PAGE_PARAMETERS,
        responses={200: LedgerPageSerializer},
        description="本人可见范围内的项目台账，一页数据加上整个筛选结果的合计（totals）。参数有误返回 400。",
    )
    def list(self, request):
        filters = ledger_filters_parse(request.query_params)
        page_request = ledger_page_parse(request.query_params, default_size=50)
        qs = ledger_queryset(request.user, filters, catalogue=ledger_catalogue())
        totals = ledger_totals(qs)
        page = ledger_page(qs, page_request, count=totals.count, strict=True)
        url = request.build_absolute_uri()
        return Response(
            {
                "count": totals.count,
                "next": replace_query_param(url, "page", page.next_page_number())
                if page.has_next()
                else None,
                "previous": (
                    (
                        replace_query_param(url, "page", page.previous_page_number())
                        if page.previous_page_number() > 1
                        else remove_query_param(url, "page")
                    )
                    if page.has_previous()
                    else None
                ),
                "results": LedgerRowSerializer(page.object_list, many=True).data,
                "totals": LedgerTotalsSerializer(
                    {
                        "count": totals.count,
                        "budget": totals.budget,
                        "allocated": totals.allocated,
                        "spent": totals.spent,
                        "execution_rate": totals.execution_rate,
                        "overspend": totals.overspend,
                    }
                ).data,
            }
        )

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

    @extend_schema(
        parameters=LEDGER_PARAMETERS,
        responses={(200, XLSX): OpenApiTypes.BINARY},
        description="按与列表相同的筛选条件导出全部结果为 Excel（.xlsx）：金额为数值（#,##0.00），日期为日期。导出记入审计日志。",
    )
    @action(detail=False, methods=["get"])
    def export(self, request):
        """导出 Excel：流式写入临时文件，内存占用与行数无关；导出本身记入审计日志。"""
        filters = ledger_filters_parse(request.query_params)
        rows = services.project_export(actor=request.user, filters=filters)
        handle = ledger_xlsx_file(
            rows.iterator(chunk_size=2000),
            filters=filters,
            totals=ledger_totals(rows),
            exported_by=str(request.user),
        )
        return FileResponse(handle, as_attachment=True, filename=export_filename(), content_type=XLSX)
