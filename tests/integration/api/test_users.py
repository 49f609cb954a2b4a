"""Users through the API: creation rules, SIP secrets, the directory, deletion safeguards."""

from __future__ import annotations

import hashlib
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from server_stub.api.security import verify_password
from server_stub.store import provision
from server_stub.store.models import AuditEntry, CallGroup, Domain, Number, NumberKind, User
from tests.factories import PASSWORD, World, auth, make_world, token_for_pool_admin

NEW_PASSWORD = "Another-pass2"


def new_user(**extra: Any) -> dict[str, Any]:
    body: dict[str, Any] = {"login": "ivanov", "password": PASSWORD, "display_name": "Иванов И."}
    body.update(extra)
    return body


def make_group(db: Session, w: World, name: str, extension: str) -> CallGroup:
    group = CallGroup(domain_id=w.a.domain.id, name=name, extension=extension)
    db.add(group)
    db.commit()
    return group


def as_pool_supervisor(w: World) -> dict[str, str]:
    return auth(token_for_pool_admin(w.supervisor, w.a.domain.id))


def test_created_user_gets_the_next_free_extension(client: TestClient, db: Session) -> None:
    w = make_world(db)
    offered = client.get("/api/users/next-extension", headers=w.a.headers()).json()["extension"]
    assert offered == provision.next_free_extension(db, w.a.domain.id)
    r = client.post("/api/users", json=new_user(), headers=w.a.headers())
    assert r.status_code == 201, r.text
    body = r.json()
    assert body["extension"] == offered
    assert body["sip_address"] == "ivanov@alpha.test"
    assert body["roles"] == ["user"] and body["groups"] == []
    assert not any("hash" in key or "ha1" in key for key in body)
    stored = db.get(User, body["id"])
    assert stored is not None and verify_password(stored.password_hash, PASSWORD)
    entry = db.execute(select(AuditEntry).where(AuditEntry.object_type == "user")).scalar_one()
    assert entry.action == "create" and entry.object_name == "ivanov"
    assert entry.after is not None and entry.after["password_hash"] == "***"
    # The next offer moves on: the number just taken is no longer free.
    again = client.get("/api/users/next-extension", headers=w.a.headers()).json()["extension"]
    assert again != offered


def test_extension_of_a_call_group_is_taken_for_users(client: TestClient, db: Session) -> None:
    w = make_world(db)
    make_group(db, w, "Продажи", "500")
    r = client.post("/api/users", json=new_user(extension="500"), headers=w.a.headers())
    assert r.status_code == 409
    assert r.json()["details"][0]["field"] == "extension"
    assert "групп" in r.json()["details"][0]["message"]
    clash = client.post(
        "/api/users", json=new_user(extension=w.a.operator.extension), headers=w.a.headers()
    )
    assert clash.status_code == 409 and clash.json()["details"][0]["field"] == "extension"
    bad = client.post("/api/users", json=new_user(extension="1"), headers=w.a.headers())
    assert bad.status_code == 422 and bad.json()["details"][0]["field"] == "extension"


def test_weak_password_is_refused_on_its_field_in_russian(client: TestClient, db: Session) -> None:
    w = make_world(db)
    r = client.post("/api/users", json=new_user(password="abcdefgh"), headers=w.a.headers())
    assert r.status_code == 422
    detail = r.json()["details"][0]
    assert detail["field"] == "password"
    assert "трёх групп" in detail["message"]
    short = client.post(
        "/api/users",
        json=new_user(password="Ab1!"),
        headers={**w.a.headers(), "Accept-Language": "en"},
    )
    assert short.json()["details"][0]["field"] == "password"
    assert "at least 8" in short.json()["details"][0]["message"]
    sip = client.post("/api/users", json=new_user(sip_password="12345678"), headers=w.a.headers())
    assert sip.status_code == 422 and sip.json()["details"][0]["field"] == "sip_password"


def test_login_rules_and_uniqueness_in_the_domain(client: TestClient, db: Session) -> None:
    w = make_world(db)
    for bad in ("Ivanov", "1ivanov", "i", "иванов", "ivan ov"):
        r = client.post("/api/users", json=new_user(login=bad), headers=w.a.headers())
        assert r.status_code == 422, bad
        assert r.json()["details"][0]["field"] == "login"
    ok = client.post("/api/users", json=new_user(login="ivanov.ii"), headers=w.a.headers())
    assert ok.status_code == 201
    dup = client.post("/api/users", json=new_user(login="ivanov.ii"), headers=w.a.headers())
    assert dup.status_code == 409 and dup.json()["details"][0]["field"] == "login"
    other = client.post("/api/users", json=new_user(login="ivanov.ii"), headers=w.b.headers())
    assert other.status_code == 201


def test_sip_secret_is_a_digest_of_the_separate_sip_password(
    client: TestClient, db: Session
) -> None:
    w = make_world(db)
    r = client.post(
        "/api/users", json=new_user(sip_password="Phone-secret9"), headers=w.a.headers()
    )
    assert r.status_code == 201
    user = db.get(User, r.json()["id"])
    assert user is not None
    md5 = lambda s: hashlib.md5(s.encode()).hexdigest()  # noqa: E731
    assert user.sip_ha1 == md5("ivanov:alpha.test:Phone-secret9")
    assert user.sip_ha1b == md5("ivanov@alpha.test:alpha.test:Phone-secret9")
    assert user.sip_ha1 != md5(f"ivanov:alpha.test:{PASSWORD}")

    same = client.post("/api/users", json=new_user(login="petrov"), headers=w.a.headers())
    petrov = db.get(User, same.json()["id"])
    assert petrov is not None and petrov.sip_ha1 == md5(f"petrov:alpha.test:{PASSWORD}")

    # A new web password leaves the phone registered; a new SIP password changes the digest.
    uid = user.id
    client.patch(f"/api/users/{uid}", json={"password": NEW_PASSWORD}, headers=w.a.headers())
    db.expire_all()
    user = db.get(User, uid)
    assert user is not None and verify_password(user.password_hash, NEW_PASSWORD)
    assert user.sip_ha1 == md5("ivanov:alpha.test:Phone-secret9")
    client.patch(f"/api/users/{uid}", json={"sip_password": NEW_PASSWORD}, headers=w.a.headers())
    db.expire_all()
    user = db.get(User, uid)
    assert user is not None and user.sip_ha1 == md5(f"ivanov:alpha.test:{NEW_PASSWORD}")


def test_domain_user_limit_is_enforced(client: TestClient, db: Session) -> None:
    w = make_world(db)
    domain = db.get(Domain, w.a.domain.id)
    assert domain is not None
    domain.max_users = 5  # the factory made four
    db.commit()
    assert client.post("/api/users", json=new_user(), headers=w.a.headers()).status_code == 201
    r = client.post("/api/users", json=new_user(login="petrov"), headers=w.a.headers())
    assert r.status_code == 422
    assert r.json()["code"] == "max_users_reached"
    assert "5" in r.json()["message"]


def test_operator_reads_the_directory_but_cannot_create(client: TestClient, db: Session) -> None:
    w = make_world(db)
    r = client.post("/api/users", json=new_user(), headers=w.a.headers("operator"))
    assert r.status_code == 403
    listing = client.get("/api/users", headers=w.a.headers("operator"))
    assert listing.status_code == 200 and listing.json()["total"] == 4
    row = listing.json()["items"][0]
    assert "extension" in row and "outgoing_restriction" not in row
    admin_row = client.get("/api/users", headers=w.a.headers()).json()["items"][0]
    assert "outgoing_restriction" in admin_row
    uid = w.a.user.id
    assert (
        client.patch(
            f"/api/users/{uid}", json={"position": "x"}, headers=w.a.headers("supervisor")
        ).status_code
        == 403
    )


def test_other_domain_users_are_not_found(client: TestClient, db: Session) -> None:
    w = make_world(db)
    uid = w.a.user.id
    assert client.get(f"/api/users/{uid}", headers=w.b.headers()).status_code == 404
    r = client.patch(f"/api/users/{uid}", json={"position": "x"}, headers=w.b.headers())
    assert r.status_code == 404
    assert client.delete(f"/api/users/{uid}", headers=w.b.headers()).status_code == 404
    assert client.get(f"/api/users/{uid}/delete-check", headers=w.b.headers()).status_code == 404
    logins = [
        u["sip_address"] for u in client.get("/api/users", headers=w.b.headers()).json()["items"]
    ]
    assert logins and all(a.endswith("@beta.test") for a in logins)


def test_search_starts_at_three_characters_and_filters(client: TestClient, db: Session) -> None:
    w = make_world(db)
    group = make_group(db, w, "Продажи", "500")
    client.patch(f"/api/users/{w.a.user.id}", json={"group_ids": [group.id]}, headers=w.a.headers())
    h = w.a.headers()
    # Cyrillic, case-insensitive, on both backends.
    found = client.get("/api/users", params={"q": "опер"}, headers=h).json()
    assert [u["login"] for u in found["items"]] == ["operator"]
    assert client.get("/api/users", params={"q": "оп"}, headers=h).json()["total"] == 4
    by_ext = client.get("/api/users", params={"q": w.a.admin.extension}, headers=h).json()
    assert [u["login"] for u in by_ext["items"]] == ["admin"]
    ops = client.get("/api/users", params={"operator": "true"}, headers=h).json()
    assert [u["login"] for u in ops["items"]] == ["operator"]
    members = client.get("/api/users", params={"group_id": group.id}, headers=h).json()
    assert [u["login"] for u in members["items"]] == ["user"]
    assert members["items"][0]["groups"] == [{"id": group.id, "name": "Продажи", "priority": 10}]


def test_outgoing_number_must_be_an_own_non_toll_free_number(
    client: TestClient, db: Session
) -> None:
    w = make_world(db)
    own = Number(domain_id=w.a.domain.id, e164="+74951112233")
    free = Number(domain_id=w.a.domain.id, e164="+78001112233", kind=NumberKind.TOLL_FREE)
    foreign = Number(domain_id=w.b.domain.id, e164="+74951112244")
    db.add_all([own, free, foreign])
    db.commit()
    for number, status in ((free, 422), (foreign, 422), (own, 201)):
        r = client.post(
            "/api/users",
            json=new_user(login=f"u{number.id}", outgoing_number_id=number.id),
            headers=w.a.headers(),
        )
        assert r.status_code == status, r.text
        if status == 422:
            assert r.json()["details"][0]["field"] == "outgoing_number_id"
        else:
            assert r.json()["outgoing_number_id"] == own.id


def test_patch_rules_login_is_fixed_groups_replace_email_checked(
    client: TestClient, db: Session
) -> None:
    w = make_world(db)
    g1, g2 = make_group(db, w, "Продажи", "500"), make_group(db, w, "Склад", "501")
    uid, h = w.a.user.id, w.a.headers()
    r = client.patch(f"/api/users/{uid}", json={"login": "other"}, headers=h)
    assert r.status_code == 422 and r.json()["details"][0]["field"] == "login"
    r = client.patch(f"/api/users/{uid}", json={"email": "not-an-address"}, headers=h)
    assert r.status_code == 422 and r.json()["details"][0]["field"] == "email"
    client.patch(f"/api/users/{uid}", json={"group_ids": [g1.id]}, headers=h)
    r = client.patch(f"/api/users/{uid}", json={"group_ids": [g2.id]}, headers=h)
    assert [g["id"] for g in r.json()["groups"]] == [g2.id]
    foreign = client.patch(f"/api/users/{uid}", json={"group_ids": [999999]}, headers=h)
    assert foreign.status_code == 422 and foreign.json()["details"][0]["field"] == "group_ids"
    last = (
        db.execute(
            select(AuditEntry)
            .where(AuditEntry.object_type == "user")
            .order_by(AuditEntry.id.desc())
        )
        .scalars()
        .first()
    )
    assert last is not None and last.before == {"group_ids": [g1.id]}
    assert last.after == {"group_ids": [g2.id]}


def test_delete_check_names_groups_left_without_operators(client: TestClient, db: Session) -> None:
    w = make_world(db)
    mixed = make_group(db, w, "Поддержка", "500")
    alone = make_group(db, w, "Ночная смена", "501")
    h = w.a.headers()
    client.put(
        f"/api/groups/{mixed.id}/members",
        json=[{"user_id": w.a.operator.id}, {"user_id": w.a.user.id}],
        headers=h,
    )
    client.put(f"/api/groups/{alone.id}/members", json=[{"user_id": w.a.operator.id}], headers=h)
    check = client.get(f"/api/users/{w.a.operator.id}/delete-check", headers=h).json()
    assert check["can_delete"] is True
    assert [g["name"] for g in check["groups_left_without_operators"]] == ["Поддержка"]
    assert [g["name"] for g in check["groups_left_empty"]] == ["Ночная смена"]
    plain = client.get(f"/api/users/{w.a.user.id}/delete-check", headers=h).json()
    assert plain["groups_left_without_operators"] == [] and plain["groups_left_empty"] == []


def test_cannot_delete_yourself_or_the_last_admin(client: TestClient, db: Session) -> None:
    w = make_world(db)
    admin_id = w.a.admin.id
    me = client.delete(f"/api/users/{admin_id}", headers=w.a.headers())
    assert me.status_code == 409 and me.json()["code"] == "cannot_delete_self"
    check = client.get(f"/api/users/{w.a.admin.id}/delete-check", headers=w.a.headers()).json()
    assert check["can_delete"] is False and check["reason"]
    # A pool supervisor acting in the domain is not that user, but it is still the last admin.
    sup = as_pool_supervisor(w)
    last = client.delete(f"/api/users/{w.a.admin.id}", headers=sup)
    assert last.status_code == 409 and last.json()["code"] == "last_admin"
    demote = client.patch(f"/api/users/{w.a.admin.id}", json={"is_admin": False}, headers=sup)
    assert demote.status_code == 409 and demote.json()["code"] == "last_admin"
    off = client.patch(f"/api/users/{w.a.admin.id}", json={"active": False}, headers=sup)
    assert off.status_code == 409
    assert db.get(User, w.a.admin.id) is not None
    # With a second administrator the first one may go.
    second = client.post("/api/users", json=new_user(is_admin=True), headers=w.a.headers())
    assert second.status_code == 201 and "domain_admin" in second.json()["roles"]
    assert client.delete(f"/api/users/{admin_id}", headers=sup).status_code == 204
    db.expunge_all()
    assert db.get(User, admin_id) is None
    gone = db.execute(
        select(AuditEntry).where(AuditEntry.object_type == "user", AuditEntry.action == "delete")
    ).scalar_one()
    assert gone.on_behalf_of == "admin@alpha.test" and gone.object_name == "admin"
