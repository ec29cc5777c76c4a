"""Bundles against the database: validate in context, load all-or-nothing, export the published configuration.

Each write goes through the forms and projects services (which check permission, validate and audit each item);
this module adds the bundle-level permission check, the up-front validation of the whole file, the single
transaction and one audit event for the load as a whole.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from django.db import transaction

from accounts import permissions
from audit.services import audit_record
from core.errors import NotFound, ServiceError, ValidationFailed
from forms import services as form_services
from forms.models import Form, FormVersion
from orgs.models import Org
from projects import services as type_services
from projects.models import ProjectType

from .canonical import (
    canonical_bundle,
    config_from_stored,
    config_to_stored,
    form_from_stored,
    form_to_stored,
)
from .document import FORMAT_VERSION, Bundle, bundle_parse
from .problems import BundleInvalid, Problem
from .validate import Available, bundle_check, pointer_to_path, type_order
from .yamlio import dump_yaml

if TYPE_CHECKING:
    from accounts.models import User

__all__ = ["LoadItem", "LoadReport", "bundle_export", "bundle_load", "bundle_validate"]

CREATED, NEW_VERSION, UNCHANGED = "created", "new_version", "unchanged"
_ACTION_LABELS = {CREATED: "新建", NEW_VERSION: "新版本", UNCHANGED: "未变化"}


@dataclass(frozen=True)
class LoadItem:
    """What loading did to one form or type: ``created``, ``new_version`` or ``unchanged``, and its version."""

    kind: str  # "form" | "project_type"
    code: str
    action: str
    version: int

    def __str__(self) -> str:
        kind = "表单" if self.kind == "form" else "项目类型"
        return f"{kind} {self.code}：{_ACTION_LABELS[self.action]} v{self.version}"


@dataclass(frozen=True)
class LoadReport:
    """The outcome of one load, item by item, in the order they were loaded (forms first)."""

    org: str
    items: list[LoadItem] = field(default_factory=list)

    def count(self, action: str) -> int:
        return sum(1 for item in self.items if item.action == action)

    def summary(self) -> str:
        return (
            f"已载入到机构 {self.org}：新建 {self.count(CREATED)} 项，新版本 {self.count(NEW_VERSION)} 项，"
            f"未变化 {self.count(UNCHANGED)} 项"
        )


def _ancestor_paths(org: Org) -> list[str]:
    step = Org.steplen
    return [org.path[:i] for i in range(step, len(org.path) + 1, step)]


def available_at(org: Org) -> Available:
    """Published forms at ``org`` or above, and published types above ``org`` (what an override may adapt)."""
    forms: dict[str, tuple[dict, dict]] = {}
    versions = FormVersion.objects.filter(
        form__org__path__in=_ancestor_paths(org), status=FormVersion.Status.PUBLISHED
    ).select_related("form")
    for version in versions.order_by("number"):
        forms[version.form.code] = (version.schema, version.ui_schema or {})
    types: dict[str, dict] = {}
    for ptype in ProjectType.objects.filter(org__path__in=_ancestor_paths(org)):
        published = ptype.published()
        if published is not None and ptype.org_id != org.pk:
            types[ptype.code] = published.effective
    return Available(forms=forms, types=types)


def _resolve_org(bundle: Bundle, org: Org | None) -> Org:
    if org is not None:
        return org
    if not bundle.org:
        raise BundleInvalid([bundle.problem("org", "配置包没有写 org，请用 --org 指定机构")])
    found = Org.objects.filter(code=bundle.org).first()
    if found is None:
        raise BundleInvalid([bundle.problem("org", f"机构“{bundle.org}”不存在")])
    return found


def _database_problems(bundle: Bundle, org: Org) -> list[Problem]:
    """What the database forbids: codes owned by another org, a changed inheritance, an override at its base's org."""
    found: list[Problem] = []
    for i, entry in enumerate(bundle.forms):
        if not isinstance(entry, Mapping) or not isinstance(entry.get("code"), str):
            continue
        form = Form.objects.filter(code=entry["code"]).select_related("org").first()
        if form is None:
            continue
        if form.org_id != org.pk:
            published = form.published()
            same = published is not None and (
                published.schema == _stored_or_none(entry.get("schema"))
                and published.ui_schema == _stored_or_none(entry.get("ui_schema") or {})
            )
            if not same:
                found.append(
                    bundle.problem(
                        f"forms[{i}].code", f"表单编码“{form.code}”属于{form.org.name}，不能在{org.name}修改"
                    )
                )
        elif form.name != entry.get("name") or form.purpose != entry.get("purpose", "其他"):
            found.append(
                bundle.problem(
                    f"forms[{i}].name",
                    f"表单“{form.code}”已存在，名称或用途（{form.name}/{form.purpose}）与配置包不同；"
                    "名称和用途暂不能通过配置包修改",
                )
            )
    codes_here = {t.get("code") for t in bundle.project_types if isinstance(t, Mapping)}
    for j, entry in enumerate(bundle.project_types):
        if not isinstance(entry, Mapping) or not isinstance(entry.get("code"), str):
            continue
        where = f"project_types[{j}]"
        ptype = ProjectType.objects.filter(code=entry["code"]).select_related("org", "base").first()
        base = entry.get("base")
        if ptype is not None:
            if ptype.org_id != org.pk:
                found.append(
                    bundle.problem(
                        f"{where}.code", f"类型编码“{ptype.code}”属于{ptype.org.name}，不能在{org.name}修改"
                    )
                )
            if (ptype.base.code if ptype.base else None) != base:
                found.append(bundle.problem(f"{where}.base", "已有类型的继承关系（base）不能更改"))
        elif base:
            if base in codes_here:
                found.append(
                    bundle.problem(
                        f"{where}.base", "上级类型必须属于上级机构，不能与继承它的类型在同一个配置包中载入"
                    )
                )
            elif (
                not ProjectType.objects.filter(code=base, org__path__in=_ancestor_paths(org))
                .exclude(org=org)
                .exists()
            ):
                found.append(bundle.problem(f"{where}.base", f"上级机构没有项目类型“{base}”"))
    return found


def _stored_or_none(value: Any) -> Any:
    try:
        return form_to_stored(value)
    except ValueError:
        return None


def bundle_validate(bundle: Bundle, *, org: Org | None = None) -> list[Problem]:
    """Every problem loading ``bundle`` would meet, without writing anything.

    With ``org`` (or when the bundle's ``org`` exists in the database) the check also sees the published forms
    and types there, and what the database forbids; otherwise only the file itself is checked.
    """
    if org is None and bundle.org:
        org = Org.objects.filter(code=bundle.org).first()
    if org is None:
        return bundle_check(bundle)
    found = bundle_check(bundle, available=available_at(org))
    return found + _database_problems(bundle, org)


def _service_problems(
    bundle: Bundle, error: ServiceError, entry: Any, where: str, *, form: bool
) -> list[Problem]:
    """A service's refusal as bundle problems, each at the path (and line) it concerns."""
    if not error.fields:
        return [bundle.problem(where, error.message)]
    found: list[Problem] = []
    for key, messages in error.fields.items():
        if form or key in ("code", "base", "name", "purpose"):
            path = pointer_to_path(entry, key, where) if form else f"{where}.{key}"
        else:
            path = f"{where}.config.{key}"
        found += [bundle.problem(path, message) for message in messages]
    return found


def _load_form(actor: User | None, org: Org, bundle: Bundle, i: int, entry: Mapping[str, Any]) -> LoadItem:
    where = f"forms[{i}]"
    schema = form_to_stored(entry["schema"])
    ui_schema = form_to_stored(entry.get("ui_schema") or {})
    code = entry["code"]
    try:
        form = Form.objects.filter(code=code).first()
        if form is None:
            form = form_services.form_create(
                actor=actor,
                org=org,
                code=code,
                name=entry["name"],
                schema=schema,
                ui_schema=ui_schema,
                purpose=entry.get("purpose", "其他"),
                project_type_code=entry.get("project_type_code", ""),
            )
            return LoadItem("form", code, CREATED, form_services.form_publish(actor=actor, form=form).number)
        published = form.published()
        if published is not None and published.schema == schema and published.ui_schema == ui_schema:
            return LoadItem("form", code, UNCHANGED, published.number)
        form_services.form_draft_save(actor=actor, form=form, schema=schema, ui_schema=ui_schema)
        return LoadItem("form", code, NEW_VERSION, form_services.form_publish(actor=actor, form=form).number)
    except ServiceError as error:
        raise BundleInvalid(_service_problems(bundle, error, entry, where, form=True)) from error


def _load_type(actor: User | None, org: Org, bundle: Bundle, j: int, entry: Mapping[str, Any]) -> LoadItem:
    where = f"project_types[{j}]"
    config = config_to_stored(entry["config"])
    code = entry["code"]
    try:
        ptype = ProjectType.objects.filter(code=code).first()
        if ptype is None:
            if entry.get("base"):
                base = ProjectType.objects.get(code=entry["base"])
                ptype = type_services.project_type_override(
                    actor=actor, base=base, org=org, code=code, delta=config
                )
            else:
                ptype = type_services.project_type_create(actor=actor, org=org, code=code, config=config)
            version = type_services.project_type_publish(actor=actor, ptype=ptype)
            return LoadItem("project_type", code, CREATED, version.number)
        published = ptype.published()
        if published is not None and published.config == config:
            return LoadItem("project_type", code, UNCHANGED, published.number)
        type_services.project_type_draft_save(actor=actor, ptype=ptype, config=config)
        version = type_services.project_type_publish(actor=actor, ptype=ptype)
        return LoadItem("project_type", code, NEW_VERSION, version.number)
    except ServiceError as error:
        raise BundleInvalid(_service_problems(bundle, error, entry, where, form=False)) from error


@transaction.atomic
def bundle_load(*, actor: User | None, bundle: Bundle, org: Org | None = None) -> LoadReport:
    """Load every form and type of ``bundle`` at ``org`` (default: the bundle's ``org``), all or nothing.

    Content equal to the published version is left alone; changed content becomes a new draft and is published.
    Forms load before the types that use them, bases before overrides. Any problem raises
    :class:`BundleInvalid` and the transaction is rolled back, so nothing of the bundle is written.
    """
    org = _resolve_org(bundle, org)
    permissions.check(actor, "config.manage", org)
    problems = bundle_validate(bundle, org=org)
    if problems:
        raise BundleInvalid(problems)
    report = LoadReport(org=org.code)
    for i, entry in enumerate(bundle.forms):
        report.items.append(_load_form(actor, org, bundle, i, entry))
    for j in type_order(bundle):
        report.items.append(_load_type(actor, org, bundle, j, bundle.project_types[j]))
    audit_record(
        actor=actor,
        action="bundle.load",
        org=org,
        object_type="bundles.bundle",
        object_id=bundle.filename[:64],
        object_repr=bundle.filename[:255],
        after={
            "file": bundle.filename,
            "items": [[i.kind, i.code, i.action, i.version] for i in report.items],
        },
    )
    return report


def _derived(form: Form) -> bool:
    """Forms an override's ``extend_forms`` generates when it is published: regenerated, never exported."""
    return bool(form.project_type_code) and form.code.endswith(f"--{form.project_type_code}")


def _form_codes_used(config: Mapping[str, Any]) -> list[str]:
    codes = [c for c in (config.get("forms") or {}).values() if isinstance(c, str)]
    for stage in config.get("stages") or []:
        if isinstance(stage, Mapping):
            codes += [c for c in stage.get("required_forms") or [] if isinstance(c, str)]
    return codes


@transaction.atomic
def _published(org: Org | None, type_code: str | None) -> tuple[Org, dict[str, Any]]:
    """The published configuration of one type (and the forms it uses) or of everything of an org, as data."""
    if type_code:
        ptype = ProjectType.objects.select_related("org", "base").filter(code=type_code).first()
        if ptype is None or ptype.published() is None:
            raise NotFound(f"没有已发布的项目类型“{type_code}”。")
        if org is not None and ptype.org_id != org.pk:
            raise NotFound(f"机构 {org.code} 没有项目类型“{type_code}”。")
        org = ptype.org
        types = [ptype]
        form_codes: set[str] = set()
    elif org is not None:
        types = list(ProjectType.objects.select_related("base").filter(org=org).order_by("code"))
        types = [t for t in types if t.published() is not None]
        form_codes = {f.code for f in Form.objects.filter(org=org) if not _derived(f)}
    else:
        raise ValidationFailed("请指定要导出的项目类型或机构。", fields={"type": ["请指定 --type 或 --org"]})
    type_entries: list[dict[str, Any]] = []
    for ptype in types:
        config = ptype.published().config
        form_codes.update(_form_codes_used(config))
        entry: dict[str, Any] = {"code": ptype.code}
        if ptype.base_id:
            entry["base"] = ptype.base.code
        entry["config"] = config_from_stored(config)
        type_entries.append(entry)
    form_entries: list[dict[str, Any]] = []
    for form in Form.objects.filter(code__in=form_codes).order_by("code"):
        version = form.published()
        if version is None or _derived(form):
            continue
        entry = {"code": form.code, "name": form.name, "purpose": form.purpose}
        if form.project_type_code:
            entry["project_type_code"] = form.project_type_code
        entry["schema"] = form_from_stored(version.schema)
        entry["ui_schema"] = form_from_stored(version.ui_schema or {})
        form_entries.append(entry)
    data: dict[str, Any] = {"taizhang_bundle": FORMAT_VERSION, "org": org.code, "forms": form_entries}
    ordered = Bundle(data={"project_types": type_entries})
    data["project_types"] = [type_entries[i] for i in type_order(ordered)]
    return org, data


def bundle_current(org: Org) -> str:
    """What ``org`` has published, as bundle text: a read for previews and diffs (not an export: not audited)."""
    _org, data = _published(org, None)
    return dump_yaml(canonical_bundle(data))


def bundle_export(*, actor: User | None = None, org: Org | None = None, type_code: str | None = None) -> str:
    """The published configuration as bundle text: one type and the forms it uses, or everything of an org.

    The text is canonical (key order, quoting, numbers), so exporting what a load of this text wrote yields
    the same bytes. Exporting reads, so whoever may view the configuration may export it; it is audited.
    """
    org, data = _published(org, type_code)
    permissions.check(actor, "config.view", org)
    audit_record(
        actor=actor,
        action="bundle.export",
        org=org,
        object_type="bundles.bundle",
        object_id=type_code or org.code,
        object_repr=f"配置包 {type_code or org.code}",
        after={
            "forms": [f["code"] for f in data["forms"]],
            "project_types": [t["code"] for t in data["project_types"]],
        },
    )
    return dump_yaml(canonical_bundle(data))


def bundle_read(path: str | os.PathLike, text: str | None = None) -> Bundle:
    """Parse a bundle file (a convenience for the CLI and the studio)."""
    if text is None:
        with open(path, encoding="utf-8") as handle:
            text = handle.read()
    return bundle_parse(text, filename=os.fspath(path))
