"""How far a running approval has come, step by step, read from its tasks and events — one reading for the approval
page's SVG (``workflow.present.instance_svg``) and for the API's diagram (nodes, edges and Mermaid text)."""

from __future__ import annotations

from typing import Any

from .definition import Flow, Step
from .models import FlowEvent, FlowInstance, InstanceStatus, TaskStatus

DONE = (TaskStatus.APPROVED, TaskStatus.SKIPPED)


def condition_verdict(step: Step, events: list) -> str:
    """A conditional step's verdict: the last decision recorded when the step was reached (as the page draws it)."""
    if not step.when:
        return ""
    decided = [
        e
        for e in events
        if e.step == step.code
        and e.task_id is None
        and (
            e.action == FlowEvent.Action.SKIP
            or (e.action == FlowEvent.Action.STEP and e.note.startswith("进入"))
        )
    ]
    if not decided:
        return "undecided"
    return "not_applied" if decided[-1].action == FlowEvent.Action.SKIP else "applied"


def step_state(step: Step, instance: FlowInstance | None, tasks: list, condition: str) -> str:
    """The same reading of tasks and events as the approval page's diagram (``workflow.present.instance_svg``)."""
    if instance is None:
        return "pending"
    mine = [t for t in tasks if t.step == step.code]
    latest = max((t.round for t in mine), default=0)
    last_round = [t for t in mine if t.round == latest]
    if instance.status == InstanceStatus.RUNNING and instance.current_step == step.code:
        return "current"
    if condition == "not_applied":
        return "skipped"
    if any(t.status == TaskStatus.RETURNED for t in last_round):
        return "returned"
    closed = (TaskStatus.APPROVED, TaskStatus.SKIPPED, TaskStatus.CANCELLED)
    if (
        last_round
        and all(t.status in closed for t in last_round)
        and any(t.status in DONE for t in last_round)
    ):
        return "done"
    if last_round and instance.status == InstanceStatus.WITHDRAWN:
        return "cancelled"
    return "pending"


def _node_approvers(step: Step, tasks: list) -> list[dict]:
    mine = [t for t in tasks if t.step == step.code]
    if not mine:
        return []
    latest = max(t.round for t in mine)
    return [
        {
            "username": t.assignee.username,
            "display_name": t.assignee.display_name,
            "status": t.status,
        }
        for t in mine
        if t.round == latest
    ]


def diagram(
    flow: Flow, instance: FlowInstance | None = None, tasks: list | None = None, events: list | None = None
) -> dict[str, Any]:
    """Nodes (start, each step, end) with their state for ``instance``, edges (sequence and condition bypasses)."""
    tasks, events = tasks or [], events or []
    status = instance.status if instance is not None else ""
    start_state = {"": "pending", InstanceStatus.RETURNED: "returned"}.get(status, "done")
    end_state = {InstanceStatus.APPROVED: "done", InstanceStatus.WITHDRAWN: "cancelled"}.get(
        status, "pending"
    )
    nodes: list[dict[str, Any]] = [
        {
            "id": "start",
            "kind": "start",
            "label": "提交申请",
            "mode": "",
            "when": "",
            "condition": "",
            "state": start_state,
            "approvers": [],
        }
    ]
    for step in flow.steps:
        condition = condition_verdict(step, events) if instance is not None else ""
        nodes.append(
            {
                "id": step.code,
                "kind": "step",
                "label": step.name,
                "mode": step.mode,
                "when": step.when,
                "condition": condition,
                "state": step_state(step, instance, tasks, condition),
                "approvers": _node_approvers(step, tasks),
            }
        )
    nodes.append(
        {
            "id": "end",
            "kind": "end",
            "label": "已撤回" if status == InstanceStatus.WITHDRAWN else "审批通过",
            "mode": "",
            "when": "",
            "condition": "",
            "state": end_state,
            "approvers": [],
        }
    )
    edges: list[dict[str, str]] = []
    if flow.steps:
        edges.append({"source": "start", "target": flow.steps[0].code, "kind": "next", "label": ""})
    for step in flow.steps:
        edges.append(
            {"source": step.code, "target": flow.following(step.code) or "end", "kind": "next", "label": ""}
        )
    for step in flow.steps:
        if not step.when:
            continue
        bypass = flow.following(step.code) or "end"
        for edge in [e for e in edges if e["target"] == step.code and e["kind"] == "next"]:
            edges.append(
                {"source": edge["source"], "target": bypass, "kind": "skip", "label": f"不满足：{step.when}"}
            )
    return {"nodes": nodes, "edges": edges, "mermaid": _mermaid(nodes, edges)}


def _mermaid(nodes: list[dict], edges: list[dict]) -> str:
    ids = {n["id"]: f"n{i}" for i, n in enumerate(nodes)}

    def text(value: str) -> str:
        return value.replace('"', "#quot;")

    lines = ["flowchart TD"]
    for node in nodes:
        label = text(node["label"] + (f"（{node['mode']}）" if node["mode"] else ""))
        shape = f'(("{label}"))' if node["kind"] != "step" else f'["{label}"]'
        lines.append(f"  {ids[node['id']]}{shape}")
    for edge in edges:
        arrow = "-.->" if edge["kind"] == "skip" else "-->"
        label = f'|"{text(edge["label"])}"|' if edge["label"] else ""
        lines.append(f"  {ids[edge['source']]} {arrow}{label} {ids[edge['target']]}")
    for state, style in (
        ("done", "fill:#e6f4ea,stroke:#1e8e3e"),
        ("current", "fill:#e8f0fe,stroke:#1a73e8,stroke-width:3px"),
        ("returned", "fill:#fce8e6,stroke:#d93025"),
        ("skipped", "fill:#f1f3f4,stroke:#9aa0a6,stroke-dasharray:4"),
        ("cancelled", "fill:#f1f3f4,stroke:#5f6368"),
    ):
        members = [ids[n["id"]] for n in nodes if n["state"] == state]
        if members:
            lines.append(f"  classDef {state} {style}")
            lines.append(f"  class {','.join(members)} {state}")
    return "\n".join(lines)


# ── instances and tasks ─────────────────────────────────────────────────────────────────────────────────────────
