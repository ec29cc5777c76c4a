"""Chinese identifier formats (and a strict ``date``) for JSON Schema's ``format`` keyword.

Draft 2020-12 treats ``format`` as an annotation unless a validator is given a format checker; ours always is, so
these functions are the single definition of what a valid 统一社会信用代码, 居民身份证号, 手机号, 固定电话, 邮政编码,
行政区划代码 or date is. Every check is on ASCII only: Python's ``\\d`` and ``str.isdigit`` accept full-width and
other Unicode digits (``１３８…``), which look right on a phone screen but break every downstream system, so input
normalisation (``fields.coerce``) folds them to ASCII *before* validation and validation refuses them.

Each checker returns True for non-strings, as JSON Schema formats apply only to strings (``type`` says the rest).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date
from functools import lru_cache

from jsonschema import FormatChecker
from stdnum.cn import ric, uscc

__all__ = [
    "FORMATS",
    "FORMAT_MESSAGES",
    "PROVINCE_CODES",
    "format_checker",
    "is_cn_division",
    "is_cn_idcard",
    "is_cn_mobile",
    "is_cn_phone",
    "is_cn_postcode",
    "is_cn_uscc",
    "is_date",
    "is_email",
]

# 0-9 and A-Z without I, O, S, V, Z (GB 32100-2015).
_USCC_SHAPE = re.compile(r"[0-9A-HJ-NPQRTUWXY]{18}", re.ASCII)
_IDCARD_SHAPE = re.compile(r"[0-9]{17}[0-9X]", re.ASCII)
_MOBILE = re.compile(r"1[3-9][0-9]{9}", re.ASCII)
# Area code 0 + 2 or 3 digits (010, 021, 0571), a 7- or 8-digit local number not starting 0, optional extension.
_PHONE = re.compile(r"0[1-9][0-9]{1,2}-[1-9][0-9]{6,7}(-[0-9]{1,6})?", re.ASCII)
_POSTCODE = re.compile(r"[0-9]{6}", re.ASCII)
_DIVISION = re.compile(r"[0-9]{6}", re.ASCII)
_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", re.ASCII)
_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")

#: GB/T 2260 province-level prefixes (incl. 71 台湾, 81 香港, 82 澳门).
PROVINCE_CODES = frozenset(
    [
        "11",
        "12",
        "13",
        "14",
        "15",
        "21",
        "22",
        "23",
        "31",
        "32",
        "33",
        "34",
        "35",
        "36",
        "37",
        "41",
        "42",
        "43",
        "44",
        "45",
        "46",
        "50",
        "51",
        "52",
        "53",
        "54",
        "61",
        "62",
        "63",
        "64",
        "65",
        "71",
        "81",
        "82",
    ]
)


def is_cn_uscc(value: object) -> bool:
    """统一社会信用代码: 18 characters of the GB 32100 alphabet with a valid mod-31 check character."""
    if not isinstance(value, str):
        return True
    # stdnum's own compact() strips spaces and upper-cases; the stored form must already be canonical.
    return _USCC_SHAPE.fullmatch(value) is not None and _uscc_valid(value)


def is_cn_idcard(value: object) -> bool:
    """居民身份证号: 17 digits + check digit or upper-case X, a real birth date, a known region and a valid
    mod-11 check."""
    if not isinstance(value, str):
        return True
    return _IDCARD_SHAPE.fullmatch(value) is not None and _ric_valid(value)


# stdnum cleans its input character by character (tens of µs a call); the same unit's code recurs on every
# submission and every contract row, so the verdicts are memoised. Bounded, and keyed only by the code.
@lru_cache(maxsize=8192)
def _uscc_valid(value: str) -> bool:
    return bool(uscc.is_valid(value))


@lru_cache(maxsize=8192)
def _ric_valid(value: str) -> bool:
    return bool(ric.is_valid(value))


def is_cn_mobile(value: object) -> bool:
    """手机号: 11 ASCII digits starting 13–19 (no country code, no separators)."""
    return not isinstance(value, str) or _MOBILE.fullmatch(value) is not None


def is_cn_phone(value: object) -> bool:
    """固定电话: ``0571-87654321``, ``010-12345678-123`` (area code, hyphen, number, optional extension)."""
    return not isinstance(value, str) or _PHONE.fullmatch(value) is not None


def is_cn_postcode(value: object) -> bool:
    """邮政编码: six ASCII digits."""
    return not isinstance(value, str) or _POSTCODE.fullmatch(value) is not None


def is_cn_division(value: object) -> bool:
    """行政区划代码 (GB/T 2260): six digits — a real province prefix, then a 地级 part and a 县级 part.

    The 地级 part is 00 (the province itself), 01–70 (市, 地区, 自治州, 盟) or 90 (省直辖县级行政区划, e.g. 429004 仙桃);
    a province-level code (地级 00) must end 00. Whether a code is *currently assigned* is a question for a
    versioned code table, not a format: codes are retired and lists republished (DOMAIN.md §6).
    """
    if not isinstance(value, str):
        return True
    if _DIVISION.fullmatch(value) is None or value[:2] not in PROVINCE_CODES:
        return False
    prefecture, county = int(value[2:4]), value[4:6]
    if prefecture == 0:
        return county == "00"
    return 1 <= prefecture <= 70 or prefecture == 90


def is_date(value: object) -> bool:
    """ISO 8601 calendar date ``YYYY-MM-DD`` that exists (no 2023-02-29, no week or ordinal forms)."""
    if not isinstance(value, str):
        return True
    if _DATE.fullmatch(value) is None:
        return False
    try:
        date.fromisoformat(value)
    except ValueError:
        return False
    return True


def is_email(value: object) -> bool:
    """A deliberately loose e-mail shape (one @, a dot in the domain): mail delivery is the real test."""
    return not isinstance(value, str) or _EMAIL.fullmatch(value) is not None


#: format name → predicate; the fast validator and the jsonschema reference both call these.
FORMATS: dict[str, Callable[[object], bool]] = {
    "date": is_date,
    "email": is_email,
    "cn-uscc": is_cn_uscc,
    "cn-idcard": is_cn_idcard,
    "cn-mobile": is_cn_mobile,
    "cn-phone": is_cn_phone,
    "cn-postcode": is_cn_postcode,
    "cn-division": is_cn_division,
}

#: the Chinese message shown when a value fails the format.
FORMAT_MESSAGES: dict[str, str] = {
    "date": "日期格式应为 YYYY-MM-DD，且须是有效日期",
    "email": "电子邮箱格式不正确",
    "cn-uscc": "统一社会信用代码格式或校验位不正确",
    "cn-idcard": "居民身份证号格式、出生日期或校验位不正确",
    "cn-mobile": "手机号应为 11 位数字，以 13–19 开头",
    "cn-phone": "固定电话格式不正确，应如 0571-87654321 或 010-12345678-123",
    "cn-postcode": "邮政编码应为 6 位数字",
    "cn-division": "行政区划代码不正确（应为 6 位有效代码）",
}


def format_checker() -> FormatChecker:
    """A FormatChecker that knows exactly :data:`FORMATS` (jsonschema's defaults are not mixed in, so a format we
    do not define is reported at publish time rather than silently half-checked)."""
    checker = FormatChecker(formats=())
    for name, predicate in FORMATS.items():
        checker.checks(name)(predicate)
    return checker
