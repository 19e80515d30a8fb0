"""Password and email rules of sign-up (NIST SP 800-63B, 5.1.1.2).

* Passwords: 10 to 256 characters, any characters (spaces and Unicode included, counted as
  code points, never truncated); refused when they are in a list of commonly used passwords
  (``common_passwords.txt``: the 10,000 most frequent of the zxcvbn password list plus common
  patterns, compared casefolded) or when they are, or contain, the email address or its local
  part. No composition rules (NIST advises against them).
* Emails: compared as NFKC + casefold + strip, so ``ＡＬＩＣＥ@example.com`` (fullwidth) and
  ``Alice@Example.com`` are one account. Invisible (format, e.g. zero-width space), control,
  private-use, unassigned and lone-surrogate characters are refused: they would make two
  addresses that look the same.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache
from pathlib import Path

from optimizer_app.core.errors import ValidationError

MIN_PASSWORD = 10
MAX_PASSWORD = 256
MAX_EMAIL = 320
MIN_LOCAL_PART_CHECKED = 4  # shorter local parts ("al") are only refused as the whole password
EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
COMMON_PASSWORDS_FILE = Path(__file__).with_name("common_passwords.txt")

COMMON = "this password is in a list of commonly used passwords; choose another"
CONTAINS_EMAIL = "this password contains your email address; choose another"
LENGTH = f"use {MIN_PASSWORD} to {MAX_PASSWORD} characters"
NOT_TEXT = "contains a character that is not valid Unicode text (a lone surrogate)"


@lru_cache(maxsize=1)
def common_passwords() -> frozenset[str]:
    lines = COMMON_PASSWORDS_FILE.read_text(encoding="utf-8").splitlines()
    return frozenset(line.casefold() for line in lines if line and not line.startswith("#"))


def is_valid_text(text: str) -> bool:
    """False for strings that cannot be encoded as UTF-8 (lone surrogates from JSON escapes)."""
    if text.isascii():
        return True
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _hidden_character(text: str) -> str | None:
    for char in text:
        if unicodedata.category(char).startswith("C"):  # Cc, Cf, Cs, Co, Cn
            return f"U+{ord(char):04X}"
    return None


def normalize_email(email: str) -> str:
    """The form an email is stored and compared in; raises ValidationError (422) for invisible
    or control characters."""
    if not isinstance(email, str):
        raise ValidationError("email: enter a valid email address",
                              details=[{"field": "email", "problem": "must be a string"}])
    stripped = email.strip()
    hidden = _hidden_character(stripped)
    if hidden is not None:
        problem = (f"contains an invisible or control character ({hidden}); "
                   "type the address again without it")
        raise ValidationError(f"email: {problem}", details=[{"field": "email", "problem": problem}])
    return unicodedata.normalize("NFKC", stripped).casefold().strip()


def email_problem(email: str) -> str | None:
    """``email`` is normalized already."""
    if len(email) > MAX_EMAIL or not EMAIL_RE.match(email):
        return "enter a valid email address"
    return None


def password_problem(password: object, email: str) -> str | None:
    """Why ``password`` may not be used by the account ``email`` (normalized), or None."""
    if not isinstance(password, str) or not MIN_PASSWORD <= len(password) <= MAX_PASSWORD:
        return LENGTH
    if not is_valid_text(password):
        return NOT_TEXT
    folded = password.casefold()
    if folded in common_passwords() or folded.strip() in common_passwords():
        return COMMON
    local = email.split("@", 1)[0]
    if email and (email in folded or folded == local
                  or (len(local) >= MIN_LOCAL_PART_CHECKED and local in folded)):
        return CONTAINS_EMAIL
    return None


def check_new_credentials(email: str, password: object) -> None:
    """Raise ValidationError (422) naming every problem of a sign-up; ``email`` normalized."""
    problems = []
    if (problem := email_problem(email)) is not None:
        problems.append({"field": "email", "problem": problem})
    if (problem := password_problem(password, email)) is not None:
        problems.append({"field": "password", "problem": problem})
    if problems:
        message = "; ".join(f"{p['field']}: {p['problem']}" for p in problems)
        raise ValidationError(message, details=problems)
