"""Billing through the API: the ledger invariant, top-ups, promised payment, credit limit,
services with quotes, idempotent rating, scheduled work."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from server_stub.billing.money import day_share, parse_rub
from server_stub.store import billing_calls
from server_stub.store.models import AuditEntry, BlockState, Domain, PaymentScheme
from server_stub.store.models_billing import (
    BillingAccount,
    LedgerEntry,
    RatedCall,
    ServiceSubscription,
)
from tests.factories import auth, make_world, token_for_pool_admin

NOW = datetime(2026, 11, 21, 9, 0, tzinfo=UTC)  # 12:00 in Moscow, a 30-day month
TOKEN = "system-token-for-tests"


@pytest.fixture(autouse=True)
def _clock_and_token(app: FastAPI, monkeypatch: pytest.MonkeyPatch) -> None:
    app.state.billing_clock = lambda: NOW
    monkeypatch.setenv("PULT_SYSTEM_TOKEN", TOKEN)


SYSTEM = {"X-Pult-System-Token": TOKEN}


def assert_ledger_consistent(db: Session, domain_id: int) -> None:
    db.expire_all()
    domain = db.get(Domain, domain_id)
    assert domain is not None
    entries = db.scalars(
        select(LedgerEntry).where(LedgerEntry.domain_id == domain_id).order_by(LedgerEntry.id)
    ).all()
    running = 0
    for e in entries:
        running += e.amount_kopecks
        assert e.balance_after_kopecks == running
    assert domain.balance_kopecks == running


def top_up(client: TestClient, domain_id: int, amount: str, ref: str | None = None) -> None:
    r = client.post(
        "/api/billing/top-ups",
        headers=SYSTEM,
        json={"amount": amount, "domain_id": domain_id, "external_ref": ref},
    )
    assert r.status_code == 201, r.text


def test_top_up_is_for_the_provider_not_the_domain_admin(client: TestClient, db: Session) -> None:
    w = make_world(db)
    r = client.post("/api/billing/top-ups", json={"amount": "100.00"}, headers=w.a.headers())
    assert r.status_code == 403
    pool = auth(token_for_pool_admin(w.supervisor, w.a.domain.id))
    r = client.post("/api/billing/top-ups", json={"amount": "1000.00"}, headers=pool)
    assert r.status_code == 201, r.text
    # A provider's retried notification is credited once.
    top_up(client, w.a.domain.id, "500.00", ref="bank-1")
    top_up(client, w.a.domain.id, "500.00", ref="bank-1")
    acc = client.get("/api/billing/account", headers=w.a.headers()).json()
    # today's base subscription and the tenant's one operator, charged on first use
    day = day_share(130000, NOW.date()) + day_share(25000, NOW.date())
    assert parse_rub(acc["balance"]) == 150000 - day
    assert acc["month_income"] == "1500.00"
    pays = client.get("/api/billing/payments", headers=w.a.headers()).json()
    assert pays["total"] == 2
    assert_ledger_consistent(db, w.a.domain.id)
    bad = client.post(
        "/api/billing/top-ups", headers=SYSTEM, json={"amount": 10.5, "domain_id": w.a.domain.id}
    )
    assert bad.status_code == 422 and bad.json()["details"][0]["field"] == "amount"


def test_promised_payment_rules_and_messages(client: TestClient, db: Session) -> None:
    w = make_world(db)
    h = w.a.headers()
    r = client.post("/api/billing/promised-payment", json={"amount": "40.00"}, headers=h)
    assert r.status_code == 409 and r.json()["details"][0]["field"] == "amount"
    assert "не может быть меньше 50 рублей" in r.json()["message"]
    # Zero balance: the domain is blocked on first use (it cannot pay today's fee) —
    # a promised payment below the rest of the month's fee cannot unblock it.
    r = client.post("/api/billing/promised-payment", json={"amount": "100.00"}, headers=h)
    assert r.status_code == 409
    assert r.json()["message"] == (
        "Заданная сумма недостаточна для разблокировки услуги. Задайте сумму платежа больше."
    )
    # (1300 + 250) × 10/30 = 516.67 ₽ for 21..30 November
    r = client.post("/api/billing/promised-payment", json={"amount": "520.00"}, headers=h)
    assert r.status_code == 201, r.text
    db.expire_all()
    assert db.get(Domain, w.a.domain.id).block_state == BlockState.NONE  # type: ignore[union-attr]
    r = client.post("/api/billing/promised-payment", json={"amount": "50.00"}, headers=h)
    assert r.status_code == 409
    assert r.json()["message"] == (
        "В настоящий момент невозможно выполнить операцию, т. к. не закрыт обещанный платеж "
        "от 21.11.2026 12:00:00 +03:00 на сумму 520.00 руб."
    )
    en = client.post(
        "/api/billing/promised-payment",
        json={"amount": "50.00"},
        headers={**h, "Accept-Language": "en"},
    )
    assert "has not been repaid" in en.json()["message"]
    top_up(client, w.a.domain.id, "519.99")
    assert (
        client.post(
            "/api/billing/promised-payment", json={"amount": "50.00"}, headers=h
        ).status_code
        == 409
    )
    top_up(client, w.a.domain.id, "0.01")
    assert (
        client.post(
            "/api/billing/promised-payment", json={"amount": "50.00"}, headers=h
        ).status_code
        == 201
    )
    assert_ledger_consistent(db, w.a.domain.id)


def test_promised_payment_is_debited_at_expiry_whatever_the_balance(
    client: TestClient, db: Session, app: FastAPI
) -> None:
    w = make_world(db)
    domain = db.get(Domain, w.a.domain.id)
    assert domain is not None
    domain.payment_scheme = PaymentScheme.UNLIMITED  # no block in the way; then advance again
    db.commit()
    client.post("/api/billing/tick", headers=SYSTEM)
    domain.payment_scheme = PaymentScheme.ADVANCE
    db.commit()
    r = client.post(
        "/api/billing/promised-payment", json={"amount": "300.00"}, headers=w.a.headers()
    )
    assert r.status_code == 201, r.text
    before = client.get("/api/billing/account", headers=w.a.headers()).json()["balance"]
    app.state.billing_clock = lambda: NOW + timedelta(days=5)
    r = client.post("/api/billing/tick", headers=SYSTEM)
    assert r.status_code == 200 and r.json()["promised_debited"] == 1
    debit = db.scalar(select(LedgerEntry).where(LedgerEntry.kind == "promised_debit"))
    assert debit is not None and debit.amount_kopecks == -30000
    assert client.post("/api/billing/tick", headers=SYSTEM).json()["promised_debited"] == 0
    db.expire_all()
    after = db.get(Domain, w.a.domain.id)
    assert after is not None and after.balance_kopecks < parse_rub(before)
    assert after.block_state == BlockState.FINANCIAL  # the balance went negative
    assert_ledger_consistent(db, w.a.domain.id)


def test_credit_limit_rules_messages_and_audit(client: TestClient, db: Session) -> None:
    w = make_world(db)
    h = w.a.headers()
    r = client.put("/api/billing/credit-limit", json={"amount": "1000.00"}, headers=h)
    assert r.status_code == 409
    assert r.json()["message"] == (
        "Услуга «Предел кредита» доступна только для клиентов с кредитной системой расчёта."
    )
    domain = db.get(Domain, w.a.domain.id)
    assert domain is not None
    domain.payment_scheme = PaymentScheme.UNLIMITED
    db.commit()
    r = client.put("/api/billing/credit-limit", json={"amount": "999.99"}, headers=h)
    assert r.status_code == 409 and r.json()["details"][0]["field"] == "amount"
    assert "между 1 000 и 500 000 рублей" in r.json()["message"]
    r = client.put("/api/billing/credit-limit", json={"amount": "2000.00"}, headers=h)
    assert r.status_code == 200, r.text
    assert r.json()["payment_scheme"] == "credit" and r.json()["credit_limit"] == "2000.00"
    rows = db.scalars(select(AuditEntry).where(AuditEntry.domain_id == w.a.domain.id)).all()
    kinds = {a.object_type: a for a in rows}
    assert kinds["payment_scheme"].after == {"payment_scheme": "credit", "automatic": True}
    assert kinds["credit_limit"].after == {"credit_limit": "2000.00"}
    db.expire_all()
    domain = db.get(Domain, w.a.domain.id)
    assert domain is not None
    domain.block_state = BlockState.FINANCIAL
    db.commit()
    r = client.put("/api/billing/credit-limit", json={"amount": "3000.00"}, headers=h)
    assert r.status_code == 409 and "финансовой блокировки, нельзя" in r.json()["message"]


def test_reaching_the_credit_limit_suspends_paid_calls_until_a_top_up(
    client: TestClient, db: Session
) -> None:
    w = make_world(db)
    domain = db.get(Domain, w.a.domain.id)
    assert domain is not None
    domain.payment_scheme = PaymentScheme.CREDIT
    domain.notification_email = "boss@alpha.test"
    db.commit()
    assert (
        client.put(
            "/api/billing/credit-limit", json={"amount": "1000.00"}, headers=w.a.headers()
        ).status_code
        == 200
    )
    ask = {"domain_id": w.a.domain.id, "direction": "mobile", "number": "+79161234567"}
    assert client.post("/api/billing/authorize", json=ask, headers=SYSTEM).json()["allowed"]
    # A long mobile call takes the balance past the limit: 534 min × 1.90 ₽.
    r = client.post(
        "/api/billing/calls/rate",
        headers=SYSTEM,
        json={
            "domain_id": w.a.domain.id,
            "call_id": "c-long",
            "direction": "mobile",
            "number": "+79161234567",
            "answered_at": NOW.isoformat(),
            "duration_seconds": 32000,
        },
    )
    assert r.status_code == 200 and r.json()["amount"] == "1014.60"
    out = client.post("/api/billing/authorize", json=ask, headers=SYSTEM).json()
    assert out == {"allowed": False, "reason": "достигнут предел кредита"}
    tick = client.post("/api/billing/tick", headers=SYSTEM).json()
    assert tick["credit_warnings_sent"] in (0, 1)  # 1 when an SMTP sink listens
    db.expire_all()
    # The daily fee run finds the limit reached: the domain is blocked, the warning marked sent.
    assert db.get(Domain, w.a.domain.id).block_state == BlockState.FINANCIAL  # type: ignore[union-attr]
    assert db.get(BillingAccount, w.a.domain.id).credit_warned  # type: ignore[union-attr]
    top_up(client, w.a.domain.id, "2000.00")
    db.expire_all()
    assert db.get(Domain, w.a.domain.id).block_state == BlockState.NONE  # type: ignore[union-attr]
    assert client.post("/api/billing/authorize", json=ask, headers=SYSTEM).json()["allowed"]
    assert_ledger_consistent(db, w.a.domain.id)


def test_service_quote_equals_the_charge_and_disabling_needs_confirmation(
    client: TestClient, db: Session
) -> None:
    w = make_world(db)
    h = w.a.headers()
    r = client.put("/api/billing/services/recording", json={"quantity": 2}, headers=h)
    assert r.status_code == 402 and "Недостаточно средств" in r.json()["message"]
    top_up(client, w.a.domain.id, "1000.00")
    quote = client.get("/api/billing/services/recording/quote?quantity=2", headers=h).json()
    assert quote["monthly_delta"] == "140.00"
    before = db.scalar(select(func.count()).select_from(LedgerEntry))
    r = client.put(
        "/api/billing/services/recording",
        json={"quantity": 2, "settings": {"user_ids": [w.a.user.id]}},
        headers=h,
    )
    assert r.status_code == 200, r.text
    assert r.json()["quote"] == quote
    new = db.scalars(select(LedgerEntry).order_by(LedgerEntry.id).offset(before)).all()
    charged = -sum(e.amount_kopecks for e in new if e.code == "recording")
    assert charged == parse_rub(quote["today_charge"]) + parse_rub(quote["connection_fee"])
    listed = {s["code"]: s for s in client.get("/api/billing/services", headers=h).json()}
    assert listed["recording"]["enabled"] and listed["recording"]["monthly"] == "140.00"
    r = client.delete("/api/billing/services/recording", headers=h)
    assert r.status_code == 409 and "удалит все её настройки" in r.json()["message"]
    assert "140.00" in r.json()["message"]
    r = client.delete("/api/billing/services/recording?confirm=true", headers=h)
    assert r.status_code == 200
    assert db.scalar(select(ServiceSubscription)) is None  # its settings went with it
    off = db.scalars(select(LedgerEntry).where(LedgerEntry.kind == "disconnection")).one()
    assert (off.quantity, off.amount_kopecks) == (-2, 0)
    assert client.get("/api/billing/services/nope/quote", headers=h).status_code == 404
    assert client.get("/api/billing/services", headers=w.a.headers("user")).status_code == 403
    charges = client.get("/api/billing/charges?q=запись", headers=h).json()
    assert charges["total"] >= 2
    assert_ledger_consistent(db, w.a.domain.id)


def test_rating_is_idempotent_and_replays_charge_nothing(client: TestClient, db: Session) -> None:
    w = make_world(db)
    top_up(client, w.a.domain.id, "100.00")
    call = {
        "domain_id": w.a.domain.id,
        "call_id": "abc",
        "direction": "mobile",
        "number": "+79161234567",
        "answered_at": NOW.isoformat(),
        "duration_seconds": 65,
        "user_id": w.a.user.id,
    }
    first = client.post("/api/billing/calls/rate", json=call, headers=SYSTEM).json()
    again = client.post("/api/billing/calls/rate", json=call, headers=SYSTEM).json()
    assert first == {
        "call_id": "abc",
        "amount": "3.80",
        "billed_seconds": 120,
        "charged_now": "3.80",
        "replay": False,
    }
    assert again["replay"] and again["charged_now"] == "0.00"
    free = {**call, "call_id": "int", "direction": "internal", "number": "101"}
    assert client.post("/api/billing/calls/rate", json=free, headers=SYSTEM).json()["amount"] == (
        "0.00"
    )
    assert (
        db.scalar(select(func.count()).select_from(LedgerEntry).where(LedgerEntry.kind == "call"))
        == 1
    )
    dash = client.get("/api/billing/dashboard", headers=w.a.headers()).json()
    assert dash["top_users"][0]["login"] == "user" and dash["top_users"][0]["talk_seconds"] == 130
    assert dash["spend_by_kind"]["call"] == "3.80"
    assert (
        client.post("/api/billing/calls/rate", json=call, headers=w.a.headers()).status_code == 403
    )
    assert_ledger_consistent(db, w.a.domain.id)


def test_concurrent_cdr_events_charge_once(
    db: Session, session_factory: sessionmaker[Session]
) -> None:
    w = make_world(db)
    domain_id = w.a.domain.id
    errors: list[BaseException] = []

    def worker(call_id: str) -> None:
        session = session_factory()
        try:
            billing_calls.rate_call_once(
                session, domain_id, call_id, "mobile", "+79161234567", NOW, 60, now=NOW
            )
        except BaseException as exc:
            errors.append(exc)
        finally:
            session.close()

    threads = [threading.Thread(target=worker, args=(f"c{i % 3}",)) for i in range(9)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert db.scalar(select(func.count()).select_from(RatedCall)) == 3
    calls = db.scalars(select(LedgerEntry).where(LedgerEntry.kind == "call")).all()
    assert sorted(e.ref or "" for e in calls) == ["call:c0", "call:c1", "call:c2"]
    assert_ledger_consistent(db, domain_id)


def test_prepaid_call_in_progress_is_cut_when_money_runs_out(
    client: TestClient, db: Session, app: FastAPI
) -> None:
    w = make_world(db)
    top_up(client, w.a.domain.id, "60.00")  # 51.66 of it pays today's fees: 8.34 left
    start = {
        "domain_id": w.a.domain.id,
        "call_id": "live",
        "direction": "mobile",
        "number": "+79161234567",
        "answered_at": NOW.isoformat(),
    }
    assert client.post("/api/billing/calls/start", json=start, headers=SYSTEM).status_code == 204
    app.state.billing_clock = lambda: NOW + timedelta(minutes=2)
    assert client.post("/api/billing/tick", headers=SYSTEM).json()["calls_to_cut"] == []
    app.state.billing_clock = lambda: NOW + timedelta(minutes=4)
    assert client.post("/api/billing/tick", headers=SYSTEM).json()["calls_to_cut"] == ["live"]
    end = {**start, "duration_seconds": 250}
    r = client.post("/api/billing/calls/rate", json=end, headers=SYSTEM).json()
    assert r["amount"] == "9.50" and r["charged_now"] == "1.90"  # 5 min; 4 already debited
    assert_ledger_consistent(db, w.a.domain.id)


def test_daily_accrual_charges_each_day_once(client: TestClient, db: Session, app: FastAPI) -> None:
    w = make_world(db)
    top_up(client, w.a.domain.id, "5000.00")
    for day in range(1, 4):
        app.state.billing_clock = lambda d=day: NOW + timedelta(days=d)  # type: ignore[misc]
        client.post("/api/billing/tick", headers=SYSTEM)
        client.post("/api/billing/tick", headers=SYSTEM)
    subs = db.scalars(select(LedgerEntry).where(LedgerEntry.code == "vpbx")).all()
    assert len(subs) == 4  # 21 (on top-up), 22, 23, 24 November
    assert -sum(e.amount_kopecks for e in subs) == sum(
        day_share(130000, (NOW + timedelta(days=d)).date()) for d in range(4)
    )
    assert_ledger_consistent(db, w.a.domain.id)


def test_rerate_shows_the_difference_before_applying(client: TestClient, db: Session) -> None:
    from server_stub.store.models_billing import BillingRate

    w = make_world(db)
    top_up(client, w.a.domain.id, "100.00")
    call = {
        "domain_id": w.a.domain.id,
        "call_id": "r1",
        "direction": "mobile",
        "number": "+79161234567",
        "answered_at": NOW.isoformat(),
        "duration_seconds": 60,
    }
    client.post("/api/billing/calls/rate", json=call, headers=SYSTEM)
    db.add(
        BillingRate(
            tariff_code="default",
            prefix="7",
            direction=None,
            per_minute_kopecks=100,
            increment_seconds=60,
            minimum_seconds=0,
        )
    )
    db.commit()
    span = {
        "domain_id": w.a.domain.id,
        "start": (NOW - timedelta(days=1)).isoformat(),
        "end": (NOW + timedelta(days=1)).isoformat(),
    }
    preview = client.post("/api/billing/rerate", json=span, headers=SYSTEM).json()
    assert preview["difference"] == "-0.90" and not preview["applied"]
    wrong = client.post(
        "/api/billing/rerate?apply=true",
        headers=SYSTEM,
        json={**span, "expected_difference": "-1.00"},
    )
    assert wrong.status_code == 422
    done = client.post(
        "/api/billing/rerate?apply=true",
        headers=SYSTEM,
        json={**span, "expected_difference": "-0.90"},
    ).json()
    assert done["applied"]
    again = client.post("/api/billing/rerate", json=span, headers=SYSTEM).json()
    assert again["difference"] == "0.00"
    assert_ledger_consistent(db, w.a.domain.id)
