"""Billing operations on the database: fees, services, payments, promised payment, credit.

Each function takes the session and ``now`` (so scheduled work is testable without waiting),
locks the domain row first and leaves committing to the caller: a charge and its cause (the
enabled service, the rated call, the audit row) are committed together or not at all.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from server_stub.billing import account as rules
from server_stub.billing import credit, promised, texts
from server_stub.billing.account import Line, Scheme
from server_stub.billing.money import rest_of_month
from server_stub.billing.quote import ChangeQuote, quote_change
from server_stub.billing.tariff import Service
from server_stub.store import billing_ledger as L
from server_stub.store.models import BlockState, Domain, PaymentScheme
from server_stub.store.models_billing import (
    BillingAccount,
    Payment,
    PromisedPayment,
    ServiceSubscription,
)

# --- daily accrual -------------------------------------------------------------------------


def accrue(session: Session, domain: Domain, acc: BillingAccount, now: datetime) -> int:
    """Charge every day not yet charged up to today (the domain is locked); returns kopecks."""
    today = L.local_today(domain, now)
    first = acc.accrued_through + timedelta(days=1) if acc.accrued_through else today
    charged = 0
    day = first
    fee_lines = L.lines(session, domain, acc)
    while day <= today:
        charged += _charge_day(session, domain, acc, fee_lines, day, now)
        acc.accrued_through = day
        day += timedelta(days=1)
    return charged


def _charge_day(
    session: Session,
    domain: Domain,
    acc: BillingAccount,
    fee_lines: list[Line],
    day: Any,
    now: datetime,
) -> int:
    charges = rules.day_charges(fee_lines, day)
    total = sum(amount for _, amount in charges)
    outcome = rules.day_outcome(
        L.scheme(domain),
        domain.balance_kopecks,
        acc.credit_limit_kopecks,
        domain.block_state == BlockState.FINANCIAL,
        total,
    )
    if outcome in (rules.DayOutcome.BLOCK, rules.DayOutcome.SKIP):
        if domain.block_state == BlockState.NONE:
            domain.block_state = BlockState.FINANCIAL
        return 0
    for line, amount in charges:
        L.post(
            session,
            domain,
            amount=-amount,
            code=line.code,
            kind="subscription",
            ru=f"{line.name_ru} Абонентская плата",
            en=f"{line.name_en} subscription fee",
            at=now,
            quantity=line.quantity,
            ref=f"day:{day.isoformat()}:{line.code}",
        )
    if outcome == rules.DayOutcome.CHARGE_AND_BLOCK:
        domain.block_state = BlockState.FINANCIAL
    return total


def today_total(session: Session, domain: Domain, acc: BillingAccount, now: datetime) -> int:
    day = L.local_today(domain, now)
    return sum(a for _, a in rules.day_charges(L.lines(session, domain, acc), day))


def monthly_total(session: Session, domain: Domain, acc: BillingAccount) -> int:
    return sum(line.monthly for line in L.lines(session, domain, acc))


def try_unblock(session: Session, domain: Domain, acc: BillingAccount, now: datetime) -> bool:
    """After money arrived: lift a financial block if today's fees can be paid, and pay them."""
    if domain.block_state != BlockState.FINANCIAL:
        return False
    total = today_total(session, domain, acc, now)
    if not rules.may_unblock(
        L.scheme(domain), domain.balance_kopecks, acc.credit_limit_kopecks, total
    ):
        return False
    domain.block_state = BlockState.NONE
    # The blocked day was skipped by the accrual: charge it now that service resumes.
    day = L.local_today(domain, now)
    _charge_day(session, domain, acc, L.lines(session, domain, acc), day, now)
    acc.accrued_through = day
    return True


# --- changes of a recurring fee (users, operators, services) --------------------------------


def _apply_change(
    session: Session,
    domain: Domain,
    acc: BillingAccount,
    line: Line,
    new_quantity: int,
    unit_connection: int,
    now: datetime,
    *,
    strict: bool,
) -> ChangeQuote:
    quote = _quote_line(domain, line, new_quantity, unit_connection, now)
    if (
        strict
        and quote.due_now
        and not rules.can_spend(
            L.scheme(domain), domain.balance_kopecks, acc.credit_limit_kopecks, quote.due_now
        )
    ):
        raise L.Refusal("not_enough_money", texts.NOT_ENOUGH_FOR_SERVICE, status=402)
    delta = new_quantity - line.quantity
    if quote.connection_fee:
        L.post(
            session,
            domain,
            amount=-quote.connection_fee,
            code=line.code,
            kind="connection",
            ru=f"{line.name_ru} Подключение",
            en=f"{line.name_en} connection",
            at=now,
            quantity=delta,
        )
    if quote.today_charge:
        L.post(
            session,
            domain,
            amount=-quote.today_charge,
            code=line.code,
            kind="subscription",
            ru=f"{line.name_ru} Абонентская плата",
            en=f"{line.name_en} subscription fee",
            at=now,
            quantity=new_quantity,
        )
    if delta < 0:
        L.post(
            session,
            domain,
            amount=0,
            code=line.code,
            kind="disconnection",
            ru=f"{line.name_ru} Отключение",
            en=f"{line.name_en} disconnection",
            at=now,
            quantity=delta,
        )
    return quote


def _quote_line(
    domain: Domain, line: Line, new_quantity: int, unit_connection: int, now: datetime
) -> ChangeQuote:
    added = max(0, new_quantity - line.quantity)
    new_monthly = line.unit_monthly * new_quantity
    return quote_change(
        line.monthly, new_monthly, unit_connection * added, L.local_today(domain, now)
    )


def quote_users(session: Session, domain_id: int, added: int, now: datetime) -> ChangeQuote:
    domain = session.get(Domain, domain_id)
    assert domain is not None
    users = L.count_users(session, domain_id)
    line = L.extra_users_line(domain, users)
    new = L.extra_users_line(domain, users + added)
    # Connection is per user (included ones too, as the import quote shows).
    q = _quote_line(domain, line, new.quantity, 0, now)
    return ChangeQuote(q.monthly_delta, domain.user_connection_kopecks * added, q.today_charge)


def users_changed(session: Session, domain_id: int, now: datetime) -> ChangeQuote:
    """Charge what the users added (or removed) since the last call cost; call it in the same
    transaction that creates or deletes users, after the flush."""
    domain = L.lock_domain(session, domain_id)
    acc = L.account(session, domain)
    accrue(session, domain, acc, now)
    users = L.count_users(session, domain_id)
    added = users - acc.billed_users
    old_line = L.extra_users_line(domain, acc.billed_users)
    new_line = L.extra_users_line(domain, users)
    line = Line(
        old_line.code, old_line.name_ru, old_line.name_en, old_line.quantity, old_line.unit_monthly
    )
    quote = _apply_change(session, domain, acc, line, new_line.quantity, 0, now, strict=False)
    if added > 0 and domain.user_connection_kopecks:
        L.post(
            session,
            domain,
            amount=-domain.user_connection_kopecks * added,
            code="extra_user",
            kind="connection",
            ru="Пользователь Подключение",
            en="User connection",
            at=now,
            quantity=added,
        )
    acc.billed_users = users
    return ChangeQuote(
        quote.monthly_delta, domain.user_connection_kopecks * max(0, added), quote.today_charge
    )


def quote_operators(session: Session, domain_id: int, added: int, now: datetime) -> ChangeQuote:
    domain = session.get(Domain, domain_id)
    assert domain is not None
    tariff = L.tariff_of(session.get(BillingAccount, domain_id) or BillingAccount())
    operators = L.count_operators(session, domain_id)
    line = L.operators_line(tariff, operators)
    return _quote_line(domain, line, max(0, operators + added), tariff.operator_connection, now)


def operators_changed(session: Session, domain_id: int, now: datetime) -> ChangeQuote:
    """Charge making users operators (or stop billing those who no longer are)."""
    domain = L.lock_domain(session, domain_id)
    acc = L.account(session, domain)
    accrue(session, domain, acc, now)
    tariff = L.tariff_of(acc)
    operators = L.count_operators(session, domain_id)
    line = L.operators_line(tariff, acc.billed_operators)
    quote = _apply_change(
        session, domain, acc, line, operators, tariff.operator_connection, now, strict=False
    )
    acc.billed_operators = operators
    return quote


# --- services ------------------------------------------------------------------------------


def _service(acc: BillingAccount, code: str) -> Service:
    service = L.tariff_of(acc).service(code)
    if service is None or not service.manual:
        raise LookupError(code)
    return service


def _subscription(session: Session, domain_id: int, code: str) -> ServiceSubscription | None:
    return session.scalar(
        select(ServiceSubscription).where(
            ServiceSubscription.domain_id == domain_id, ServiceSubscription.code == code
        )
    )


def _line(service: Service, quantity: int) -> Line:
    return Line(service.code, service.name_ru, service.name_en, quantity, service.monthly)


def quote_service(
    session: Session, domain_id: int, code: str, quantity: int, now: datetime
) -> ChangeQuote:
    domain = session.get(Domain, domain_id)
    assert domain is not None
    acc = session.get(BillingAccount, domain_id) or BillingAccount(tariff_code="default")
    service = _service(acc, code)
    sub = _subscription(session, domain_id, code)
    line = _line(service, sub.quantity if sub else 0)
    return _quote_line(domain, line, quantity, service.connection, now)


def set_service(
    session: Session,
    domain_id: int,
    code: str,
    quantity: int,
    now: datetime,
    settings: dict[str, Any] | None = None,
) -> tuple[ChangeQuote, ServiceSubscription]:
    """Connect a service or change its count; needs the money for what is charged now."""
    domain = L.lock_domain(session, domain_id)
    acc = L.account(session, domain)
    service = _service(acc, code)
    if not 1 <= quantity <= service.max_quantity:
        raise ValueError("quantity")
    accrue(session, domain, acc, now)
    sub = _subscription(session, domain_id, code)
    line = _line(service, sub.quantity if sub else 0)
    quote = _apply_change(
        session, domain, acc, line, quantity, service.connection, now, strict=True
    )
    if sub is None:
        sub = ServiceSubscription(
            domain_id=domain_id,
            code=code,
            quantity=quantity,
            settings=settings or {},
            enabled_at=now,
        )
        session.add(sub)
    else:
        sub.quantity = quantity
        if settings is not None:
            sub.settings = settings
    session.flush()
    return quote, sub


def disable_service(session: Session, domain_id: int, code: str, now: datetime) -> ChangeQuote:
    """Disconnect: the service row and its settings are deleted; nothing is refunded today."""
    domain = L.lock_domain(session, domain_id)
    acc = L.account(session, domain)
    service = _service(acc, code)
    sub = _subscription(session, domain_id, code)
    if sub is None:
        raise LookupError(code)
    accrue(session, domain, acc, now)
    quote = _apply_change(
        session, domain, acc, _line(service, sub.quantity), 0, 0, now, strict=False
    )
    session.delete(sub)
    session.flush()
    return quote


# --- payments ------------------------------------------------------------------------------


@dataclass(frozen=True)
class TopUp:
    payment: Payment
    duplicate: bool
    unblocked: bool


def top_up(
    session: Session,
    domain_id: int,
    amount: int,
    now: datetime,
    *,
    source: str = "bank",
    description: str = "",
    external_ref: str | None = None,
) -> TopUp:
    """Money received from any provider; a repeated ``external_ref`` is not credited twice."""
    if amount <= 0:
        raise ValueError("amount")
    domain = L.lock_domain(session, domain_id)
    acc = L.account(session, domain)
    if external_ref:
        seen = session.scalar(
            select(Payment).where(
                Payment.domain_id == domain_id, Payment.external_ref == external_ref
            )
        )
        if seen is not None:
            return TopUp(seen, True, False)
    names = {
        "bank": ("Банк", "Bank"),
        "card": ("Банковская карта", "Card"),
        "correction": ("Корректировка", "Correction"),
    }
    ru, en = names.get(source, (source, source))
    text = description or f"Пополнение счёта {ru}"
    payment = Payment(
        domain_id=domain_id,
        at=now,
        source=source,
        description=text[:200],
        amount_kopecks=amount,
        external_ref=external_ref,
    )
    session.add(payment)
    L.post(
        session,
        domain,
        amount=amount,
        code="payment",
        kind="payment",
        ru=text[:200],
        en=f"Top-up ({en})",
        at=now,
        ref=f"payment:{external_ref}" if external_ref else None,
    )
    accrue(session, domain, acc, now)
    unblocked = try_unblock(session, domain, acc, now)
    if acc.credit_limit_kopecks and not rules.credit_warning_due(
        domain.balance_kopecks, acc.credit_limit_kopecks
    ):
        acc.credit_warned = False
    session.flush()
    return TopUp(payment, False, unblocked)


def _topped_up_since(session: Session, domain_id: int, since: datetime) -> int:
    return int(
        session.scalar(
            select(func.coalesce(func.sum(Payment.amount_kopecks), 0)).where(
                Payment.domain_id == domain_id,
                Payment.source != "promised",
                Payment.at >= since,
            )
        )
        or 0
    )


def last_promised(session: Session, domain_id: int) -> PromisedPayment | None:
    return session.scalar(
        select(PromisedPayment)
        .where(PromisedPayment.domain_id == domain_id)
        .order_by(PromisedPayment.created_at.desc(), PromisedPayment.id.desc())
        .limit(1)
    )


def promised_state(session: Session, domain_id: int) -> tuple[PromisedPayment, bool] | None:
    """The latest promised payment and whether it is closed (repaid by top-ups)."""
    last = last_promised(session, domain_id)
    if last is None:
        return None
    paid = _topped_up_since(session, domain_id, last.created_at)
    return last, paid >= last.amount_kopecks


def take_promised(session: Session, domain_id: int, amount: int, now: datetime) -> PromisedPayment:
    from zoneinfo import ZoneInfo

    domain = L.lock_domain(session, domain_id)
    acc = L.account(session, domain)
    accrue(session, domain, acc, now)
    last = last_promised(session, domain_id)
    previous = None
    if last is not None:
        previous = promised.Previous(
            last.created_at,
            last.amount_kopecks,
            _topped_up_since(session, domain_id, last.created_at),
        )
    blocked = domain.block_state == BlockState.FINANCIAL
    rest = rest_of_month(monthly_total(session, domain, acc), L.local_today(domain, now))
    refusal = promised.refusal(
        scheme=L.scheme(domain),
        amount=amount,
        previous=previous,
        blocked=blocked,
        balance=domain.balance_kopecks,
        rest_of_month_fee=rest,
        tz=ZoneInfo(domain.timezone),
    )
    if refusal is not None:
        field = (
            "amount"
            if refusal in (texts.PROMISED_RANGE, texts.PROMISED_TOO_SMALL_WHILE_BLOCKED)
            else None
        )
        raise L.Refusal("promised_payment_refused", refusal, field)
    pp = PromisedPayment(
        domain_id=domain_id,
        amount_kopecks=amount,
        created_at=now,
        expires_at=promised.expires_at(now),
        debited=False,
    )
    session.add(pp)
    text = "Обещанный платеж Банк Обещанный платеж"
    session.add(
        Payment(
            domain_id=domain_id, at=now, source="promised", description=text, amount_kopecks=amount
        )
    )
    L.post(
        session,
        domain,
        amount=amount,
        code="promised_payment",
        kind="payment",
        ru=text,
        en="Promised payment",
        at=now,
    )
    try_unblock(session, domain, acc, now)
    session.flush()
    return pp


def expire_promised(session: Session, now: datetime) -> int:
    """Debit every promised payment whose term ended, whatever the balance; re-block if needed."""
    due = session.scalars(
        select(PromisedPayment).where(
            PromisedPayment.debited.is_(False), PromisedPayment.expires_at <= now
        )
    ).all()
    for pp in due:
        domain = L.lock_domain(session, pp.domain_id)
        acc = L.account(session, domain)
        pp.debited = True
        L.post(
            session,
            domain,
            amount=-pp.amount_kopecks,
            code="promised_payment",
            kind="promised_debit",
            ru="Обещанный платеж Списание",
            en="Promised payment repaid",
            at=now,
            ref=f"promised:{pp.id}",
        )
        total = today_total(session, domain, acc, now)
        if L.scheme(domain) == Scheme.ADVANCE and domain.balance_kopecks < total:
            domain.block_state = BlockState.FINANCIAL
    session.flush()
    return len(due)


# --- credit limit --------------------------------------------------------------------------


def set_credit_limit(
    session: Session, domain_id: int, amount: int
) -> tuple[dict[str, Any], dict[str, Any]]:
    """Set the limit; an unlimited domain moves to the credit scheme. Returns (before, after)."""
    domain = L.lock_domain(session, domain_id)
    acc = L.account(session, domain)
    decision = credit.set_limit(
        L.scheme(domain), domain.block_state == BlockState.FINANCIAL, amount
    )
    if decision.refusal is not None:
        field = "amount" if decision.refusal == texts.CREDIT_RANGE else None
        raise L.Refusal("credit_limit_refused", decision.refusal, field)
    before = {
        "payment_scheme": domain.payment_scheme.value,
        "credit_limit_kopecks": acc.credit_limit_kopecks,
    }
    domain.payment_scheme = PaymentScheme(decision.scheme_after.value)
    acc.credit_limit_kopecks = amount
    acc.credit_warned = False
    after = {"payment_scheme": domain.payment_scheme.value, "credit_limit_kopecks": amount}
    session.flush()
    return before, after


def credit_warnings(session: Session) -> list[tuple[Domain, int]]:
    """Domains whose balance approaches the limit and were not warned yet (marks them warned).

    The caller sends the e-mails after committing (an e-mail cannot be rolled back)."""
    rows = session.execute(
        select(Domain, BillingAccount)
        .join(BillingAccount, BillingAccount.domain_id == Domain.id)
        .where(
            Domain.payment_scheme == PaymentScheme.CREDIT,
            BillingAccount.credit_limit_kopecks.is_not(None),
            BillingAccount.credit_warned.is_(False),
        )
    ).all()
    out = []
    for domain, acc in rows:
        limit = acc.credit_limit_kopecks
        assert limit is not None
        if rules.credit_warning_due(domain.balance_kopecks, limit):
            acc.credit_warned = True
            out.append((domain, limit))
    return out
