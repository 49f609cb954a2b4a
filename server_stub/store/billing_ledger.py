"""Ledger persistence: the domain row lock, posting entries, the account and its fee lines.

Every balance change goes through ``post`` while the domain row is locked (``lock_domain``),
so ``Domain.balance_kopecks`` and the ledger's running balance move together in one
transaction, and concurrent charges of one domain serialise (PostgreSQL: ``SELECT … FOR
UPDATE``; SQLite: a no-op UPDATE takes the database write lock before anything is read).
"""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from server_stub.billing.account import Line, Scheme
from server_stub.billing.rating import RateTable
from server_stub.billing.tariff import DEFAULT_TARIFF, Rate, Tariff
from server_stub.store.models import Domain, User
from server_stub.store.models_billing import (
    BillingAccount,
    BillingRate,
    LedgerEntry,
    ServiceSubscription,
)

TARIFFS: dict[str, Tariff] = {DEFAULT_TARIFF.code: DEFAULT_TARIFF}


class Refusal(Exception):
    """A billing rule said no; ``msg`` is (ru, en), ``field`` the form field it belongs to."""

    def __init__(
        self, code: str, msg: tuple[str, str], field: str | None = None, status: int = 409
    ):
        super().__init__(msg[1])
        self.code = code
        self.msg = msg
        self.field = field
        self.status = status


def lock_domain(session: Session, domain_id: int) -> Domain:
    # Re-reading the row below must not discard this transaction's unflushed changes.
    session.flush()
    if session.get_bind().dialect.name == "sqlite":
        session.execute(
            update(Domain)
            .where(Domain.id == domain_id)
            .values(balance_kopecks=Domain.balance_kopecks)
        )
    domain = session.execute(
        select(Domain)
        .where(Domain.id == domain_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).scalar_one_or_none()
    if domain is None:
        raise LookupError(f"no domain {domain_id}")
    return domain


def local_today(domain: Domain, now: datetime) -> date:
    return now.astimezone(ZoneInfo(domain.timezone)).date()


def account(session: Session, domain: Domain) -> BillingAccount:
    """The domain's billing state, created on first use (call with the domain locked)."""
    acc = session.get(BillingAccount, domain.id)
    if acc is not None:
        return acc
    acc = BillingAccount(
        domain_id=domain.id,
        billed_users=count_users(session, domain.id),
        billed_operators=count_operators(session, domain.id),
        storage_auto_buy=False,
        storage_used_bytes=0,
        sms_available=0,
        credit_warned=False,
    )
    session.add(acc)
    has_entries = session.execute(
        select(LedgerEntry.id).where(LedgerEntry.domain_id == domain.id).limit(1)
    ).first()
    if domain.balance_kopecks and has_entries is None:
        # A balance set before billing existed becomes the ledger's opening entry.
        session.add(
            LedgerEntry(
                domain_id=domain.id,
                code="opening",
                kind="correction",
                operation_ru="Начальный остаток",
                operation_en="Opening balance",
                quantity=1,
                amount_kopecks=domain.balance_kopecks,
                balance_after_kopecks=domain.balance_kopecks,
            )
        )
    session.flush()
    return acc


def post(
    session: Session,
    domain: Domain,
    *,
    amount: int,
    code: str,
    kind: str,
    ru: str,
    en: str,
    at: datetime,
    quantity: int = 1,
    ref: str | None = None,
) -> LedgerEntry:
    """Append one entry and move the balance with it (the domain must be locked)."""
    if not isinstance(amount, int) or isinstance(amount, bool):
        raise TypeError("amount must be int kopecks")
    domain.balance_kopecks = domain.balance_kopecks + amount
    entry = LedgerEntry(
        domain_id=domain.id,
        at=at,
        code=code,
        kind=kind,
        operation_ru=ru,
        operation_en=en,
        quantity=quantity,
        amount_kopecks=amount,
        balance_after_kopecks=domain.balance_kopecks,
        ref=ref,
    )
    session.add(entry)
    return entry


def scheme(domain: Domain) -> Scheme:
    return Scheme(domain.payment_scheme.value)


def tariff_of(acc: BillingAccount) -> Tariff:
    return TARIFFS.get(acc.tariff_code, DEFAULT_TARIFF)


def rate_table(session: Session, tariff: Tariff) -> RateTable:
    rows = session.scalars(select(BillingRate).where(BillingRate.tariff_code == tariff.code)).all()
    if not rows:
        return RateTable(tariff.rates)
    return RateTable(
        Rate(r.prefix, r.per_minute_kopecks, r.increment_seconds, r.minimum_seconds, r.direction)
        for r in rows
    )


def count_users(session: Session, domain_id: int) -> int:
    return int(
        session.scalar(select(func.count()).select_from(User).where(User.domain_id == domain_id))
        or 0
    )


def count_operators(session: Session, domain_id: int) -> int:
    return int(
        session.scalar(
            select(func.count())
            .select_from(User)
            .where(User.domain_id == domain_id, User.is_operator.is_(True))
        )
        or 0
    )


def extra_users_line(domain: Domain, users: int) -> Line:
    return Line(
        "extra_user",
        "Дополнительный пользователь",
        "Additional user",
        max(0, users - domain.users_included),
        domain.extra_user_monthly_kopecks,
    )


def operators_line(tariff: Tariff, operators: int) -> Line:
    return Line(
        "operator",
        "Оператор контакт-центра",
        "Contact-centre operator",
        operators,
        tariff.operator_monthly,
    )


def lines(session: Session, domain: Domain, acc: BillingAccount) -> list[Line]:
    """Every recurring fee of the domain as the bill currently counts it."""
    tariff = tariff_of(acc)
    out = [
        Line(
            "vpbx",
            "Ежемесячная абонентская плата «Виртуальная АТС»",
            "Virtual PBX subscription",
            1,
            tariff.base_monthly,
        ),
        extra_users_line(domain, acc.billed_users),
        operators_line(tariff, acc.billed_operators),
    ]
    subs = session.scalars(
        select(ServiceSubscription)
        .where(ServiceSubscription.domain_id == domain.id)
        .order_by(ServiceSubscription.code)
    ).all()
    for sub in subs:
        service = tariff.service(sub.code)
        if service is not None:
            out.append(
                Line(sub.code, service.name_ru, service.name_en, sub.quantity, service.monthly)
            )
    return out
