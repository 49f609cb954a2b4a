"""Sign-in, lockout, sessions (refresh/logout), /me and the own-password change."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from argon2 import PasswordHasher
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from server_stub.api import auth_clock, security
from server_stub.settings import Settings
from server_stub.store import provision
from server_stub.store.models import AuditEntry, LoginAttempt, RefreshToken, User
from tests.factories import PASSWORD, auth, make_world

EN = {"Accept-Language": "en"}


@pytest.fixture(autouse=True)
def cheap_hashing(monkeypatch: pytest.MonkeyPatch) -> None:
    """Argon2 at production cost makes every make_world() take seconds; behaviour is the same."""
    cheap = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
    monkeypatch.setattr(security, "_hasher", cheap)
    monkeypatch.setattr(security, "_DUMMY_HASH", cheap.hash("not-a-real-password-0"))


def login(client: TestClient, name: str, password: str = PASSWORD, **headers: str) -> Any:
    body = {"login": name, "password": password}
    return client.post("/api/auth/login", json=body, headers=headers)


def move_clock(app: FastAPI, to: datetime) -> None:
    app.dependency_overrides[auth_clock.now] = lambda: to


def audit_rows(db: Session, action: str) -> list[AuditEntry]:
    db.expire_all()
    return list(
        db.execute(select(AuditEntry).where(AuditEntry.action == action).order_by(AuditEntry.id))
        .scalars()
        .all()
    )


# --- sign-in --------------------------------------------------------------------------------


def test_domain_user_signs_in_with_login_at_domain(client: TestClient, db: Session) -> None:
    w = make_world(db)
    r = login(client, "operator@alpha.test")
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["token_type"] == "bearer" and body["expires_in"] == 15 * 60
    assert body["refresh_token"] and body["access_token"] != body["refresh_token"]
    p = body["principal"]
    assert p["kind"] == "user" and p["login"] == "operator@alpha.test"
    assert p["display_name"] == "Оператор alpha"
    assert "operator" in p["roles"] and "domain_admin" not in p["roles"]
    assert p["domain"] == {"id": w.a.domain.id, "name": "alpha.test", "display_name": "alpha.test"}
    me = client.get("/api/auth/me", headers=auth(body["access_token"]))
    assert me.status_code == 200 and me.json()["login"] == "operator@alpha.test"
    # Only a digest of the refresh token is stored.
    stored = db.execute(select(RefreshToken)).scalar_one()
    assert stored.subject == f"u:{w.a.operator.id}"
    assert stored.token_hash == hashlib.sha256(body["refresh_token"].encode()).hexdigest()


def test_login_and_domain_are_case_insensitive(client: TestClient, db: Session) -> None:
    make_world(db)
    assert login(client, "  Operator@ALPHA.test ").status_code == 200


def test_pool_admin_signs_in_without_domain(client: TestClient, db: Session) -> None:
    w = make_world(db)
    r = login(client, "poolsup")
    assert r.status_code == 200, r.text
    p = r.json()["principal"]
    assert p["kind"] == "pool_admin" and p["domain"] is None
    assert p["roles"] == ["pool_supervisor"] and p["display_name"] == w.supervisor.display_name


def test_successful_login_is_audited_in_the_users_domain(client: TestClient, db: Session) -> None:
    w = make_world(db)
    assert login(client, "Admin@alpha.test").status_code == 200
    (row,) = audit_rows(db, "login")
    assert row.domain_id == w.a.domain.id and row.actor_kind == "user"
    assert row.actor_id == w.a.admin.id and row.actor_login == "Admin@alpha.test"
    assert row.object_type == "session" and row.address == "testclient"


def test_wrong_password_and_unknown_login_get_the_same_answer(
    client: TestClient, db: Session
) -> None:
    w = make_world(db)
    answers = [
        login(client, "operator@alpha.test", "Wrong-pass1"),
        login(client, "nobody@alpha.test"),
        login(client, "operator@no-such.test"),
        login(client, "nopooladmin"),
    ]
    assert {r.status_code for r in answers} == {401}
    assert {r.json()["code"] for r in answers} == {"bad_credentials"}
    assert len({r.json()["message"] for r in answers}) == 1
    assert "неверный логин или пароль" in answers[0].json()["message"].lower()
    en = login(client, "nobody@alpha.test", **EN)
    assert en.json()["message"] == "Wrong login or password"

    rows = audit_rows(db, "login_failed")
    assert [r.actor_login for r in rows][:4] == [
        "operator@alpha.test",
        "nobody@alpha.test",
        "operator@no-such.test",
        "nopooladmin",
    ]
    assert all(r.actor_kind == "anonymous" and r.actor_id is None for r in rows)
    # The domain's own history shows attempts against it, existing login or not.
    assert [r.domain_id for r in rows][:4] == [w.a.domain.id, w.a.domain.id, None, None]


def test_missing_password_names_the_field(client: TestClient, db: Session) -> None:
    r = client.post("/api/auth/login", json={"login": "x@alpha.test"})
    assert r.status_code == 422 and r.json()["details"][0]["field"] == "password"


def test_deactivated_user_is_told_only_after_the_right_password(
    client: TestClient, db: Session
) -> None:
    w = make_world(db)
    w.a.user.active = False
    db.commit()
    wrong = login(client, "user@alpha.test", "Wrong-pass1")
    assert wrong.status_code == 401 and wrong.json()["code"] == "bad_credentials"
    right = login(client, "user@alpha.test")
    assert right.status_code == 403 and right.json()["code"] == "account_disabled"
    assert "отключена" in right.json()["message"]
    assert "deactivated" in login(client, "user@alpha.test", **EN).json()["message"]


def test_blocked_pool_admin_cannot_sign_in(client: TestClient, db: Session) -> None:
    w = make_world(db)
    w.supervisor.blocked = True
    db.commit()
    r = login(client, "poolsup", **EN)
    assert r.status_code == 403 and "blocked" in r.json()["message"]


# --- lockout --------------------------------------------------------------------------------


def test_login_is_locked_after_n_failures_even_with_the_right_password(
    app: FastAPI, client: TestClient, db: Session, settings: Settings
) -> None:
    make_world(db)
    n = settings.lockout_failures_per_login
    for _ in range(n):
        assert login(client, "user@alpha.test", "Wrong-pass1").status_code == 401
    locked = login(client, "user@alpha.test")
    assert locked.status_code == 429
    body = locked.json()
    assert body["code"] == "locked_out"
    assert "заблокирован" in body["message"]
    assert f"{settings.lockout_minutes} мин" in body["message"]
    en = login(client, "user@alpha.test", **EN).json()["message"]
    assert "locked" in en and f"{settings.lockout_minutes} min" in en
    # Other logins from the same address are not affected.
    assert login(client, "operator@alpha.test").status_code == 200
    reasons = [r.after for r in audit_rows(db, "login_failed")]
    assert reasons[-1] == {"reason": "locked_out"}

    last_failure = max(
        db.execute(select(LoginAttempt.at).where(LoginAttempt.success.is_(False))).scalars()
    )
    move_clock(app, last_failure + timedelta(minutes=settings.lockout_minutes - 1))
    assert login(client, "user@alpha.test").status_code == 429
    # Refused attempts while locked do not stretch the lock.
    move_clock(app, last_failure + timedelta(minutes=settings.lockout_minutes, seconds=1))
    assert login(client, "user@alpha.test").status_code == 200


def test_unknown_login_is_locked_the_same_way(
    client: TestClient, db: Session, settings: Settings
) -> None:
    make_world(db)
    for _ in range(settings.lockout_failures_per_login):
        login(client, "ghost@alpha.test")
    assert login(client, "ghost@alpha.test").json()["code"] == "locked_out"


def test_failures_spread_wider_than_the_window_do_not_lock(
    app: FastAPI, client: TestClient, db: Session, settings: Settings
) -> None:
    make_world(db)
    n, window = settings.lockout_failures_per_login, settings.lockout_window_minutes
    start = datetime.now(UTC)
    step = timedelta(minutes=window / (n - 1) + 0.1)
    for i in range(n):
        move_clock(app, start + step * i)
        assert login(client, "user@alpha.test", "Wrong-pass1").status_code == 401
    assert login(client, "user@alpha.test").status_code == 200


def test_source_address_is_locked_after_many_failures(
    app: FastAPI, client: TestClient, db: Session, settings: Settings
) -> None:
    make_world(db)
    settings.lockout_failures_per_address = 3
    for name in ("user", "operator", "nobody"):
        assert login(client, f"{name}@alpha.test", "Wrong-pass1").status_code == 401
    r = login(client, "admin@alpha.test", **EN)  # a login that never failed
    assert r.status_code == 429 and r.json()["code"] == "locked_out"
    assert "address" in r.json()["message"] and "locked" in r.json()["message"]
    move_clock(app, datetime.now(UTC) + timedelta(minutes=settings.lockout_minutes, seconds=5))
    assert login(client, "admin@alpha.test").status_code == 200


# --- sessions -------------------------------------------------------------------------------


def refresh(client: TestClient, token: str) -> Any:
    return client.post("/api/auth/refresh", json={"refresh_token": token})


def test_refresh_rotates_and_reuse_ends_every_session(client: TestClient, db: Session) -> None:
    make_world(db)
    first = login(client, "user@alpha.test").json()
    other_device = login(client, "user@alpha.test").json()
    r = refresh(client, first["refresh_token"])
    assert r.status_code == 200, r.text
    second = r.json()
    assert second["refresh_token"] != first["refresh_token"]
    assert second["principal"]["login"] == "user@alpha.test"
    assert client.get("/api/auth/me", headers=auth(second["access_token"])).status_code == 200

    # The old token comes back: someone copied it. Every session of the user ends.
    reuse = refresh(client, first["refresh_token"])
    assert reuse.status_code == 401 and reuse.json()["code"] == "invalid_refresh_token"
    assert refresh(client, second["refresh_token"]).status_code == 401
    assert refresh(client, other_device["refresh_token"]).status_code == 401
    reuses = audit_rows(db, "refresh_reuse")
    assert reuses and {r.actor_login for r in reuses} == {"user@alpha.test"}


def test_unknown_and_expired_refresh_tokens_are_refused(
    app: FastAPI, client: TestClient, db: Session, settings: Settings
) -> None:
    make_world(db)
    assert refresh(client, "not-a-token").status_code == 401
    token = login(client, "user@alpha.test").json()["refresh_token"]
    move_clock(app, datetime.now(UTC) + timedelta(days=settings.refresh_token_days, minutes=1))
    assert refresh(client, token).status_code == 401


def test_refresh_stops_working_for_a_deactivated_user(client: TestClient, db: Session) -> None:
    w = make_world(db)
    token = login(client, "user@alpha.test").json()["refresh_token"]
    w.a.user.active = False
    db.commit()
    assert refresh(client, token).status_code == 401


def test_logout_ends_the_session(client: TestClient, db: Session) -> None:
    w = make_world(db)
    token = login(client, "user@alpha.test").json()["refresh_token"]
    other_device = login(client, "user@alpha.test").json()["refresh_token"]
    r = client.post("/api/auth/logout", json={"refresh_token": token})
    assert r.status_code == 204
    assert refresh(client, token).status_code == 401
    assert audit_rows(db, "refresh_reuse") == []  # a logged-out token is no theft signal
    (row,) = audit_rows(db, "logout")
    assert row.actor_id == w.a.user.id and row.domain_id == w.a.domain.id
    # Logging out twice, or with garbage, is harmless.
    assert client.post("/api/auth/logout", json={"refresh_token": token}).status_code == 204
    assert client.post("/api/auth/logout", json={"refresh_token": "junk"}).status_code == 204
    assert refresh(client, other_device).status_code == 200


# --- /me ------------------------------------------------------------------------------------


def test_me_gives_a_user_their_extension_and_sip_secret(client: TestClient, db: Session) -> None:
    w = make_world(db)
    w.a.user.email = "user@example.org"
    db.commit()
    r = client.get("/api/auth/me", headers=w.a.headers("user"))
    assert r.status_code == 200, r.text
    me = r.json()
    assert me["extension"] == w.a.user.extension and me["email"] == "user@example.org"
    expected = hashlib.md5(f"user:alpha.test:{PASSWORD}".encode()).hexdigest()
    assert me["sip"] == {
        "sip_login": "user",
        "sip_domain": "alpha.test",
        "ha1": expected,
        "registrar": "sip:127.0.0.1:5060",
        "registrar_tls": None,  # the edge offers no TLS unless PULT_SIP_TLS_PORT is set
    }


def test_me_names_the_tls_registrar_when_the_edge_listens_on_tls(
    client: TestClient, db: Session
) -> None:
    w = make_world(db)
    settings = client.app.state.settings  # type: ignore[attr-defined]
    old = settings.sip_tls_port
    settings.sip_tls_port = 5061
    try:
        me = client.get("/api/auth/me", headers=w.a.headers("user")).json()
    finally:
        settings.sip_tls_port = old
    assert me["sip"]["registrar"] == "sip:127.0.0.1:5060"
    assert me["sip"]["registrar_tls"] == "sip:127.0.0.1:5061"


def test_me_for_a_pool_admin_has_no_sip(client: TestClient, db: Session) -> None:
    w = make_world(db)
    token = login(client, "poolsup").json()["access_token"]
    me = client.get("/api/auth/me", headers=auth(token)).json()
    assert me["kind"] == "pool_admin" and me["sip"] is None and me["extension"] is None
    assert me["login"] == w.supervisor.login


def test_me_needs_a_token(client: TestClient) -> None:
    assert client.get("/api/auth/me").status_code == 401
    assert client.get("/api/auth/me", headers=auth("garbage")).status_code == 401


# --- own password ---------------------------------------------------------------------------


def change(client: TestClient, headers: dict[str, str], current: str, new: str) -> Any:
    return client.post(
        "/api/auth/password",
        json={"current_password": current, "new_password": new},
        headers=headers,
    )


def test_password_change_needs_the_current_password(client: TestClient, db: Session) -> None:
    w = make_world(db)
    h = w.a.headers("user")
    r = change(client, h, "Wrong-pass1", "Brand-new-pass2")
    assert r.status_code == 422 and r.json()["details"][0]["field"] == "current_password"
    r = change(client, h, PASSWORD, "short")
    assert r.status_code == 422 and r.json()["details"][0]["field"] == "new_password"
    assert "8" in r.json()["details"][0]["message"]
    r = change(client, h, PASSWORD, PASSWORD)
    assert r.status_code == 422 and r.json()["details"][0]["field"] == "new_password"
    assert login(client, "user@alpha.test").status_code == 200  # nothing changed yet


def test_password_change_works_ends_other_sessions_and_is_audited(
    client: TestClient, db: Session
) -> None:
    w = make_world(db)
    old_session = login(client, "user@alpha.test").json()
    r = change(client, auth(old_session["access_token"]), PASSWORD, "Brand-new-pass2")
    assert r.status_code == 200, r.text
    assert client.get("/api/auth/me", headers=auth(r.json()["access_token"])).status_code == 200
    # The old session is over, and an old device trying it does not end the new session.
    assert refresh(client, old_session["refresh_token"]).status_code == 401
    assert refresh(client, r.json()["refresh_token"]).status_code == 200

    assert login(client, "user@alpha.test").status_code == 401
    assert login(client, "user@alpha.test", "Brand-new-pass2").status_code == 200
    # SIP password was the same as the web one, so it follows (one password, spec §2.1).
    db.expire_all()
    user = db.get(User, w.a.user.id)
    assert user is not None
    assert user.sip_ha1 == hashlib.md5(b"user:alpha.test:Brand-new-pass2").hexdigest()

    (row,) = audit_rows(db, "change_password")
    assert row.actor_id == w.a.user.id and row.object_type == "user"
    assert row.before == {"password_hash": "***", "sip_ha1": "***", "sip_ha1b": "***"}
    assert row.after == row.before


def test_password_change_keeps_a_separate_sip_password(client: TestClient, db: Session) -> None:
    w = make_world(db)
    u = provision.create_user(db, w.a.domain, "phone", PASSWORD, "Телефон", sip_password="Sip-123x")
    db.commit()
    ha1 = u.sip_ha1
    token = login(client, "phone@alpha.test").json()["access_token"]
    assert change(client, auth(token), PASSWORD, "Brand-new-pass2").status_code == 200
    db.expire_all()
    changed = db.get(User, u.id)
    assert changed is not None and changed.sip_ha1 == ha1


def test_pool_admin_changes_own_password(client: TestClient, db: Session) -> None:
    make_world(db)
    token = login(client, "poolsup").json()["access_token"]
    assert change(client, auth(token), PASSWORD, "Brand-new-pass2").status_code == 200
    assert login(client, "poolsup", "Brand-new-pass2").status_code == 200
    (row,) = audit_rows(db, "change_password")
    assert row.object_type == "pool_admin" and row.actor_kind == "pool_admin"
