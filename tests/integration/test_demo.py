"""The demo company: what a new user sees after ``python -m server_stub demo``."""

from __future__ import annotations

from collections.abc import Callable
from functools import lru_cache

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from server_stub import demo
from server_stub.api.security import password_problem, verify_password
from server_stub.phones import to_e164
from server_stub.store import provision
from server_stub.store.models import (
    CallGroup,
    Contact,
    ContactGroup,
    Domain,
    DomainPool,
    GroupAlgorithm,
    Number,
    NumberKind,
    PickupGroup,
    PoolAdmin,
    PoolRole,
    Schedule,
    User,
    VipNumber,
)

LOGIN_PATH = "/api/auth/login"


@pytest.fixture(autouse=True)
def _one_hash_per_password(monkeypatch: pytest.MonkeyPatch) -> None:
    """argon2 costs ~0.1–0.3 s a hash; 30 users sharing a password need only one real hash."""
    monkeypatch.setattr(
        provision, "hash_password", lru_cache(maxsize=None)(provision.hash_password)
    )


def _counts(db: Session) -> dict[str, int]:
    return {
        table.__tablename__: db.execute(select(func.count()).select_from(table)).scalar_one()
        for table in (
            Domain,
            DomainPool,
            User,
            CallGroup,
            PickupGroup,
            Number,
            Schedule,
            VipNumber,
            ContactGroup,
            Contact,
            PoolAdmin,
        )
    }


def _demo_domain(db: Session) -> Domain:
    return db.execute(select(Domain).where(Domain.name == demo.DOMAIN)).scalar_one()


def test_loading_twice_creates_nothing_new(db: Session) -> None:
    rows = demo.load_demo(db)
    db.commit()
    first = _counts(db)
    assert demo.load_demo(db) == rows
    db.commit()
    assert _counts(db) == first
    # Every table the demo fills really has rows (the counts above are not all zero).
    assert all(first.values()), first


def test_demo_company_has_what_the_brief_promises(db: Session) -> None:
    demo.load_demo(db)
    db.commit()
    domain = _demo_domain(db)
    assert domain.company_name == "ООО «Ромашка»" and domain.balance_kopecks == 1_000_000
    assert domain.routing_number and domain.pool_id is not None
    assert db.get(DomainPool, domain.pool_id).name == "Ромашка"  # type: ignore[union-attr]

    users = db.execute(select(User).where(User.domain_id == domain.id)).scalars().all()
    assert 28 <= len(users) <= 32
    assert sorted(int(u.extension) for u in users)[0] == 101
    assert sum(u.is_operator for u in users) == 10
    assert sum(u.is_supervisor for u in users) == 1 and sum(u.is_admin for u in users) == 1
    assert all(u.position and any("а" <= c <= "я" for c in u.display_name) for u in users)

    groups = {
        g.name: g
        for g in db.execute(select(CallGroup).where(CallGroup.domain_id == domain.id)).scalars()
    }
    assert groups["Продажи"].algorithm == GroupAlgorithm.LONGEST_IDLE
    assert groups["Поддержка"].algorithm == GroupAlgorithm.LEAST_BUSY
    assert groups["Ресепшн"].algorithm == GroupAlgorithm.RING_ALL
    operators = {u.id for u in users if u.is_operator}
    for name in ("Продажи", "Поддержка"):
        group = groups[name]
        assert len(group.members) == 5 and {m.user_id for m in group.members} <= operators
        assert (group.answer_seconds, group.post_call_seconds, group.avg_talk_seconds) == (
            20,
            30,
            180,
        )
        assert group.greeting_text
        assert "{caller}" in group.crm_url_template and "{call_id}" in group.crm_url_template
    extensions = [u.extension for u in users] + [g.extension for g in groups.values()]
    assert len(extensions) == len(set(extensions)), "users and groups share one extension space"

    pickup = db.execute(select(PickupGroup).where(PickupGroup.domain_id == domain.id)).scalar_one()
    assert sum(u.pickup_group_id == pickup.id for u in users) >= 2

    numbers = db.execute(select(Number).where(Number.domain_id == domain.id)).scalars().all()
    kinds = sorted((n.kind, n.e164[:5]) for n in numbers)
    assert kinds == [
        (NumberKind.LANDLINE, "+7495"),
        (NumberKind.LANDLINE, "+7495"),
        (NumberKind.TOLL_FREE, "+7800"),
    ]
    assert domain.default_outgoing_number_id in {
        n.id for n in numbers if n.kind == NumberKind.LANDLINE
    }

    schedule = db.execute(select(Schedule).where(Schedule.domain_id == domain.id)).scalar_one()
    assert schedule.is_company
    assert schedule.intervals["working"] == [[d, "09:00", "18:00"] for d in range(5)]
    (lunch,) = schedule.intervals["extra"]
    assert lunch["name"] == "Обед" and [0, "13:00", "14:00"] in lunch["intervals"]

    vips = db.execute(select(VipNumber).where(VipNumber.domain_id == domain.id)).scalars().all()
    assert len(vips) == 3

    contact_groups = db.execute(
        select(ContactGroup).where(ContactGroup.domain_id == domain.id)
    ).scalars()
    assert all(g.owner_user_id is None for g in contact_groups)
    contacts = db.execute(select(Contact).where(Contact.domain_id == domain.id)).scalars().all()
    assert len(contacts) == 10 and len({c.group_id for c in contacts}) == 2
    assert all(c.owner_user_id is None and c.phones for c in contacts)

    pool_admin = db.execute(select(PoolAdmin).where(PoolAdmin.pool_id == domain.pool_id)).one()[0]
    assert pool_admin.role == PoolRole.SUPERVISOR


def test_every_stored_phone_number_is_valid_e164(db: Session) -> None:
    demo.load_demo(db)
    db.commit()
    domain = _demo_domain(db)
    stored = [n.e164 for n in db.execute(select(Number)).scalars()]
    stored += [v.e164 for v in db.execute(select(VipNumber)).scalars()]
    for contact in db.execute(select(Contact).where(Contact.domain_id == domain.id)).scalars():
        stored += [p.number for p in contact.phones]
    assert stored and all(to_e164(n) == n for n in stored)


def test_printed_passwords_match_the_stored_hashes_and_the_rules(db: Session) -> None:
    rows = demo.load_demo(db)
    db.commit()
    roles = {role for _, _, role in rows}
    assert roles == {"domain_admin", "supervisor", "operator", "user", "pool_supervisor"}
    checked: dict[tuple[str, str], bool] = {}
    for login, password, _ in rows:
        assert password_problem(password) is None, login
        stored = _stored_hash(db, login)
        # The same (hash, password) pair gives the same answer; argon2 is slow.
        if (stored, password) not in checked:
            checked[(stored, password)] = verify_password(stored, password)
        assert checked[(stored, password)], f"{login} does not accept {password}"


def _stored_hash(db: Session, login: str) -> str:
    if "@" not in login:
        return db.execute(
            select(PoolAdmin.password_hash).where(PoolAdmin.login == login)
        ).scalar_one()
    name, domain = login.split("@")
    return db.execute(
        select(User.password_hash)
        .join(Domain, Domain.id == User.domain_id)
        .where(User.login == name, Domain.name == domain)
    ).scalar_one()


def _routed(app: FastAPI, path: str, method: str) -> bool:
    return method.lower() in app.openapi().get("paths", {}).get(path, {})


def _login(client: TestClient) -> Callable[[str, str], int]:
    def attempt(login: str, password: str) -> int:
        return client.post(LOGIN_PATH, json={"login": login, "password": password}).status_code

    return attempt


def test_every_demo_role_logs_in(app: FastAPI, client: TestClient, db: Session) -> None:
    if not _routed(app, LOGIN_PATH, "POST"):
        pytest.skip(f"{LOGIN_PATH} is not routed yet")
    rows = demo.load_demo(db)
    db.commit()
    login = _login(client)
    # One login per role and password keeps the argon2 cost down; the hash check above covers
    # every row.
    seen: set[tuple[str, str]] = set()
    for user, password, role in rows:
        if (role, password) in seen:
            continue
        seen.add((role, password))
        assert login(user, password) == 200, f"{user} / {password} ({role})"
    assert login(rows[0][0], "Wrong-pass1") == 401
