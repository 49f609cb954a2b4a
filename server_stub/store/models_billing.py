"""Billing tables: the ledger, payments, promised payments, services, rated calls, rates.

Money is integer kopecks (BigInteger). ``billing_ledger`` is append-only: every charge and
credit is one row carrying the running balance, and ``Domain.balance_kopecks`` always equals the
last row's ``balance_after_kopecks`` (both are written in one transaction under the domain's
row lock, see ``server_stub.store.billing_ledger``).
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    UniqueConstraint,
    event,
)
from sqlalchemy.orm import Mapped, mapped_column

from server_stub.store.models import Base, utcnow

_DOMAIN_FK = "domains.id"


class BillingAccount(Base):
    """Domain-level billing state that has no column on ``domains``."""

    __tablename__ = "billing_accounts"
    domain_id: Mapped[int] = mapped_column(
        ForeignKey(_DOMAIN_FK, ondelete="CASCADE"), primary_key=True
    )
    tariff_code: Mapped[str] = mapped_column(String(40), default="default")
    credit_limit_kopecks: Mapped[int | None] = mapped_column(BigInteger)
    credit_warned: Mapped[bool] = mapped_column(Boolean, default=False)
    # Monthly fees are charged per day at the start of the day; the last day charged.
    accrued_through: Mapped[date | None] = mapped_column(Date)
    # The user / operator counts the bill last charged for (differences are charged on change).
    billed_users: Mapped[int] = mapped_column(Integer, default=0)
    billed_operators: Mapped[int] = mapped_column(Integer, default=0)
    daily_cap_kopecks: Mapped[int | None] = mapped_column(BigInteger)
    concurrent_cap: Mapped[int | None] = mapped_column(Integer)
    storage_auto_buy: Mapped[bool] = mapped_column(Boolean, default=False)
    storage_used_bytes: Mapped[int] = mapped_column(BigInteger, default=0)
    sms_available: Mapped[int] = mapped_column(Integer, default=0)


class LedgerEntry(Base):
    __tablename__ = "billing_ledger"
    __table_args__ = (Index("ix_billing_ledger_domain_at", "domain_id", "at"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    domain_id: Mapped[int] = mapped_column(ForeignKey(_DOMAIN_FK, ondelete="CASCADE"))
    at: Mapped[datetime] = mapped_column(default=utcnow)
    code: Mapped[str] = mapped_column(String(40))  # service / fee code, "call", "payment"…
    kind: Mapped[str] = mapped_column(String(24))  # subscription, connection, call, payment…
    operation_ru: Mapped[str] = mapped_column(String(200))
    operation_en: Mapped[str] = mapped_column(String(200))
    quantity: Mapped[int] = mapped_column(Integer, default=1)
    amount_kopecks: Mapped[int] = mapped_column(BigInteger)  # debits negative
    balance_after_kopecks: Mapped[int] = mapped_column(BigInteger)
    ref: Mapped[str | None] = mapped_column(String(160))


@event.listens_for(LedgerEntry, "before_update")
def _ledger_is_immutable(*_: Any) -> None:
    raise RuntimeError("ledger entries are immutable; post a correction instead")


@event.listens_for(LedgerEntry, "before_delete")
def _ledger_is_append_only(*_: Any) -> None:
    raise RuntimeError("ledger entries are immutable; post a correction instead")


class Payment(Base):
    """Money received: bank, card, correction or promised payment (payment history)."""

    __tablename__ = "billing_payments"
    __table_args__ = (
        UniqueConstraint("domain_id", "external_ref"),
        Index("ix_billing_payments_domain_at", "domain_id", "at"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    domain_id: Mapped[int] = mapped_column(ForeignKey(_DOMAIN_FK, ondelete="CASCADE"))
    at: Mapped[datetime] = mapped_column(default=utcnow)
    source: Mapped[str] = mapped_column(String(24))  # bank | card | correction | promised
    description: Mapped[str] = mapped_column(String(200))
    amount_kopecks: Mapped[int] = mapped_column(BigInteger)
    external_ref: Mapped[str | None] = mapped_column(String(120))  # provider's id: idempotency


class PromisedPayment(Base):
    __tablename__ = "billing_promised_payments"
    id: Mapped[int] = mapped_column(primary_key=True)
    domain_id: Mapped[int] = mapped_column(ForeignKey(_DOMAIN_FK, ondelete="CASCADE"), index=True)
    amount_kopecks: Mapped[int] = mapped_column(BigInteger)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime] = mapped_column()
    debited: Mapped[bool] = mapped_column(Boolean, default=False)


class ServiceSubscription(Base):
    """A connected service: its count and its settings (deleted with it on disconnection)."""

    __tablename__ = "billing_services"
    __table_args__ = (UniqueConstraint("domain_id", "code"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    domain_id: Mapped[int] = mapped_column(ForeignKey(_DOMAIN_FK, ondelete="CASCADE"))
    code: Mapped[str] = mapped_column(String(40))
    quantity: Mapped[int] = mapped_column(Integer, default=1)
    settings: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    enabled_at: Mapped[datetime] = mapped_column(default=utcnow)


class RatedCall(Base):
    """A call already charged: the primary key makes rating idempotent by call id."""

    __tablename__ = "billing_rated_calls"
    __table_args__ = (Index("ix_billing_rated_calls_domain_answered", "domain_id", "answered_at"),)
    call_id: Mapped[str] = mapped_column(String(128), primary_key=True)
    domain_id: Mapped[int] = mapped_column(ForeignKey(_DOMAIN_FK, ondelete="CASCADE"))
    user_id: Mapped[int | None] = mapped_column(Integer)
    direction: Mapped[str] = mapped_column(String(24))
    number: Mapped[str] = mapped_column(String(32))
    answered_at: Mapped[datetime] = mapped_column()
    duration_seconds: Mapped[int] = mapped_column(Integer)
    billed_seconds: Mapped[int] = mapped_column(Integer)
    amount_kopecks: Mapped[int] = mapped_column(BigInteger)
    rated_at: Mapped[datetime] = mapped_column(default=utcnow)


class ActiveCall(Base):
    """A paid call in progress, debited periodically so a prepaid one stops when money ends."""

    __tablename__ = "billing_active_calls"
    call_id: Mapped[str] = mapped_column(String(128), primary_key=True)
    domain_id: Mapped[int] = mapped_column(ForeignKey(_DOMAIN_FK, ondelete="CASCADE"), index=True)
    direction: Mapped[str] = mapped_column(String(24))
    number: Mapped[str] = mapped_column(String(32))
    answered_at: Mapped[datetime] = mapped_column()
    debited_kopecks: Mapped[int] = mapped_column(BigInteger, default=0)


class BillingRate(Base):
    """A call rate of a tariff; a tariff with no rows uses the built-in table."""

    __tablename__ = "billing_rates"
    __table_args__ = (UniqueConstraint("tariff_code", "direction", "prefix"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    tariff_code: Mapped[str] = mapped_column(String(40))
    prefix: Mapped[str] = mapped_column(String(16))
    direction: Mapped[str | None] = mapped_column(String(24))
    per_minute_kopecks: Mapped[int] = mapped_column(BigInteger)
    increment_seconds: Mapped[int] = mapped_column(Integer, default=60)
    minimum_seconds: Mapped[int] = mapped_column(Integer, default=0)
