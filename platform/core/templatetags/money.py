"""Money on pages: exact Decimals with thousands separators, never through float."""

from __future__ import annotations

from decimal import Decimal

from django import template

register = template.Library()


@register.filter
def yuan(value) -> str:
    """12800000 → ¥12,800,000.00"""
    if value is None or value == "":
        return "—"
    return f"¥{Decimal(value):,.2f}"


@register.filter
def wanyuan(value) -> str:
    """12800000 → 1,280.00 万元"""
    if value is None or value == "":
        return "—"
    return f"{Decimal(value) / Decimal(10000):,.2f} 万元"
