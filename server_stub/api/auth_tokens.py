"""Sessions: a short-lived JWT access token plus an opaque, rotating refresh token.

The refresh token is stored only as its SHA-256 digest. Each use revokes it and hands out a
new one; presenting a revoked token again means it was copied, so every session of that
subject is revoked (the thief and the owner both have to sign in again).
A token revoked by logout or by a password change is merely refused: an old device that still
holds one must not end the owner's new session. To tell the two apart without a column, a
rotated token is marked with the private claim ``ROTATED``.
``RefreshToken.claims`` keeps extra access-token claims, e.g. the ``domain_id`` of a pool
admin's "open domain" session, so a refreshed token keeps its scope.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from server_stub.api.deps import Principal, principal_from_token
from server_stub.api.errors import ApiError, Text
from server_stub.api.security import encode_access_token, new_opaque_token, token_digest
from server_stub.settings import Settings
from server_stub.store.models import RefreshToken


@dataclass(frozen=True)
class Issued:
    access_token: str
    refresh_token: str
    expires_in: int  # seconds until the access token expires


def invalid_refresh() -> ApiError:
    return ApiError(
        401,
        "invalid_refresh_token",
        Text(
            "Сеанс завершён или недействителен, войдите снова",
            "The session has ended or is invalid; please sign in again",
        ),
    )


def access_token(subject: str, claims: dict[str, Any], key: str, settings: Settings) -> str:
    return encode_access_token({**claims, "sub": subject}, key, settings.access_token_minutes)


def principal_for(
    session: Session, subject: str, claims: dict[str, Any], key: str, address: str
) -> Principal:
    """The principal such a token would carry; deps keeps the rules (active, scope) in one place."""
    token = encode_access_token({**claims, "sub": subject}, key, 1)
    return principal_from_token(session, token, key, address)


def issue(
    session: Session,
    subject: str,
    claims: dict[str, Any],
    key: str,
    settings: Settings,
    now: datetime,
) -> Issued:
    raw = new_opaque_token()
    session.add(
        RefreshToken(
            token_hash=token_digest(raw),
            subject=subject,
            claims=dict(claims),
            expires_at=now + timedelta(days=settings.refresh_token_days),
        )
    )
    return Issued(
        access_token=access_token(subject, claims, key, settings),
        refresh_token=raw,
        expires_in=settings.access_token_minutes * 60,
    )


def find(session: Session, raw: str) -> RefreshToken | None:
    return session.execute(
        select(RefreshToken).where(RefreshToken.token_hash == token_digest(raw))
    ).scalar_one_or_none()


ROTATED = "_rotated"


def claims_of(token: RefreshToken) -> dict[str, Any]:
    """The claims to put into access tokens (private markers removed)."""
    return {k: v for k, v in (token.claims or {}).items() if not k.startswith("_")}


def was_rotated(token: RefreshToken) -> bool:
    return bool((token.claims or {}).get(ROTATED))


def revoke_one(session: Session, token: RefreshToken, *, rotated: bool = False) -> bool:
    """Revoke atomically; False when someone else revoked it first (a concurrent use)."""
    values: dict[str, Any] = {"revoked": True}
    if rotated:
        values["claims"] = {**claims_of(token), ROTATED: True}
    result = session.execute(
        update(RefreshToken)
        .where(RefreshToken.id == token.id, RefreshToken.revoked.is_(False))
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    session.expire(token)
    return bool(getattr(result, "rowcount", 0) == 1)


def revoke_subject(session: Session, subject: str) -> None:
    session.execute(
        update(RefreshToken)
        .where(RefreshToken.subject == subject, RefreshToken.revoked.is_(False))
        .values(revoked=True)
        .execution_options(synchronize_session=False)
    )
