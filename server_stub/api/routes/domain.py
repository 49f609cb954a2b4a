"""The caller's domain: its card (every user) and its general settings (the admin).

«Администрирование и настройка ВАТС → Общие настройки» (spec 03 §8.1): the company and domain
names are read-only here (the pool supervisor renames a domain); the admin edits the time zone,
the notification e-mail, the default outgoing number, the default outgoing restriction and the
pickup code. The low-balance threshold of the manual has no column yet (see the report).
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Annotated, Any
from zoneinfo import available_timezones

from fastapi import APIRouter, Body, Request
from pydantic import BaseModel, Field
from sqlalchemy import select

from server_stub.api import audit
from server_stub.api.crud import publish
from server_stub.api.deps import DomainAdmin, DomainUser, SessionDep
from server_stub.api.email_field import EmailOrEmpty
from server_stub.api.errors import field_error, not_found
from server_stub.billing.money import fmt_rub
from server_stub.store.models import (
    BlockState,
    Domain,
    DomainMode,
    Number,
    NumberKind,
    OutgoingRestriction,
    PaymentScheme,
)

router = APIRouter(tags=["domain"])

PICKUP_CODE = re.compile(r"^[*#]\d{1,3}$")


class DomainRead(BaseModel):
    id: int
    name: str
    display_name: str
    company_name: str
    timezone: str
    notification_email: str
    default_outgoing_number_id: int | None
    default_restriction: OutgoingRestriction
    pickup_code: str
    block_state: BlockState
    mode: DomainMode
    payment_scheme: PaymentScheme
    routing_number: str | None
    account_number: str
    balance: str = Field(description="Roubles with two decimals, e.g. '1250.50' or '-3.20'.")


class DomainSettingsUpdate(BaseModel):
    timezone: str | None = Field(default=None, max_length=64)
    notification_email: EmailOrEmpty | None = Field(
        default=None, description="An empty string clears it."
    )
    default_outgoing_number_id: int | None = Field(
        default=None, description="null sets «Не указан»."
    )
    default_restriction: OutgoingRestriction | None = None
    pickup_code: str | None = Field(default=None, max_length=8)


@lru_cache(maxsize=1)
def _zones() -> frozenset[str]:
    return frozenset(available_timezones())


def _read(domain: Domain) -> DomainRead:
    data = {k: getattr(domain, k) for k in DomainRead.model_fields if k != "balance"}
    return DomainRead(**data, balance=fmt_rub(domain.balance_kopecks))


def _domain(session: SessionDep, domain_id: int | None) -> Domain:
    domain = session.get(Domain, domain_id) if domain_id is not None else None
    if domain is None:
        raise not_found("domain")
    return domain


@router.get("/domain", response_model=DomainRead, operation_id="get_domain")
def get_domain(session: SessionDep, principal: DomainUser) -> DomainRead:
    return _read(_domain(session, principal.domain_id))


def _validate(session: SessionDep, domain: Domain, data: dict[str, Any]) -> None:
    if "timezone" in data and data["timezone"] not in _zones():
        raise field_error(
            "timezone",
            "Неизвестный часовой пояс (пример: Europe/Moscow)",
            "Unknown time zone (for example Europe/Moscow)",
        )
    if "notification_email" in data and data["notification_email"] is None:
        data["notification_email"] = ""
    if data.get("default_outgoing_number_id") is not None:
        number = session.execute(
            select(Number).where(
                Number.id == data["default_outgoing_number_id"],
                Number.domain_id == domain.id,
            )
        ).scalar_one_or_none()
        if number is None:
            raise field_error(
                "default_outgoing_number_id",
                "Номер не найден среди номеров домена",
                "No such number in this domain",
            )
        if number.kind == NumberKind.TOLL_FREE:
            raise field_error(
                "default_outgoing_number_id",
                "Номер 8-800 не может быть номером для исходящих вызовов",
                "An 8-800 number cannot be the outgoing number",
            )
    if "default_restriction" in data and data["default_restriction"] in (
        None,
        OutgoingRestriction.INHERIT,
    ):
        raise field_error(
            "default_restriction",
            "Для домена выберите конкретное ограничение",
            "Choose a concrete restriction for the domain",
        )
    if "pickup_code" in data and not PICKUP_CODE.match(data["pickup_code"] or ""):
        raise field_error(
            "pickup_code",
            "Код перехвата: * или #, затем от 1 до 3 цифр (например *8)",
            "Pickup code: * or # followed by 1 to 3 digits (for example *8)",
        )


@router.patch("/domain", response_model=DomainRead, operation_id="update_domain_settings")
def update_domain(
    body: Annotated[DomainSettingsUpdate, Body()],
    request: Request,
    session: SessionDep,
    principal: DomainAdmin,
) -> DomainRead:
    domain = _domain(session, principal.domain_id)
    data = body.model_dump(exclude_unset=True)
    _validate(session, domain, data)
    before = audit.snapshot(domain)
    for key, value in data.items():
        setattr(domain, key, value)
    session.flush()
    audit.record(
        session, principal, "update", "domain", domain.id, domain.name, before,
        audit.snapshot(domain),
    )  # fmt: skip
    session.commit()
    publish(request, "domain.updated", domain.id, {"id": domain.id, "fields": sorted(data)})
    return _read(domain)
