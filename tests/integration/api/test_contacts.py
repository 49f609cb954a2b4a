"""Company and personal address books: fields, speed dials, groups, search, isolation."""

from __future__ import annotations

from typing import Any

import pytest
from argon2 import PasswordHasher
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from server_stub.store import provision
from server_stub.store.models import AuditEntry, Contact, ContactPhone
from tests.factories import auth, make_world, token_for_pool_admin

COMPANY, PERSONAL = "/api/contacts", "/api/me/contacts"
MOBILE = {"kind": "mobile", "number": "+7 999 111-22-33"}


@pytest.fixture(autouse=True)
def _cheap_password_hashing(monkeypatch: pytest.MonkeyPatch) -> None:
    # make_world hashes nine passwords with production argon2 costs; these tests mint tokens
    # directly and never verify a password, so a cheap (still valid) hash keeps them fast.
    monkeypatch.setattr(provision, "hash_password", PasswordHasher(1, 8, 1).hash)


def create(client: TestClient, url: str, headers: dict[str, str], **body: Any) -> Any:
    body.setdefault("phones", [MOBILE])
    r = client.post(url, json=body, headers=headers)
    assert r.status_code == 201, r.text
    return r.json()


# --- company book -------------------------------------------------------------------------


def test_company_contact_is_stored_normalised_and_audited(client: TestClient, db: Session) -> None:
    w = make_world(db)
    c = create(
        client,
        COMPANY,
        w.a.headers(),
        name="  Бухгалтерия  ",
        email="buh@example.ru",
        position="Главбух",
        phones=[
            {"kind": "work", "number": "8 (495) 111-22-33"},
            {"kind": "ip", "number": "sip:Buh@PBX.Example.ru"},
            {"kind": "other", "number": "+7 999 111-22-33"},
        ],
    )
    assert c["name"] == "Бухгалтерия" and c["position"] == "Главбух"
    assert c["phones"] == [
        {"kind": "work", "number": "+74951112233"},
        {"kind": "ip", "number": "Buh@pbx.example.ru"},
        {"kind": "other", "number": "+79991112233"},
    ]
    entry = db.execute(select(AuditEntry).where(AuditEntry.object_type == "contact")).scalar_one()
    assert entry.action == "create" and entry.after is not None
    assert entry.after["phones"] == [
        "work:+74951112233",
        "ip:Buh@pbx.example.ru",
        "other:+79991112233",
    ]


def test_users_read_company_book_but_only_admin_writes(client: TestClient, db: Session) -> None:
    w = make_world(db)
    c = create(client, COMPANY, w.a.headers(), name="Склад")
    listed = client.get(COMPANY, headers=w.a.headers("user")).json()
    assert [i["name"] for i in listed["items"]] == ["Склад"]
    for who in ("user", "operator", "supervisor"):
        h = w.a.headers(who)
        r = client.post(COMPANY, json={"name": "X", "phones": [MOBILE]}, headers=h)
        assert r.status_code == 403
        assert client.delete(f"{COMPANY}/{c['id']}", headers=h).status_code == 403
        r = client.post("/api/contact-groups", json={"name": "G"}, headers=h)
        assert r.status_code == 403


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"name": "", "phones": [MOBILE]}, "name"),
        ({"name": "   ", "phones": [MOBILE]}, "name"),
        ({"phones": [MOBILE]}, "name"),
        ({"name": "A", "phones": []}, "phones"),
        ({"name": "A"}, "phones"),
        ({"name": "A", "phones": [{"kind": "work", "number": "+7495112233"}]}, "phones.0.number"),
        (
            {"name": "A", "phones": [MOBILE, {"kind": "home", "number": "+78992223344"}]},
            "phones.1.number",
        ),
        ({"name": "A", "phones": [{"kind": "fax", "number": "+74951112233"}]}, "phones.0.kind"),
        ({"name": "A", "phones": [{"kind": "ip", "number": "1"}]}, "phones.0.number"),
        ({"name": "A", "phones": [{"kind": "ip", "number": "a b@c"}]}, "phones.0.number"),
        ({"name": "A", "phones": [MOBILE], "speed_dial": "123456"}, "speed_dial"),
        ({"name": "A", "phones": [MOBILE], "speed_dial": "1a"}, "speed_dial"),
        ({"name": "A", "phones": [MOBILE], "email": "nope"}, "email"),
    ],
)
def test_bad_contact_names_the_field(
    client: TestClient, db: Session, body: dict[str, Any], field: str
) -> None:
    w = make_world(db)
    r = client.post(COMPANY, json=body, headers=w.a.headers())
    assert r.status_code == 422, r.text
    assert r.json()["details"][0]["field"] == field
    assert r.json()["details"][0]["message"]


def test_ip_phone_takes_an_extension_or_sip_address(client: TestClient, db: Session) -> None:
    w = make_world(db)
    phones = [
        {"kind": "ip", "number": "101"},
        {"kind": "ip", "number": "4455101"},
        {"kind": "ip", "number": "ivanov@alpha.test"},
    ]
    c = create(client, COMPANY, w.a.headers(), name="Иванов", phones=phones)
    assert [p["number"] for p in c["phones"]] == ["101", "4455101", "ivanov@alpha.test"]


def test_speed_dial_is_generated_from_10_and_unique_in_the_book(
    client: TestClient, db: Session
) -> None:
    w = make_world(db)
    h = w.a.headers()
    assert create(client, COMPANY, h, name="A", speed_dial="11")["speed_dial"] == "11"
    assert create(client, COMPANY, h, name="B")["speed_dial"] == "10"
    assert create(client, COMPANY, h, name="C", speed_dial="")["speed_dial"] == "12"
    r = client.post(COMPANY, json={"name": "D", "speed_dial": "11", "phones": [MOBILE]}, headers=h)
    assert r.status_code == 409
    detail = r.json()["details"][0]
    assert detail["field"] == "speed_dial" and "не уникально" in detail["message"]
    # Another book (a personal one, another domain) may reuse it.
    assert create(client, PERSONAL, w.a.headers("user"), name="D", speed_dial="11")
    assert create(client, COMPANY, w.b.headers(), name="D", speed_dial="11")


def test_speed_dial_never_equals_the_pickup_code(client: TestClient, db: Session) -> None:
    w = make_world(db)
    r = client.post(
        COMPANY, json={"name": "A", "speed_dial": "8", "phones": [MOBILE]}, headers=w.a.headers()
    )
    assert r.status_code == 422 and r.json()["details"][0]["field"] == "speed_dial"


def test_patch_replaces_phones_and_keeps_the_rest(client: TestClient, db: Session) -> None:
    w = make_world(db)
    c = create(client, COMPANY, w.a.headers(), name="A", position="Директор")
    url = f"{COMPANY}/{c['id']}"
    new = [{"kind": "home", "number": "84951112233"}, {"kind": "work", "number": "84951112244"}]
    r = client.patch(url, json={"phones": new}, headers=w.a.headers())
    assert r.status_code == 200, r.text
    got = r.json()
    assert [p["number"] for p in got["phones"]] == ["+74951112233", "+74951112244"]
    assert (got["position"], got["speed_dial"]) == ("Директор", c["speed_dial"])
    assert len(db.execute(select(ContactPhone)).scalars().all()) == 2
    r = client.patch(url, json={"phones": []}, headers=w.a.headers())
    assert r.status_code == 422 and r.json()["details"][0]["field"] == "phones"
    # Own speed dial re-saved is not a duplicate.
    r = client.patch(url, json={"speed_dial": c["speed_dial"]}, headers=w.a.headers())
    assert r.status_code == 200
    upd = (
        db.execute(
            select(AuditEntry).where(
                AuditEntry.object_type == "contact", AuditEntry.action == "update"
            )
        )
        .scalars()
        .first()
    )
    assert upd is not None and upd.after == {"phones": ["home:+74951112233", "work:+74951112244"]}


def test_group_must_belong_to_the_same_book(client: TestClient, db: Session) -> None:
    w = make_world(db)
    mine = client.post("/api/me/contact-groups", json={"name": "Друзья"}, headers=w.a.headers())
    assert mine.status_code == 201
    r = client.post(
        COMPANY,
        json={"name": "A", "group_id": mine.json()["id"], "phones": [MOBILE]},
        headers=w.a.headers(),
    )
    assert r.status_code == 422 and r.json()["details"][0]["field"] == "group_id"
    other = client.post("/api/contact-groups", json={"name": "Склад"}, headers=w.b.headers())
    r = client.post(
        COMPANY,
        json={"name": "A", "group_id": other.json()["id"], "phones": [MOBILE]},
        headers=w.a.headers(),
    )
    assert r.status_code == 422


def test_deleting_a_group_leaves_its_contacts_ungrouped(client: TestClient, db: Session) -> None:
    w = make_world(db)
    g = client.post("/api/contact-groups", json={"name": "Бухгалтерия"}, headers=w.a.headers())
    gid = g.json()["id"]
    c = create(client, COMPANY, w.a.headers(), name="Главбух", group_id=gid)
    create(client, COMPANY, w.a.headers(), name="Вне групп")
    in_group = client.get(f"{COMPANY}?group_id={gid}", headers=w.a.headers()).json()
    assert [i["name"] for i in in_group["items"]] == ["Главбух"]
    assert client.delete(f"/api/contact-groups/{gid}", headers=w.a.headers()).status_code == 204
    got = client.get(f"{COMPANY}/{c['id']}", headers=w.a.headers()).json()
    assert got["group_id"] is None
    ungrouped = client.get(f"{COMPANY}?ungrouped=true", headers=w.a.headers()).json()
    assert ungrouped["total"] == 2


def test_group_names_are_unique_within_a_book(client: TestClient, db: Session) -> None:
    w = make_world(db)
    assert (
        client.post("/api/contact-groups", json={"name": "A"}, headers=w.a.headers()).status_code
        == 201
    )
    r = client.post("/api/contact-groups", json={"name": "A"}, headers=w.a.headers())
    assert r.status_code == 409 and r.json()["details"][0]["field"] == "name"
    r = client.post("/api/me/contact-groups", json={"name": "A"}, headers=w.a.headers())
    assert r.status_code == 201


def test_search_by_name_or_phone_but_not_extension(client: TestClient, db: Session) -> None:
    w = make_world(db)
    h = w.a.headers()
    create(
        client, COMPANY, h, name="Иванов Пётр", phones=[{"kind": "work", "number": "84951112233"}]
    )
    create(client, COMPANY, h, name="Ivanova Anna", phones=[MOBILE])
    create(client, COMPANY, h, name="Склад", phones=[{"kind": "ip", "number": "4951"}])

    def names(q: str) -> list[str]:
        r = client.get(COMPANY, params={"q": q}, headers=h)
        assert r.status_code == 200
        return sorted(i["name"] for i in r.json()["items"])

    assert names("иванов") == ["Иванов Пётр"]
    assert names("IVANOVA") == ["Ivanova Anna"]
    assert names("+7 495 111") == ["Иванов Пётр"]
    assert names("8 (495) 111-22-33") == ["Иванов Пётр"]
    assert names("1122") == ["Ivanova Anna", "Иванов Пётр"]
    assert names("4951") == ["Иванов Пётр"]  # the IP phone (an extension) is not searched
    assert names("нет такого") == []


def test_list_pages(client: TestClient, db: Session) -> None:
    w = make_world(db)
    for name in ("В", "А", "Б"):
        create(client, COMPANY, w.a.headers(), name=name)
    page = client.get(f"{COMPANY}?offset=1&limit=1", headers=w.a.headers()).json()
    assert page["total"] == 3 and [i["name"] for i in page["items"]] == ["Б"]


def test_bulk_move_and_delete(client: TestClient, db: Session) -> None:
    w = make_world(db)
    h = w.a.headers()
    ids = [create(client, COMPANY, h, name=n)["id"] for n in ("A", "B", "C")]
    gid = client.post("/api/contact-groups", json={"name": "G"}, headers=h).json()["id"]
    r = client.post(f"{COMPANY}/move", json={"ids": ids[:2], "group_id": gid}, headers=h)
    assert r.status_code == 200 and {c["group_id"] for c in r.json()} == {gid}
    foreign = create(client, COMPANY, w.b.headers(), name="Чужой")["id"]
    # All or nothing: one id from another domain makes the whole request "not found".
    r = client.post(f"{COMPANY}/delete", json={"ids": [ids[0], foreign]}, headers=h)
    assert r.status_code == 404
    assert client.get(COMPANY, headers=h).json()["total"] == 3
    assert client.post(f"{COMPANY}/delete", json={"ids": ids[:2]}, headers=h).status_code == 204
    assert [i["name"] for i in client.get(COMPANY, headers=h).json()["items"]] == ["C"]
    deleted = db.execute(
        select(AuditEntry).where(AuditEntry.object_type == "contact", AuditEntry.action == "delete")
    ).scalars()
    assert sorted(e.object_name for e in deleted) == ["A", "B"]
    assert len(db.execute(select(ContactPhone)).scalars().all()) == 2  # C and Чужой


def test_other_domain_gets_404_for_a_contact(client: TestClient, db: Session) -> None:
    w = make_world(db)
    c = create(client, COMPANY, w.a.headers(), name="A")
    url = f"{COMPANY}/{c['id']}"
    assert client.get(url, headers=w.b.headers()).status_code == 404
    assert client.patch(url, json={"name": "B"}, headers=w.b.headers()).status_code == 404
    assert client.delete(url, headers=w.b.headers()).status_code == 404
    assert client.get(COMPANY, headers=w.b.headers()).json()["total"] == 0


# --- personal book ------------------------------------------------------------------------


def test_personal_book_is_private_even_inside_the_domain(client: TestClient, db: Session) -> None:
    w = make_world(db)
    mine = create(client, PERSONAL, w.a.headers("user"), name="Мама")
    group = client.post(
        "/api/me/contact-groups", json={"name": "Семья"}, headers=w.a.headers("user")
    ).json()
    for who in ("operator", "admin"):
        h = w.a.headers(who)
        assert client.get(f"{PERSONAL}/{mine['id']}", headers=h).status_code == 404
        assert (
            client.patch(f"{PERSONAL}/{mine['id']}", json={"name": "X"}, headers=h).status_code
            == 404
        )
        assert client.delete(f"{PERSONAL}/{mine['id']}", headers=h).status_code == 404
        assert client.get(PERSONAL, headers=h).json()["total"] == 0
        assert client.get(f"/api/me/contact-groups/{group['id']}", headers=h).status_code == 404
        # Nor is it part of the company book.
        assert client.get(f"{COMPANY}/{mine['id']}", headers=h).status_code == 404
    assert client.get(COMPANY, headers=w.a.headers("user")).json()["total"] == 0
    # The owner can edit it; contacts belong to the user, not to a role.
    r = client.patch(
        f"{PERSONAL}/{mine['id']}", json={"group_id": group["id"]}, headers=w.a.headers("user")
    )
    assert r.status_code == 200 and r.json()["group_id"] == group["id"]
    row = db.get(Contact, mine["id"])
    assert row is not None and row.owner_user_id == w.a.user.id


def test_personal_group_of_another_user_is_refused(client: TestClient, db: Session) -> None:
    w = make_world(db)
    theirs = client.post(
        "/api/me/contact-groups", json={"name": "Семья"}, headers=w.a.headers("operator")
    ).json()
    r = client.post(
        PERSONAL,
        json={"name": "A", "group_id": theirs["id"], "phones": [MOBILE]},
        headers=w.a.headers("user"),
    )
    assert r.status_code == 422 and r.json()["details"][0]["field"] == "group_id"


def test_pool_admin_in_a_domain_has_no_personal_book(client: TestClient, db: Session) -> None:
    w = make_world(db)
    h = auth(token_for_pool_admin(w.supervisor, w.a.domain.id))
    assert client.get(PERSONAL, headers=h).status_code == 403
    r = client.post(PERSONAL, json={"name": "A", "phones": [MOBILE]}, headers=h)
    assert r.status_code == 403
    assert client.get("/api/me/contact-groups", headers=h).status_code == 403
    r = client.post("/api/me/contact-groups", json={"name": "G"}, headers=h)
    assert r.status_code == 403
    # …but manages the company book as the domain admin.
    assert create(client, COMPANY, h, name="A")["speed_dial"] == "10"
