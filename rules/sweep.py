"""Sweeps: evaluate a rule over every project in its pack's jurisdiction, inside the database where it can.

For each (type version, form version) present in the jurisdiction the rule is compiled to a Django ORM condition
(``rules.sql``) and the database returns the ids where it holds; a rule that cannot run there (its verdict says why)
is evaluated in Python over the projects in chunks, so memory stays bounded. Only the projects that fire are loaded
in Python, to explain them. Each rule is swept in one transaction holding its row lock, so a sweep that is killed
half-way leaves nothing half-written and running it again (a retried task) gives the same alerts.

Locks. The flagged set is computed first, holding only the rule's row lock (``FOR NO KEY UPDATE``, which does not
stop a save from inserting an alert that references the rule). Then the sweep takes the audit chain's
lock *before* the rule's open alerts, the order every service takes them in (project row → audit chain → alerts,
``rules.engine.on_save`` running after the service's audit event): a save that lands during a sweep waits for it
instead of deadlocking with it. While the sweep holds the chain lock no audited write can commit, so the projects
whose alert would change (newly firing, or no longer firing) are checked again under it, and a save that
committed between the first query and the lock is never undone.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from django.db import connection, transaction
from django.db.models import prefetch_related_objects
from django.utils import timezone

import dsl
from audit.services import _lock_chain, audit_record
from projects.models import Project

from . import alerting
from .context import LIST_NAMES, RuleContext, project_record
from .engine import Bound, active_rules, bind
from .models import OPEN_STATUSES, Alert, PackStatus, Rule, RulePack
from .spec import RuleSpec, spec_of

log = logging.getLogger(__name__)
CHUNK = 500
RECHECK_CHUNK = 5000  # ids per query when the changed projects are checked again under the lock
# Test hook: seconds to hold each rule's transaction open after its writes, before it commits, so a test can kill a
# worker in the middle of a sweep (tests/rules/test_worker_kill.py). Unset (0) everywhere else.
PAUSE_ENV = "TAIZHANG_SWEEP_PAUSE_SECONDS"


@dataclass
class SweepResult:
    rule: str
    fired: int = 0
    opened: int = 0
    refreshed: int = 0
    resolved: int = 0
    in_database: bool = True
    reasons: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            k: getattr(self, k) for k in ("rule", "fired", "opened", "refreshed", "resolved", "in_database")
        }


def _groups(org: Any) -> Iterator[tuple[Any, Any]]:
    """The (type version, form version) pairs of the projects in ``org``'s subtree."""
    from forms.models import FormVersion
    from projects.models import ProjectTypeVersion

    pairs = (
        Project.objects.filter(org__path__startswith=org.path)
        .values_list("type_version_id", "form_version_id")
        .distinct()
        .order_by()
    )
    pairs = list(pairs)
    types = ProjectTypeVersion.objects.in_bulk([t for t, _ in pairs if t]) if pairs else {}
    forms = FormVersion.objects.in_bulk([f for _, f in pairs if f]) if pairs else {}
    for type_id, form_id in pairs:
        yield types.get(type_id), forms.get(form_id)


def _scope(org: Any, type_version: Any, form_version: Any):
    return Project.objects.filter(
        org__path__startswith=org.path,
        type_version=type_version,
        form_version=form_version,
    )


def group_matches(spec: RuleSpec, ctx: RuleContext, queryset, *, today: date) -> tuple[set[int], str | None]:
    """Ids in ``queryset`` where ``spec`` holds, and the reason it ran in Python (None: in the database)."""
    from . import sql

    checked = spec.checked(ctx)
    try:
        condition = sql.condition(checked, ctx, today=today, vendor=connection.vendor)
    except sql.NotInDatabase as reason:
        return _python_matches(checked, ctx, queryset, today=today), reason.construct
    return _ids(queryset.filter(condition).order_by().values_list("id", flat=True)), None


def _ids(rows) -> set[int]:
    """The ids, with PostgreSQL's JIT off for the query: once the planner's estimate for a rule's per-project
    subqueries crosses ``jit_above_cost`` (around 25 000 projects) compiling them costs 100–250 ms per query, more
    than running them (bench/bench_rules.py: an ``avg(支出.金额)`` rule grew 19× for 10× the projects with it on)."""
    if connection.vendor != "postgresql":
        return set(rows)
    with transaction.atomic():  # SET LOCAL lasts until the (outermost) transaction ends
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL jit = off")
        return set(rows)


def _python_matches(checked: dsl.CheckedExpr, ctx: RuleContext, queryset, *, today: date) -> set[int]:
    """Chunked Python evaluation: at most ``CHUNK`` projects (with the lists the rule reads) in memory at once."""
    compiled = dsl.compile(checked)
    reads = ctx.base_reads(checked.reads)
    related = _related(reads)
    rows = queryset.order_by("id")
    if related:
        rows = rows.prefetch_related(*related)
    hits = set()
    for project in rows.iterator(chunk_size=CHUNK):
        record = project_record(project, ctx, today=today, needs=reads)
        if compiled.evaluate(record, today=today) is True:
            hits.add(project.id)
    return hits


def matching_ids(spec: RuleSpec, org: Any, *, today: date | None = None) -> set[int]:
    """Ids of the projects in ``org``'s subtree (of the rule's types) where ``spec`` holds today."""
    return _matches(spec, org, today or timezone.localdate())[0]


def _matches(
    spec: RuleSpec, org: Any, today: date, *, only: set[int] | None = None, label: str = ""
) -> tuple[set[int], list[str]]:
    """Ids where ``spec`` holds (among ``only`` when given), and why some group ran in Python.

    A (type, form) version where the rule does not type-check (a type published after the pack no longer has a name
    the rule reads, or the pack's own indicators do not check against it) is skipped, not fatal.
    """
    hits: set[int] = set()
    reasons: list[str] = []
    for type_version, form_version in _groups(org):
        try:
            ctx = spec.context(type_version, form_version)
            if not spec.applies_to(ctx):
                continue
            scope = _scope(org, type_version, form_version)
            if only is None:
                found, reason = group_matches(spec, ctx, scope, today=today)
            else:
                found, reason = set(), None
                for chunk in _chunks(sorted(only), RECHECK_CHUNK):
                    part, reason = group_matches(spec, ctx, scope.filter(id__in=chunk), today=today)
                    found |= part
        except dsl.DslError as error:
            log.warning("rule %s skipped for %s: %s", label or spec.code, type_version, error)
            continue
        hits |= found
        if reason:
            reasons.append(reason)
    return hits, reasons


def sweep_rule(rule: Rule, *, today: date | None = None) -> SweepResult:
    """Bring the alerts of one rule in line with the ledger: raise new ones, refresh open ones, resolve cleared ones."""
    today = today or timezone.localdate()
    result = SweepResult(rule=f"{rule.pack.code}/{rule.code}")
    if rule.pack.effective_on > today:  # loaded ahead of its effective date: nothing to enforce yet
        return result
    spec = spec_of(rule)
    with transaction.atomic():
        # One sweep of a rule at a time. NO KEY UPDATE: a save raising a new alert of this rule meanwhile only
        # needs KEY SHARE on the rule row (the alert's foreign key) and must not wait for the whole sweep.
        Rule.objects.select_for_update(no_key=True).filter(pk=rule.pk).first()
        hits, reasons = _matches(spec, rule.pack.org, today, label=rule.key)
        result.in_database, result.reasons = not reasons, reasons
        _lock_chain()  # the lock audit_record takes, before the alert rows: see "Locks" above
        open_alerts = {
            a.project_id: a
            for a in Alert.objects.select_for_update().filter(rule_key=rule.key, status__in=OPEN_STATUSES)
        }
        changing = hits.symmetric_difference(open_alerts)
        if changing:  # a save may have committed since the first query: decide these under the lock
            now, _ = _matches(spec, rule.pack.org, today, only=changing, label=rule.key)
            hits = (hits - changing) | now
        result.fired = len(hits)
        if rule.raise_alert:
            _fire_all(rule, hits, open_alerts, today, result)
        for project_id, alert in open_alerts.items():
            if project_id not in hits:
                alerting.resolve(alert)
                result.resolved += 1
        audit_record(
            actor=None,
            action="rules.sweep",
            obj=rule,
            org=rule.pack.org,
            after={**result.as_dict(), "today": today.isoformat()},
        )
        _pause_for_tests()
    return result


def _pause_for_tests() -> None:
    seconds = float(os.environ.get(PAUSE_ENV) or 0)
    if seconds > 0:
        time.sleep(seconds)


_RELATED = {"支出": "expenditures", "合同": "contracts", "预算明细": "budget_lines"}


def _related(reads: Iterable[str]) -> list[str]:
    """The project relations holding the money lists a rule reads (to prefetch them, never one query per project)."""
    return [_RELATED[name] for name in LIST_NAMES if name in reads]


def _fire_all(rule: Rule, hits: set[int], open_alerts: dict, today: date, result: SweepResult) -> None:
    for chunk in _chunks(sorted(hits), CHUNK):
        projects = list(
            Project.objects.filter(id__in=chunk).select_related(
                "org", "type_version__type", "form_version__form"
            )
        )
        bounds = {p.id: bind(rule, p) for p in projects}
        reads = frozenset().union(*(b.reads for b in bounds.values() if b is not None))
        prefetch_related_objects(projects, *_related(reads))
        for project in projects:
            bound = bounds[project.id]
            if bound is None:
                continue
            record = project_record(project, bound.ctx, today=today, needs=bound.reads)
            existing = open_alerts.get(project.id)
            alerting.fire(bound, project, record, today=today, existing=existing)
            if existing is None:
                result.opened += 1
            else:
                result.refreshed += 1


def _chunks(items: list[int], size: int) -> Iterable[list[int]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def sweep(*, rule_code: str | None = None, today: date | None = None) -> list[SweepResult]:
    """Sweep every scheduled rule of every active pack (or only those whose code is ``rule_code``)."""
    rules = Rule.objects.filter(pack__status=PackStatus.ACTIVE, on_schedule=True).select_related(
        "pack", "pack__org", "article"
    )
    if rule_code:
        rules = rules.filter(code=rule_code)
    return [sweep_rule(rule, today=today) for rule in rules.order_by("pack_id", "position")]


def rule_verdicts(pack: RulePack) -> dict[str, str]:
    """For each rule of ``pack``: "" when it runs in the database for every type in scope, else why it does not.

    Types where the rule does not type-check are left out, as the sweep leaves them out (it never runs there).
    """
    from . import sql

    out = {}
    for rule in pack.rules.all():
        spec = spec_of(rule)
        reasons = []
        for type_version, form_version in _groups(pack.org):
            try:
                ctx = spec.context(type_version, form_version)
                reason = sql.verdict(spec.checked(ctx), ctx) if spec.applies_to(ctx) else None
            except dsl.DslError:
                continue
            if reason:
                reasons.append(reason)
        out[rule.code] = "；".join(dict.fromkeys(reasons))
    return out


__all__ = ["Bound", "SweepResult", "active_rules", "matching_ids", "rule_verdicts", "sweep", "sweep_rule"]
