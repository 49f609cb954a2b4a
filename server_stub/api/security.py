"""Password hashing (argon2), SIP digest secrets, tokens and the login/password rules.

Rules chosen where the seeds disagree (written down in the README, tested in
tests/unit/test_rules.py):
- Web password: at least 8 characters from at least three of four classes (lower-case,
  upper-case, digits, other). The bulk-import rule of the manual is the stricter of its two
  rules, and one rule everywhere is what a user expects.
- Login: 2–64 characters, lower-case Latin letters, digits, '.', '_' and '-', starting with a
  letter (the manual says "lower-case Latin letters" yet its samples contain dots).
"""

from __future__ import annotations

import hashlib
import re
import secrets
import string
from datetime import UTC, datetime, timedelta
from typing import Any

import jwt
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

_hasher = PasswordHasher()
# Verifying against this keeps the time of "no such login" equal to "wrong password".
_DUMMY_HASH = _hasher.hash("not-a-real-password-0")

LOGIN_RE = re.compile(r"^[a-z][a-z0-9._-]{1,63}$")
EXTENSION_RE = re.compile(r"^[0-9]{2,5}$")
MIN_PASSWORD = 8


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    try:
        return _hasher.verify(password_hash or _DUMMY_HASH, password) and password_hash is not None
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def password_problem(password: str) -> tuple[str, str] | None:
    """Why a password is unacceptable, as (ru, en), or None when it is fine."""
    if len(password) < MIN_PASSWORD:
        return (
            f"Пароль должен содержать не менее {MIN_PASSWORD} символов",
            f"The password must be at least {MIN_PASSWORD} characters long",
        )
    if len(password) > 128:
        return ("Пароль длиннее 128 символов", "The password is longer than 128 characters")
    classes = sum(
        [
            any(c in string.ascii_lowercase for c in password),
            any(c in string.ascii_uppercase for c in password),
            any(c.isdigit() for c in password),
            any(not c.isalnum() for c in password),
        ]
    )
    if classes < 3:
        return (
            "Пароль должен содержать символы трёх групп из четырёх: строчные и заглавные "
            "латинские буквы, цифры, спецсимволы",
            "The password needs characters of three of four kinds: lower-case and upper-case "
            "Latin letters, digits, special characters",
        )
    return None


def login_problem(login: str) -> tuple[str, str] | None:
    if not LOGIN_RE.match(login):
        return (
            "Логин: 2–64 символа, строчные латинские буквы, цифры, «.», «_», «-»; "
            "начинается с буквы",
            "Login: 2–64 characters of lower-case Latin letters, digits, '.', '_', '-', "
            "starting with a letter",
        )
    return None


def generate_password(length: int = 16) -> str:
    alphabet = string.ascii_letters + string.digits
    while True:
        candidate = "".join(secrets.choice(alphabet) for _ in range(length))
        if password_problem(candidate) is None:
            return candidate


def sip_ha1(login: str, realm: str, password: str) -> tuple[str, str]:
    """(HA1, HA1B) as Kamailio's auth_db expects them (RFC 2617 MD5 digest)."""
    ha1 = hashlib.md5(f"{login}:{realm}:{password}".encode()).hexdigest()
    ha1b = hashlib.md5(f"{login}@{realm}:{realm}:{password}".encode()).hexdigest()
    return ha1, ha1b


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def new_opaque_token() -> str:
    return secrets.token_urlsafe(32)


def encode_access_token(claims: dict[str, Any], key: str, minutes: int) -> str:
    now = datetime.now(UTC)
    payload = {**claims, "iat": now, "exp": now + timedelta(minutes=minutes), "typ": "access"}
    return jwt.encode(payload, key, algorithm="HS256")


def decode_access_token(token: str, key: str) -> dict[str, Any] | None:
    try:
        payload: dict[str, Any] = jwt.decode(token, key, algorithms=["HS256"])
    except jwt.PyJWTError:
        return None
    return payload if payload.get("typ") == "access" else None
