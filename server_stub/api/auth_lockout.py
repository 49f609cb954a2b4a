"""Brute-force protection: too many failed logins lock the login, or the source address.

Rule: when the last ``N`` failures (per login, or per address) all fall within
``lockout_window_minutes``, further attempts are refused for ``lockout_minutes`` counted from
the last of them, whatever the password. Refused attempts are not recorded as failures, so a
lock ends on time instead of stretching while someone keeps retrying; a successful login
erases nothing (the failures before it still count).
"""

from __future__ import annotations

import math
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, select
from sqlalchemy.orm import Session

from server_stub.api.errors import ApiError, Text
from server_stub.settings import Settings
from server_stub.store.models import LoginAttempt


def _locked_until(
    session: Session,
    where: ColumnElement[bool],
    limit: int,
    settings: Settings,
    now: datetime,
) -> datetime | None:
    if limit <= 0:
        return None
    window = timedelta(minutes=settings.lockout_window_minutes)
    lock = timedelta(minutes=settings.lockout_minutes)
    times = (
        session.execute(
            select(LoginAttempt.at)
            .where(
                where,
                LoginAttempt.success.is_(False),
                LoginAttempt.at > now - window - lock,
                LoginAttempt.at <= now,
            )
            .order_by(LoginAttempt.at.desc())
            .limit(limit)
        )
        .scalars()
        .all()
    )
    if len(times) < limit or times[0] - times[-1] >= window:
        return None
    until = times[0] + lock
    return until if until > now else None


def _minutes_left(until: datetime, now: datetime) -> int:
    return max(1, math.ceil((until - now).total_seconds() / 60))


def check(session: Session, login: str, address: str, settings: Settings, now: datetime) -> None:
    """Raise 429 ``locked_out`` when the login or the address is currently locked."""
    until = _locked_until(
        session, LoginAttempt.login == login, settings.lockout_failures_per_login, settings, now
    )
    if until is not None:
        n, total, left = (
            settings.lockout_failures_per_login,
            settings.lockout_minutes,
            _minutes_left(until, now),
        )
        raise ApiError(
            429,
            "locked_out",
            Text(
                f"Вход под логином «{login}» заблокирован на {total} мин. после {n} неудачных "
                f"попыток. Повторите попытку через {left} мин.",
                f"Sign-in as '{login}' is locked for {total} min after {n} failed attempts. "
                f"Try again in {left} min.",
            ),
        )
    if not address:
        return
    until = _locked_until(
        session,
        LoginAttempt.address == address,
        settings.lockout_failures_per_address,
        settings,
        now,
    )
    if until is not None:
        n, total, left = (
            settings.lockout_failures_per_address,
            settings.lockout_minutes,
            _minutes_left(until, now),
        )
        raise ApiError(
            429,
            "locked_out",
            Text(
                f"Вход с вашего адреса ({address}) заблокирован на {total} мин. после {n} "
                f"неудачных попыток. Повторите попытку через {left} мин.",
                f"Sign-in from your address ({address}) is locked for {total} min after {n} "
                f"failed attempts. Try again in {left} min.",
            ),
        )


def record(session: Session, login: str, address: str, success: bool, now: datetime) -> None:
    session.add(LoginAttempt(login=login[:320], address=address[:64], success=success, at=now))
