"""Bulk import into the company address book through the API."""

from __future__ import annotations

import io
from collections.abc import Sequence
from typing import Any

import pytest
from argon2 import PasswordHasher
from fastapi import FastAPI
from fastapi.testclient import TestClient
from openpyxl import Workbook
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from server_stub.store import provision
from server_stub.store.models import (
    AuditEntry,
    Base,
    Contact,
    ContactGroup,
    PhoneKind,
)
from tests.factories import World, make_world

HEADER = [
    "Имя",
    "Группа",
    "Быстрый набор",
    "IP-телефон",
    "Рабочий телефон",
    "Мобильный телефон",
    "Домашний телефон",
    "Другой телефон",
]
NOT_UNIQUE = "Значение в списке не уникально"


@pytest.fixture(autouse=True)
def fast_password_hashing(monkeypatch: pytest.MonkeyPatch) -> None:
    cheap = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
    monkeypatch.setattr(provision, "hash_password", cheap.hash)


def row(name: str, dial: str = "", group: str = "", work: str = "", mobile: str = "") -> list[str]:
    return [name, group, dial, "", work, mobile, "", ""]


def xlsx_file(rows: Sequence[Sequence[Any]]) -> bytes:
    wb = Workbook()
    ws = wb.active
    assert ws is not None
    for r in [HEADER, *rows]:
        ws.append(list(r))
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def csv_file(rows: Sequence[Sequence[str]]) -> bytes:
    return "\n".join(",".join(r) for r in [HEADER, *rows]).encode()


def upload(client: TestClient, w: World, step: str, data: bytes, who: str = "admin") -> Any:
    return client.post(
        f"/api/import/contacts/{step}",
        files={"file": ("contacts.bin", data, "application/octet-stream")},
        headers=w.a.headers(who),
    )


def row_counts(db: Session) -> dict[str, int]:
    db.commit()
    return {
        t.name: db.execute(select(func.count()).select_from(t)).scalar_one()
        for t in Base.metadata.sorted_tables
    }


def company_contacts(db: Session, w: World) -> list[Contact]:
    db.commit()
    stmt = select(Contact).where(
        Contact.domain_id == w.a.domain.id, Contact.owner_user_id.is_(None)
    )
    return list(db.execute(stmt.order_by(Contact.id)).scalars())


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_template_round_trip(client: TestClient, db: Session, fmt: str) -> None:
    w = make_world(db)
    r = client.get(f"/api/import/contacts/template?format={fmt}", headers=w.a.headers())
    assert r.status_code == 200
    checked = upload(client, w, "check", r.content).json()
    assert (checked["rows_total"], checked["rows_valid"], checked["errors"]) == (1, 1, [])
    assert upload(client, w, "create", r.content).json()["created"] == 1
    [contact] = company_contacts(db, w)
    assert contact.speed_dial == "15" and len(contact.phones) == 2


def _existing(db: Session, w: World) -> ContactGroup:
    """A company contact on *10 and a personal one on *30 (personal books don't collide)."""
    personal_group = ContactGroup(domain_id=w.a.domain.id, owner_user_id=w.a.user.id, name="Склад")
    db.add_all(
        [
            Contact(domain_id=w.a.domain.id, name="Есть", speed_dial="10"),
            Contact(
                domain_id=w.a.domain.id, owner_user_id=w.a.user.id, name="Личный", speed_dial="30"
            ),
            personal_group,
        ]
    )
    db.commit()
    return personal_group


def test_check_applies_the_rules_and_writes_nothing(client: TestClient, db: Session) -> None:
    w = make_world(db)
    _existing(db, w)
    before = row_counts(db)
    data = xlsx_file(
        [
            row("Хороший", "30", work="+74951112233"),
            row("Короткий", work="+7495112233"),
            row("Несуществующий", mobile="+78992223344"),
            row("Без телефона"),
            row("Дубль 1", "20", work="+74951112233"),
            row("Дубль 2", "20", work="+74951112233"),
            row("Занятый", "10", work="+74951112233"),
            row("", work="+74951112233"),
        ]
    )
    r = upload(client, w, "check", data)
    assert r.status_code == 200, r.text
    body = r.json()
    assert (body["rows_total"], body["rows_valid"], body["rows_invalid"]) == (8, 1, 7)
    errors = {(e["line"], e["column"]) for e in body["errors"]}
    assert errors == {
        (3, "E (Рабочий телефон)"),
        (4, "F (Мобильный телефон)"),
        (5, "D, E, F, G, H (Телефоны)"),
        (6, "C (Быстрый набор)"),
        (7, "C (Быстрый набор)"),
        (8, "C (Быстрый набор)"),
        (9, "A (Имя)"),
    }
    by_line = {e["line"]: e for e in body["errors"]}
    assert by_line[3]["value"] == "+7495112233" and by_line[4]["value"] == "+78992223344"
    assert by_line[6]["message"] == by_line[7]["message"] == NOT_UNIQUE
    assert row_counts(db) == before


def test_create_writes_valid_rows_into_the_company_book(
    client: TestClient, db: Session, app: FastAPI
) -> None:
    w = make_world(db)
    personal_group = _existing(db, w)
    data = csv_file(
        [
            row("Иванов", "", "склад", work="8 495 111-22-33"),
            row("Петров", "11", "Бухгалтерия", mobile="+79991112233"),
            row("Сидоров", "", "", work="+74951112233", mobile="+79991112233"),
            row("Плохой", "", "Только плохим", work="+7495112233"),
        ]
    )
    r = upload(client, w, "create", data)
    assert r.status_code == 200, r.text
    body = r.json()
    assert (body["created"], body["skipped_invalid"]) == (3, 1)
    assert sorted(body["groups_created"]) == ["Бухгалтерия", "склад"]
    contacts = company_contacts(db, w)
    assert [c.name for c in contacts] == ["Есть", "Иванов", "Петров", "Сидоров"]
    ivanov, petrov, sidorov = contacts[1:]
    # *10 is taken, *11 is named by the file: the free ones from 10 upward are 12 and 13.
    assert (ivanov.speed_dial, petrov.speed_dial, sidorov.speed_dial) == ("12", "11", "13")
    assert [(p.kind, p.number) for p in ivanov.phones] == [(PhoneKind.WORK, "+74951112233")]
    assert [(p.kind, p.number) for p in sidorov.phones] == [
        (PhoneKind.WORK, "+74951112233"),
        (PhoneKind.MOBILE, "+79991112233"),
    ]
    assert sidorov.group_id is None
    group = db.get(ContactGroup, ivanov.group_id)
    # The user's personal «Склад» is not the company's: a company group was created.
    assert group is not None and group.owner_user_id is None and group.id != personal_group.id
    assert (
        db.execute(select(ContactGroup).where(ContactGroup.name == "Только плохим")).first() is None
    )
    audited = db.execute(select(AuditEntry.object_type, AuditEntry.object_name)).all()
    assert sorted(audited) == [
        ("contact", "Иванов"),
        ("contact", "Петров"),
        ("contact", "Сидоров"),
        ("contact_group", "Бухгалтерия"),
        ("contact_group", "склад"),
    ]
    events = [e.type for e in app.state.bus.replay(None, 0)]
    assert events.count("contact.created") == 3 and events.count("contact_group.created") == 2


def test_only_the_domain_admin_may_import_contacts(client: TestClient, db: Session) -> None:
    w = make_world(db)
    data = csv_file([row("Иванов", work="+74951112233")])
    for step in ("check", "create"):
        assert upload(client, w, step, data, who="operator").status_code == 403
    headers = w.a.headers("supervisor")
    assert client.get("/api/import/contacts/template", headers=headers).status_code == 403
    assert company_contacts(db, w) == []


def test_bad_contact_file_names_the_missing_column(client: TestClient, db: Session) -> None:
    w = make_world(db)
    data = ";".join(h for h in HEADER if h != "Быстрый набор").encode() + b"\r\nx;y"
    r = upload(client, w, "check", data)
    assert r.status_code == 422 and "«Быстрый набор»" in r.json()["message"]
