"""Benchmark: validating a realistic 40-field 立项申请 (老旧小区改造) form on one core.

Compares (a) our cached FormValidator (fast predicate, jsonschema only for invalid payloads, DSL rules included),
(b) a jsonschema validator rebuilt for every submission, (c) one cached jsonschema validator's ``iter_errors`` and
(d) ``jsonschema_rs`` when it is installed. Times are context; the ratios against (b), measured in the same run,
are the point. Run: ``.venv/bin/python bench/bench_forms.py``.
"""

from __future__ import annotations

import json
import random
import sys
import time
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from jsonschema import Draft202012Validator

from forms.core import FormDefinition, validator_for
from forms.core.formats import format_checker
from forms.core.keywords import normalise_schema

DIVISIONS = ["330106", "330102", "110108", "440305", "510104"]
SOURCES = ["中央补助", "中央预算内投资", "省级补助", "市县配套", "专项债券", "居民出资", "社会资本"]


def _text(name: str, max_length: int = 100, **extra: Any) -> dict[str, Any]:
    return {"type": "string", "x-field": "text", "title": name, "maxLength": max_length, **extra}


def _money(**extra: Any) -> dict[str, Any]:
    return {"type": "number", "x-field": "money", "x-scale": 2, "minimum": 0, **extra}


def _date() -> dict[str, Any]:
    return {"type": "string", "x-field": "date", "format": "date"}


def schema() -> dict[str, Any]:
    props: dict[str, Any] = {
        "项目名称": _text("项目名称", 100, minLength=4),
        "项目代码": _text("项目代码", 24, pattern="^[0-9A-Z-]{10,24}$"),
        "项目类型": {
            "type": "string",
            "x-field": "choice",
            "enum": ["基本建设", "技术改造", "单纯购置", "信息化", "其他"],
        },
        "建设性质": {"type": "string", "x-field": "choice", "enum": ["新建", "改扩建", "续建", "其他"]},
        "改造类别": {
            "type": "array",
            "x-field": "multichoice",
            "items": {"type": "string", "enum": ["基础类", "完善类", "提升类"]},
            "uniqueItems": True,
            "minItems": 1,
        },
        "小区名称": _text("小区名称", 50),
        "建成年份": {"type": "integer", "x-field": "integer", "minimum": 1949, "maximum": 2005},
        "涉及户数": {"type": "integer", "x-field": "integer", "minimum": 1},
        "涉及楼栋数": {"type": "integer", "x-field": "integer", "minimum": 1},
        "建筑面积": {"type": "number", "x-field": "percent", "minimum": 0},
        "建设地点": {"type": "string", "x-field": "division", "format": "cn-division"},
        "详细地址": _text("详细地址", 200),
        "邮政编码": {"type": "string", "x-field": "postcode", "format": "cn-postcode"},
        "建设单位": _text("建设单位", 100),
        "建设单位代码": {
            "type": "string",
            "x-field": "uscc",
            "format": "cn-uscc",
            "title": "统一社会信用代码",
        },
        "主管部门": {"type": "string", "x-field": "org"},
        "责任人": {"type": "string", "x-field": "user"},
        "责任人身份证号": {
            "type": "string",
            "x-field": "idcard",
            "format": "cn-idcard",
            "x-sensitivity": "个人信息",
        },
        "联系电话": {"type": "string", "x-field": "mobile", "format": "cn-mobile"},
        "办公电话": {"type": "string", "x-field": "phone", "format": "cn-phone"},
        "可研批复文号": _text("可研批复文号", 50),
        "可研批复日期": _date(),
        "项目总投资": _money(exclusiveMinimum=0),
        "中央补助": _money(),
        "地方配套": _money(),
        "居民出资": _money(),
        "年度投资额": _money(),
        "超支率": {"type": "number", "x-field": "percent", "minimum": -1, "maximum": 10},
        "超支说明": {"type": "string", "x-field": "textarea", "maxLength": 1000},
        "资金来源": {
            "type": "array",
            "x-field": "multichoice",
            "items": {"type": "string", "enum": SOURCES},
            "uniqueItems": True,
        },
        "计划开工日期": _date(),
        "计划竣工日期": _date(),
        "建设工期": {
            "type": "object",
            "x-field": "daterange",
            "properties": {"开始": _date(), "结束": _date()},
            "required": ["开始", "结束"],
            "additionalProperties": False,
        },
        "是否加装电梯": {"type": "boolean", "x-field": "yesno"},
        "加装电梯数": {"type": "integer", "x-field": "integer", "minimum": 0},
        "公开属性": {"type": "string", "x-field": "choice", "enum": ["主动公开", "依申请公开", "不予公开"]},
        "建设内容及规模": {"type": "string", "x-field": "textarea", "maxLength": 2000},
        "预算明细": {
            "type": "array",
            "x-field": "group",
            "maxItems": 200,
            "items": {
                "type": "object",
                "properties": {
                    "科目": _text("科目", 50),
                    "科目编码": _text("科目编码", 12, pattern="^[0-9]{3,12}$"),
                    "金额": _money(),
                    "资金来源": {"type": "string", "x-field": "choice", "enum": SOURCES},
                },
                "required": ["科目", "金额"],
                "additionalProperties": False,
            },
        },
        "合同": {
            "type": "array",
            "x-field": "group",
            "maxItems": 100,
            "items": {
                "type": "object",
                "properties": {
                    "合同名称": _text("合同名称", 100),
                    "合同类型": {"type": "string", "x-field": "choice", "enum": ["施工", "货物", "服务"]},
                    "乙方": _text("乙方", 100),
                    "乙方代码": {"type": "string", "x-field": "uscc", "format": "cn-uscc"},
                    "合同金额": _money(exclusiveMinimum=0),
                    "签订日期": _date(),
                },
                "required": ["合同名称", "合同类型", "乙方", "合同金额"],
                "additionalProperties": False,
            },
        },
        "明细合计": {"type": "number", "x-field": "computed"},
    }
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "type": "object",
        "properties": props,
        "required": [
            "项目名称",
            "项目类型",
            "建设地点",
            "建设单位",
            "建设单位代码",
            "项目总投资",
            "联系电话",
            "预算明细",
        ],
        "additionalProperties": False,
    }


def ui_schema() -> dict[str, Any]:
    return {
        "sections": [{"title": "基本信息", "fields": ["项目名称", "项目代码", "项目类型"]}],
        "fields": {
            "项目总投资": {"widget": "money", "display": "万元"},
            "超支说明": {"visible_if": "超支率 > 5%", "required_if": "超支率 > 5%"},
            "加装电梯数": {"visible_if": "是否加装电梯 = true"},
            "明细合计": {"computed": "sum(预算明细.金额)"},
        },
        "validations": [
            {
                "rule": "计划开工日期 <= 计划竣工日期",
                "message": "计划开工日期不能晚于计划竣工日期",
                "fields": ["计划竣工日期"],
            },
            {
                "rule": "中央补助 + 地方配套 + 居民出资 <= 项目总投资",
                "message": "资金来源合计不能超过项目总投资",
                "fields": ["项目总投资"],
            },
        ],
    }


def payload(rng: random.Random, index: int) -> dict[str, Any]:
    lines = [
        {
            "科目": f"科目{i}",
            "科目编码": f"{2120000 + i}",
            "金额": Decimal(rng.randint(1000, 900000)) / 100 * 100,
            "资金来源": rng.choice(SOURCES),
        }
        for i in range(10)
    ]
    contracts = [
        {
            "合同名称": f"第{i}标段施工合同",
            "合同类型": rng.choice(["施工", "货物", "服务"]),
            "乙方": "某某建设有限公司",
            "乙方代码": "913301005000000002",
            "合同金额": Decimal(rng.randint(100000, 5000000)) / 100,
            "签订日期": f"2025-0{rng.randint(1, 9)}-1{rng.randint(0, 9)}",
        }
        for i in range(5)
    ]
    data: dict[str, Any] = {
        "项目名称": f"幸福里{index}号小区老旧小区改造工程",
        "项目代码": "2025-330106-47-01-000123",
        "项目类型": "基本建设",
        "建设性质": "改扩建",
        "改造类别": ["基础类", "完善类"],
        "小区名称": f"幸福里{index}号",
        "建成年份": rng.randint(1980, 2000),
        "涉及户数": rng.randint(50, 900),
        "涉及楼栋数": rng.randint(2, 30),
        "建筑面积": Decimal(rng.randint(1000, 90000)),
        "建设地点": rng.choice(DIVISIONS),
        "详细地址": "某某路 100 号",
        "邮政编码": "310006",
        "建设单位": "某某区住房和城乡建设局",
        "建设单位代码": "913301005000000002",
        "主管部门": "330106-zjj",
        "责任人": "zhangsan",
        "责任人身份证号": "11010519491231002X",
        "联系电话": "13800138000",
        "办公电话": "0571-87654321",
        "可研批复文号": "西发改〔2025〕12号",
        "可研批复日期": "2025-02-14",
        "项目总投资": Decimal("12800000.00"),
        "中央补助": Decimal("5000000.00"),
        "地方配套": Decimal("6000000.00"),
        "居民出资": Decimal("800000.00"),
        "年度投资额": Decimal("8000000.00"),
        "超支率": Decimal(rng.randint(0, 8)) / 100,
        "超支说明": "材料涨价",
        "资金来源": ["中央补助", "市县配套", "居民出资"],
        "计划开工日期": "2025-03-01",
        "计划竣工日期": "2025-12-31",
        "建设工期": {"开始": "2025-03-01", "结束": "2025-12-31"},
        "是否加装电梯": rng.random() < 0.5,
        "加装电梯数": rng.randint(0, 6),
        "公开属性": "主动公开",
        "建设内容及规模": "屋面防水、外墙保温、管网改造、加装电梯、停车与充电设施。",
        "预算明细": lines,
        "合同": contracts,
    }
    roll = rng.random()
    if roll < 0.05:
        data["建设单位代码"] = "913301005000000003"
    elif roll < 0.08:
        data["预算明细"][3]["金额"] = Decimal("-1")
    elif roll < 0.10:
        data["计划开工日期"] = "2026-03-01"
    elif roll < 0.12:
        del data["项目名称"]
    return data


def measure(
    name: str, fn: Callable[[dict[str, Any]], Any], payloads: list[dict[str, Any]], seconds: float
) -> float:
    for data in payloads[:20]:
        fn(data)
    count = 0
    started = time.perf_counter()
    while True:
        for data in payloads:
            fn(data)
        count += len(payloads)
        elapsed = time.perf_counter() - started
        if elapsed >= seconds:
            return count / elapsed


def main() -> None:
    seconds = float(sys.argv[1]) if len(sys.argv) > 1 else 2.0
    rng = random.Random(20250301)
    definition = FormDefinition(schema(), ui_schema())
    problems = definition.check()
    assert not problems, problems
    payloads = [payload(rng, i) for i in range(300)]
    validator = validator_for(definition)
    invalid = sum(1 for data in payloads if validator.validate(data))
    normalised = normalise_schema(definition.schema)
    checker = format_checker()
    cached = Draft202012Validator(normalised, format_checker=checker)

    def ours(data: dict[str, Any]) -> Any:
        return validator_for(definition).validate(data)

    def rebuilt(data: dict[str, Any]) -> Any:
        return list(Draft202012Validator(normalised, format_checker=checker).iter_errors(data))

    def plain_cached(data: dict[str, Any]) -> Any:
        return list(cached.iter_errors(data))

    rows = [
        ("(a) forms.core cached validator (+DSL rules)", ours),
        ("(b) jsonschema rebuilt per submission", rebuilt),
        ("(c) jsonschema cached, iter_errors", plain_cached),
    ]
    try:
        import jsonschema_rs

        as_json = [json.loads(json.dumps(d, default=float, ensure_ascii=False)) for d in payloads]
        rs = jsonschema_rs.validator_for(json.loads(json.dumps(normalised, default=float)))
        rows.append(("(d) jsonschema_rs cached, iter_errors (reference)", lambda d: list(rs.iter_errors(d))))
    except ImportError:
        as_json = []

    print(
        f"form: {len(definition.properties())} fields, 2 groups (10 预算明细 + 5 合同); "
        f"{len(payloads)} payloads, {invalid} invalid; {seconds:.1f} s per row; one core"
    )
    print(f"{'validator':<52} {'submissions/s':>14} {'µs/submission':>14} {'× (b)':>8}")
    results = []
    for name, fn in rows:
        data = as_json if name.startswith("(d)") else payloads
        results.append((name, measure(name, fn, data, seconds)))
    base = results[1][1]
    for name, rate in results:
        print(f"{name:<52} {rate:>14,.0f} {1e6 / rate:>14,.1f} {rate / base:>8.1f}")


if __name__ == "__main__":
    main()
