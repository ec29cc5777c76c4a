"""Consistency checks of one property schema against its declared field type (money scale, enum labels, group items …).

Each returns Chinese problem texts; the registry in `forms.core.fields` attaches them to field types.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any

Checker = Callable[[Mapping[str, Any]], list[str]]
FILE_KEYS = ("name", "size", "content_type", "key")


def check_money(prop: Mapping[str, Any]) -> list[str]:
    scale = prop.get("x-scale")
    if not isinstance(scale, int) or isinstance(scale, bool) or not 0 <= scale <= 4:
        return ["金额字段应声明 x-scale（0–4 位小数，通常为 2）"]
    return []


def check_choice(prop: Mapping[str, Any]) -> list[str]:
    values = prop.get("enum")
    if not isinstance(values, list) or not values or not all(isinstance(v, str) for v in values):
        return ["单选字段应声明非空的文本 enum"]
    return check_labels(prop, values)


def check_labels(prop: Mapping[str, Any], values: list[Any]) -> list[str]:
    labels = prop.get("x-enum-labels")
    if labels is None:
        return []
    if not isinstance(labels, Mapping) or not all(isinstance(v, str) for v in labels.values()):
        return ["x-enum-labels 应为「值 → 显示名」的对象"]
    extra = [k for k in labels if k not in values]
    return [f"x-enum-labels 含有不在 enum 中的值：{'、'.join(extra)}"] if extra else []


def check_multichoice(prop: Mapping[str, Any]) -> list[str]:
    items = prop.get("items")
    if not isinstance(items, Mapping) or items.get("type") != "string":
        return ["多选字段的 items 应为 {type: string, enum: […]}"]
    values = items.get("enum")
    if not isinstance(values, list) or not values or not all(isinstance(v, str) for v in values):
        return ["多选字段的 items 应声明非空的文本 enum"]
    if prop.get("uniqueItems") is not True:
        return ["多选字段应声明 uniqueItems: true"]
    return check_labels(items, values) + check_labels(prop, values)


def check_object_keys(keys: Iterable[str], what: str) -> Checker:
    def check(prop: Mapping[str, Any]) -> list[str]:
        props = prop.get("properties")
        missing = [k for k in keys if not isinstance(props, Mapping) or k not in props]
        return [f"{what}应包含属性：{'、'.join(missing)}"] if missing else []

    return check


def check_daterange(prop: Mapping[str, Any]) -> list[str]:
    found = check_object_keys(("开始", "结束"), "日期范围字段")(prop)
    if found:
        return found
    props = prop["properties"]
    if any(not isinstance(props[k], Mapping) or props[k].get("format") != "date" for k in ("开始", "结束")):
        return ["日期范围的开始、结束应为 format: date 的文本"]
    return []


def check_file(prop: Mapping[str, Any]) -> list[str]:
    found = check_object_keys(FILE_KEYS, "文件字段")(prop)
    size = prop.get("x-max-size")
    if size is not None and (not isinstance(size, int) or isinstance(size, bool) or size <= 0):
        found.append("x-max-size 应为正整数（字节）")
    accept = prop.get("x-accept")
    if accept is not None and (not isinstance(accept, list) or not all(isinstance(a, str) for a in accept)):
        found.append('x-accept 应为 MIME 类型列表，如 ["application/pdf", "image/*"]')
    return found


def check_group(prop: Mapping[str, Any]) -> list[str]:
    items = prop.get("items")
    if (
        not isinstance(items, Mapping)
        or items.get("type") != "object"
        or not isinstance(items.get("properties"), Mapping)
    ):
        return ["重复组的 items 应为带 properties 的对象"]
    return []
