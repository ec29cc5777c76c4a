"""Rules in action on one project: which rules apply, evaluating them on save, blocking, raising and resolving alerts.

Services call :func:`on_save` inside their transaction, after the write: the applicable rules whose inputs the write
touched are evaluated with the compiled closures against the project as it now is. A rule that blocks the operation
and holds raises :class:`RuleBlocked` (409), which rolls the whole write back; the others raise, refresh or resolve
alerts in the same transaction. Nothing is sent until the transaction commits.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date
from functools import lru_cache
from typing import Any

from django.utils import timezone

import dsl
from accounts.permissions import ancestor_paths
from core.errors import Conflict

from . import alerting
from .context import RuleContext, context_for, project_record
from .models import PackStatus, Rule, RulePack
from .spec import OPERATIONS, RuleSpec, spec_of

log = logging.getLogger(__name__)


class RuleBlocked(Conflict):
    """A blocking rule holds for the project as the write would leave it: nothing was written."""

    code = "rule_blocked"


@dataclass(frozen=True)
class Bound:
    """A loaded rule compiled for one project type version: what it reads and how to evaluate it."""

    rule: Rule
    spec: RuleSpec
    ctx: RuleContext
    compiled: dsl.CompiledExpr
    reads: frozenset[str]

    def evaluate(self, record: dict[str, Any], today: date) -> bool:
        return self.compiled.evaluate(record, today=today) is True


def _pack_ids(org: Any, today: date | None = None) -> tuple[int, ...]:
    """The packs in force at ``org``: loaded at it or above it, active, effective by today (one small query)."""
    return tuple(
        RulePack.objects.filter(
            status=PackStatus.ACTIVE,
            org__path__in=ancestor_paths(org.path),
            effective_on__lte=today or timezone.localdate(),
        )
        .order_by("id")
        .values_list("id", flat=True)
    )


def active_rules(org: Any, *, today: date | None = None) -> list[Rule]:
    """Rules of the packs in force at ``org``, in pack and position order."""
    pack_ids = _pack_ids(org, today)
    return list(_rules_of(pack_ids)) if pack_ids else []


@lru_cache(maxsize=256)
def _rules_of(pack_ids: tuple[int, ...]) -> tuple[Rule, ...]:
    """Packs are immutable once loaded, so their rules are cached by the set of pack ids in force."""
    rules = Rule.objects.filter(pack_id__in=pack_ids).select_related("pack", "pack__org", "article")
    return tuple(rules.order_by("pack_id", "position"))


def clear_caches() -> None:
    """Forget compiled rules (tests that reuse ids; production never needs it: cached rows never change)."""
    for cached in (_rules_of, _bind, _bound_for):
        cached.cache_clear()


def bind(rule: Rule, project: Any) -> Bound | None:
    """``rule`` compiled for ``project``'s type version, or None when it does not apply to (or type-check against)
    that type — a pack loaded before a type was published may not know all its names; the sweep skips it too."""
    return _bind(rule, project.type_version_id, project.form_version_id)


@lru_cache(maxsize=4096)
def _bind(rule: Rule, type_version_id: int | None, form_version_id: int | None) -> Bound | None:
    """Compiled once per (rule, type version, form version): all three are immutable once published or loaded."""
    type_version, form_version = _versions(type_version_id, form_version_id)
    spec = spec_of(rule)
    ctx = context_for(type_version, form_version, extra=spec.indicators)
    if not spec.applies_to(ctx):
        return None
    try:
        checked = spec.checked(ctx)
    except dsl.DslError as error:
        log.warning("rule %s does not apply to type version %s: %s", rule.key, type_version_id, error)
        return None
    return Bound(rule, spec, ctx, dsl.compile(checked), ctx.base_reads(checked.reads))


def _versions(type_version_id: int | None, form_version_id: int | None) -> tuple[Any, Any]:
    from forms.models import FormVersion
    from projects.models import ProjectTypeVersion

    type_version = (
        ProjectTypeVersion.objects.select_related("type", "type__base", "type__base__base").get(
            pk=type_version_id
        )
        if type_version_id
        else None
    )
    form_version = FormVersion.objects.get(pk=form_version_id) if form_version_id else None
    return type_version, form_version


def bound_rules(project: Any, *, trigger: str = "save") -> list[Bound]:
    """The rules that apply to ``project`` for ``trigger`` ("save" or "schedule"), compiled for its type."""
    pack_ids = _pack_ids(project.org)
    if not pack_ids:
        return []
    return list(_bound_for(pack_ids, project.type_version_id, project.form_version_id, trigger))


@lru_cache(maxsize=1024)
def _bound_for(
    pack_ids: tuple[int, ...], type_version_id: int | None, form_version_id: int | None, trigger: str
) -> tuple[Bound, ...]:
    out = []
    for rule in _rules_of(pack_ids):
        if (trigger == "save" and not rule.on_save) or (trigger == "schedule" and not rule.on_schedule):
            continue
        bound = _bind(rule, type_version_id, form_version_id)
        if bound is not None:
            out.append(bound)
    return tuple(out)


def names_of_columns(columns: Iterable[str]) -> frozenset[str]:
    """The DSL names of changed ``Project`` columns (``budget`` → 预算); columns rules cannot read are dropped."""
    from projects.config import LEDGER_FIELDS

    by_column = {column: name for name, _kind, column in LEDGER_FIELDS}
    names = {by_column[c] for c in columns if c in by_column}
    if "data" in columns:
        names.add("*")
    return frozenset(names)


def _touches(bound: Bound, touched: frozenset[str]) -> bool:
    return "*" in touched or not bound.reads.isdisjoint(touched)


def on_save(
    project: Any,
    *,
    operation: str,
    touched: Iterable[str] | None = None,
    actor: Any = None,
    today: date | None = None,
) -> list[Any]:
    """Evaluate the rules a write touched (call inside the write's transaction, after the write).

    ``touched``: the DSL names the write changed (default: those of ``operation`` in ``rules.spec.OPERATIONS``). A
    rule is re-evaluated only when it reads one of them. Returns the alerts raised or refreshed.
    """
    if operation not in OPERATIONS:
        raise ValueError(f"unknown operation {operation!r}")
    names = frozenset(touched) if touched is not None else OPERATIONS[operation]
    today = today or timezone.localdate()
    due = [b for b in bound_rules(project) if _touches(b, names)]
    if not due:
        return []
    needs = frozenset().union(*(b.reads for b in due))
    record = project_record(project, due[0].ctx, today=today, needs=needs)
    fired, cleared = [], []
    for bound in due:
        if bound.ctx is not due[0].ctx:  # a pack with its own indicators reads a record of its own
            rec = project_record(project, bound.ctx, today=today, needs=bound.reads)
        else:
            rec = record
        (fired if bound.evaluate(rec, today) else cleared).append((bound, rec))
    _block(fired, operation)
    return alerting.apply(project, fired=fired, cleared=cleared, today=today, actor=actor)


def preflight(
    project: Any,
    *,
    operation: str,
    touched: Iterable[str] | None = None,
    adjust: Callable[[dict[str, Any]], None] | None = None,
    today: date | None = None,
) -> None:
    """Refuse a write that a blocking rule would stop, before it is made (a request that takes effect only after
    approval: a payment under 支出审批, a 变更申请). ``project`` (possibly an unsaved copy carrying the change) and
    ``adjust`` describe the state the write would leave; nothing is written and no alert is raised."""
    names = frozenset(touched) if touched is not None else OPERATIONS[operation]
    today = today or timezone.localdate()
    due = [b for b in bound_rules(project) if operation in b.spec.block and _touches(b, names)]
    fired = []
    for bound in due:
        record = project_record(project, bound.ctx, today=today, needs=bound.reads, adjust=adjust)
        if bound.evaluate(record, today):
            fired.append((bound, record))
    _block(fired, operation)


def _block(fired: list[tuple[Bound, dict]], operation: str) -> None:
    blocking = [(b, rec) for b, rec in fired if operation in b.spec.block]
    if not blocking:
        return
    messages = [alerting.render_message(b.spec, rec) for b, rec in blocking]
    raise RuleBlocked(
        "；".join(messages)
        + f"（{operation}被规则阻止："
        + "、".join(b.spec.name for b, _ in blocking)
        + "）",
        fields={"rules": [f"{b.rule.pack.name} {b.spec.code} {b.spec.name}" for b, _ in blocking]},
    )
