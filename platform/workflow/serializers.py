"""API shapes of approvals: inbox rows, one instance (tasks, timeline, diagram), flow definitions, action inputs.

Reading only: every write goes through ``workflow.services``. Row serializers touch only what the selectors
already joined (instance, project, applicant, delegated_from), so a page costs the same queries at any size.
"""

from __future__ import annotations

from typing import Any

from django.core.files.storage import default_storage
from django.utils import timezone
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from .definition import Flow, Step, parse
from .models import ApprovalTask, FlowEvent, FlowInstance, InstanceStatus, TaskStatus
from .states import DONE, diagram

# ── small pieces ────────────────────────────────────────────────────────────────────────────────────────────────


class PersonSerializer(serializers.Serializer):
    username = serializers.CharField()
    display_name = serializers.CharField()


class ProjectBriefSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    code = serializers.CharField()
    name = serializers.CharField()


def _overdue(task: ApprovalTask) -> bool:
    return task.status == TaskStatus.OPEN and task.due_at is not None and task.due_at < timezone.now()


def _file_url(name: str) -> str | None:
    return default_storage.url(name) if name else None


# ── flow definitions and the diagram ────────────────────────────────────────────────────────────────────────────


class ApproverSpecSerializer(serializers.Serializer):
    role = serializers.CharField(help_text="角色编码（相对项目所属机构解析）")
    org = serializers.CharField(help_text="本单位、上级单位、本级政府、同级XX 或机构编码")
    user = serializers.CharField(help_text="指定用户名（与 role 二选一）")


class StepDefinitionSerializer(serializers.Serializer):
    code = serializers.CharField()
    name = serializers.CharField()
    mode = serializers.CharField(help_text="依次、会签、或签、比例")
    ratio = serializers.CharField(allow_null=True, help_text="比例审批的通过比例，如 2/3")
    when = serializers.CharField(help_text="适用条件（DSL），空表示总是适用")
    sla_days = serializers.IntegerField(allow_null=True, help_text="时限（工作日）")
    on_timeout = serializers.CharField()
    next = serializers.CharField(help_text="显式跳转到的步骤编码")
    following = serializers.CharField(help_text="本步骤完成后的下一步骤编码，空表示结束")
    approvers = ApproverSpecSerializer(many=True)


class DiagramApproverSerializer(serializers.Serializer):
    username = serializers.CharField()
    display_name = serializers.CharField()
    status = serializers.CharField(help_text="该审批人本步骤最近一轮任务的状态")


class DiagramNodeSerializer(serializers.Serializer):
    id = serializers.CharField(help_text="start、end 或步骤编码")
    kind = serializers.ChoiceField(choices=["start", "step", "end"])
    label = serializers.CharField()
    mode = serializers.CharField(allow_blank=True)
    when = serializers.CharField(allow_blank=True)
    condition = serializers.ChoiceField(
        choices=["", "applied", "not_applied", "undecided"],
        help_text="有条件的步骤：applied 条件成立、not_applied 不成立已跳过、undecided 尚未到达",
    )
    state = serializers.ChoiceField(
        choices=["done", "current", "returned", "skipped", "cancelled", "pending"],
        help_text="done 已完成、current 当前、returned 由此退回、skipped 条件不成立跳过、cancelled 已撤回、"
        "pending 未到达（与审批页面的流程图一致）",
    )
    approvers = DiagramApproverSerializer(many=True)


class DiagramEdgeSerializer(serializers.Serializer):
    source = serializers.CharField()
    target = serializers.CharField()
    kind = serializers.ChoiceField(choices=["next", "skip"], help_text="next 顺序流转；skip 条件不成立时越过")
    label = serializers.CharField(allow_blank=True)


class DiagramSerializer(serializers.Serializer):
    nodes = DiagramNodeSerializer(many=True)
    edges = DiagramEdgeSerializer(many=True)
    mermaid = serializers.CharField(help_text="同一张图的 Mermaid flowchart 文本，可直接渲染")


class FlowDefinitionSerializer(serializers.Serializer):
    code = serializers.CharField()
    name = serializers.CharField()
    transition = serializers.CharField(help_text="立项审批、支出审批、变更审批、验收审批")
    no_approver = serializers.CharField()
    skip_repeated = serializers.BooleanField()
    resume_at_returner = serializers.BooleanField()
    steps = StepDefinitionSerializer(many=True)
    diagram = DiagramSerializer()


def step_dict(flow: Flow, step: Step) -> dict[str, Any]:
    return {
        "code": step.code,
        "name": step.name,
        "mode": step.mode,
        "ratio": f"{step.ratio.numerator}/{step.ratio.denominator}" if step.mode == "比例" else None,
        "when": step.when,
        "sla_days": step.sla_days,
        "on_timeout": step.on_timeout,
        "next": step.next,
        "following": flow.following(step.code),
        "approvers": [{"role": a.role, "org": a.org, "user": a.user} for a in step.approvers],
    }


def flow_dict(raw: dict) -> dict[str, Any]:
    """A type's flow as the API shows it: normalised steps and its diagram (every state ``pending``)."""
    flow = parse(raw)
    return {
        "code": flow.code,
        "name": flow.name,
        "transition": flow.transition,
        "no_approver": flow.no_approver,
        "skip_repeated": flow.skip_repeated,
        "resume_at_returner": flow.resume_at_returner,
        "steps": [step_dict(flow, s) for s in flow.steps],
        "diagram": diagram(flow),
    }


class InboxTaskSerializer(serializers.Serializer):
    """One row of 待办: the task with what the approver needs to decide whether to open it."""

    id = serializers.IntegerField()
    approval = serializers.IntegerField(source="instance_id")
    title = serializers.CharField(source="instance.title")
    transition = serializers.CharField(source="instance.transition")
    flow_name = serializers.CharField(source="instance.flow_name")
    subject = serializers.JSONField(source="instance.subject", help_text="申请事项（金额为字符串）")
    project = ProjectBriefSerializer(source="instance.project")
    applicant = PersonSerializer(source="instance.applicant")
    step = serializers.CharField()
    step_name = serializers.CharField()
    round = serializers.IntegerField()
    status = serializers.CharField()
    delegated_from = PersonSerializer(allow_null=True, help_text="委托人（代人审批时）")
    added = serializers.SerializerMethodField(help_text="是否为加签任务")
    opened_at = serializers.DateTimeField()
    due_at = serializers.DateTimeField(allow_null=True)
    overdue = serializers.SerializerMethodField()

    def get_added(self, task: ApprovalTask) -> bool:
        return task.added_by_id is not None

    def get_overdue(self, task: ApprovalTask) -> bool:
        return _overdue(task)


class TaskSerializer(serializers.Serializer):
    """One task of an instance, as its detail shows it."""

    id = serializers.IntegerField()
    step = serializers.CharField()
    step_name = serializers.CharField()
    round = serializers.IntegerField()
    seq = serializers.IntegerField()
    status = serializers.CharField()
    status_display = serializers.CharField(source="get_status_display")
    assignee = PersonSerializer()
    delegated_from = PersonSerializer(allow_null=True)
    added_by = PersonSerializer(allow_null=True, help_text="加签人")
    blocked_by = serializers.IntegerField(source="blocked_by_id", allow_null=True)
    opened_at = serializers.DateTimeField(allow_null=True)
    due_at = serializers.DateTimeField(allow_null=True)
    acted_at = serializers.DateTimeField(allow_null=True)
    overdue = serializers.SerializerMethodField()
    comment = serializers.CharField()
    attachment = serializers.SerializerMethodField()
    timed_out = serializers.BooleanField()
    reminded_at = serializers.DateTimeField(allow_null=True)

    def get_overdue(self, task: ApprovalTask) -> bool:
        return _overdue(task)

    @extend_schema_field({"type": "string", "nullable": True, "format": "uri"})
    def get_attachment(self, task: ApprovalTask) -> str | None:
        return _file_url(task.attachment.name) if task.attachment else None


class MyTaskSerializer(serializers.Serializer):
    """The task of the list's box (待办 or 已办) behind an approval row."""

    id = serializers.IntegerField()
    step = serializers.CharField()
    step_name = serializers.CharField()
    status = serializers.CharField()
    opened_at = serializers.DateTimeField(allow_null=True)
    due_at = serializers.DateTimeField(allow_null=True)
    acted_at = serializers.DateTimeField(allow_null=True)
    overdue = serializers.SerializerMethodField()

    def get_overdue(self, task: ApprovalTask) -> bool:
        return _overdue(task)


class ApprovalRowSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    title = serializers.CharField()
    transition = serializers.CharField()
    flow_code = serializers.CharField()
    flow_name = serializers.CharField()
    subject = serializers.JSONField(help_text="申请事项：stage、expenditure、change，金额 amount 为字符串")
    status = serializers.CharField()
    status_display = serializers.CharField(source="get_status_display")
    current_step = serializers.CharField()
    current_step_name = serializers.SerializerMethodField()
    round = serializers.IntegerField()
    project = ProjectBriefSerializer()
    applicant = PersonSerializer()
    started_at = serializers.DateTimeField()
    finished_at = serializers.DateTimeField(allow_null=True)
    task = serializers.SerializerMethodField(help_text="box=todo/done 时：本人在该审批中的对应任务")

    def get_current_step_name(self, instance: FlowInstance) -> str:
        for step in instance.definition.get("steps") or []:
            if step.get("code") == instance.current_step:
                return str(step.get("name") or step["code"])
        return ""

    @extend_schema_field(MyTaskSerializer(allow_null=True))
    def get_task(self, instance: FlowInstance) -> dict | None:
        task = getattr(instance, "box_task", None)
        return MyTaskSerializer(task).data if task is not None else None


class EventSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    at = serializers.DateTimeField()
    action = serializers.CharField()
    action_display = serializers.CharField(source="get_action_display")
    step = serializers.CharField()
    step_name = serializers.SerializerMethodField()
    actor = PersonSerializer(allow_null=True)
    note = serializers.CharField()
    task = serializers.IntegerField(source="task_id", allow_null=True)
    attachment = serializers.SerializerMethodField()

    def get_step_name(self, event: FlowEvent) -> str:
        return self.context.get("step_names", {}).get(event.step, event.step)

    @extend_schema_field({"type": "string", "nullable": True, "format": "uri"})
    def get_attachment(self, event: FlowEvent) -> str | None:
        return _file_url(event.attachment)


class CurrentStepSerializer(serializers.Serializer):
    code = serializers.CharField()
    name = serializers.CharField()
    mode = serializers.CharField()
    sla_days = serializers.IntegerField(allow_null=True)
    open_tasks = serializers.ListField(child=serializers.IntegerField(), help_text="本步骤待办任务编号")


class AllowedSerializer(serializers.Serializer):
    """What the requesting user may do now."""

    tasks = serializers.ListField(
        child=serializers.IntegerField(), help_text="本人的待办任务（可同意、退回、转办、加签）"
    )
    withdraw = serializers.BooleanField()
    resubmit = serializers.BooleanField()
    urge = serializers.BooleanField()
    return_to = serializers.ListField(child=serializers.CharField(), help_text="可退回的目标")


class ApprovalDetailSerializer(ApprovalRowSerializer):
    definition = serializers.JSONField(help_text="启动时的流程定义快照")
    data = serializers.JSONField(help_text="提交时的申请数据快照（项目与事项）")
    current = CurrentStepSerializer(allow_null=True)
    tasks = TaskSerializer(many=True)
    timeline = EventSerializer(many=True)
    diagram = DiagramSerializer()
    allowed = AllowedSerializer()


def approval_detail(instance: FlowInstance, user: Any) -> dict:
    """One instance for its detail page: snapshot, current step, tasks, timeline, diagram and what ``user`` may do."""
    tasks = list(
        instance.tasks.select_related("assignee", "delegated_from", "added_by").order_by("round", "seq", "id")
    )
    events = list(instance.events.select_related("actor").order_by("at", "id"))
    flow = parse(instance.definition)
    names = {s.code: s.name for s in flow.steps}
    body = dict(ApprovalRowSerializer(instance).data)
    current = None
    if instance.current_step in names and instance.is_active:
        step = flow.step(instance.current_step)
        current = {
            "code": step.code,
            "name": step.name,
            "mode": step.mode,
            "sla_days": step.sla_days,
            "open_tasks": [
                t.id
                for t in tasks
                if t.step == step.code and t.round == instance.round and t.status == TaskStatus.OPEN
            ],
        }
    mine_open = [t for t in tasks if t.assignee_id == user.pk and t.status == TaskStatus.OPEN]
    running = instance.status == InstanceStatus.RUNNING
    applicant = instance.applicant_id == user.pk
    human = (TaskStatus.APPROVED, TaskStatus.RETURNED, TaskStatus.TRANSFERRED)
    acted = any(t.round == instance.round and t.status in human for t in tasks)
    passed = []
    for step in flow.steps:
        if any(t.step == step.code and t.status in DONE for t in tasks) and step.code not in passed:
            passed.append(step.code)
    body.update(
        definition=instance.definition,
        data=instance.data,
        current=current,
        tasks=TaskSerializer(tasks, many=True).data,
        timeline=EventSerializer(events, many=True, context={"step_names": names}).data,
        diagram=diagram(flow, instance, tasks, events),
        allowed={
            "tasks": [t.id for t in mine_open] if running else [],
            "withdraw": applicant and instance.is_active and not (running and acted),
            "resubmit": applicant and instance.status == InstanceStatus.RETURNED,
            "urge": applicant
            and running
            and any(t.status == TaskStatus.OPEN for t in tasks if t.round == instance.round),
            "return_to": ["applicant", *passed] if running and mine_open else [],
        },
    )
    return body


# ── inputs ──────────────────────────────────────────────────────────────────────────────────────────────────────


class ApproveSerializer(serializers.Serializer):
    comment = serializers.CharField(required=False, allow_blank=True, default="", max_length=4000)
    attachment = serializers.FileField(required=False, help_text="附件（multipart/form-data，≤ 20MB）")


class ReturnSerializer(serializers.Serializer):
    reason = serializers.CharField(allow_blank=True, max_length=4000, help_text="退回理由（必填）")
    to = serializers.CharField(
        required=False, default="applicant", help_text="applicant（退回申请人）或已办理过的步骤编码"
    )
    attachment = serializers.FileField(required=False, help_text="附件（multipart/form-data，≤ 20MB）")


class TransferSerializer(serializers.Serializer):
    user = serializers.CharField(help_text="转办给的用户名")
    comment = serializers.CharField(required=False, allow_blank=True, default="", max_length=4000)


class AddSignerSerializer(serializers.Serializer):
    user = serializers.CharField(help_text="加签的用户名")
    position = serializers.ChoiceField(
        choices=[("before", "前加签"), ("after", "后加签")],
        default="after",
        help_text="before：被加签人先审批，再回到本人；after：本人同意后由被加签人审批",
    )
    comment = serializers.CharField(required=False, allow_blank=True, default="", max_length=4000)


class TaskActionResultSerializer(serializers.Serializer):
    task = TaskSerializer(help_text="处理的任务（转办、加签时为新任务）")
    approval = ApprovalRowSerializer()


class WithdrawSerializer(serializers.Serializer):
    reason = serializers.CharField(required=False, allow_blank=True, default="", max_length=4000)


class ResubmitSerializer(serializers.Serializer):
    note = serializers.CharField(required=False, allow_blank=True, default="", max_length=4000)


class UrgeResultSerializer(serializers.Serializer):
    reminded = serializers.IntegerField(help_text="本次提醒的审批人数")
    approval = ApprovalRowSerializer()


class FlowValidateSerializer(serializers.Serializer):
    type = serializers.CharField(help_text="项目类型编码：条件按该类型的立项表单、指标与阈值检查")
    flows = serializers.JSONField(help_text="审批流程列表（与项目类型配置中的 flows 相同）")


class ProblemSerializer(serializers.Serializer):
    path = serializers.CharField(help_text="如 flows[0].steps[1].when")
    message = serializers.CharField()


class FlowValidateResultSerializer(serializers.Serializer):
    ok = serializers.BooleanField()
    problems = ProblemSerializer(many=True)


class TypeFlowsSerializer(serializers.Serializer):
    type = serializers.CharField()
    version = serializers.IntegerField(help_text="已发布版本号")
    flows = FlowDefinitionSerializer(many=True)


class ChangeRequestInputSerializer(serializers.Serializer):
    changes = serializers.DictField(
        help_text="要变更的项目字段：name、budget（金额字符串）、description、category"
    )
    reason = serializers.CharField(allow_blank=True, max_length=4000, help_text="变更理由（必填）")


class ChangeRequestSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    status = serializers.CharField(help_text="pending 审批中、applied 已生效、withdrawn 已撤回")
    status_display = serializers.CharField(source="get_status_display")
    changes = serializers.JSONField()
    reason = serializers.CharField()
    requested_by = PersonSerializer()
    created_at = serializers.DateTimeField()
    applied_at = serializers.DateTimeField(allow_null=True)
    approval = serializers.SerializerMethodField(help_text="变更审批编号（无需审批时为 null）")

    @extend_schema_field({"type": "integer", "nullable": True})
    def get_approval(self, change: Any) -> int | None:
        return self.context.get("approvals", {}).get(change.pk)


class DelegationInputSerializer(serializers.Serializer):
    delegate = serializers.CharField(help_text="代理人用户名")
    starts_on = serializers.DateField()
    ends_on = serializers.DateField()
    note = serializers.CharField(required=False, allow_blank=True, default="", max_length=200)


class DelegationSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    user = PersonSerializer(help_text="委托人")
    delegate = PersonSerializer(help_text="代理人")
    starts_on = serializers.DateField()
    ends_on = serializers.DateField()
    note = serializers.CharField()
    active = serializers.BooleanField()
    created_at = serializers.DateTimeField()
