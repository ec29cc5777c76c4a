"""`taizhang demo_load`: the demo org tree, one user per role, and a few projects. Idempotent."""

from __future__ import annotations

import unicodedata

from django.conf import settings
from django.core.management.base import BaseCommand
from django.db import transaction

from accounts import services as accounts
from accounts.models import Role, User
from bundles import bundle_load, bundle_read
from core import context
from orgs import services as orgs
from orgs.models import Org
from projects import services as projects
from projects.models import Project, ProjectType
from taizhang.demo_projects import PROJECTS

DEMO_PASSWORD = "Taizhang@2026"
EXAMPLE_BUNDLES = settings.BASE_DIR / "examples" / "bundles"

# (code, parent code, name, kind, division code)
ORGS = (
    ("330000", None, "浙江省", "province", "330000"),
    ("330100", "330000", "杭州市", "city", "330100"),
    ("330100-czj", "330100", "杭州市财政局", "bureau", ""),
    ("330106", "330100", "西湖区", "county", "330106"),
    ("330106-zjj", "330106", "西湖区住房和城乡建设局", "bureau", ""),
    ("330106-zjj-cjk", "330106-zjj", "城市建设科", "section", ""),
    ("330106-czj", "330106", "西湖区财政局", "bureau", ""),
    ("330102", "330100", "上城区", "county", "330102"),
    ("330102-zjj", "330102", "上城区住房和城乡建设局", "bureau", ""),
)
# (username, display name, org code, role, grant org code)
USERS = (
    ("sysadmin", "张伟", "330000", "sys_admin", "330000"),
    ("secadmin", "李娜", "330000", "sec_admin", "330000"),
    ("auditor", "王芳", "330000", "audit_admin", "330000"),
    ("config", "刘洋", "330100", "config_admin", "330100"),
    ("clerk", "陈静", "330106-zjj", "staff", "330106-zjj"),
    ("approver", "杨磊", "330106-zjj", "approver", "330106-zjj"),
    ("regulator", "赵敏", "330100-czj", "regulator", "330100"),
    ("leader", "黄强", "330106", "leader", "330106"),
    ("clerk_sc", "周杰", "330102-zjj", "staff", "330102-zjj"),
)
ROLE_ORDER = [u[3] for u in USERS]


def _pad(text: str, width: int) -> str:
    """Left-align in a terminal, where CJK characters take two columns."""
    used = sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)
    return text + " " * max(1, width - used)


class Command(BaseCommand):
    help = "载入演示数据：机构树、各角色用户（打印密码）和示例项目。可重复执行。"

    def handle(self, *args, **options):
        with context.bind(context.RequestContext(request_id=context.new_request_id(), channel="cli")):
            created = self._load()
        self.stdout.write(self.style.SUCCESS("演示数据已就绪" if created else "演示数据已存在，未重复创建"))
        self._print_users()

    @transaction.atomic
    def _load(self) -> bool:
        if Org.objects.filter(code=ORGS[0][0]).exists():
            return False
        by_code: dict[str, Org] = {}
        for code, parent, name, kind, division in ORGS:
            by_code[code] = orgs.org_create(
                actor=None,
                parent=by_code.get(parent) if parent else None,
                name=name,
                kind=kind,
                code=code,
                division_code=division,
            )
        users: dict[str, User] = {}
        for username, display, org_code, role, grant_org in USERS:
            users[username] = accounts.user_create(
                actor=None,
                username=username,
                password=DEMO_PASSWORD,
                org=by_code[org_code],
                display_name=display,
            )
            accounts.grant_create(
                actor=None, user=users[username], role=Role.objects.get(code=role), org=by_code[grant_org]
            )
        for path in sorted(EXAMPLE_BUNDLES.glob("*.yaml")):
            bundle_load(actor=users["config"], bundle=bundle_read(path), org=by_code["330100"])
        for spec in PROJECTS:
            self._project(users, by_code, *spec)
        return True

    def _project(self, users, by_code, type_code, owner, org_code, data, lines, payments, milestones) -> None:
        actor = users[owner]
        ptype = ProjectType.objects.get(code=type_code)
        project = projects.project_create_from_type(
            actor=actor, org=by_code[org_code], ptype=ptype, data=data
        )
        budget_lines = [
            projects.budget_line_add(
                actor=actor, project=project, year=year, fund_source=source, amount=amount
            )
            for year, source, amount in lines
        ]
        for voucher, day, payee, amount in payments:
            projects.expenditure_record(
                actor=actor,
                project=project,
                voucher_no=voucher,
                paid_on=day,
                payee=payee,
                amount=amount,
                budget_line=budget_lines[0],
            )
        for name, planned, actual in milestones:
            milestone = projects.milestone_add(actor=actor, project=project, name=name, planned_date=planned)
            if actual:
                projects.milestone_complete(actor=actor, milestone=milestone, actual_date=actual)

    def _print_users(self) -> None:
        self.stdout.write(f"\n演示账号（密码均为 {DEMO_PASSWORD}）：")
        self.stdout.write("  " + _pad("用户名", 12) + _pad("姓名", 8) + _pad("角色", 12) + "授权机构")
        for username, display, _org, role, grant_org in USERS:
            role_name = Role.objects.get(code=role).name
            org_name = Org.objects.get(code=grant_org).name
            self.stdout.write("  " + _pad(username, 12) + _pad(display, 8) + _pad(role_name, 12) + org_name)
        self.stdout.write(f"\n项目 {Project.objects.count()} 个。打开 http://127.0.0.1:8000/ 登录。")
