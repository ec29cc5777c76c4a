"""Approval flows drawn as SVG on the server: the definition alone, or a running instance over it.

Vertical, one box per step, so it reads top to bottom on a phone as on a desktop; no script, no font download, no
network. Every piece of text — step names, conditions, people's names — is configuration or user data, so each is
XML-escaped here and nothing else is ever interpolated into the markup. The caller (a view) turns tasks and events
into :class:`StepState` values; this module only lays them out.

States of a step: ``done`` (approved or auto-skipped), ``current`` (waiting for its approvers now), ``returned``
(sent back from here), ``skipped`` (its condition did not hold), ``cancelled`` (the request was withdrawn first) and
``pending`` (not reached). People: ``approved``, ``returned``, ``transferred``, ``skipped``, ``open``, ``waiting``,
``cancelled``.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass, field
from html import escape

from django.utils.translation import gettext as _
from django.utils.translation import pgettext

from .definition import Flow, Step

WIDTH = 324  # the width of a phone's card: drawn at 1:1 there, so 13px text stays 13px
BOX_X = 6
BOX_W = 292
LANE_X = 312  # where jumps (``next``) run, right of the boxes
PAD = 12
NAME_SIZE = 15
TEXT_SIZE = 13
LINE = 19
GAP = 30  # vertical space for the arrow between two nodes
PILL_H = 38

STATE_STYLE = {
    # state: (stroke, fill, stroke width, dash)
    "done": ("#1a7f37", "#eef8f1", 1.5, ""),
    "current": ("#b3261e", "#fff5f4", 3, ""),
    "returned": ("#bc4c00", "#fff4e5", 2, ""),
    "skipped": ("#8c959f", "#f6f8fa", 1.5, "6 4"),
    "cancelled": ("#8c959f", "#f6f8fa", 1.5, ""),
    "pending": ("#afb8c1", "#ffffff", 1.5, ""),
}
PERSON_COLOUR = {
    "approved": "#1a7f37",
    "returned": "#bc4c00",
    "transferred": "#0969da",
    "skipped": "#8c959f",
    "open": "#b3261e",
    "waiting": "#bf8700",
    "cancelled": "#afb8c1",
}


@dataclass(frozen=True)
class Person:
    """One approver's part in a step, as the diagram shows it: name, what happened and when (already formatted)."""

    name: str
    status: str
    when: str = ""
    note: str = ""


@dataclass(frozen=True)
class StepState:
    """What happened at one step of an instance; ``condition`` is "" (no condition), ``applied`` or ``not_applied``
    (decided when the step was reached) or ``undecided`` (not reached yet)."""

    state: str = "pending"
    people: tuple[Person, ...] = ()
    condition: str = ""


@dataclass(frozen=True)
class Ends:
    """The start and end nodes of an instance: who applied and how the request stands."""

    applicant: str = ""
    submitted: str = ""
    outcome: str = ""  # running | returned | approved | withdrawn
    finished: str = ""


@dataclass
class _Canvas:
    marker: str
    parts: list[str] = field(default_factory=list)

    def add(self, markup: str) -> None:
        self.parts.append(markup)


# Text ----------------------------------------------------------------------------------------------------------


def _width(char: str, size: float) -> float:
    """Approximate advance of one character: CJK and full-width forms are square, Latin about half as wide."""
    if unicodedata.east_asian_width(char) in ("W", "F"):
        return size
    return size * (0.36 if char in " .,:;|ilI'!()[]" else 0.58)


def text_width(text: str, size: float) -> float:
    return sum(_width(c, size) for c in text)


def _wide(char: str) -> bool:
    return unicodedata.east_asian_width(char) in ("W", "F")


def wrap(text: str, limit: float, size: float, *, lines: int = 3) -> list[str]:
    """``text`` broken into at most ``lines`` lines no wider than ``limit``; the last one ends in … when cut.

    Chinese breaks between any two characters; a Latin word is kept whole where a space allows it."""
    out: list[str] = []
    current = ""
    rest = " ".join(str(text).split())
    cut = False
    while rest:
        char, rest = rest[0], rest[1:]
        if text_width(current + char, size) <= limit or not current:
            current += char
            continue
        if len(out) + 1 == lines:
            cut = True
            break
        if char != " " and not _wide(char) and not _wide(current[-1]) and " " in current:
            head, _sep, tail = current.rpartition(" ")
            out.append(head)
            current = tail + char
        else:
            out.append(current.rstrip())
            current = "" if char == " " else char
    if cut:
        while current and text_width(current + "…", size) > limit:
            current = current[:-1]
        out.append(current + "…")
    elif current:
        out.append(current)
    return out or [""]


FILL = {
    "d-name": ("#1f2328", "700"),
    "d-sub": ("#59636e", ""),
    "d-cond": ("#7d4e00", ""),
    "d-person": ("#1f2328", ""),
    "d-warn": ("#bc4c00", "600"),
    "d-chip": ("#1f2328", ""),
    "d-badge": ("#ffffff", "700"),
}


def _text(
    x: float, y: float, text: str, *, size: float = TEXT_SIZE, cls: str = "d-sub", anchor: str = ""
) -> str:
    fill, weight = FILL.get(cls, ("#1f2328", ""))
    attrs = f' x="{x:.1f}" y="{y:.1f}" font-size="{size}" class="{cls}" fill="{fill}"'
    if weight:
        attrs += f' font-weight="{weight}"'
    if anchor:
        attrs += f' text-anchor="{anchor}"'
    return f"<text{attrs}>{escape(text)}</text>"


# Labels ----------------------------------------------------------------------------------------------------------


def mode_label(step: Step) -> str:
    if step.mode == "比例":
        return _("比例 %(ratio)s") % {"ratio": f"{step.ratio.numerator}/{step.ratio.denominator}"}
    return {
        "或签": pgettext("审批方式", "或签"),
        "会签": pgettext("审批方式", "会签"),
        "依次": pgettext("审批方式", "依次"),
    }.get(step.mode, step.mode)


def org_label(spec: str) -> str:
    """An approver's org spec as people read it (本单位, 上级单位, 同级财政局 …; codes stay as written)."""
    fixed = {"本单位": _("本单位"), "上级单位": _("上级单位"), "本级政府": _("本级政府")}
    if spec in fixed:
        return fixed[spec]
    if spec.startswith("同级") and len(spec) > 2:
        return _("同级%(name)s") % {"name": spec[2:]}
    return spec


def approvers_label(step: Step, roles: Mapping[str, str]) -> str:
    parts = []
    for a in step.approvers:
        if a.user:
            parts.append(_("用户 %(name)s") % {"name": a.user})
        else:
            parts.append(f"{org_label(a.org)} · {roles.get(a.role, a.role)}")
    return _("、").join(parts)


def timeout_label(step: Step) -> str:
    actions = {
        "提醒": _("超时提醒"),
        "升级": _("超时升级"),
        "自动通过": _("超时自动通过"),
        "自动退回": _("超时自动退回"),
    }
    return actions.get(step.on_timeout, step.on_timeout)


def _person_line(person: Person) -> str:
    status = {
        "approved": pgettext("审批结果", "同意"),
        "returned": pgettext("审批结果", "退回"),
        "transferred": pgettext("审批结果", "转办"),
        "skipped": pgettext("审批结果", "自动跳过"),
        "open": pgettext("审批结果", "待办"),
        "waiting": pgettext("审批结果", "待前序"),
        "cancelled": pgettext("审批结果", "无需办理"),
    }.get(person.status, person.status)
    bits = [person.name, status]
    if person.note:
        bits.append(person.note)
    if person.when:
        bits.append(person.when)
    return " · ".join(bits)


# Layout ----------------------------------------------------------------------------------------------------------


@dataclass
class _Box:
    step: Step
    state: StepState | None
    lines: list[tuple[str, str, str]]  # (text, css class, dot colour or "")
    top: float = 0
    height: float = 0


def _box_lines(step: Step, state: StepState | None, roles: Mapping[str, str], flow: Flow) -> list:
    limit = BOX_W - 2 * PAD
    lines: list[tuple[str, str, str]] = []

    def add(text: str, cls: str = "d-sub", dot: str = "", *, max_lines: int = 2) -> None:
        indent = 14 if dot else 0
        for i, part in enumerate(wrap(text, limit - indent, TEXT_SIZE, lines=max_lines)):
            lines.append((part, cls, dot if i == 0 or not dot else "-"))  # "-": indented under a dot

    add(approvers_label(step, roles))
    facts = []
    if step.sla_days:
        facts.append(_("时限 %(n)s 个工作日") % {"n": step.sla_days})
        facts.append(timeout_label(step))
    if step.next:
        facts.append(_("完成后转到“%(name)s”") % {"name": flow.step(step.next).name})
    if facts:
        add(" · ".join(facts))
    if step.when:
        verdict = {
            "applied": _("条件成立"),
            "not_applied": _("条件不成立，已跳过"),
            "undecided": _("到达时判断"),
        }.get(state.condition if state else "", "")
        text = _("条件：%(when)s") % {"when": step.when}
        add(
            _("%(text)s（%(verdict)s）") % {"text": text, "verdict": verdict} if verdict else text,
            "d-cond",
            max_lines=3,
        )
    if state is not None:
        for person in state.people:
            add(_person_line(person), "d-person", PERSON_COLOUR.get(person.status, "#8c959f"))
    return lines


def flow_svg(
    flow: Flow,
    *,
    states: Mapping[str, StepState] | None = None,
    ends: Ends | None = None,
    roles: Mapping[str, str] | None = None,
    ident: str = "flow",
    title: str = "",
) -> str:
    """The flow as an SVG element (a string ready to inline). With ``states`` it shows an instance."""
    roles = roles or {}
    ident = "".join(c for c in ident if c.isalnum() or c in "-_") or "flow"
    canvas = _Canvas(marker=f"url(#{ident}-a)")
    y = 8.0

    # Start node
    start_label = _("申请人提交")
    if ends and ends.applicant:
        start_label = _("%(name)s 提交申请") % {"name": ends.applicant}
    start_sub = ends.submitted if ends else ""
    start_state = "returned" if ends and ends.outcome == "returned" else ("done" if ends else "pending")
    y = _pill(canvas, y, start_label, start_sub, start_state)
    if ends and ends.outcome == "returned":
        canvas.add(
            _text(BOX_X + BOX_W / 2, y + 14, _("已退回申请人，待重新提交"), cls="d-warn", anchor="middle")
        )
        y += 16

    boxes: list[_Box] = []
    for step in flow.steps:
        state = states.get(step.code) if states is not None else None
        boxes.append(_Box(step, state, _box_lines(step, state, roles, flow)))

    arrow_from = y
    jump_from: dict[str, float] = {}
    for index, box in enumerate(boxes):
        top = arrow_from + GAP
        previous = boxes[index - 1].step if index else None
        if previous is None or not previous.next:
            _arrow(canvas, arrow_from, top)
        box.top = top
        box.height = PAD + NAME_SIZE + 8 + LINE * len(box.lines) + PAD - 6
        _draw_box(canvas, box, states is not None)
        arrow_from = top + box.height
        if box.step.next:
            jump_from[box.step.code] = top + box.height / 2

    # End node
    end_top = arrow_from + GAP
    last = boxes[-1].step if boxes else None
    if last is None or not last.next:
        _arrow(canvas, arrow_from, end_top)
    end_state = {"approved": "done", "withdrawn": "cancelled"}.get(ends.outcome if ends else "", "pending")
    end_label = _("已撤回") if ends and ends.outcome == "withdrawn" else _("审批通过")
    y = _pill(canvas, end_top, end_label, ends.finished if ends else "", end_state)

    for code, y_from in jump_from.items():
        target = next((b for b in boxes if b.step.code == flow.step(code).next), None)
        if target is not None:
            _jump(canvas, y_from, target.top + 22)

    height = y + 8
    heading = title or flow.name
    desc = _summary(flow, states)
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" class="flow-diagram" viewBox="0 0 {WIDTH} {height:.0f}" '
        f'width="{WIDTH}" height="{height:.0f}" role="img" aria-labelledby="{ident}-t {ident}-d">'
        f'<title id="{ident}-t">{escape(heading)}</title><desc id="{ident}-d">{escape(desc)}</desc>'
        f'<defs><marker id="{ident}-a" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" '
        f'markerHeight="7" orient="auto-start-reverse"><path d="M0 0L10 5L0 10z" fill="#57606a"/></marker>'
        f"</defs>" + "".join(canvas.parts) + "</svg>"
    )


def _summary(flow: Flow, states: Mapping[str, StepState] | None) -> str:
    """The diagram as one sentence, for screen readers."""
    names = []
    for step in flow.steps:
        text = _("%(step)s（%(mode)s）") % {"step": step.name, "mode": mode_label(step)}
        state = states.get(step.code) if states else None
        if state is not None:
            text += " " + {
                "done": _("已完成"),
                "current": _("当前"),
                "returned": _("已退回"),
                "skipped": _("已跳过"),
                "cancelled": _("已取消"),
                "pending": _("未开始"),
            }.get(state.state, "")
        names.append(text)
    return " → ".join(names)


def _pill(canvas: _Canvas, top: float, label: str, sub: str, state: str) -> float:
    stroke, fill, width, _dash = STATE_STYLE[state]
    height = PILL_H + (14 if sub else 0)
    x, w = BOX_X + 36, BOX_W - 72
    canvas.add(
        f'<rect x="{x}" y="{top:.1f}" width="{w}" height="{height}" rx="{PILL_H / 2}" '
        f'fill="{fill}" stroke="{stroke}" stroke-width="{width}"/>'
    )
    label = wrap(label, w - 24, NAME_SIZE, lines=1)[0]
    canvas.add(_text(BOX_X + BOX_W / 2, top + 24, label, size=NAME_SIZE, cls="d-name", anchor="middle"))
    if sub:
        canvas.add(_text(BOX_X + BOX_W / 2, top + 40, sub, size=12, cls="d-sub", anchor="middle"))
    return top + height


def _arrow(canvas: _Canvas, y1: float, y2: float) -> None:
    x = BOX_X + BOX_W / 2
    canvas.add(
        f'<line x1="{x}" y1="{y1 + 2:.1f}" x2="{x}" y2="{y2 - 2:.1f}" stroke="#57606a" '
        f'stroke-width="1.5" marker-end="{canvas.marker}"/>'
    )


def _jump(canvas: _Canvas, y1: float, y2: float) -> None:
    right = BOX_X + BOX_W
    canvas.add(
        f'<path d="M{right} {y1:.1f} H{LANE_X} V{y2:.1f} H{right + 2}" fill="none" stroke="#57606a" '
        f'stroke-width="1.5" stroke-dasharray="4 3" marker-end="{canvas.marker}"/>'
    )


def _draw_box(canvas: _Canvas, box: _Box, instance: bool) -> None:
    step, state = box.step, box.state
    key = state.state if state is not None else "pending"
    if not instance and step.when:
        key = "pending"
    stroke, fill, width, dash = STATE_STYLE.get(key, STATE_STYLE["pending"])
    if step.when and not dash:
        dash = "6 3"  # a conditional step has a dashed border, whatever its state
    dash_attr = f' stroke-dasharray="{dash}"' if dash else ""
    canvas.add(
        f'<g class="d-step d-{escape(key)}" data-step="{escape(step.code)}">'
        f'<rect x="{BOX_X}" y="{box.top:.1f}" width="{BOX_W}" height="{box.height:.1f}" rx="10" '
        f'fill="{fill}" stroke="{stroke}" stroke-width="{width}"{dash_attr}/>'
    )
    y = box.top + PAD + NAME_SIZE
    x = BOX_X + PAD
    chip = mode_label(step)
    chip_w = text_width(chip, 12) + 14
    name_limit = BOX_W - 2 * PAD - chip_w - 8
    if step.when:
        # a small diamond before the name marks a conditional step
        canvas.add(
            f'<path d="M{x + 6} {y - 11}l6 6l-6 6l-6 -6z" fill="#fff8c5" stroke="#9a6700" stroke-width="1.2"/>'
        )
        x += 17
        name_limit -= 17
    if instance and key == "current":
        badge = _("当前")
        badge_w = text_width(badge, 12) + 12
        name_limit -= badge_w + 6
    name = wrap(step.name, name_limit, NAME_SIZE, lines=1)[0]
    canvas.add(_text(x, y, name, size=NAME_SIZE, cls="d-name"))
    if instance and key == "current":
        bx = x + text_width(name, NAME_SIZE) + 6
        canvas.add(
            f'<rect x="{bx:.1f}" y="{y - 13:.1f}" width="{badge_w:.1f}" height="18" rx="9" fill="#b3261e"/>'
        )
        canvas.add(_text(bx + badge_w / 2, y, badge, size=12, cls="d-badge", anchor="middle"))
    cx = BOX_X + BOX_W - PAD - chip_w
    canvas.add(
        f'<rect x="{cx:.1f}" y="{y - 13:.1f}" width="{chip_w:.1f}" height="18" rx="4" fill="#eef2f6"/>'
    )
    canvas.add(_text(cx + chip_w / 2, y, chip, size=12, cls="d-chip", anchor="middle"))
    y += 8
    for text, cls, dot in box.lines:
        y += LINE
        tx = BOX_X + PAD
        if dot:
            if dot != "-":
                canvas.add(f'<circle cx="{tx + 4}" cy="{y - 4.5:.1f}" r="4" fill="{dot}"/>')
            tx += 14
        canvas.add(_text(tx, y, text, cls=cls))
    canvas.add("</g>")
