"""SIP devices: MAC normalisation, platform-wide uniqueness, binding, filters, isolation."""

from __future__ import annotations

from typing import Any

import pytest
from argon2 import PasswordHasher
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from server_stub.store import provision
from server_stub.store.models import AuditEntry, SipDevice
from tests.factories import Tenant, make_world


@pytest.fixture(autouse=True)
def _cheap_password_hashing(monkeypatch: pytest.MonkeyPatch) -> None:
    # make_world hashes nine passwords with production argon2 costs; these tests mint tokens
    # directly and never verify a password, so a cheap (still valid) hash keeps them fast.
    monkeypatch.setattr(provision, "hash_password", PasswordHasher(1, 8, 1).hash)


def attach(client: TestClient, tenant: Tenant, mac: str, serial: str, **extra: Any) -> Any:
    r = client.post(
        "/api/devices", json={"mac": mac, "serial": serial, **extra}, headers=tenant.headers()
    )
    assert r.status_code == 201, r.text
    return r.json()


@pytest.mark.parametrize(
    "raw", ["80:be:c0:28:7a:dc", "80-BE-C0-28-7A-DC", "80be.c028.7adc", " 80BEC0287ADC "]
)
def test_mac_is_normalised(client: TestClient, db: Session, raw: str) -> None:
    w = make_world(db)
    dev = attach(client, w.a, raw, "3803SN28083", model="YEALINK_HTTP")
    assert dev["mac"] == "80BEC0287ADC"
    assert db.execute(select(SipDevice.mac)).scalar_one() == "80BEC0287ADC"
    assert (dev["primary_port"], dev["use_domain_settings"]) == (5060, True)


@pytest.mark.parametrize("raw", ["80BEC0287AD", "80BEC0287ADCX", "80BEC0287ADG", "::"])
def test_bad_mac_names_the_field(client: TestClient, db: Session, raw: str) -> None:
    w = make_world(db)
    r = client.post("/api/devices", json={"mac": raw, "serial": "S1"}, headers=w.a.headers())
    assert r.status_code == 422
    assert r.json()["details"][0]["field"] == "mac"
    assert "MAC" in r.json()["details"][0]["message"]


def test_mac_and_serial_are_unique_on_the_platform(client: TestClient, db: Session) -> None:
    w = make_world(db)
    attach(client, w.a, "80BEC0287ADC", "3803SN28083")
    r = client.post(
        "/api/devices", json={"mac": "80:be:c0:28:7a:dc", "serial": "OTHER"}, headers=w.b.headers()
    )
    assert r.status_code == 409 and r.json()["details"][0]["field"] == "mac"
    assert "alpha" not in r.text
    r = client.post(
        "/api/devices", json={"mac": "001565000001", "serial": "3803SN28083"}, headers=w.b.headers()
    )
    assert r.status_code == 409 and r.json()["details"][0]["field"] == "serial"


def test_serial_is_required(client: TestClient, db: Session) -> None:
    w = make_world(db)
    r = client.post("/api/devices", json={"mac": "80BEC0287ADC"}, headers=w.a.headers())
    assert r.status_code == 422 and r.json()["details"][0]["field"] == "serial"
    r = client.post(
        "/api/devices", json={"mac": "80BEC0287ADC", "serial": "  "}, headers=w.a.headers()
    )
    assert r.status_code == 422 and r.json()["details"][0]["field"] == "serial"


@pytest.mark.parametrize(
    ("extra", "field"),
    [
        ({"primary_port": 0}, "primary_port"),
        ({"backup_port": 65536}, "backup_port"),
        ({"primary_proxy": "bad host!"}, "primary_proxy"),
        ({"backup_proxy": "300.1.1.1"}, "backup_proxy"),
    ],
)
def test_bad_proxy_settings_name_the_field(
    client: TestClient, db: Session, extra: dict[str, Any], field: str
) -> None:
    w = make_world(db)
    body = {"mac": "80BEC0287ADC", "serial": "S1", **extra}
    r = client.post("/api/devices", json=body, headers=w.a.headers())
    assert r.status_code == 422 and r.json()["details"][0]["field"] == field


def test_proxy_hosts_are_kept(client: TestClient, db: Session) -> None:
    w = make_world(db)
    dev = attach(
        client,
        w.a,
        "80BEC0287ADC",
        "S1",
        use_domain_settings=False,
        push_proxy=True,
        primary_proxy="SIP.Example.ru",
        primary_port=5070,
        backup_proxy="10.0.0.2",
    )
    assert (dev["primary_proxy"], dev["primary_port"]) == ("sip.example.ru", 5070)
    assert dev["backup_proxy"] == "10.0.0.2" and dev["use_domain_settings"] is False


def test_bind_only_to_own_domain_users_and_unbind(client: TestClient, db: Session) -> None:
    w = make_world(db)
    dev = attach(client, w.a, "80BEC0287ADC", "S1")
    url = f"/api/devices/{dev['id']}"
    r = client.patch(url, json={"user_id": w.b.user.id}, headers=w.a.headers())
    assert r.status_code == 422 and r.json()["details"][0]["field"] == "user_id"
    r = client.patch(url, json={"user_id": w.a.user.id}, headers=w.a.headers())
    assert r.status_code == 200 and r.json()["user_id"] == w.a.user.id
    # Changing something else keeps the binding; an explicit null removes it.
    assert client.patch(url, json={"model": "T21"}, headers=w.a.headers()).json()["user_id"]
    r = client.patch(url, json={"user_id": None}, headers=w.a.headers())
    assert r.json()["user_id"] is None
    actions = db.execute(
        select(AuditEntry.action).where(AuditEntry.object_type == "sip_device")
    ).scalars()
    assert list(actions) == ["create", "update", "update", "update"]


def test_free_busy_filter_and_search(client: TestClient, db: Session) -> None:
    w = make_world(db)
    attach(client, w.a, "80BEC0287ADC", "3803SN28083", user_id=w.a.user.id)
    attach(client, w.a, "001565AABBCC", "YL-0002")

    def serials(query: str) -> list[str]:
        r = client.get(f"/api/devices{query}", headers=w.a.headers())
        assert r.status_code == 200, r.text
        return [d["serial"] for d in r.json()["items"]]

    assert serials("") == ["3803SN28083", "YL-0002"]
    assert serials("?bound=true") == ["3803SN28083"]
    assert serials("?bound=false") == ["YL-0002"]
    assert serials("?q=80:be:c0") == ["3803SN28083"]
    assert serials("?q=yl-00") == ["YL-0002"]
    assert serials("?q=aabb&bound=true") == []
    r = client.get("/api/devices?bound=maybe", headers=w.a.headers())
    assert r.status_code == 422 and r.json()["details"][0]["field"] == "bound"


def test_devices_are_admin_only_and_isolated(client: TestClient, db: Session) -> None:
    w = make_world(db)
    dev = attach(client, w.a, "80BEC0287ADC", "S1")
    assert client.get("/api/devices", headers=w.a.headers("supervisor")).status_code == 403
    r = client.post(
        "/api/devices", json={"mac": "001565AABBCC", "serial": "S2"}, headers=w.a.headers("user")
    )
    assert r.status_code == 403
    for method in ("get", "delete"):
        assert (
            client.request(method, f"/api/devices/{dev['id']}", headers=w.b.headers()).status_code
            == 404
        )
    assert client.get("/api/devices", headers=w.b.headers()).json()["total"] == 0
    assert client.delete(f"/api/devices/{dev['id']}", headers=w.a.headers()).status_code == 204
    assert db.execute(select(SipDevice)).first() is None
