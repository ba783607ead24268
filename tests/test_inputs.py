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


def test_form_text_is_the_one_reader_of_submitted_form_fields():
    from medspa.web.inputs import form_text

    assert form_text({"email": "  ana@example.com \n"}, "email") == "ana@example.com"
    assert form_text({"new_password": "  spaces count  "}, "new_password", strip=False) == "  spaces count  "
    assert form_text({"code": "1234567890"}, "code", 4) == "1234"
    assert form_text({"code": 123456}, "code") == ""  # not a string
    assert form_text(["code"], "code") == "" and form_text(None, "code") == ""  # not a form
    assert form_text({}, "missing") == ""


def test_every_typed_text_loses_nul_controls_and_lone_surrogates_before_the_domain_sees_it():
    """PostgreSQL text cannot hold NUL (psycopg DataError) and UTF-8 cannot encode a lone
    surrogate (UnicodeEncodeError): a browser can send either in any JSON string."""
    from medspa.web.inputs import clean_text, form_text

    assert clean_text("a\x00b\ud800c\udfff\x1b[0m") == "abc[0m"
    assert clean_text("  line one\nline\ttwo\r\n ") == "line one\nline\ttwo"  # tab, newline, return kept
    assert clean_text("\x00\x00", strip=False) == "" and clean_text(None) == "" and clean_text(7) == ""
    assert clean_text("\U0001F600 caf\u00e9 \u202e") == "\U0001F600 caf\u00e9 \u202e"  # real characters stay
    assert clean_text("x" * 300, 100) == "x" * 100
    assert form_text({"name": " Ana\x00 \ud83d"}, "name") == "Ana"
