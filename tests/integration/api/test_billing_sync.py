"""People changes reach the bill in the same transaction, for exactly what the quote said."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from server_stub.store import billing_ops
from tests.factories import PASSWORD, make_world


def _user_charges(client: TestClient, headers: dict[str, str], code: str) -> Decimal:
    rows = client.get("/api/billing/charges", headers=headers, params={"limit": 1000}).json()
    return sum((Decimal(r["amount"]) for r in rows["items"] if r["code"] == code), Decimal(0))


def test_creating_a_user_charges_what_the_quote_said(client: TestClient, db: Session) -> None:
    w = make_world(db)
    w.a.domain.users_included = 4  # the four people of the world fill the plan exactly
    w.a.domain.user_connection_kopecks = 5_000
    w.a.domain.balance_kopecks = 1_000_000
    db.commit()
    h = w.a.headers()
    quote = client.get("/api/billing/quotes/users", params={"count": 1}, headers=h).json()
    assert Decimal(quote["monthly_delta"]) > 0 and Decimal(quote["connection_fee"]) == Decimal(
        "50.00"
    )
    before = _user_charges(client, h, "extra_user")
    r = client.post(
        "/api/users",
        headers=h,
        json={"login": "newbie", "password": PASSWORD, "display_name": "Новый сотрудник"},
    )
    assert r.status_code == 201, r.text
    charged = before - _user_charges(client, h, "extra_user")
    assert charged == Decimal(quote["connection_fee"]) + Decimal(quote["today_charge"])


def test_making_someone_an_operator_is_charged_once(client: TestClient, db: Session) -> None:
    w = make_world(db)
    w.a.domain.balance_kopecks = 1_000_000
    db.commit()
    # A domain billing already runs for: today's fees for who is there are already charged.
    billing_ops.operators_changed(db, w.a.domain.id, datetime.now(UTC))
    db.commit()
    h = w.a.headers()
    quote = client.get("/api/billing/quotes/operators", params={"count": 1}, headers=h).json()
    before = _user_charges(client, h, "operator")
    r = client.patch(f"/api/users/{w.a.user.id}", headers=h, json={"is_operator": True})
    assert r.status_code == 200, r.text
    after_first = _user_charges(client, h, "operator")
    assert before - after_first == Decimal(quote["connection_fee"]) + Decimal(quote["today_charge"])
    # Saving the same user again without a role change charges nothing more.
    client.patch(f"/api/users/{w.a.user.id}", headers=h, json={"position": "Старший"})
    assert _user_charges(client, h, "operator") == after_first


def test_a_call_id_rated_for_one_domain_is_not_a_replay_for_another(db: Session) -> None:
    import pytest

    from server_stub.store import billing_calls, billing_ledger

    w = make_world(db)
    now = datetime.now(UTC)
    billing_calls.rate_call(db, w.b.domain.id, "same-id", "mobile", "+79161234567", now, 61)
    with pytest.raises(billing_ledger.Refusal) as refused:
        billing_calls.rate_call(db, w.a.domain.id, "same-id", "mobile", "+79161234567", now, 61)
    assert refused.value.code == "call_id_taken"
