"""Bulk user import through the API: check writes nothing, create writes the valid rows only."""

from __future__ import annotations

import io
from collections.abc import Sequence
from datetime import date
from typing import Any

import pytest
from argon2 import PasswordHasher
from fastapi import FastAPI
from fastapi.testclient import TestClient
from openpyxl import Workbook
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from server_stub.api import audit
from server_stub.api.routes import imports
from server_stub.api.security import verify_password
from server_stub.importing import store
from server_stub.store import provision
from server_stub.store.models import (
    AuditEntry,
    Base,
    CallGroup,
    Domain,
    GroupMember,
    Number,
    NumberKind,
    User,
)
from tests.factories import World, make_world

HEADER = [
    "Логин",
    "Пароль",
    "Отображаемое имя",
    "Внутренний номер",
    "Названия групп",
    "АОН для исходящих вызовов",
    "Email",
]
PW = "G7zNo0vHDTDGyVAdQ5Wp"
NOT_UNIQUE = "Значение в списке не уникально"


@pytest.fixture(autouse=True)
def fast_password_hashing(monkeypatch: pytest.MonkeyPatch) -> None:
    # Real argon2 parameters cost ~0.25 s per user; cheap ones keep the same code path.
    cheap = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
    monkeypatch.setattr(provision, "hash_password", cheap.hash)


def row(login: str, ext: str = "", groups: str = "Операторы", **kw: str) -> list[str]:
    name = kw.get("name", f"Сотрудник {login}")
    return [login, kw.get("password", PW), name, ext, groups, kw.get("caller_id", ""), ""]


def csv_file(rows: Sequence[Sequence[str]], encoding: str = "utf-8") -> bytes:
    return "\r\n".join(";".join(r) for r in [HEADER, *rows]).encode(encoding)


def xlsx_file(rows: Sequence[Sequence[Any]]) -> bytes:
    wb = Workbook()
    ws = wb.active
    assert ws is not None
    for r in [HEADER, *rows]:
        ws.append(list(r))
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def upload(
    client: TestClient,
    w: World,
    step: str,
    data: bytes,
    who: str = "admin",
    lang: str = "ru",
) -> Any:
    return client.post(
        f"/api/import/users/{step}",
        files={"file": ("users.bin", data, "application/octet-stream")},
        headers={**w.a.headers(who), "Accept-Language": lang},
    )


def row_counts(db: Session) -> dict[str, int]:
    db.commit()  # end any read snapshot so the counts are current
    return {
        t.name: db.execute(select(func.count()).select_from(t)).scalar_one()
        for t in Base.metadata.sorted_tables
    }


def user(db: Session, w: World, login: str) -> User | None:
    return db.execute(
        select(User).where(User.domain_id == w.a.domain.id, User.login == login)
    ).scalar_one_or_none()


def groups_of(db: Session, u: User) -> set[str]:
    rows = db.execute(
        select(CallGroup.name).join(GroupMember).where(GroupMember.user_id == u.id)
    ).scalars()
    return set(rows)


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_template_round_trip(client: TestClient, db: Session, fmt: str) -> None:
    w = make_world(db)
    r = client.get(f"/api/import/users/template?format={fmt}", headers=w.a.headers())
    assert r.status_code == 200
    assert fmt in r.headers["content-disposition"]
    checked = upload(client, w, "check", r.content).json()
    assert (checked["rows_total"], checked["rows_valid"], checked["errors"]) == (1, 1, [])
    assert checked["new_groups"] == ["Операторы"]
    created = upload(client, w, "create", r.content).json()
    assert created["created"] == 1
    db.commit()
    u = user(db, w, "ivanov.ii")
    assert u is not None and u.extension == "3020" and groups_of(db, u) == {"Операторы"}


def test_check_reports_every_bad_row_and_writes_nothing(client: TestClient, db: Session) -> None:
    w = make_world(db)
    before = row_counts(db)
    data = xlsx_file(
        [
            row("good", 3020),  # type: ignore[arg-type]  # a number, as Excel stores it
            row("dup1", "3040"),
            row("weakpw", "3041", password="password"),
            row("dup2", "3040"),
            row("noname", "3042", name=""),
            row("nogroups", "3043", groups=""),
            row("Bad Login", "3044"),
        ]
    )
    r = upload(client, w, "check", data)
    assert r.status_code == 200, r.text
    body = r.json()
    assert (body["rows_total"], body["rows_valid"], body["rows_invalid"]) == (7, 1, 6)
    found = {(e["line"], e["column"], e["message"]) for e in body["errors"]}
    assert (3, "D (Внутренний номер)", NOT_UNIQUE) in found
    assert (5, "D (Внутренний номер)", NOT_UNIQUE) in found
    assert {(e["line"], e["column"]) for e in body["errors"]} == {
        (3, "D (Внутренний номер)"),
        (4, "B (Пароль)"),
        (5, "D (Внутренний номер)"),
        (6, "C (Отображаемое имя)"),
        (7, "E (Названия групп)"),
        (8, "A (Логин)"),
    }
    assert next(e for e in body["errors"] if e["line"] == 4)["value"] == "password"
    assert row_counts(db) == before
    assert db.execute(select(func.count()).select_from(AuditEntry)).scalar_one() == 0
    english = upload(client, w, "check", data, lang="en").json()
    assert "The value is not unique in the list" in {e["message"] for e in english["errors"]}


def test_create_writes_valid_rows_and_missing_groups(
    client: TestClient, db: Session, app: FastAPI
) -> None:
    w = make_world(db)
    operators = CallGroup(domain_id=w.a.domain.id, name="Операторы", extension="500")
    number = Number(domain_id=w.a.domain.id, e164="+74950001122", kind=NumberKind.LANDLINE)
    # Another tenant's group of the same name must not be reused.
    db.add_all(
        [operators, number, CallGroup(domain_id=w.b.domain.id, name="Продажи", extension="501")]
    )
    db.commit()
    data = csv_file(
        [
            row("anna", "", "операторы, Продажи", caller_id="4950001122"),
            row("boris", "3021", "продажи", caller_id="4951234567"),
            row("weak", "3022", "Склад", password="weak"),
        ]
    )
    r = upload(client, w, "create", data)
    assert r.status_code == 200, r.text
    body = r.json()
    assert (body["created"], body["skipped_invalid"]) == (2, 1)
    assert body["groups_created"] == ["Продажи"]
    assert [(e["line"], e["column"]) for e in body["errors"]] == [(4, "B (Пароль)")]
    assert [(x["line"], x["field"]) for x in body["warnings"]] == [(3, "caller_id")]
    db.commit()

    anna, boris = user(db, w, "anna"), user(db, w, "boris")
    assert anna is not None and boris is not None and user(db, w, "weak") is None
    assert anna.extension == "104"  # 100–103 are the tenant's four users
    assert anna.outgoing_number_id == number.id and boris.outgoing_number_id is None
    assert verify_password(anna.password_hash, PW)
    assert groups_of(db, anna) == {"Операторы", "Продажи"} and groups_of(db, boris) == {"Продажи"}
    sales = db.execute(
        select(CallGroup).where(CallGroup.domain_id == w.a.domain.id, CallGroup.name == "Продажи")
    ).scalar_one()
    assert sales.extension == "105"
    assert db.execute(select(CallGroup).where(CallGroup.name == "Склад")).first() is None

    entries = db.execute(select(AuditEntry).order_by(AuditEntry.id)).scalars().all()
    assert sorted((e.action, e.object_type, e.object_name) for e in entries) == [
        ("create", "group", "Продажи"),
        ("create", "user", "anna"),
        ("create", "user", "boris"),
    ]
    assert all(e.actor_login == "admin@alpha.test" for e in entries)
    user_entry = next(e for e in entries if e.object_name == "anna")
    assert user_entry.after is not None and user_entry.after["password_hash"] == "***"
    assert user_entry.after["group_ids"] == sorted([operators.id, sales.id])
    events = app.state.bus.replay(None, 0)
    assert sorted((e.type, e.data["id"]) for e in events) == sorted(
        [
            ("group.created", sales.id),
            ("group.updated", operators.id),  # an existing group gained a member
            ("user.created", anna.id),
            ("user.created", boris.id),
        ]
    )
    assert {e.domain_id for e in events} == {w.a.domain.id}


def test_cp1251_csv_from_russian_excel(client: TestClient, db: Session) -> None:
    w = make_world(db)
    data = csv_file([row("petrov", "3030", "Бухгалтерия", name="Петров Пётр")], "cp1251")
    r = upload(client, w, "create", data)
    assert r.status_code == 200 and r.json()["created"] == 1, r.text
    db.commit()
    u = user(db, w, "petrov")
    assert u is not None and u.display_name == "Петров Пётр"
    assert groups_of(db, u) == {"Бухгалтерия"}


def test_domain_user_limit_is_reported_and_create_refuses(client: TestClient, db: Session) -> None:
    w = make_world(db)
    domain = db.get(Domain, w.a.domain.id)
    assert domain is not None
    domain.max_users = 5  # four users exist already
    db.commit()
    before = row_counts(db)
    data = csv_file([row("u1"), row("u2")])
    body = upload(client, w, "check", data).json()
    assert body["rows_valid"] == 2
    [limit] = [e for e in body["errors"] if e["line"] is None]
    assert "не более 1" in limit["message"]
    r = upload(client, w, "create", data)
    assert r.status_code == 422
    assert r.json()["code"] == "import_refused" and "не более 1" in r.json()["message"]
    assert row_counts(db) == before
    assert upload(client, w, "create", csv_file([row("u1")])).json()["created"] == 1


def test_create_is_all_or_nothing(
    client: TestClient, db: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    w = make_world(db)
    before = row_counts(db)
    real = audit.record
    calls: list[str] = []

    def failing(*args: Any, **kwargs: Any) -> AuditEntry:
        calls.append(args[3])
        if args[3] == "user" and calls.count("user") == 2:
            raise RuntimeError("disk full")
        return real(*args, **kwargs)

    monkeypatch.setattr(audit, "record", failing)
    with pytest.raises(RuntimeError):
        upload(client, w, "create", csv_file([row("u1", groups="Новая"), row("u2")]))
    assert row_counts(db) == before


def test_a_login_taken_meanwhile_is_a_conflict_not_a_crash(
    client: TestClient, db: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    w = make_world(db)
    before = row_counts(db)
    real = store.user_context

    def stale(session: Session, domain: Domain) -> Any:
        ctx = real(session, domain)
        ctx.logins.discard("operator")  # as if it was created after we looked
        return ctx

    monkeypatch.setattr(store, "user_context", stale)
    r = upload(client, w, "create", csv_file([row("fresh", groups="Новая"), row("operator")]))
    assert r.status_code == 409 and r.json()["code"] == "conflict"
    assert row_counts(db) == before


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (b"", "Файл пуст"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "CSV или XLSX"),
        (";".join(h for h in HEADER if h != "Внутренний номер").encode(), "«Внутренний номер»"),
        (";".join(HEADER).encode(), "нет ни одной строки"),
    ],
    ids=["empty", "png", "missing-column", "header-only"],
)
def test_bad_file_is_refused_naming_the_problem(
    client: TestClient, db: Session, data: bytes, expected: str
) -> None:
    w = make_world(db)
    for step in ("check", "create"):
        r = upload(client, w, step, data)
        assert r.status_code == 422, r.text
        body = r.json()
        assert body["code"] == "bad_import_file" and expected in body["message"]
        assert body["details"][0]["field"] == "file"
    english = upload(client, w, "check", data, lang="en").json()["message"]
    assert english.startswith("The file was refused")


def test_file_field_is_required(client: TestClient, db: Session) -> None:
    w = make_world(db)
    r = client.post("/api/import/users/check", headers=w.a.headers())
    assert r.status_code == 422 and r.json()["details"][0]["field"] == "file"


@pytest.mark.parametrize("who", ["operator", "supervisor", "user"])
def test_only_the_domain_admin_may_import(client: TestClient, db: Session, who: str) -> None:
    w = make_world(db)
    data = csv_file([row("u1")])
    assert upload(client, w, "check", data, who=who).status_code == 403
    assert upload(client, w, "create", data, who=who).status_code == 403
    headers = w.a.headers(who)
    assert client.get("/api/import/users/template", headers=headers).status_code == 403
    assert client.get("/api/quotes/users?count=1", headers=headers).status_code == 403
    assert user(db, w, "u1") is None


def test_quote_in_dialog_and_in_check(
    client: TestClient, db: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    w = make_world(db)
    domain = db.get(Domain, w.a.domain.id)
    assert domain is not None
    domain.users_included = 4  # exactly the four users the tenant has
    domain.extra_user_monthly_kopecks = 30000
    domain.user_connection_kopecks = 5000
    db.commit()
    # 21 November: today's share of a monthly fee is 1/30 (fees are accrued per day)
    monkeypatch.setattr(imports, "_today", lambda tz: date(2026, 11, 21))
    r = client.get("/api/quotes/users?count=2", headers=w.a.headers())
    assert r.status_code == 200
    assert r.json() == {
        "monthly_delta": "600.00",
        "connection_fee": "100.00",
        "today_charge": "20.00",
    }
    # The check quotes only the valid rows (one of two here).
    body = upload(client, w, "check", csv_file([row("u1"), row("u2", password="x")])).json()
    assert body["quote"] == {
        "monthly_delta": "300.00",
        "connection_fee": "50.00",
        "today_charge": "10.00",
    }
    bad = client.get("/api/quotes/users?count=0", headers=w.a.headers())
    assert bad.status_code == 422 and bad.json()["details"][0]["field"] == "count"
