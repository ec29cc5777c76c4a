"""The actions the platform knows and the built-in roles that bundle them. Fixed at start-up.

三员分立: 系统管理员 runs the system (orgs, accounts), 安全管理员 decides who may do what (grants,
security), 审计管理员 reads the audit trail. No role holds another's job, and no user may hold two of them.
"""

from __future__ import annotations

from dataclasses import dataclass

ACTIONS: dict[str, str] = {
    "org.view": "查看机构",
    "org.manage": "管理机构",
    "user.view": "查看用户",
    "user.manage": "管理用户账号",
    "grant.manage": "分配角色",
    "security.manage": "管理安全策略",
    "audit.view": "查看审计日志",
    "audit.export": "导出审计日志",
    "system.admin": "进入系统后台",
    "config.view": "查看配置",
    "config.manage": "管理配置（项目类型、表单、流程、规则）",
    "project.view": "查看项目",
    "project.create": "创建项目",
    "project.edit": "编辑项目",
    "project.export": "导出项目",
    "approval.act": "处理审批",
    "rulepack.manage": "管理政策规则包",
    "alert.view": "查看预警",
    "alert.handle": "处理预警（确认、整改）",
    "alert.verify": "核销预警（验证整改并关闭）",
    "dashboard.view": "查看驾驶舱与通报",
}


@dataclass(frozen=True)
class RoleSpec:
    code: str
    name: str
    name_en: str
    actions: frozenset[str]
    description: str


def _role(code: str, name: str, name_en: str, description: str, *actions: str) -> RoleSpec:
    unknown = set(actions) - ACTIONS.keys()
    if unknown:
        raise ValueError(f"role {code}: unknown actions {sorted(unknown)}")
    return RoleSpec(code, name, name_en, frozenset(actions), description)


BUILTIN_ROLES: dict[str, RoleSpec] = {
    r.code: r
    for r in (
        _role(
            "sys_admin",
            "系统管理员",
            "System administrator",
            "维护机构与用户账号，不能分配角色、不能查看审计日志",
            "org.view",
            "org.manage",
            "user.view",
            "user.manage",
            "system.admin",
        ),
        _role(
            "sec_admin",
            "安全管理员",
            "Security administrator",
            "分配角色与管理安全策略，不能维护账号、不能查看审计日志",
            "org.view",
            "user.view",
            "grant.manage",
            "security.manage",
        ),
        _role(
            "audit_admin",
            "审计管理员",
            "Audit administrator",
            "查看、导出并核验审计日志，不能改动任何数据",
            "org.view",
            "user.view",
            "audit.view",
            "audit.export",
            "system.admin",
        ),
        _role(
            "config_admin",
            "配置管理员",
            "Configuration administrator",
            "配置项目类型、表单、审批流程与预警规则",
            "org.view",
            "config.view",
            "config.manage",
            "project.view",
        ),
        _role(
            "staff",
            "经办人",
            "Staff",
            "创建项目、填报表单、报送进度与支出",
            "org.view",
            "config.view",
            "project.view",
            "project.create",
            "project.edit",
            "project.export",
            "alert.view",
            "alert.handle",
        ),
        _role(
            "approver",
            "审批人",
            "Approver",
            "处理待办审批",
            "org.view",
            "config.view",
            "project.view",
            "approval.act",
            "alert.view",
        ),
        _role(
            "regulator",
            "监管人员",
            "Regulator",
            "加载政策规则包，查看辖区预警",
            "org.view",
            "config.view",
            "project.view",
            "project.export",
            "rulepack.manage",
            "alert.view",
            "alert.verify",
        ),
        _role(
            "leader",
            "领导",
            "Leader",
            "查看驾驶舱、统一项目台账与月度通报，审批分管事项",
            "org.view",
            "project.view",
            "project.export",
            "dashboard.view",
            "alert.view",
            "approval.act",
        ),
    )
}

# 三员: mutually exclusive roles, each owning actions no other role has.
THREE_ADMINS: tuple[str, ...] = ("sys_admin", "sec_admin", "audit_admin")
