"""Approval endpoints: flow definitions, instances (我发起的/待办/已办), the approver's tasks, change requests,
delegations. Thin: parse input, find the object inside the user's scope (404 otherwise), call one service.

Every action goes through ``workflow.services`` (which locks the instance, checks it is the actor's own open task —
403 ``not_your_task`` — or still open — 409 ``task_closed`` — and records the timeline event and the audit event).
"""

from __future__ import annotations

import copy
from typing import Any

from django.db.models import Q, QuerySet
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from accounts import permissions
from accounts.models import Role, User
from core.api import validated
from core.errors import Conflict, NotFound, ValidationFailed
from core.paging import ids_of, rows_for
from projects import config as project_config
from projects import selectors as project_selectors
from projects import selectors_types
from projects.services.types import published_form_schemas

from . import selectors, services
from .models import ApprovalTask, ChangeRequest, Delegation, FlowInstance, InstanceStatus
from .serializers import (
    AddSignerSerializer,
    ApprovalDetailSerializer,
    ApprovalRowSerializer,
    ApproveSerializer,
    ChangeRequestInputSerializer,
    ChangeRequestSerializer,
    DelegationInputSerializer,
    DelegationSerializer,
    FlowValidateResultSerializer,
    FlowValidateSerializer,
    InboxTaskSerializer,
    ResubmitSerializer,
    ReturnSerializer,
    TaskActionResultSerializer,
    TaskSerializer,
    TransferSerializer,
    TypeFlowsSerializer,
    UrgeResultSerializer,
    WithdrawSerializer,
    approval_detail,
    flow_dict,
)

PAGE_PARAMETERS = [
    OpenApiParameter("page", int, description="页码，从 1 开始"),
    OpenApiParameter("page_size", int, description="每页条数，1–500，默认 50"),
]
BOXES = ("todo", "done", "mine", "all")
APPROVAL_PARAMETERS = [
    OpenApiParameter(
        "box",
        str,
        enum=list(BOXES),
        description="todo 待办（默认，超时在前、最早到达在前）、done 已办（最近在前）、mine 我发起的、"
        "all 我可见的全部审批（本人参与的，及有项目查看权限的）",
    ),
    OpenApiParameter("status", str, enum=list(InstanceStatus.values), description="审批状态"),
    OpenApiParameter("transition", str, description="审批环节：立项审批、支出审批、变更审批、验收审批"),
    OpenApiParameter("project", int, description="项目编号"),
    OpenApiParameter("search", str, description="按标题、项目名称或项目代码搜索"),
]
TASK_PARAMETERS = [
    OpenApiParameter("transition", str, description="审批环节"),
    OpenApiParameter("project", int, description="项目编号"),
    OpenApiParameter("overdue", bool, description="true：只看已超时的待办"),
]
MULTIPART = ("application/json", "multipart/form-data")


def _flag(params, name: str) -> bool | None:
    raw = params.get(name)
    if raw in (None, ""):
        return None
    if raw.lower() in ("true", "1", "yes"):
        return True
    if raw.lower() in ("false", "0", "no"):
        return False
    raise ValidationFailed("参数有误。", fields={name: ["必须是 true 或 false"]})


def _instance_filters(params, prefix: str = "") -> Q:
    """The list filters as one condition on a FlowInstance (``prefix`` = "instance__" for task querysets)."""
    condition = Q()
    status = params.get("status")
    if status:
        if status not in InstanceStatus.values:
            raise ValidationFailed(
                "参数有误。", fields={"status": [f"必须是 {'、'.join(InstanceStatus.values)} 之一"]}
            )
        condition &= Q(**{f"{prefix}status": status})
    if params.get("transition"):
        condition &= Q(**{f"{prefix}transition": params["transition"]})
    project = params.get("project")
    if project:
        if not str(project).isdigit():
            raise ValidationFailed("参数有误。", fields={"project": ["项目编号必须是整数"]})
        condition &= Q(**{f"{prefix}project_id": int(project)})
    search = (params.get("search") or "").strip()
    if search:
        condition &= (
            Q(**{f"{prefix}title__icontains": search})
            | Q(**{f"{prefix}project__name__icontains": search})
            | Q(**{f"{prefix}project__code__icontains": search})
        )
    return condition


def _page(view: viewsets.GenericViewSet, queryset: QuerySet) -> list:
    """One page of ``queryset``: count and pick the page's ids on its own table (the sort runs over narrow index
    rows), then load just those rows with the queryset's joins — 50 joined rows, not all 10 000 of a busy inbox.

    Three queries (count, ids, rows) whatever the page size."""
    return rows_for(queryset, view.paginate_queryset(ids_of(queryset)))


def _user_named(username: str) -> User | None:
    """An active user by username; None (which the services refuse with a field error) when there is none."""
    return User.objects.filter(username=username, is_active=True).select_related("org").first()


# ── flow definitions ────────────────────────────────────────────────────────────────────────────────────────────


class TypeFlowViewSet(viewsets.GenericViewSet):
    """项目类型的审批流程（已发布版本，解析后的步骤与流程图）。"""

    serializer_class = TypeFlowsSerializer
    lookup_field = "code"
    filter_backends: list = []
    pagination_class = None

    def get_queryset(self):
        return selectors_types.project_type_list(user=self.request.user)

    @extend_schema(responses=TypeFlowsSerializer)
    @action(detail=True, methods=["get"])
    def flows(self, request, code=None):
        """已发布版本的审批流程：每个环节的步骤、审批人、方式、条件、时限和流程图。"""
        ptype = selectors_types.project_type_get(user=request.user, code=code)
        version = ptype.published()
        if version is None:
            raise Conflict("该项目类型还没有已发布的版本。", code="not_published")
        raw = version.effective.get("flows") or []
        return Response(
            TypeFlowsSerializer(
                {"type": ptype.code, "version": version.number, "flows": [flow_dict(f) for f in raw]}
            ).data
        )


class FlowViewSet(viewsets.GenericViewSet):
    """审批流程定义的校验（发布前检查）。"""

    serializer_class = FlowValidateResultSerializer
    filter_backends: list = []
    pagination_class = None

    @extend_schema(request=FlowValidateSerializer, responses=FlowValidateResultSerializer)
    @action(detail=False, methods=["post"])
    def validate(self, request):
        """按项目类型（其立项表单字段、指标、阈值与角色）检查一组审批流程，返回每处问题及其路径；不保存任何内容。"""
        data = validated(FlowValidateSerializer, request.data)
        ptype = selectors_types.project_type_get(user=request.user, code=data["type"])
        version = ptype.published()
        if version is not None:
            base = copy.deepcopy(version.effective)
        else:
            draft = ptype.draft()
            if draft is None:
                raise Conflict("该项目类型没有可用的配置。", code="not_published")
            base = project_config.normalise(draft.config)
        base["flows"] = data["flows"]
        found = project_config.problems(
            base,
            form_schemas=published_form_schemas(ptype.org),
            roles=set(Role.objects.values_list("code", flat=True)),
        )
        problems = [{"path": p, "message": m} for p, m in found if p == "flows" or p.startswith("flows[")]
        return Response(FlowValidateResultSerializer({"ok": not problems, "problems": problems}).data)


# ── instances ───────────────────────────────────────────────────────────────────────────────────────────────────


class ApprovalViewSet(viewsets.GenericViewSet):
    """审批：待办、已办、我发起的；详情（定义快照、当前步骤、数据快照、任务、时间线、流程图）；撤回、重新提交、催办。"""

    serializer_class = ApprovalRowSerializer
    filter_backends: list = []
    lookup_value_regex = r"\d+"

    def get_queryset(self):
        return selectors.mine(self.request.user)

    def _get(self, request, pk) -> FlowInstance:
        return selectors.instance_get(user=request.user, pk=int(pk))

    @extend_schema(
        parameters=APPROVAL_PARAMETERS + PAGE_PARAMETERS, responses=ApprovalRowSerializer(many=True)
    )
    def list(self, request):
        user, params = request.user, request.query_params
        box = params.get("box") or "todo"
        if box not in BOXES:
            raise ValidationFailed("参数有误。", fields={"box": [f"必须是 {'、'.join(BOXES)} 之一"]})
        if box in ("todo", "done"):
            tasks = (selectors.todo if box == "todo" else selectors.done)(user)
            page = _page(self, tasks.filter(_instance_filters(params, "instance__")))
            rows = []
            for task in page:
                instance = task.instance
                instance.box_task = task
                rows.append(instance)
        else:
            if box == "mine":
                instances = selectors.mine(user).select_related("applicant")
            else:
                visible = permissions.visible(user, "project.view", FlowInstance.objects.all())
                instances = (
                    FlowInstance.objects.filter(
                        Q(pk__in=visible.values("pk"))
                        | Q(applicant=user)
                        | Q(pk__in=ApprovalTask.objects.filter(assignee=user).values("instance_id"))
                    )
                    .select_related("project", "applicant")
                    .order_by("-started_at", "-id")
                )
            rows = _page(self, instances.filter(_instance_filters(params)))
        return self.get_paginated_response(ApprovalRowSerializer(rows, many=True).data)

    @extend_schema(responses=ApprovalDetailSerializer)
    def retrieve(self, request, pk=None):
        instance = self._get(request, pk)
        return Response(approval_detail(instance, request.user))

    def _row(self, instance: FlowInstance) -> dict:
        fresh = FlowInstance.objects.select_related("project", "applicant").get(pk=instance.pk)
        return ApprovalRowSerializer(fresh).data

    @extend_schema(request=WithdrawSerializer, responses=ApprovalRowSerializer)
    @action(detail=True, methods=["post"])
    def withdraw(self, request, pk=None):
        """申请人撤回（审批人尚未处理时）。"""
        data = validated(WithdrawSerializer, request.data)
        instance = services.instance_withdraw(
            actor=request.user, instance=self._get(request, pk), reason=data["reason"]
        )
        return Response(self._row(instance))

    @extend_schema(request=ResubmitSerializer, responses=ApprovalRowSerializer)
    @action(detail=True, methods=["post"])
    def resubmit(self, request, pk=None):
        """被退回后重新提交（按流程设置直接回到退回的步骤）。"""
        data = validated(ResubmitSerializer, request.data)
        instance = services.instance_resubmit(
            actor=request.user, instance=self._get(request, pk), note=data["note"]
        )
        return Response(self._row(instance))

    @extend_schema(request=None, responses=UrgeResultSerializer)
    @action(detail=True, methods=["post"])
    def urge(self, request, pk=None):
        """催办当前审批人（每个任务 30 分钟内至多一次，过于频繁返回 409 rate_limited）。"""
        instance = self._get(request, pk)
        reminded = services.instance_urge(actor=request.user, instance=instance)
        return Response({"reminded": reminded, "approval": self._row(instance)})


# ── tasks ───────────────────────────────────────────────────────────────────────────────────────────────────────


class ApprovalTaskViewSet(viewsets.GenericViewSet):
    """我的待办任务：同意、退回、转办、加签。只能处理本人的待办（他人的返回 403，已办结的返回 409）。"""

    serializer_class = InboxTaskSerializer
    filter_backends: list = []
    lookup_value_regex = r"\d+"

    def get_queryset(self):
        return selectors.todo(self.request.user)

    def _task(self, request, pk) -> ApprovalTask:
        """A task the user may know of: their own, or one of an approval they may see (then the service says 403)."""
        task = (
            ApprovalTask.objects.filter(pk=int(pk))
            .only("id", "assignee_id", "instance_id")
            .order_by()
            .first()
        )
        if task is None:
            raise NotFound("审批任务不存在。")
        if task.assignee_id != request.user.pk:
            selectors.instance_get(user=request.user, pk=task.instance_id)  # 404 outside the user's scope
        return task

    @extend_schema(parameters=TASK_PARAMETERS + PAGE_PARAMETERS, responses=InboxTaskSerializer(many=True))
    def list(self, request):
        """待办：超时的在前，其余按到达时间从早到晚。"""
        params = request.query_params
        tasks = selectors.todo(request.user)
        if params.get("transition"):
            tasks = tasks.filter(instance__transition=params["transition"])
        project = params.get("project")
        if project:
            if not str(project).isdigit():
                raise ValidationFailed("参数有误。", fields={"project": ["项目编号必须是整数"]})
            tasks = tasks.filter(instance__project_id=int(project))
        overdue = _flag(params, "overdue")
        if overdue is not None:
            tasks = tasks.filter(overdue=0 if overdue else 1)
        page = _page(self, tasks)
        return self.get_paginated_response(InboxTaskSerializer(page, many=True).data)

    def _result(self, task: ApprovalTask) -> Response:
        fresh = ApprovalTask.objects.select_related(
            "assignee", "delegated_from", "added_by", "instance__project", "instance__applicant"
        ).get(pk=task.pk)
        return Response(
            {"task": TaskSerializer(fresh).data, "approval": ApprovalRowSerializer(fresh.instance).data}
        )

    @extend_schema(request={m: ApproveSerializer for m in MULTIPART}, responses=TaskActionResultSerializer)
    @action(detail=True, methods=["post"])
    def approve(self, request, pk=None):
        """同意（可附意见与附件）；本步骤满足审批方式后进入下一步，最后一步通过即生效。"""
        data = validated(ApproveSerializer, request.data)
        task = services.task_approve(
            actor=request.user,
            task=self._task(request, pk).pk,
            comment=data["comment"],
            attachment=data.get("attachment"),
        )
        return self._result(task)

    @extend_schema(request={m: ReturnSerializer for m in MULTIPART}, responses=TaskActionResultSerializer)
    @action(detail=True, methods=["post"], url_path="return", url_name="return")
    def return_(self, request, pk=None):
        """退回（必须填写理由）：退回申请人，或退回到已经办理过的步骤重新审批。"""
        data = validated(ReturnSerializer, request.data)
        task = services.task_return(
            actor=request.user,
            task=self._task(request, pk).pk,
            reason=data["reason"],
            to=data["to"],
            attachment=data.get("attachment"),
        )
        return self._result(task)

    @extend_schema(request=TransferSerializer, responses=TaskActionResultSerializer)
    @action(detail=True, methods=["post"])
    def transfer(self, request, pk=None):
        """转办给另一位有本项目审批权限的用户；返回新任务。"""
        data = validated(TransferSerializer, request.data)
        task = self._task(request, pk)
        new = services.task_transfer(
            actor=request.user, task=task.pk, to_user=_user_named(data["user"]), comment=data["comment"]
        )
        return self._result(new)

    @extend_schema(request=AddSignerSerializer, responses=TaskActionResultSerializer)
    @action(detail=True, methods=["post"], url_path="add-signer", url_name="add-signer")
    def add_signer(self, request, pk=None):
        """加签：before 请对方先审批后回到本人，after 本人同意后再由对方审批；返回新任务。"""
        data = validated(AddSignerSerializer, request.data)
        task = self._task(request, pk)
        added = services.task_add_signer(
            actor=request.user,
            task=task.pk,
            user=_user_named(data["user"]),
            position=data["position"],
            comment=data["comment"],
        )
        return self._result(added)


# ── requests on a project ───────────────────────────────────────────────────────────────────────────────────────


class ProjectChangeViewSet(viewsets.GenericViewSet):
    """项目变更申请：变更在变更审批通过后生效（类型未配置变更审批时立即生效）。"""

    serializer_class = ChangeRequestSerializer
    filter_backends: list = []
    pagination_class = None
    lookup_value_regex = r"\d+"

    def get_queryset(self):
        return project_selectors.project_list(user=self.request.user)

    @staticmethod
    def _approvals(project: Any, changes: list[ChangeRequest]) -> dict[int, int]:
        wanted = {c.pk for c in changes}
        rows = FlowInstance.objects.filter(project=project, transition="变更审批").values_list(
            "pk", "subject"
        )
        out: dict[int, int] = {}
        for pk, subject in rows.order_by("started_at", "id"):
            change = (subject or {}).get("change")
            if change in wanted:
                out[change] = pk
        return out

    @extend_schema(
        methods=["GET"],
        request=None,
        responses=ChangeRequestSerializer(many=True),
        description="本项目的变更申请。",
    )
    @extend_schema(
        methods=["POST"],
        request=ChangeRequestInputSerializer,
        responses={201: ChangeRequestSerializer, 202: ChangeRequestSerializer},
        description="提交变更申请：需要变更审批时返回 202 与审批编号（approval），否则立即生效并返回 201。",
    )
    @action(detail=True, methods=["get", "post"])
    def changes(self, request, pk=None):
        project = project_selectors.project_get(user=request.user, pk=int(pk))
        if request.method == "GET":
            rows = list(project.change_requests.select_related("requested_by"))
            context = {"approvals": self._approvals(project, rows)}
            return Response(ChangeRequestSerializer(rows, many=True, context=context).data)
        data = validated(ChangeRequestInputSerializer, request.data)
        change = services.change_request_submit(
            actor=request.user, project=project, changes=data["changes"], reason=data["reason"]
        )
        approvals = self._approvals(project, [change])
        body = ChangeRequestSerializer(change, context={"approvals": approvals}).data
        return Response(body, status=202 if change.pk in approvals else 201)


# ── delegations ─────────────────────────────────────────────────────────────────────────────────────────────────


class DelegationViewSet(viewsets.GenericViewSet):
    """审批委托：请假期间把本人将收到的审批交给代理人。列出本人委托的和委托给本人的。"""

    serializer_class = DelegationSerializer
    filter_backends: list = []
    lookup_value_regex = r"\d+"

    def get_queryset(self):
        user = self.request.user
        return (
            Delegation.objects.filter(Q(user=user) | Q(delegate=user))
            .select_related("user", "delegate")
            .order_by("-starts_on", "-id")
        )

    @extend_schema(parameters=PAGE_PARAMETERS, responses=DelegationSerializer(many=True))
    def list(self, request):
        page = self.paginate_queryset(self.get_queryset())
        return self.get_paginated_response(DelegationSerializer(page, many=True).data)

    @extend_schema(request=DelegationInputSerializer, responses={201: DelegationSerializer})
    def create(self, request):
        from .delegation import delegation_create

        data = validated(DelegationInputSerializer, request.data)
        delegate = _user_named(data["delegate"])
        if delegate is None:
            raise ValidationFailed(
                "审批委托未通过校验。", fields={"delegate": [f"代理人：没有可用的用户“{data['delegate']}”"]}
            )
        created = delegation_create(
            actor=request.user,
            delegate=delegate,
            starts_on=data["starts_on"],
            ends_on=data["ends_on"],
            note=data["note"],
        )
        fresh = Delegation.objects.select_related("user", "delegate").get(pk=created.pk)
        return Response(DelegationSerializer(fresh).data, status=201)

    @extend_schema(request=None, responses={204: None})
    def destroy(self, request, pk=None):
        from .delegation import delegation_cancel

        delegation = self.get_queryset().filter(pk=int(pk)).first()
        if delegation is None:
            raise NotFound("委托不存在。")
        delegation_cancel(actor=request.user, delegation=delegation)
        return Response(status=204)
