"""What the studio's import page shows before anything is written: problems in place, and a preview of the load.

A file is a configuration bundle when it has a top-level ``taizhang_bundle:`` key, a rule pack otherwise. Both are
checked by their own services (``bundle_parse``/``bundle_validate``; ``pack_test``/``pack_preview``), whose problems
carry ``file:line: path``; here they become rows attached to the file's lines. The preview of a bundle is
``bundle_diff`` of the org's current export against the upload, and per form and type whether loading would create
it, publish a new version or leave it alone (the same comparison ``bundle_load`` makes). The preview of a pack is
``pack_diff`` against the version in force, ``pack_preview``'s impact, and the embedded tests' results.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from django.utils.translation import gettext as _

from bundles import Bundle, BundleInvalid, bundle_diff, bundle_parse
from bundles.canonical import config_to_stored, form_to_stored
from bundles.services import bundle_current, bundle_validate
from core.errors import ServiceError, ValidationFailed
from forms.models import Form
from orgs.models import Org
from projects.models import ProjectType
from rules.services import packs as pack_services

MAX_LINES = 3000
BUNDLE_KEY = re.compile(r"^taizhang_bundle\s*:", re.MULTILINE)
_LOCATION = re.compile(r"^(?P<file>.*?):(?P<line>\d+)(?::\s*(?P<path>.*))?$")


def kind_of(text: str) -> str:
    """``bundle`` when the file declares ``taizhang_bundle:`` at the top level, else ``pack``."""
    return "bundle" if BUNDLE_KEY.search(text) else "pack"


@dataclass
class Analysis:
    """The outcome of checking one uploaded file: its problems (rows with line, path, message) or its preview."""

    kind: str
    text: str
    filename: str
    problems: list[dict[str, Any]] = field(default_factory=list)
    error: str = ""
    # bundle preview
    diff: list[str] = field(default_factory=list)
    items: list[dict[str, str]] = field(default_factory=list)
    bundle_org: str = ""
    # pack preview
    report: Any = None
    preview: Any = None
    changes: list[str] = field(default_factory=list)
    active: Any = None

    @property
    def ok(self) -> bool:
        return not self.problems and not self.error

    def listing(self) -> list[dict[str, Any]]:
        """The file's lines, each with the problems found on it (problems without a line go to the first)."""
        return listing(self.text, self.problems)


def row(line: int | None, path: str, message: str) -> dict[str, Any]:
    return {"line": line, "path": path, "message": message}


def rows_of_fields(fields: dict[str, list[str]]) -> list[dict[str, Any]]:
    """A service error's ``fields`` keyed by ``file:line: path`` as rows."""
    found = []
    for where, messages in fields.items():
        match = _LOCATION.match(where)
        line = int(match.group("line")) if match else None
        path = (match.group("path") or "") if match else where
        found += [row(line, path, message) for message in messages]
    return found


def rows_of_problems(problems: Any) -> list[dict[str, Any]]:
    return [row(p.line, p.path, p.message) for p in problems]


def _sorted(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return sorted(rows, key=lambda r: (r["line"] is None, r["line"] or 0))


def listing(text: str, problems: list[dict[str, Any]]) -> list[dict[str, Any]]:
    lines = text.splitlines() or [""]
    by_line: dict[int, list[dict[str, Any]]] = {}
    for problem in problems:
        line = problem["line"] if problem["line"] is not None else 1
        by_line.setdefault(min(max(line, 1), len(lines)), []).append(problem)
    return [
        {"number": n, "text": body, "problems": by_line.get(n, [])} for n, body in enumerate(lines, start=1)
    ][:MAX_LINES]


# -- bundles ------------------------------------------------------------------------------------------------------
def _current(org: Org) -> Bundle:
    """The org's published configuration as a bundle, for the diff (a read, not an export the user receives)."""
    return bundle_parse(bundle_current(org), filename="current.yaml")


def _form_action(entry: dict[str, Any]) -> str:
    form = Form.objects.filter(code=entry.get("code")).first()
    if form is None:
        return _("新建")
    published = form.published()
    try:
        same = published is not None and (
            published.schema == form_to_stored(entry.get("schema"))
            and published.ui_schema == form_to_stored(entry.get("ui_schema") or {})
        )
    except ValueError:
        same = False
    return _("未变化") if same else _("新版本")


def _type_action(entry: dict[str, Any]) -> str:
    ptype = ProjectType.objects.filter(code=entry.get("code")).first()
    if ptype is None:
        return _("新建")
    published = ptype.published()
    same = published is not None and published.config == config_to_stored(entry.get("config") or {})
    return _("未变化") if same else _("新版本")


def bundle_analyse(text: str, filename: str, org: Org) -> Analysis:
    """Problems of ``text`` as a bundle loaded at ``org``, or (when there are none) its preview."""
    found = Analysis("bundle", text, filename)
    try:
        bundle = bundle_parse(text, filename=filename)
    except BundleInvalid as error:
        found.problems = _sorted(rows_of_problems(error.problems))
        return found
    found.bundle_org = bundle.org or ""
    problems = rows_of_problems(bundle_validate(bundle, org=org))
    if bundle.org and bundle.org != org.code:
        problems.append(
            row(
                bundle.line_of("org"),
                "org",
                _("配置包写的机构是 %(file)s，与所选机构 %(org)s 不一致")
                % {"file": bundle.org, "org": org.code},
            )
        )
    if problems:
        found.problems = _sorted(problems)
        return found
    found.diff = bundle_diff(_current(org), bundle)
    found.items = [
        {
            "kind": _("表单"),
            "code": str(e.get("code")),
            "name": str(e.get("name") or ""),
            "action": _form_action(e),
        }
        for e in bundle.forms
    ] + [
        {
            "kind": _("项目类型"),
            "code": str(e.get("code")),
            "name": str((e.get("config") or {}).get("name") or ""),
            "action": _type_action(e),
        }
        for e in bundle.project_types
    ]
    return found


# -- rule packs ---------------------------------------------------------------------------------------------------
def pack_analyse(actor: Any, source: bytes, filename: str, org: Org) -> Analysis:
    """Tests, type-check and impact of ``source`` as a pack loaded at ``org`` (``pack_preview`` checks that the
    actor holds ``rulepack.manage`` there), and the changes against the version in force."""
    text = source.decode("utf-8-sig", errors="replace")
    found = Analysis("pack", text, filename)
    report = pack_services.pack_test(source=source, filename=filename, org=org)
    found.report = report
    problems = rows_of_problems(report.failures())
    if report.problems:
        found.problems = _sorted(problems)
        return found
    try:
        found.preview = pack_services.pack_preview(actor=actor, org=org, source=source, filename=filename)
    except ValidationFailed as error:
        problems = rows_of_fields(error.fields) + problems
    if problems:
        found.problems = _sorted(problems)
        found.preview = None
        return found
    found.active = pack_services.pack_active(org, code=report.code, inherited=False).first()
    if found.active is not None:
        try:
            found.changes = [
                str(c)
                for c in pack_services.pack_diff(
                    found.active.source, source, a_name="active", b_name=filename
                )
            ]
        except ServiceError:
            found.changes = []
    return found
