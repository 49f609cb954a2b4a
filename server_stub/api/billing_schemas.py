"""Billing request/response bodies. Money travels as two-decimal strings, never as numbers."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, Field, WithJsonSchema

from server_stub.api.errors import bilingual_value_error
from server_stub.billing.money import MoneyError, parse_rub


def _kopecks(value: object) -> int:
    # Only strings: a JSON number may already have lost kopecks on its way through a float.
    try:
        if not isinstance(value, str):
            raise MoneyError("not a string")
        return parse_rub(value.strip())
    except MoneyError:
        raise bilingual_value_error(
            "Сумма в рублях с точностью до копеек, например 150.00",
            "An amount in roubles with at most two decimals, e.g. 150.00",
        ) from None


Money = Annotated[
    int,
    BeforeValidator(_kopecks),
    WithJsonSchema({"type": "string", "pattern": r"^-?\d+(\.\d{1,2})?$", "examples": ["150.00"]}),
]


class AmountIn(BaseModel):
    amount: Money  # kopecks after validation


class TopUpIn(BaseModel):
    amount: Money
    source: Literal["bank", "card", "correction"] = "bank"
    description: str = Field(default="", max_length=200)
    external_ref: str | None = Field(default=None, max_length=120)
    domain_id: int | None = Field(default=None, description="System callers name the domain.")


class PromisedRead(BaseModel):
    amount: str
    created_at: datetime
    expires_at: datetime
    debited: bool
    closed: bool


class AccountRead(BaseModel):
    balance: str
    payment_scheme: str
    block_state: str
    credit_limit: str | None
    month_opening: str
    month_income: str
    month_spend: str
    spend_today: str
    promised_payment: PromisedRead | None
    monthly_total: str


class QuoteRead(BaseModel):
    monthly_delta: str
    connection_fee: str
    today_charge: str


class EntryRead(BaseModel):
    id: int
    at: datetime
    code: str
    kind: str
    operation: str
    quantity: int
    amount: str
    balance_after: str


class PaymentRead(BaseModel):
    id: int
    at: datetime
    source: str
    description: str
    amount: str


class PageRead(BaseModel):
    items: list[Any]
    total: int
    offset: int
    limit: int


class ServiceRead(BaseModel):
    code: str
    name: str
    level: str
    unit_monthly: str
    connection_fee: str
    quantity: int
    monthly: str
    enabled: bool
    settings: dict[str, Any]
    show_counter: bool


class ServiceSet(BaseModel):
    quantity: int = Field(default=1, ge=1, le=10_000)
    settings: dict[str, Any] | None = None


class ServiceChange(BaseModel):
    quote: QuoteRead
    service: ServiceRead | None


class RateCallIn(BaseModel):
    domain_id: int
    call_id: str = Field(min_length=1, max_length=128)
    direction: str = Field(max_length=24)
    number: str = Field(max_length=32)
    answered_at: datetime
    duration_seconds: int = Field(ge=0, le=7 * 24 * 3600)
    user_id: int | None = None


class RateCallOut(BaseModel):
    call_id: str
    amount: str
    billed_seconds: int
    charged_now: str
    replay: bool


class CallStartIn(BaseModel):
    domain_id: int
    call_id: str = Field(min_length=1, max_length=128)
    direction: str = Field(max_length=24)
    number: str = Field(max_length=32)
    answered_at: datetime


class AuthorizeIn(BaseModel):
    domain_id: int
    direction: str = Field(max_length=24)
    number: str = Field(max_length=32)


class AuthorizeOut(BaseModel):
    allowed: bool
    reason: str | None


class TickOut(BaseModel):
    domains_accrued: int
    promised_debited: int
    calls_to_cut: list[str]
    credit_warnings_sent: int


class StorageRead(BaseModel):
    capacity_gb: int
    used_bytes: int
    packages: int
    auto_buy: bool
    monthly: str


class StorageSet(BaseModel):
    auto_buy: bool


class SmsBuyIn(BaseModel):
    size: Literal[500, 1000, 3000]


class SmsRead(BaseModel):
    available: int


class RerateIn(BaseModel):
    domain_id: int | None = None
    start: datetime
    end: datetime
    expected_difference: Money | None = None


class RerateOut(BaseModel):
    calls: int
    changed: int
    old_total: str
    new_total: str
    difference: str
    applied: bool


class DashboardService(BaseModel):
    code: str
    name: str
    quantity: int | None


class TopUser(BaseModel):
    id: int
    display_name: str
    login: str
    extension: str
    talk_seconds: int


class DashboardRead(BaseModel):
    users_included: int
    users_connected: int
    month_income: str
    month_spend: str
    spend_by_kind: dict[str, str]
    services: list[DashboardService]
    top_users: list[TopUser]
