"""How an approval reads on its page: the submitted data in the form's order, the timeline in the reader's language,
and the instance drawn as a diagram (``workflow.diagram`` renders the SVG)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.urls import reverse
from django.utils import timezone
from django.utils.dateformat import format as date_format
from django.utils.translation import get_language, gettext_lazy, ngettext, pgettext_lazy
from django.utils.translation import gettext as _

from accounts.models import Role
from projects.models.project import Category

from . import diagram
from .definition import Flow
from .forms import CHANGE_FIELDS
from .models import ApprovalTask, ChangeRequest, FlowEvent, FlowInstance, InstanceStatus, TaskStatus
from .states import condition_verdict, step_state

STATUS_TONE = {
    InstanceStatus.RUNNING: "running",
    InstanceStatus.RETURNED: "returned",
    InstanceStatus.APPROVED: "approved",
    InstanceStatus.WITHDRAWN: "withdrawn",
}
TASK_TONE = {
    TaskStatus.APPROVED: "approved",
    TaskStatus.RETURNED: "returned",
    TaskStatus.TRANSFERRED: "transferred",
    TaskStatus.SKIPPED: "skipped",
    TaskStatus.OPEN: "open",
    TaskStatus.WAITING: "waiting",
    TaskStatus.CANCELLED: "cancelled",
}
SNAPSHOT_LABELS = {
    "code": gettext_lazy("项目代码"),
    "name": gettext_lazy("项目名称"),
    "stage": gettext_lazy("所处阶段"),
    "budget": gettext_lazy("预算"),
    "spent_total": gettext_lazy("已支出"),
}


def person_name(user: Any) -> str:
    if user is None:
        return _("系统")
    return user.display_name or user.username


def when_text(moment: Any) -> str:
    return date_format(timezone.localtime(moment), "m-d H:i") if moment else ""


@dataclass
class Entry:
    """One line of the timeline."""

    event: FlowEvent
    label: str
    text: str = ""
    comment: str = ""
    tone: str = ""
    tags: list[str] = field(default_factory=list)
    step: str = ""
    attachment_url: str = ""
    compact: bool = False  # a routine line (entering a step): one muted line


# The data the request was submitted with -----------------------------------------------------------------------


def shown(value: Any) -> str:
    """A JSON value as a person reads it."""
    if value is True:
        return _("是")
    if value is False:
        return _("否")
    if value is None or value == "":
        return "—"
    if isinstance(value, list):
        return _("；").join(shown(v) for v in value)
    if isinstance(value, dict):
        return _("、").join(shown(v) for v in value.values())
    return str(value)


def snapshot_view(instance: FlowInstance, data: dict) -> dict[str, Any]:
    """``FlowInstance.data`` (or a task's snapshot) as sections the template renders: the request, the project's
    ledger values, and the 立项 form's fields in the form's order (repeating groups as small tables)."""
    from core.templatetags.money import yuan

    project = instance.project
    subject = data.get("subject") or instance.subject or {}
    ledger = data.get("project") or {}
    request_rows = _subject_rows(instance, subject, ledger)
    ledger_rows = []
    for key, label in SNAPSHOT_LABELS.items():
        if key in ledger:
            value = ledger[key]
            ledger_rows.append(
                (str(label), yuan(value) if key in ("budget", "spent_total") else shown(value))
            )
    version = project.form_version if project.form_version_id else None
    return {
        "request": request_rows,
        "ledger": ledger_rows,
        "fields": _form_fields(
            version.schema if version else {}, version.ui_schema if version else {}, data.get("data") or {}
        ),
    }


def _subject_rows(instance: FlowInstance, subject: dict, ledger: dict) -> list[tuple[str, str]]:
    from core.templatetags.money import yuan

    rows = [(_("审批事项"), instance.flow_name)]
    if "stage" in subject:
        rows.append((_("申请进入阶段"), f"{ledger.get('stage', '')} → {subject['stage']}".strip(" →")))
    if "expenditure" in subject:
        expenditure = instance.project.expenditures.filter(pk=subject["expenditure"]).first()
        if expenditure is not None:
            rows.append((_("支出"), f"{expenditure.voucher_no} · {expenditure.payee}"))
        if subject.get("amount") not in (None, ""):
            rows.append((_("申请金额"), yuan(subject["amount"])))
    if "change" in subject:
        change = ChangeRequest.objects.filter(pk=subject["change"]).first()
        if change is not None:
            rows.append((_("变更理由"), change.reason))
            for key, value in (change.changes or {}).items():
                label = str(CHANGE_FIELDS.get(key, key))
                before = ledger.get(key)
                if key == "budget":
                    text = f"{yuan(before)} → {yuan(value)}" if before else yuan(value)
                elif key == "category":
                    text = f"{_category(before)} → {_category(value)}" if before else _category(value)
                else:
                    text = f"{before} → {value}" if before else str(value)
                rows.append((_("变更：%(field)s") % {"field": label}, text))
            rows.append((_("变更状态"), change.get_status_display()))
    return rows


def _category(value: Any) -> str:
    return str(dict(Category.choices).get(value, value or "—"))


def _field_order(schema: dict, ui: dict) -> list[str]:
    """The form's fields as its page shows them: section by section, then the UI order, then the schema's."""
    props = list((schema.get("properties") or {}).keys())
    order: list[str] = []
    for section in (ui or {}).get("sections") or []:
        order += [n for n in section.get("fields") or [] if n in props and n not in order]
    order += [n for n in (ui or {}).get("order") or [] if n in props and n not in order]
    return order + [n for n in props if n not in order]


def _form_fields(schema: dict, ui: dict, data: dict) -> list[dict[str, Any]]:
    props = schema.get("properties") or {}
    order = [k for k in _field_order(schema, ui) if k in data] + [k for k in data if k not in props]
    fields = []
    for key in order:
        prop = props.get(key) or {}
        value = data[key]
        title = str(prop.get("title") or key)
        if isinstance(value, list) and value and all(isinstance(v, dict) for v in value):
            item_props = ((prop.get("items") or {}).get("properties")) or {}
            columns = list(item_props) or sorted({k for row in value for k in row})
            columns = [c for c in columns if any(c in row for row in value)]
            fields.append(
                {
                    "title": title,
                    "columns": [str((item_props.get(c) or {}).get("title") or c) for c in columns],
                    "rows": [
                        [_field_value(item_props.get(c) or {}, row.get(c)) for c in columns] for row in value
                    ],
                }
            )
        elif isinstance(value, dict):
            joiner = " {} ".format(_("至"))
            fields.append({"title": title, "value": joiner.join(shown(v) for v in value.values())})
        else:
            fields.append({"title": title, "value": _field_value(prop, value)})
    return fields


def _field_value(prop: dict, value: Any) -> str:
    """One stored value as shown: money with separators (exact, never through float), the rest as is."""
    from core.templatetags.money import yuan

    if prop.get("x-field") == "money" and value not in (None, "") and not isinstance(value, bool):
        try:
            return yuan(value)
        except (ArithmeticError, ValueError, TypeError):
            return shown(value)
    return shown(value)


# The timeline --------------------------------------------------------------------------------------------------


def _after(note: str, prefix: str) -> str:
    """What follows ``prefix…：`` in a service's note (the user's own words), or ""."""
    if not note.startswith(prefix) or "：" not in note:
        return ""
    return note.split("：", 1)[1].strip()


# What each kind of event is called in the timeline (a past event: 同意 reads "approved" here, not "approve").
EVENT_LABELS = {
    FlowEvent.Action.SUBMIT: pgettext_lazy("审批记录", "提交"),
    FlowEvent.Action.RESUBMIT: pgettext_lazy("审批记录", "重新提交"),
    FlowEvent.Action.APPROVE: pgettext_lazy("审批记录", "同意"),
    FlowEvent.Action.RETURN: pgettext_lazy("审批记录", "退回"),
    FlowEvent.Action.TRANSFER: pgettext_lazy("审批记录", "转办"),
    FlowEvent.Action.ADD_SIGNER: pgettext_lazy("审批记录", "加签"),
    FlowEvent.Action.WITHDRAW: pgettext_lazy("审批记录", "撤回"),
    FlowEvent.Action.URGE: pgettext_lazy("审批记录", "催办"),
    FlowEvent.Action.SKIP: pgettext_lazy("审批记录", "自动跳过"),
    FlowEvent.Action.NO_APPROVER: pgettext_lazy("审批记录", "审批人为空"),
    FlowEvent.Action.TIMEOUT: pgettext_lazy("审批记录", "超时"),
    FlowEvent.Action.ESCALATE: pgettext_lazy("审批记录", "超时升级"),
    FlowEvent.Action.STEP: pgettext_lazy("审批记录", "进入步骤"),
    FlowEvent.Action.FINISH: pgettext_lazy("审批记录", "审批通过"),
}


def timeline_entry(instance: FlowInstance, flow: Flow, event: FlowEvent) -> Entry:
    """One event as the timeline shows it. The services write their notes in Chinese; the parts that are the
    user's own words (comments, reasons) are shown as written, the rest is said again in the user's language."""
    A = FlowEvent.Action
    action, note, task = event.action, event.note or "", event.task
    step = _step_name(flow, event.step)
    entry = Entry(event=event, label=str(EVENT_LABELS.get(action, event.get_action_display())), step=step)
    if event.attachment and task is not None:
        entry.attachment_url = reverse("workflow:task-attachment", args=[instance.pk, task.pk])
    if action == A.SUBMIT:
        entry.tone, entry.step = "submit", ""
    elif action == A.RESUBMIT:
        entry.tone, entry.step = "submit", ""
        entry.comment = "" if note == "重新提交" else note
    elif action == A.APPROVE:
        entry.tone = "approved"
        entry.comment = "" if note == "同意" else note
        if task is not None and task.delegated_from_id:
            entry.tags.append(_("代 %(name)s 审批") % {"name": person_name(task.delegated_from)})
    elif action == A.RETURN:
        entry.tone = "returned"
        reason = task.comment if task is not None else ""
        target = note[2 : len(note) - len(reason) - 1] if reason and note.endswith(reason) else ""
        if target:
            entry.text = _("退回至：%(target)s") % {"target": _("申请人") if target == "申请人" else target}
            entry.comment = reason
        else:
            entry.comment = note
    elif action == A.TRANSFER:
        entry.tone = "transferred"
        if task is not None:
            entry.text = _("转办给 %(name)s") % {"name": person_name(task.assignee)}
            entry.comment = _after(note, "转办给")
        else:
            entry.comment = note
    elif action == A.ADD_SIGNER:
        entry.tone = "transferred"
        if task is not None and note[:1] in ("前", "后"):
            entry.text = (_("前加签 %(name)s") if note[0] == "前" else _("后加签 %(name)s")) % {
                "name": person_name(task.assignee)
            }
            entry.comment = _after(note, note[0] + "加签")
        else:
            entry.comment = note
    elif action == A.WITHDRAW:
        entry.tone = "withdrawn"
        entry.comment = "" if note == "申请人撤回" else note
        entry.step = ""
    elif action == A.URGE:
        entry.tone = "urge"
        digits = "".join(c for c in note if c.isdigit())
        entry.text = (
            ngettext("催办 %(n)s 人", "催办 %(n)s 人", int(digits)) % {"n": int(digits)} if digits else note
        )
    elif action == A.SKIP:
        entry.tone = "skipped"
        if task is not None:
            entry.text = _("%(name)s 已审批上一步，本步自动跳过") % {"name": person_name(task.assignee)}
        else:
            when = _step_when(flow, event.step)
            entry.text = _("条件“%(when)s”不成立，跳过本步") % {"when": when} if when else note
    elif action == A.NO_APPROVER:
        entry.tone = "warn"
        names = _after(note, "“")
        entry.text = (
            _("无人担任审批角色，转交管理员：%(names)s") % {"names": names}
            if "转交管理员" in note
            else _("无人担任审批角色，按流程设置自动通过")
        )
    elif action in (A.TIMEOUT, A.ESCALATE):
        entry.tone = "warn"
        entry.text = note
    elif action == A.STEP:
        entry.tone = "step"
        if task is not None and task.delegated_from_id:
            entry.label, entry.tone = _("委托"), "transferred"
            entry.text = _("%(owner)s 委托 %(delegate)s 代为审批") % {
                "owner": person_name(task.delegated_from),
                "delegate": person_name(task.assignee),
            }
        elif note.startswith("申请人不能审批"):
            entry.text = _("申请人不能审批本人的申请，已从审批人中排除")
        elif note.startswith("进入"):
            entry.compact = True
            mode = _step_mode(flow, event.step)
            entry.text = _("%(step)s（%(mode)s）") % {"step": step, "mode": mode} if mode else step
            entry.step = ""
        else:
            entry.text = note
    elif action == A.FINISH:
        entry.tone = "approved"
        entry.step = ""
    else:
        entry.text = note
    return entry


def _step_name(flow: Flow, code: str) -> str:
    try:
        return flow.step(code).name if code else ""
    except KeyError:
        return code


def _step_when(flow: Flow, code: str) -> str:
    try:
        return flow.step(code).when
    except KeyError:
        return ""


def _step_mode(flow: Flow, code: str) -> str:
    try:
        return diagram.mode_label(flow.step(code))
    except KeyError:
        return ""


# The diagram ---------------------------------------------------------------------------------------------------


def role_names() -> dict[str, str]:
    english = (get_language() or "").startswith("en")
    return {r.code: (r.name_en if english and r.name_en else r.name) for r in Role.objects.all()}


def _person_status(task: ApprovalTask) -> str:
    return TASK_TONE.get(task.status, "cancelled")


def instance_svg(
    instance: FlowInstance, flow: Flow, tasks: list[ApprovalTask], events: list[FlowEvent]
) -> str:
    """The instance drawn over its flow: each step's state, who acted there and how, conditions and their verdict."""
    states: dict[str, diagram.StepState] = {}
    for step in flow.steps:
        mine = [t for t in tasks if t.step == step.code]
        condition = condition_verdict(step, events)
        state = step_state(step, instance, tasks, condition)
        latest = max((t.round for t in mine), default=0)
        rounds = len({t.round for t in mine}) > 1
        people = []
        for t in mine:
            if t.status == TaskStatus.CANCELLED and t.round != latest:
                continue  # an earlier round's 或签 partner who had nothing to do
            note_bits = []
            if rounds:
                note_bits.append(_("第 %(n)s 轮") % {"n": t.round})
            if t.delegated_from_id:
                note_bits.append(_("代 %(name)s") % {"name": person_name(t.delegated_from)})
            if t.added_by_id:
                note_bits.append(_("加签"))
            when = when_text(t.acted_at) if t.acted_at else ""
            if t.status == TaskStatus.OPEN and t.due_at:
                when = (
                    _("已超时")
                    if t.due_at < timezone.now()
                    else _("%(when)s 前") % {"when": when_text(t.due_at)}
                )
            people.append(
                diagram.Person(
                    name=person_name(t.assignee),
                    status=_person_status(t),
                    when=when if t.status != TaskStatus.CANCELLED else "",
                    note=" ".join(note_bits),
                )
            )
        states[step.code] = diagram.StepState(state=state, people=tuple(people), condition=condition)
    ends = diagram.Ends(
        applicant=person_name(instance.applicant),
        submitted=when_text(instance.started_at),
        outcome=STATUS_TONE.get(instance.status, ""),
        finished=when_text(instance.finished_at) if instance.finished_at else "",
    )
    return diagram.flow_svg(
        flow,
        states=states,
        ends=ends,
        roles=role_names(),
        ident=f"inst{instance.pk}",
        title=_("审批流程图：%(name)s") % {"name": instance.flow_name},
    )
