"""`taizhang demo_load`: the demo org tree, one user per role, and a few projects. Idempotent."""

from __future__ import annotations

import json
import unicodedata

from django.conf import settings
from django.core.management.base import BaseCommand
from django.db import transaction

from accounts import services as accounts
from accounts.models import Role, User
from core import context
from forms import services as forms
from orgs import services as orgs
from orgs.models import Org
from projects import services as projects
from projects.models import Project

DEMO_PASSWORD = "Taizhang@2026"
EXAMPLE_FORMS = settings.BASE_DIR / "examples" / "forms"

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
# (org code, owner, name, category, budget, description)
PROJECTS = (
    (
        "330106-zjj",
        "clerk",
        "西湖区翠苑一区老旧小区改造工程",
        "基本建设",
        "12800000.00",
        "改造住宅 32 幢 1,460 户：供排水管网、雨污分流、屋面防水、加装电梯 6 部、适老化与无障碍设施。",
    ),
    (
        "330106-zjj",
        "clerk",
        "西湖区文三路（学院路—教工路）道路提升工程",
        "基本建设",
        "35600000.00",
        "道路全长 1.2 公里，含路面翻新、人行道改造、交通设施与照明。",
    ),
    (
        "330106-zjj",
        "clerk",
        "西湖区智慧住建监管平台（一期）",
        "信息化",
        "2860000.00",
        "建设工地扬尘、塔吊、人员实名制在线监测与预警。",
    ),
    (
        "330102-zjj",
        "clerk_sc",
        "上城区紫阳街道老旧小区综合整治",
        "基本建设",
        "9650000.00",
        "基础类改造为主：燃气管道更新、消防通道整治、外墙修缮。",
    ),
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
        for path in sorted(EXAMPLE_FORMS.glob("*.json")):
            spec = json.loads(path.read_text(encoding="utf-8"))
            form = forms.form_create(
                actor=users["config"],
                org=by_code["330100"],
                code=spec["code"],
                name=spec["name"],
                purpose=spec["purpose"],
                schema=spec["schema"],
                ui_schema=spec["ui_schema"],
            )
            forms.form_publish(actor=users["config"], form=form)
        for org_code, owner, name, category, budget, description in PROJECTS:
            projects.project_create(
                actor=users[owner],
                org=by_code[org_code],
                name=name,
                category=category,
                budget=budget,
                description=description,
            )
        return True

    def _print_users(self) -> None:
        self.stdout.write(f"\n演示账号（密码均为 {DEMO_PASSWORD}）：")
        self.stdout.write("  " + _pad("用户名", 12) + _pad("姓名", 8) + _pad("角色", 12) + "授权机构")
        for username, display, _org, role, grant_org in USERS:
            role_name = Role.objects.get(code=role).name
            org_name = Org.objects.get(code=grant_org).name
            self.stdout.write("  " + _pad(username, 12) + _pad(display, 8) + _pad(role_name, 12) + org_name)
        self.stdout.write(f"\n项目 {Project.objects.count()} 个。打开 http://127.0.0.1:8000/ 登录。")
