"""What the home page offers: one card per capability the user's grants allow."""

from __future__ import annotations

from dataclasses import dataclass

from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from accounts import permissions


@dataclass(frozen=True)
class Capability:
    action: str
    title: str
    description: str
    url_name: str


CAPABILITIES: tuple[Capability, ...] = (
    Capability("project.view", _("统一项目台账"), _("查看、搜索本辖区的项目"), "project-ledger"),
    Capability("project.create", _("新建项目"), _("选择项目类型，填写立项申请"), "project-new"),
    Capability(
        "project.create", _("导入台账"), _("从 Excel 批量导入已有项目，先校验后确认"), "project_imports:index"
    ),
    Capability("project.edit", _("填报"), _("填写立项申请、进度报告、支出登记等表单"), "forms:index"),
    Capability("approval.act", _("待办审批"), _("处理分配给您的审批任务"), "workflow:inbox"),
    Capability(
        "config.view", _("配置工作台"), _("查看或配置项目类型、表单、审批流程与预警规则"), "admin_ui:home"
    ),
    Capability("alert.view", _("预警"), _("查看规则预警，确认、整改、核销闭环"), "rules:alert-inbox"),
    Capability("rulepack.manage", _("政策规则包"), _("加载、测试、对比监管规则包"), "rules:pack-list"),
    Capability("dashboard.view", _("驾驶舱与通报"), _("查看项目总体情况与月度通报"), "project-ledger"),
    Capability("user.manage", _("账号管理"), _("开设、停用账号，重置密码"), "admin:index"),
    Capability("grant.manage", _("角色授权"), _("为本辖区用户分配或撤销角色"), "api-docs"),
    Capability("audit.view", _("审计日志"), _("查看、核验、导出防篡改审计日志"), "admin:index"),
    Capability("org.manage", _("机构管理"), _("维护省、市、区县、委办局、科室"), "admin:index"),
)


def capabilities_for(user) -> list[dict]:
    allowed = permissions.actions_of(user)
    return [
        {"title": c.title, "description": c.description, "url": reverse(c.url_name), "action": c.action}
        for c in CAPABILITIES
        if c.action in allowed
    ]
