"""Approval flow definitions: the ``flows`` key of a project type's configuration, checked when the type is published.

A flow belongs to one transition of a project type (立项审批, 支出审批, 变更审批, 验收审批) and is an ordered list of
steps. Each step names its approvers relative to the project's org (``{role: approver, org: 本单位}``) or by user, a
mode — 依次 (one after another), 会签 (all), 或签 (any one), 比例 (a share such as 2/3) — an optional DSL condition
deciding whether the step applies, an SLA (``3天``, counted in working days) and what happens when it runs out.
A step may jump forward with ``next``; publishing proves every path ends.

Example (YAML, inside a type's ``config``)::

    flows:
      - code: lixiang
        name: 立项审批
        transition: 立项审批
        steps:
          - {code: keshen, name: 科室审核, approvers: [{role: approver, org: 本单位}], mode: 或签, sla: 2天}
          - {code: caizheng, name: 财政局会签, when: 预算 > 1000万,
             approvers: [{role: approver, org: 同级财政局}], mode: 会签, sla: 3天, on_timeout: 升级}
          - {code: lingdao, name: 分管领导审批, approvers: [{role: leader, org: 本级政府}], mode: 或签}
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction
from typing import Any

import dsl

TRANSITIONS = ("立项审批", "支出审批", "变更审批", "验收审批")
MODES = ("依次", "会签", "或签", "比例")
TIMEOUTS = ("提醒", "升级", "自动通过", "自动退回")
NO_APPROVER = ("转管理员", "自动通过")
RELATIVE_ORGS = ("本单位", "上级单位", "本级政府")  # plus 同级<名称> (同级财政局) and explicit org codes
_SLA = re.compile(r"^\s*(\d{1,3})\s*(个)?(工作日|天|日)\s*$")
_RATIO = re.compile(r"^\s*(\d{1,3})\s*/\s*(\d{1,3})\s*$")
# Names a flow condition may read beside the project's: the amount the request is about (支出 amount, 变更 budget).
FLOW_FIELDS = (dsl.Field("申请金额", dsl.NUMBER, label="本次申请金额（支出金额或变更后预算）"),)


@dataclass(frozen=True)
class Approver:
    role: str = ""
    org: str = "本单位"
    user: str = ""


@dataclass(frozen=True)
class Step:
    code: str
    name: str
    approvers: tuple[Approver, ...]
    mode: str = "或签"
    ratio: Fraction = Fraction(1)
    when: str = ""
    sla_days: int | None = None
    on_timeout: str = "提醒"
    next: str = ""


@dataclass(frozen=True)
class Flow:
    code: str
    name: str
    transition: str
    steps: tuple[Step, ...]
    no_approver: str = "转管理员"
    skip_repeated: bool = True
    resume_at_returner: bool = True

    def step(self, code: str) -> Step:
        for step in self.steps:
            if step.code == code:
                return step
        raise KeyError(code)

    def index(self, code: str) -> int:
        return next(i for i, s in enumerate(self.steps) if s.code == code)

    def following(self, code: str) -> str:
        """The code of the step after ``code`` (its ``next`` or the one below it); "" at the end."""
        step = self.step(code)
        if step.next:
            return step.next
        i = self.index(code)
        return self.steps[i + 1].code if i + 1 < len(self.steps) else ""


def sla_days(text: Any) -> int | None:
    """``3天``/``3工作日``/``3日`` → 3 (SLAs are counted in working days); None when absent."""
    if text in (None, ""):
        return None
    match = _SLA.match(str(text))
    if not match:
        raise ValueError(str(text))
    return int(match.group(1))


def parse(raw: Mapping[str, Any]) -> Flow:
    """A normalised :class:`Flow` from its configuration (assumes :func:`problems` found nothing)."""
    steps = []
    for item in raw.get("steps") or []:
        ratio = Fraction(1)
        match = _RATIO.match(str(item.get("ratio") or ""))
        if match:
            ratio = Fraction(int(match.group(1)), int(match.group(2)))
        steps.append(
            Step(
                code=str(item["code"]),
                name=str(item.get("name") or item["code"]),
                approvers=tuple(
                    Approver(
                        role=str(a.get("role", "")),
                        org=str(a.get("org") or "本单位"),
                        user=str(a.get("user", "")),
                    )
                    for a in item.get("approvers") or []
                ),
                mode=str(item.get("mode") or "或签"),
                ratio=ratio,
                when=str(item.get("when") or ""),
                sla_days=sla_days(item.get("sla")),
                on_timeout=str(item.get("on_timeout") or "提醒"),
                next=str(item.get("next") or ""),
            )
        )
    return Flow(
        code=str(raw["code"]),
        name=str(raw.get("name") or raw["code"]),
        transition=str(raw["transition"]),
        steps=tuple(steps),
        no_approver=str(raw.get("no_approver") or "转管理员"),
        skip_repeated=bool(raw.get("skip_repeated", True)),
        resume_at_returner=bool(raw.get("resume_at_returner", True)),
    )


def problems(
    flows: Any, *, catalogue: dsl.Catalogue, roles: Iterable[str], users: Iterable[str] = ()
) -> list[tuple[str, str]]:
    """Every (path, Chinese message) wrong with a type's ``flows``; empty when they may be published."""
    if flows in (None, []):
        return []
    if not isinstance(flows, list):
        return [("flows", "审批流程必须是列表")]
    roles, users = set(roles), set(users)
    found: list[tuple[str, str]] = []
    seen: set[str] = set()
    cat = catalogue.extend(FLOW_FIELDS)
    for i, flow in enumerate(flows):
        where = f"flows[{i}]"
        if not isinstance(flow, Mapping):
            found.append((where, "流程必须是对象"))
            continue
        found += _flow_problems(where, flow, cat, roles, users)
        transition = flow.get("transition")
        if transition in seen:
            found.append((f"{where}.transition", f"“{transition}”已有审批流程，一个环节只能配置一个流程"))
        seen.add(transition)
    return found


def _flow_problems(where: str, flow: Mapping, cat: dsl.Catalogue, roles: set, users: set) -> list:
    found: list[tuple[str, str]] = []
    if not str(flow.get("code") or "").strip():
        found.append((f"{where}.code", "流程编码：不能为空"))
    if flow.get("transition") not in TRANSITIONS:
        found.append((f"{where}.transition", f"审批环节：必须是 {'、'.join(TRANSITIONS)} 之一"))
    if flow.get("no_approver", "转管理员") not in NO_APPROVER:
        found.append((f"{where}.no_approver", f"审批人为空时：必须是 {'、'.join(NO_APPROVER)} 之一"))
    steps = flow.get("steps")
    if not isinstance(steps, list) or not steps:
        return [*found, (f"{where}.steps", "至少需要一个审批步骤")]
    codes = [str(s.get("code") or "") for s in steps if isinstance(s, Mapping)]
    for j, step in enumerate(steps):
        found += _step_problems(f"{where}.steps[{j}]", step, cat, roles, users, codes)
    dupes = {c for c in codes if codes.count(c) > 1}
    for code in sorted(dupes):
        found.append((f"{where}.steps", f"步骤编码“{code}”重复"))
    if not found:
        found += _path_problems(where, steps)
    return found


def _step_problems(where: str, step: Any, cat: dsl.Catalogue, roles: set, users: set, codes: list) -> list:
    if not isinstance(step, Mapping):
        return [(where, "步骤必须是对象")]
    found: list[tuple[str, str]] = []
    if not str(step.get("code") or "").strip():
        found.append((f"{where}.code", "步骤编码：不能为空"))
    mode = step.get("mode", "或签")
    if mode not in MODES:
        found.append((f"{where}.mode", f"审批方式：必须是 {'、'.join(MODES)} 之一"))
    if mode == "比例":
        match = _RATIO.match(str(step.get("ratio") or ""))
        if not match or not 0 < int(match.group(1)) <= int(match.group(2)):
            found.append((f"{where}.ratio", "比例：请写成“2/3”这样的分数，且不大于 1"))
    approvers = step.get("approvers")
    if not isinstance(approvers, list) or not approvers:
        found.append((f"{where}.approvers", "审批人：至少指定一个角色或用户"))
    else:
        for k, approver in enumerate(approvers):
            found += _approver_problems(f"{where}.approvers[{k}]", approver, roles, users)
    if step.get("when"):
        for error in dsl.diagnose(str(step["when"]), cat, expect=dsl.BOOL):
            found.append((f"{where}.when", f"条件第 {error.line} 行第 {error.column} 列：{error.message}"))
    try:
        sla_days(step.get("sla"))
    except ValueError:
        found.append((f"{where}.sla", "时限：请写成“3天”或“5工作日”"))
    if step.get("on_timeout", "提醒") not in TIMEOUTS:
        found.append((f"{where}.on_timeout", f"超时处理：必须是 {'、'.join(TIMEOUTS)} 之一"))
    target = step.get("next")
    if target and target not in codes:
        found.append((f"{where}.next", f"下一步“{target}”不存在"))
    return found


def _approver_problems(where: str, approver: Any, roles: set, users: set) -> list:
    if not isinstance(approver, Mapping) or not (approver.get("role") or approver.get("user")):
        return [(where, "审批人：写 {role: 角色编码, org: 本单位} 或 {user: 用户名}")]
    found = []
    role = approver.get("role")
    if role and role not in roles:
        found.append((f"{where}.role", f"角色“{role}”不存在"))
    user = approver.get("user")
    if user and users and user not in users:
        found.append((f"{where}.user", f"用户“{user}”不存在"))
    org = str(approver.get("org") or "本单位")
    if not (
        org in RELATIVE_ORGS
        or (org.startswith("同级") and len(org) > 2)
        or re.fullmatch(r"[0-9A-Za-z-]{2,32}", org)
    ):
        found.append(
            (f"{where}.org", f"机构：写 {'、'.join(RELATIVE_ORGS)}、同级XX（如同级财政局）或机构编码")
        )
    return found


def _path_problems(where: str, steps: list) -> list:
    """Every path must end: following ``next`` (or falling through) from any step reaches the end, never a loop."""
    order = [str(s["code"]) for s in steps]
    forward = {}
    for i, step in enumerate(steps):
        forward[order[i]] = str(step.get("next") or (order[i + 1] if i + 1 < len(order) else ""))
    for start in order:
        seen, code = [], start
        while code:
            if code in seen:
                loop = " → ".join([*seen[seen.index(code) :], code])
                return [(f"{where}.steps", f"流程有环，无法结束：{loop}")]
            seen.append(code)
            code = forward[code]
    return []


def flow_for(effective: Mapping[str, Any], transition: str) -> Flow | None:
    """The published type's flow for ``transition``, or None when the transition needs no approval."""
    for raw in effective.get("flows") or []:
        if isinstance(raw, Mapping) and raw.get("transition") == transition:
            return parse(raw)
    return None


def amount(value: Any) -> Decimal | None:
    return None if value is None else Decimal(str(value))
