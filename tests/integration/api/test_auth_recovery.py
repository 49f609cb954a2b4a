"""Password recovery by e-mail: the letter reaches a real (local) SMTP server, the token works
once and only before it expires, and the answer never reveals whether the account exists."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from email import message_from_bytes
from email.message import EmailMessage
from email.policy import default
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from argon2 import PasswordHasher
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from server_stub.api import auth_clock, security
from server_stub.settings import Settings
from server_stub.store.models import AuditEntry, PasswordReset
from tests.factories import PASSWORD, make_world

NEW = "Brand-new-pass2"


@pytest.fixture(autouse=True)
def cheap_hashing(monkeypatch: pytest.MonkeyPatch) -> None:
    """Argon2 at production cost makes every make_world() take seconds; behaviour is the same."""
    cheap = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
    monkeypatch.setattr(security, "_hasher", cheap)
    monkeypatch.setattr(security, "_DUMMY_HASH", cheap.hash("not-a-real-password-0"))


class Inbox:
    """An aiosmtpd handler keeping every message it receives."""

    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []
        self.recipients: list[list[str]] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        msg = message_from_bytes(envelope.content, policy=default)
        assert isinstance(msg, EmailMessage)
        self.messages.append(msg)
        self.recipients.append(list(envelope.rcpt_tos))
        return "250 Message accepted"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def inbox(settings: Settings) -> Iterator[Inbox]:
    handler = Inbox()
    port = free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    settings.smtp_port = port
    settings.public_url = "https://pbx.example.org/"
    try:
        yield handler
    finally:
        controller.stop()


@pytest.fixture
def mail_client(inbox: Inbox, app: FastAPI) -> Iterator[TestClient]:
    with TestClient(app) as c:
        yield c


def recover(client: TestClient, domain: str, login: str) -> Any:
    return client.post("/api/auth/recover", json={"domain": domain, "login": login})


def reset(client: TestClient, token: str, password: str = NEW) -> Any:
    return client.post("/api/auth/reset", json={"token": token, "new_password": password})


def sign_in(client: TestClient, login: str, password: str) -> int:
    r = client.post("/api/auth/login", json={"login": login, "password": password})
    return r.status_code


def token_from(msg: EmailMessage) -> str:
    body = msg.get_body(preferencelist=("plain",))
    assert body is not None
    text = body.get_content()
    marker = "https://pbx.example.org/reset?token="
    assert marker in text
    token = text.split(marker, 1)[1].split()[0]
    assert token in text.replace(marker + token, "")  # the raw code is in the letter too
    return token


def test_recovery_mail_arrives_and_the_token_works_once(
    mail_client: TestClient, inbox: Inbox, db: Session
) -> None:
    w = make_world(db)
    w.a.user.email = "user@example.org"
    db.commit()
    session = mail_client.post(
        "/api/auth/login", json={"login": "user@alpha.test", "password": PASSWORD}
    ).json()

    r = recover(mail_client, "Alpha.test", "user")
    assert r.status_code == 202, r.text
    assert len(inbox.messages) == 1 and inbox.recipients == [["user@example.org"]]
    msg = inbox.messages[0]
    assert "Восстановление пароля" in str(msg["Subject"])
    token = token_from(msg)
    assert db.execute(select(PasswordReset.token_hash)).scalar_one() != token  # stored hashed

    done = reset(mail_client, token)
    assert done.status_code == 200, done.text
    assert done.json() == {"login": "user@alpha.test"}
    assert sign_in(mail_client, "user@alpha.test", PASSWORD) == 401
    assert sign_in(mail_client, "user@alpha.test", NEW) == 200
    # Sessions opened with the old password are over.
    old = mail_client.post("/api/auth/refresh", json={"refresh_token": session["refresh_token"]})
    assert old.status_code == 401

    again = reset(mail_client, token, "Another-pass3")
    assert again.status_code == 400 and again.json()["code"] == "reset_token_invalid"
    assert again.json()["details"][0]["field"] == "token"
    assert sign_in(mail_client, "user@alpha.test", NEW) == 200

    rows = db.execute(select(AuditEntry).where(AuditEntry.action == "reset_password")).scalars()
    (row,) = list(rows)
    assert row.domain_id == w.a.domain.id and row.actor_id == w.a.user.id
    assert row.before == {"password_hash": "***"} and row.after == {"password_hash": "***"}


def test_answer_is_the_same_whether_or_not_the_account_exists(
    mail_client: TestClient, inbox: Inbox, db: Session
) -> None:
    w = make_world(db)
    w.a.user.email = "user@example.org"
    db.commit()
    answers = [
        recover(mail_client, "alpha.test", "user"),
        recover(mail_client, "alpha.test", "nobody"),
        recover(mail_client, "no-such.test", "user"),
        recover(mail_client, "alpha.test", "operator"),  # exists, has no e-mail
    ]
    assert {r.status_code for r in answers} == {202}
    assert len({r.text for r in answers}) == 1
    assert len(inbox.messages) == 1
    assert db.execute(select(PasswordReset)).scalars().all()[0].user_id == w.a.user.id


def test_expired_token_is_refused(
    app: FastAPI, mail_client: TestClient, inbox: Inbox, db: Session, settings: Settings
) -> None:
    w = make_world(db)
    w.a.user.email = "user@example.org"
    db.commit()
    recover(mail_client, "alpha.test", "user")
    token = token_from(inbox.messages[0])
    later = datetime.now(UTC) + timedelta(minutes=settings.password_reset_minutes, seconds=5)
    app.dependency_overrides[auth_clock.now] = lambda: later
    r = mail_client.post(
        "/api/auth/reset",
        json={"token": token, "new_password": NEW},
        headers={"Accept-Language": "en"},
    )
    assert r.status_code == 400 and r.json()["code"] == "reset_token_expired"
    assert "expired" in r.json()["message"]
    assert sign_in(mail_client, "user@alpha.test", PASSWORD) == 200


def test_weak_new_password_is_refused_without_using_up_the_token(
    mail_client: TestClient, inbox: Inbox, db: Session
) -> None:
    w = make_world(db)
    w.a.user.email = "user@example.org"
    db.commit()
    recover(mail_client, "alpha.test", "user")
    token = token_from(inbox.messages[0])
    weak = reset(mail_client, token, "password")
    assert weak.status_code == 422 and weak.json()["details"][0]["field"] == "new_password"
    assert reset(mail_client, token).status_code == 200


def test_unknown_token_is_refused(mail_client: TestClient, db: Session) -> None:
    r = reset(mail_client, "made-up-token")
    assert r.status_code == 400 and r.json()["code"] == "reset_token_invalid"


def test_smtp_down_still_answers_202(client: TestClient, db: Session, settings: Settings) -> None:
    w = make_world(db)
    w.a.user.email = "user@example.org"
    db.commit()
    settings.smtp_port = free_port()  # nothing listens there
    assert recover(client, "alpha.test", "user").status_code == 202
