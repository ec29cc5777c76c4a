"""A small approval world: a 住建局 with two 科室 approvers, a 财政局 with two approvers, the district leader, and a
published type whose flows mirror the example bundles (立项审批 with a conditional 财政局会签; 支出审批 with 或签)."""

from __future__ import annotations

import copy
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import pytest

FLOWS = [
    {
        "code": "lixiang",
        "name": "立项审批",
        "transition": "立项审批",
        "steps": [
            {
                "code": "ks",
                "name": "住建局审核",
                "approvers": [{"role": "approver", "org": "本单位"}],
                "mode": "或签",
                "sla": "2工作日",
            },
            {
                "code": "czj",
                "name": "财政局会签",
                "when": "预算 > 1000万",
                "approvers": [{"role": "approver", "org": "同级财政局"}],
                "mode": "会签",
                "sla": "3工作日",
                "on_timeout": "升级",
            },
            {
                "code": "ld",
                "name": "分管领导审批",
                "approvers": [{"role": "leader", "org": "本级政府"}],
                "mode": "或签",
            },
        ],
    },
    {
        "code": "zhichu",
        "name": "支出审批",
        "transition": "支出审批",
        "steps": [
            {
                "code": "ks",
                "name": "科室审核",
                "approvers": [{"role": "approver", "org": "本单位"}],
                "mode": "或签",
            },
            {
                "code": "cw",
                "name": "财政局复核",
                "when": "申请金额 > 50万",
                "approvers": [{"role": "approver", "org": "同级财政局"}],
                "mode": "或签",
            },
        ],
    },
    {
        "code": "biangeng",
        "name": "变更审批",
        "transition": "变更审批",
        "steps": [
            {
                "code": "ks",
                "name": "科室依次审核",
                "approvers": [{"role": "approver", "org": "本单位"}],
                "mode": "依次",
            },
        ],
    },
]


@dataclass
class FlowWorld:
    world: Any
    ptype: Any
    finance: Any
    clerk: Any
    ks1: Any
    ks2: Any
    cz1: Any
    cz2: Any
    leader: Any

    def project(self, budget: str = "20000000.00", **changes: Any) -> Any:
        from projects import services

        data = copy.deepcopy(_VALID)
        data["项目总投资"] = Decimal(budget)
        data["资金来源"] = [{"来源": "中央补助", "金额": Decimal(budget)}]
        data.update(changes)
        return services.project_create_from_type(
            actor=self.clerk, org=self.world.bureau_a, ptype=self.ptype, data=data
        )


_VALID: dict = {}


@pytest.fixture
def flows(world, config_admin, project_type, valid_data) -> FlowWorld:
    from projects import services
    from tests.factories import OrgFactory, UserFactory
    from tests.project_fixtures import TYPE_CONFIG

    _VALID.clear()
    _VALID.update(valid_data)
    finance = OrgFactory(parent=world.district_a, name="西湖区财政局", kind="bureau", code="330106-czj")
    users = {
        "ks1": UserFactory(username="ks1", display_name="王科长", org=world.bureau_a, roles=("approver",)),
        "ks2": UserFactory(username="ks2", display_name="李科员", org=world.bureau_a, roles=("approver",)),
        "cz1": UserFactory(username="cz1", display_name="赵处长", org=finance, roles=("approver",)),
        "cz2": UserFactory(username="cz2", display_name="钱科长", org=finance, roles=("approver",)),
    }
    config = copy.deepcopy(TYPE_CONFIG)
    config["stages"] = [{"code": "立项"}, {"code": "执行"}, {"code": "验收"}, {"code": "结项"}]
    config["flows"] = copy.deepcopy(FLOWS)
    ptype = services.project_type_create(actor=config_admin, org=world.city, code="flowtype", config=config)
    services.project_type_publish(actor=config_admin, ptype=ptype)
    return FlowWorld(
        world=world,
        ptype=ptype,
        finance=finance,
        clerk=world.users["clerk_a"],
        leader=world.users["leader_a"],
        **users,
    )
