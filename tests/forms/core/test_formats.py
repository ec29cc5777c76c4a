"""The Chinese formats: valid fictitious samples pass, checksum variants and full-width digits fail."""

from __future__ import annotations

import pytest

from forms.core.formats import (
    format_checker,
    is_cn_division,
    is_cn_idcard,
    is_cn_mobile,
    is_cn_phone,
    is_cn_postcode,
    is_cn_uscc,
    is_date,
)


def test_uscc_sample_passes() -> None:
    assert is_cn_uscc("913301005000000002")


@pytest.mark.parametrize(
    "code",
    [
        "913301005000000003",  # wrong check character
        "913301005000000012",  # changed body digit
        "９１３３０１００５０００００００００２",  # full-width digits
        "9133 0100 5000 0000 02",  # separators are stripped by coercion, not accepted by validation
        "91330100500000000",  # 17 characters
        "91330100500000000I",  # I is not in the alphabet
        "",
    ],
)
def test_uscc_rejects_bad_codes(code: str) -> None:
    assert not is_cn_uscc(code)


def test_idcard_sample_passes() -> None:
    assert is_cn_idcard("11010519491231002X")


@pytest.mark.parametrize(
    "number",
    [
        "110105194912310021",  # wrong check digit
        "11010519491231002x",  # lower-case x is not the stored form
        "110105194902300028",  # 30 February
        "１１０１０５１９４９１２３１００２X",  # full-width digits
        "11010519491231002",
    ],
)
def test_idcard_rejects_bad_numbers(number: str) -> None:
    assert not is_cn_idcard(number)


@pytest.mark.parametrize("number", ["13800138000", "19912345678", "15000000000"])
def test_mobile_accepts_ascii_numbers(number: str) -> None:
    assert is_cn_mobile(number)


@pytest.mark.parametrize(
    "number",
    [
        "12800138000",
        "1380013800",
        "138001380000",
        "１３８００１３８０００",
        "13800138000\n",
        "+8613800138000",
    ],
)
def test_mobile_rejects_other_shapes_and_full_width_digits(number: str) -> None:
    assert not is_cn_mobile(number)


@pytest.mark.parametrize("number", ["0571-87654321", "010-12345678-123", "021-6234567"])
def test_phone_accepts_area_code_number_and_extension(number: str) -> None:
    assert is_cn_phone(number)


@pytest.mark.parametrize("number", ["057187654321", "571-87654321", "010-02345678", "０５７１-87654321"])
def test_phone_rejects_missing_area_code_or_full_width(number: str) -> None:
    assert not is_cn_phone(number)


def test_postcode_is_six_ascii_digits() -> None:
    assert is_cn_postcode("310006")
    assert not is_cn_postcode("31000")
    assert not is_cn_postcode("３１０００６")


@pytest.mark.parametrize("code", ["110108", "110000", "330106", "429004", "540102", "810000"])
def test_division_accepts_real_structures(code: str) -> None:
    assert is_cn_division(code)


@pytest.mark.parametrize("code", ["990101", "110001", "117101", "11010", "１１０１０８", "1101080"])
def test_division_rejects_bad_province_or_level_structure(code: str) -> None:
    assert not is_cn_division(code)


@pytest.mark.parametrize("value", ["2024-02-29", "1999-12-31"])
def test_date_accepts_real_iso_dates(value: str) -> None:
    assert is_date(value)


@pytest.mark.parametrize(
    "value", ["2023-02-29", "2024-13-01", "2024-1-5", "20240105", "2024-W01-1", "２０２４-01-05"]
)
def test_date_rejects_impossible_or_non_iso_dates(value: str) -> None:
    assert not is_date(value)


def test_formats_apply_only_to_strings() -> None:
    assert is_cn_uscc(12) and is_date(None) and is_cn_mobile(["x"])


def test_format_checker_knows_every_chinese_format() -> None:
    checker = format_checker()
    assert {"cn-uscc", "cn-idcard", "cn-mobile", "cn-phone", "cn-postcode", "cn-division", "date"} <= set(
        checker.checkers
    )
    assert not checker.conforms("913301005000000003", "cn-uscc")
