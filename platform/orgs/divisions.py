"""行政区划代码 (GB/T 2260): six digits, three levels. Pure functions, no Django.

Digits 1–2 name the province-level unit, 3–4 the prefecture level (00 for the province itself),
5–6 the county level (00 for the prefecture itself). A code below another must share its prefix.
"""

from __future__ import annotations

import re

# Province-level prefixes in GB/T 2260 (incl. 台湾 71, 香港 81, 澳门 82).
PROVINCES: dict[str, str] = {
    "11": "北京市",
    "12": "天津市",
    "13": "河北省",
    "14": "山西省",
    "15": "内蒙古自治区",
    "21": "辽宁省",
    "22": "吉林省",
    "23": "黑龙江省",
    "31": "上海市",
    "32": "江苏省",
    "33": "浙江省",
    "34": "安徽省",
    "35": "福建省",
    "36": "江西省",
    "37": "山东省",
    "41": "河南省",
    "42": "湖北省",
    "43": "湖南省",
    "44": "广东省",
    "45": "广西壮族自治区",
    "46": "海南省",
    "50": "重庆市",
    "51": "四川省",
    "52": "贵州省",
    "53": "云南省",
    "54": "西藏自治区",
    "61": "陕西省",
    "62": "甘肃省",
    "63": "青海省",
    "64": "宁夏回族自治区",
    "65": "新疆维吾尔自治区",
    "71": "台湾省",
    "81": "香港特别行政区",
    "82": "澳门特别行政区",
}
PROVINCE, PREFECTURE, COUNTY = "province", "prefecture", "county"
_SIX_DIGITS = re.compile(r"^[0-9]{6}$")


def level(code: str) -> str:
    """Which level a well-formed code names."""
    if code[2:] == "0000":
        return PROVINCE
    if code[4:] == "00":
        return PREFECTURE
    return COUNTY


def problems(code: str, *, expected_level: str | None = None, parent_code: str | None = None) -> list[str]:
    """Every reason `code` is not a valid division code here, in Chinese; empty when it is valid."""
    if not _SIX_DIGITS.match(code or ""):
        return ["行政区划代码必须是 6 位数字"]
    errors: list[str] = []
    if code[:2] not in PROVINCES:
        errors.append(f"“{code[:2]}”不是有效的省级代码（前两位）")
    if code[2:4] == "00" and code[4:] != "00":
        errors.append("县级代码的第 3–4 位不能为 00（省直辖县级行政区划使用 90）")
    actual = level(code)
    names = {PROVINCE: "省级", PREFECTURE: "地级", COUNTY: "县级"}
    if expected_level and actual != expected_level:
        errors.append(f"此处需要{names[expected_level]}代码，“{code}”是{names[actual]}代码")
    if parent_code:
        keep = 2 if level(parent_code) == PROVINCE else 4
        if code[:keep] != parent_code[:keep] or code == parent_code:
            errors.append(f"代码“{code}”不属于上级区划“{parent_code}”")
    return errors
