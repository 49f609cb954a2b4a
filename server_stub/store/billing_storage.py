"""Recording storage packages, SMS packages, and the credit-limit warning e-mail."""

from __future__ import annotations

import logging
import smtplib
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from server_stub.billing import account as rules
from server_stub.billing import texts
from server_stub.billing.money import fmt_rub
from server_stub.billing.packages import sms_parts, storage_plan
from server_stub.billing.tariff import STORAGE_PACKAGE
from server_stub.settings import Settings
from server_stub.store import billing_ledger as L
from server_stub.store import billing_ops

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class StorageOutcome:
    packages_bought: int
    bytes_to_free: int  # the caller deletes this many bytes of the oldest recordings


def recording_stored(session: Session, domain_id: int, size: int, now: datetime) -> StorageOutcome:
    """Account a new recording: buy packages (auto) or say how much old audio must go.

    The recordings owner deletes the oldest files for ``bytes_to_free`` and then calls
    ``recording_deleted`` for each.
    """
    domain = L.lock_domain(session, domain_id)
    acc = L.account(session, domain)
    tariff = L.tariff_of(acc)
    sub = billing_ops._subscription(session, domain_id, STORAGE_PACKAGE)
    packages = sub.quantity if sub else 0
    plan = storage_plan(
        acc.storage_used_bytes,
        size,
        packages,
        acc.storage_auto_buy,
        tariff.storage_free_gb,
        tariff.storage_package_gb,
        tariff.storage_max_gb,
    )
    bought = 0
    if plan.buy_packages:
        try:
            billing_ops.set_service(
                session, domain_id, STORAGE_PACKAGE, packages + plan.buy_packages, now
            )
            bought = plan.buy_packages
        except L.Refusal:
            # No money for a package: keep recording by purging instead.
            plan = storage_plan(
                acc.storage_used_bytes,
                size,
                packages,
                False,
                tariff.storage_free_gb,
                tariff.storage_package_gb,
                tariff.storage_max_gb,
            )
    acc.storage_used_bytes += size
    session.flush()
    return StorageOutcome(bought, plan.free_bytes)


def recording_deleted(session: Session, domain_id: int, size: int) -> None:
    domain = L.lock_domain(session, domain_id)
    acc = L.account(session, domain)
    acc.storage_used_bytes = max(0, acc.storage_used_bytes - size)
    session.flush()


def buy_sms(session: Session, domain_id: int, size: int, now: datetime) -> int:
    """A one-time SMS package (decision: packages do not expire); returns SMS available."""
    domain = L.lock_domain(session, domain_id)
    acc = L.account(session, domain)
    price = L.tariff_of(acc).sms_packages.get(size)
    if price is None:
        raise ValueError(size)
    if not rules.can_spend(
        L.scheme(domain), domain.balance_kopecks, acc.credit_limit_kopecks, price
    ):
        raise L.Refusal("not_enough_money", texts.NOT_ENOUGH_FOR_SERVICE, status=402)
    L.post(
        session,
        domain,
        amount=-price,
        code="sms_package",
        kind="connection",
        ru=f"Пакет SMS {size} Подключение",
        en=f"SMS package {size}",
        at=now,
        quantity=size,
    )
    acc.sms_available += size
    session.flush()
    return acc.sms_available


def consume_sms(session: Session, domain_id: int, text: str) -> int:
    """Take one SMS per message part from the shared pool; refuses when it is used up."""
    domain = L.lock_domain(session, domain_id)
    acc = L.account(session, domain)
    parts = sms_parts(text)
    if acc.sms_available < parts:
        raise L.Refusal("sms_used_up", texts.SMS_EMPTY)
    acc.sms_available -= parts
    session.flush()
    return parts


def send_credit_warnings(settings: Settings, warnings: list[tuple[int, str, int]]) -> int:
    """E-mail «the balance approaches the credit limit» to each domain's notification address."""
    sent = 0
    from server_stub.api import mailer  # the mailer lives with the API; imported lazily

    for _domain_id, email, limit in warnings:
        if not email:
            continue
        body = (
            f"Баланс лицевого счёта приближается к пределу кредита (−{fmt_rub(limit)} ₽). "
            "При достижении предела работа услуги будет приостановлена до пополнения баланса.\n\n"
            f"The balance is approaching the credit limit (−{fmt_rub(limit)} RUB). When it is "
            "reached, paid calls are suspended until the account is topped up."
        )
        try:
            mailer.send(settings, email, "Приближение к пределу кредита / Credit limit", body)
            sent += 1
        except (OSError, smtplib.SMTPException):
            log.warning("credit-limit warning to %s not sent", email)
    return sent
