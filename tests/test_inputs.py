"""What the browser sends, parsed in one place (found by the breaker pass: '¹²' passed
str.isdigit() and crashed int() in the checkout and the dashboard)."""

import pytest

from medspa.web.inputs import ascii_int, parse_id


@pytest.mark.parametrize(("value", "expected"), [
    ("12", 12), ("0", 0), ("007", 7), ("¹²", None), ("４２", None), ("١٢", None), ("-1", None), (" 1", None),
    ("", None), ("1" * 19, None), (12, None), (None, None), (["1"], None), ("1.5", None),
])
def test_ascii_int(value, expected):
    assert ascii_int(value) == expected


@pytest.mark.parametrize(("value", "expected"), [
    (5, 5), ("5", 5), (0, None), ("0", None), (-3, None), (True, None), (2**62, None), (2**70, None),
    (2**62 - 1, 2**62 - 1), ("²", None), (1.0, None), ({"id": 1}, None),
])
def test_parse_id(value, expected):
    assert parse_id(value) == expected
