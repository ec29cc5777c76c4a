"""Policy rule packs against the database: test, load (all or nothing), preview the impact, compare, list.

A load refuses the whole pack unless it parses, its signature verifies (when the org requires one, or when one is
given), every rule type-checks on every project type in the org's scope, and every embedded test passes — on its
own type, and for tests without a type on every type in scope as well. Then, in one transaction, the regulation
goes into the policy library, the pack and its rules are written, and the version in force before is marked
superseded (its rules and their alerts stay, for the record). A refused load leaves the version in force untouched
and is itself recorded in the audit trail, in a transaction of its own.

``pack_load`` manages its own transactions: call it outside any ``atomic`` block, or the record of a refused load
is rolled back with the caller's transaction.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import QuerySet
from django.utils import timezone

from accounts import permissions
from accounts.permissions import ancestor_paths
from audit.services import audit_record
from core.errors import Conflict, ServiceError, ValidationFailed
from orgs.models import Org

from ..models import OPEN_STATUSES, Alert, PackStatus, Rule, RulePack
from ..packs import PackFile, PackInvalid, checksum, pack_parse
from ..packs_check import CheckResult, pack_check
from ..packs_diff import PackChange, pack_changes, rule_changes
from ..packs_library import regulation_problems, regulation_store
from ..packs_run import TestReport, run_tests
from ..packs_scope import resolver, scope_targets
from ..packs_sign import SignatureInvalid, verify

if TYPE_CHECKING:
    from accounts.models import User

__all__ = [
    "Preview",
    "ProjectRef",
    "RuleImpact",
    "pack_active",
    "pack_diff",
    "pack_load",
    "pack_preview",
    "pack_test",
    "scope_targets",
    "signing_required",
]


# -- errors -----------------------------------------------------------------------------------------------------------
def _invalid(problems: Iterable[Any], headline: str) -> ValidationFailed:
    """Problems as a ValidationFailed whose ``fields`` are keyed by location (``file:line: path``)."""
    problems = list(problems)
    fields: dict[str, list[str]] = {}
    for problem in problems:
        where = f"{problem.file}:{problem.line}" if problem.line is not None else problem.file
        fields.setdefault(f"{where}: {problem.path}" if problem.path else where, []).append(problem.message)
    return ValidationFailed(f"{headline}（{len(problems)} 处问题）", fields=fields)


def _parse(source: bytes | str, filename: str) -> PackFile:
    try:
        return pack_parse(source, filename=filename or "<pack>")
    except PackInvalid as error:
        raise _invalid(error.problems, "规则包格式有误，未载入") from None


# -- test -------------------------------------------------------------------------------------------------------------
def pack_test(*, source: bytes | str, filename: str = "", org: Org | None = None) -> TestReport:
    """Run a pack's embedded tests without loading it. Reads the database only for the types tests name (and,
    with ``org``, to also run untyped tests on every type in its scope)."""
    report = TestReport(filename=filename or "<pack>", checksum=checksum(source))
    try:
        pack = pack_parse(source, filename=report.filename)
    except PackInvalid as error:
        report.problems = list(error.problems)
        return report
    report.code, report.version, report.pack = pack.spec.code, pack.spec.version, pack
    targets = scope_targets(org) if org is not None else None
    report.cases = run_tests(pack, resolve=resolver(targets), targets=targets or ())
    return report


# -- load -------------------------------------------------------------------------------------------------------------
def signing_required(org: Org) -> bool:
    """True when ``org`` or an org above it is listed in ``TAIZHANG_RULEPACK_SIGNING["required_for"]``."""
    listed = set((getattr(settings, "TAIZHANG_RULEPACK_SIGNING", None) or {}).get("required_for") or ())
    if not listed:
        return False
    codes = Org.objects.filter(path__in=ancestor_paths(org.path)).values_list("code", flat=True)
    return not listed.isdisjoint(codes)


def _signer(org: Org, source: bytes, signature: bytes | None, filename: str) -> str:
    where = f"{filename or '<pack>'}.sig"
    if signature is None:
        if signing_required(org):
            raise ValidationFailed(
                f"{org.name}要求规则包附有效签名，未载入",
                fields={where: ["缺少签名文件；请由发布机关用 taizhang pack sign 签名后一并提交"]},
            )
        return ""
    keys = (getattr(settings, "TAIZHANG_RULEPACK_SIGNING", None) or {}).get("keys") or {}
    try:
        return verify(source, signature, keys)
    except SignatureInvalid as error:
        raise ValidationFailed("规则包签名未通过验证，未载入", fields={where: [error.message]}) from None


def _validate(pack: PackFile, org: Org) -> tuple[CheckResult, TestReport]:
    """Type-check on every target in scope and run the tests; raises ValidationFailed with every problem found."""
    targets = scope_targets(org)
    checked = pack_check(pack, targets)
    report = TestReport(filename=pack.filename, code=pack.spec.code, version=pack.spec.version, pack=pack)
    report.cases = run_tests(pack, resolve=resolver(targets), targets=targets)
    problems = [*regulation_problems(pack), *checked.problems, *report.failures()]
    if problems:
        raise _invalid(problems, "规则包未通过检查，未载入；原有版本继续有效")
    return checked, report


def _load(
    actor: User | None, org: Org, source: bytes, filename: str, signature: bytes | None, attempt: dict
) -> RulePack:
    pack = _parse(source, filename)
    spec = pack.spec
    attempt.update(code=spec.code, version=spec.version)
    same = RulePack.objects.filter(org=org, code=spec.code, version=spec.version).first()
    if same is not None and same.checksum == spec.checksum:
        raise Conflict(
            f"规则包 {spec.code} v{spec.version} 已在{org.name}载入（内容相同），无需重复载入",
            code="already_loaded",
        )
    if same is not None:
        raise ValidationFailed(
            f"规则包 {spec.code} v{spec.version} 已在{org.name}载入过，但内容不同",
            fields={
                f"{pack.filename}:{pack.line_of('pack.version')}: pack.version": [
                    f"版本 {spec.version} 已载入（校验和 {same.checksum[:12]}…，本文件 {spec.checksum[:12]}…）；"
                    "修改规则包须使用新的版本号"
                ]
            },
        )
    signed_by = _signer(org, source, signature, pack.filename)
    checked, report = _validate(pack, org)
    previous = (
        RulePack.objects.select_for_update().filter(org=org, code=spec.code, status=PackStatus.ACTIVE).first()
    )
    if previous is not None:
        previous.status = PackStatus.SUPERSEDED
        previous.save(update_fields=["status"])
    regulation, articles = regulation_store(pack)
    row = RulePack.objects.create(
        org=org,
        code=spec.code,
        version=spec.version,
        name=spec.name,
        issuer=spec.issuer,
        effective_on=spec.effective_on,
        description=spec.description,
        regulation=regulation,
        citation=spec.citation,
        status=PackStatus.ACTIVE,
        checksum=spec.checksum,
        signed_by=signed_by,
        source=spec.source,
        tests_passed=len(spec.tests),
        supersedes=previous,
        loaded_by=actor if actor is not None and actor.pk else None,
    )
    Rule.objects.bulk_create(
        Rule(
            pack=row,
            code=rule.code,
            name=rule.name,
            condition=rule.when,
            severity=rule.severity,
            message=rule.message,
            types=list(rule.types),
            on_save=rule.on_save,
            on_schedule=rule.on_schedule,
            raise_alert=rule.raise_alert,
            block=list(rule.block),
            notify=list(rule.notify),
            email=rule.email,
            escalate_after_days=rule.escalate_after_days,
            article=articles.get(rule.article),
            verdict=checked.verdicts.get(rule.code, ""),
            position=position,
        )
        for position, rule in enumerate(spec.rules)
    )
    audit_record(
        actor=actor,
        action="rulepack.load",
        obj=row,
        org=org,
        before={"active": f"{previous.code} v{previous.version}", "checksum": previous.checksum}
        if previous
        else None,
        after={
            "file": pack.filename,
            "code": spec.code,
            "version": spec.version,
            "checksum": spec.checksum,
            "signed_by": signed_by,
            "rules": [rule.code for rule in spec.rules],
            "tests": len(spec.tests),
            "test_runs": len(report.cases),
            "verdicts": {code: text for code, text in checked.verdicts.items() if text},
        },
    )
    return row


def _record_failure(actor: User | None, org: Org, attempt: dict, error: ServiceError) -> None:
    reasons = [f"{where}: {message}" for where, messages in error.fields.items() for message in messages]
    with transaction.atomic():
        audit_record(
            actor=actor if actor is not None and actor.pk else None,
            action="rulepack.load_failed",
            org=org,
            object_type="rules.rulepack",
            object_id=str(attempt.get("code") or attempt["file"])[:64],
            object_repr=f"规则包 {attempt.get('code') or attempt['file']} v{attempt.get('version', '?')}"[
                :255
            ],
            after={**attempt, "error": error.code, "message": error.message, "reasons": reasons[:200]},
        )


def pack_load(
    *, actor: User | None, org: Org, source: bytes, filename: str = "", signature: bytes | None = None
) -> RulePack:
    """Load a pack file at ``org`` for its subtree, all or nothing (see the module docstring); returns the new pack.

    Raises PermissionDenied without ``rulepack.manage`` at ``org``; Conflict (409) when this version is already
    loaded with the same content; ValidationFailed with ``fields`` keyed by ``file:line: path`` otherwise.
    """
    attempt: dict[str, Any] = {"file": filename or "<pack>", "checksum": checksum(source)}
    try:
        permissions.check(actor, "rulepack.manage", org)
        try:
            with transaction.atomic():
                return _load(actor, org, source, filename, signature, attempt)
        except IntegrityError as error:  # a concurrent load of the same pack won the race
            raise Conflict("同一规则包正在被他人载入，请稍后重试", code="concurrent_load") from error
    except ServiceError as error:
        _record_failure(actor, org, attempt, error)
        raise


# -- preview ----------------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class ProjectRef:
    id: int
    code: str
    name: str
    org: str


@dataclass
class RuleImpact:
    """For one rule of the new pack: projects where it holds now, which would newly fire, which would stop."""

    code: str
    name: str
    severity: str
    change: str  # 新增 / 修改 / 未变
    firing: int = 0
    newly: list[ProjectRef] = field(default_factory=list)
    stopping: list[ProjectRef] = field(default_factory=list)
    kept: int = 0


@dataclass
class Preview:
    """The impact of loading a pack at an org, against the alerts its rules' keys have open now."""

    org: str
    code: str
    version: str
    active_version: str = ""
    today: date | None = None
    rules: list[RuleImpact] = field(default_factory=list)
    removed: list[tuple[str, str, int]] = field(default_factory=list)  # (code, name, open alerts kept)


def _matching(spec: Any, org: Org, today: date) -> set[int]:
    from ..sweep import matching_ids

    return matching_ids(spec, org, today=today)


def _refs(ids: set[int]) -> list[ProjectRef]:
    from projects.models import Project

    rows = Project.objects.filter(id__in=ids).select_related("org").order_by("code")
    return [ProjectRef(p.id, p.code, p.name, p.org.name) for p in rows]


def pack_preview(
    *, actor: User | None, org: Org, source: bytes | str, today: date | None = None, filename: str = ""
) -> Preview:
    """What loading ``source`` at ``org`` would change: per rule, the projects that would newly fire and those whose
    open alert would stop firing. Writes nothing. The pack must type-check (tests are not run)."""
    permissions.check(actor, "rulepack.manage", org)
    pack = _parse(source, filename)
    checked = pack_check(pack, scope_targets(org))
    if checked.problems:
        raise _invalid(checked.problems, "规则包未通过类型检查，无法预览")
    today = today or timezone.localdate()
    active = pack_active(org, code=pack.spec.code, inherited=False).first()
    old_rules = {r.code: r for r in active.rules.all()} if active is not None else {}
    preview = Preview(org.code, pack.spec.code, pack.spec.version, active.version if active else "", today)
    for rule in pack.spec.rules:
        hits = _matching(rule, org, today)
        open_ids = set(
            Alert.objects.filter(
                rule_key=f"{org.id}/{pack.spec.code}/{rule.code}", status__in=OPEN_STATUSES
            ).values_list("project_id", flat=True)
        )
        old = old_rules.get(rule.code)
        change = "新增" if old is None else ("未变" if _same_rule(old, rule) else "修改")
        preview.rules.append(
            RuleImpact(
                rule.code,
                rule.name,
                rule.severity,
                change,
                firing=len(hits),
                newly=_refs(hits - open_ids),
                stopping=_refs(open_ids - hits),
                kept=len(hits & open_ids),
            )
        )
    for code, old in old_rules.items():
        if code not in {r.code for r in pack.spec.rules}:
            count = Alert.objects.filter(rule_key=old.key, status__in=OPEN_STATUSES).count()
            preview.removed.append((code, old.name, count))
    return preview


def _same_rule(row: Rule, spec: Any) -> bool:
    from ..spec import spec_of

    return not rule_changes(spec_of(row), spec)


# -- diff and listing ---------------------------------------------------------------------------------------------------
def pack_diff(
    a_source: bytes | str, b_source: bytes | str, *, a_name: str = "A", b_name: str = "B"
) -> list[PackChange]:
    """Every difference between two pack files (both must parse)."""
    return pack_changes(_parse(a_source, a_name), _parse(b_source, b_name))


def pack_active(org: Org, *, code: str | None = None, inherited: bool = True) -> QuerySet[RulePack]:
    """Packs in force at ``org``: loaded at it, and (``inherited``) at the orgs above it."""
    packs = RulePack.objects.filter(status=PackStatus.ACTIVE).select_related("org", "regulation")
    packs = packs.filter(org__path__in=ancestor_paths(org.path)) if inherited else packs.filter(org=org)
    if code:
        packs = packs.filter(code=code)
    return packs.order_by("org__depth", "code")
