"""Password and email rules of sign-up (NIST SP 800-63B)."""

from __future__ import annotations

import pytest

from optimizer_app.core.errors import ValidationError
from optimizer_app.services.passwords import (
    COMMON,
    CONTAINS_EMAIL,
    LENGTH,
    common_passwords,
    normalize_email,
    password_problem,
)


def test_the_bundled_list_has_thousands_of_casefolded_entries() -> None:
    words = common_passwords()
    assert len(words) >= 10_000
    assert {"password", "12345678", "1234567890", "qwertyuiop", "iloveyou"} <= words
    assert all(w == w.casefold() for w in words)


@pytest.mark.parametrize("password", ["Password1234", "QWERTYUIOP", "1234567890", "letmein123"])
def test_common_passwords_are_refused_whatever_their_case(password: str) -> None:
    assert password_problem(password, "ann@example.com") == COMMON


@pytest.mark.parametrize("password", ["correct horse battery", "s3cret-pass-word", "é" * 10,
                                      "🐎🔋📎 staple!", " " * 4 + "spaced out"])
def test_long_uncommon_passwords_are_fine(password: str) -> None:
    assert password_problem(password, "ann@example.com") is None


def test_length_is_counted_in_characters() -> None:
    assert password_problem("é" * 9, "a@b.co") == LENGTH
    assert password_problem("x" * 257, "a@b.co") == LENGTH
    assert password_problem(None, "a@b.co") == LENGTH


@pytest.mark.parametrize("password", ["researcher@example.com", "Researcher", "my researcher!"])
def test_the_email_or_its_local_part_is_refused(password: str) -> None:
    assert password_problem(password, "researcher@example.com") == CONTAINS_EMAIL


def test_short_local_parts_are_refused_only_as_the_whole_password() -> None:
    assert password_problem("al", "al@example.com") == LENGTH
    assert password_problem("a long walk home", "al@example.com") is None


@pytest.mark.parametrize(
    ("raw", "normalized"),
    [("  Ann@Example.COM ", "ann@example.com"),
     ("ＡＮＮ＠ｅｘａｍｐｌｅ．ｃｏｍ", "ann@example.com"),
     ("Straße@example.com", "strasse@example.com")],
)
def test_emails_are_nfkc_casefolded(raw: str, normalized: str) -> None:
    assert normalize_email(raw) == normalized


@pytest.mark.parametrize("char", ["\u200b", "\u200c", "\u2060", "\ufeff", "\x00", "\x1b",
                                  "\ud800", "\U000e0001"])
def test_invisible_and_control_characters_are_refused(char: str) -> None:
    with pytest.raises(ValidationError) as error:
        normalize_email(f"ann{char}@example.com")
    assert error.value.details[0]["field"] == "email"
