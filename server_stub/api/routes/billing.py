"""Finance and billing (manual §5–6, spec 02 §11): balance, ledger, payments, promised
payment, credit limit, services with quotes, the dashboard; and system endpoints used by the SIP
edge and the scheduler (rate a call, a call started, authorise, tick, re-rate).

Who may do what:
- the domain admin reads everything and takes promised payments, sets the credit limit and
  switches services;
- money is *received* (top-up) only by the provider: a pool admin acting in the domain, or a
  system caller with the ``X-Pult-System-Token`` header (env ``PULT_SYSTEM_TOKEN``) — a domain
  admin cannot credit their own account;
- system endpoints take the domain id in the body.
"""

from __future__ import annotations

import hmac
import os
from datetime import UTC, datetime, timedelta
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query, Request
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm import Session

from server_stub.api import audit
from server_stub.api.billing_schemas import (
    AccountRead,
    AmountIn,
    AuthorizeIn,
    AuthorizeOut,
    CallStartIn,
    DashboardRead,
    DashboardService,
    EntryRead,
    PageRead,
    PaymentRead,
    PromisedRead,
    QuoteRead,
    RateCallIn,
    RateCallOut,
    RerateIn,
    RerateOut,
    ServiceChange,
    ServiceRead,
    ServiceSet,
    SmsBuyIn,
    SmsRead,
    StorageRead,
    StorageSet,
    TickOut,
    TopUpIn,
    TopUser,
)
from server_stub.api.crud import publish
from server_stub.api.deps import (
    DomainAdmin,
    Principal,
    SessionDep,
    client_address,
    get_principal,
)
from server_stub.api.errors import ApiError, FieldProblem, Text, field_error, forbidden, language
from server_stub.api.routes.pool_common import can_manage
from server_stub.billing import texts
from server_stub.billing.authorize import authorize
from server_stub.billing.money import fmt_rub
from server_stub.billing.packages import capacity
from server_stub.billing.quote import ChangeQuote
from server_stub.billing.tariff import STORAGE_PACKAGE, Level
from server_stub.store import (
    billing_calls,
    billing_ops,
    billing_reports,
    billing_storage,
    billing_work,
    call_cuts,
)
from server_stub.store import billing_ledger as L
from server_stub.store.models import Domain
from server_stub.store.models_billing import BillingAccount, ServiceSubscription

router = APIRouter(tags=["billing"])

SYSTEM_HEADER = "x-pult-system-token"
SYSTEM = Principal(kind="system", id=0, login="system", roles=frozenset({"system"}))


def now_utc() -> datetime:
    return datetime.now(UTC)


def _clock(request: Request) -> datetime:
    # Tests and the simulator may pin the billing clock on app.state.
    clock = getattr(request.app.state, "billing_clock", None)
    return clock() if clock is not None else now_utc()


Now = Annotated[datetime, Depends(_clock)]


def _is_system(request: Request) -> bool:
    token = request.app.state.settings.system_token or os.environ.get("PULT_SYSTEM_TOKEN", "")
    given = request.headers.get(SYSTEM_HEADER, "")
    return bool(token) and hmac.compare_digest(token.encode(), given.encode())


def system_or_pool(request: Request, session: SessionDep) -> Principal:
    """The provider: the system token, or a pool admin (acting in a domain or not)."""
    if _is_system(request):
        return SYSTEM
    principal = get_principal(request, session)
    if principal.kind != "pool_admin":
        raise forbidden()
    return principal


Provider = Annotated[Principal, Depends(system_or_pool)]


def _target_domain(session: Session, principal: Principal, domain_id: int | None) -> Domain:
    """The provider's target: its open domain, or the one named (pool admins: their pool)."""
    wanted = domain_id if domain_id is not None else principal.domain_id
    domain = session.get(Domain, wanted) if wanted is not None else None
    if domain is None or (principal.kind == "pool_admin" and domain.pool_id != principal.pool_id):
        raise field_error("domain_id", "Домен не найден", "No such domain", status=404)
    if principal.kind == "pool_admin" and not can_manage(principal, domain):
        # A sub-group admin sees the whole pool but manages only its own sub-groups' domains.
        raise forbidden()
    return domain


def _refused(exc: L.Refusal) -> ApiError:
    text = Text(*exc.msg)
    details = [FieldProblem(exc.field, text)] if exc.field else []
    return ApiError(exc.status, exc.code, text, details)


def _quote(q: ChangeQuote) -> QuoteRead:
    return QuoteRead(
        monthly_delta=fmt_rub(q.monthly_delta),
        connection_fee=fmt_rub(q.connection_fee),
        today_charge=fmt_rub(q.today_charge),
    )


def _domain(session: Session, principal: Principal) -> Domain:
    domain = session.get(Domain, principal.domain_id)
    assert domain is not None
    return domain


def _period(
    start: datetime | None, end: datetime | None, period: str | None, now: datetime
) -> tuple[datetime | None, datetime | None]:
    spans = {"day": 1, "week": 7, "month": 30, "half_year": 182, "year": 365}
    if period is not None:
        return now - timedelta(days=spans[period]), None
    if start is None and end is None:
        return now.replace(hour=0, minute=0, second=0, microsecond=0), None  # today (UTC day)
    return start, end


Period = Literal["day", "week", "month", "half_year", "year"]


# --- account -------------------------------------------------------------------------------


@router.get("/billing/account", response_model=AccountRead, operation_id="billing_account")
def get_account(session: SessionDep, principal: DomainAdmin, now: Now) -> AccountRead:
    domain = _domain(session, principal)
    acc = session.get(BillingAccount, domain.id)
    st = billing_reports.statement(session, domain, now)
    pp = billing_ops.promised_state(session, domain.id)
    monthly = billing_ops.monthly_total(session, domain, acc) if acc else 0
    return AccountRead(
        balance=fmt_rub(domain.balance_kopecks),
        payment_scheme=domain.payment_scheme.value,
        block_state=domain.block_state.value,
        credit_limit=fmt_rub(acc.credit_limit_kopecks)
        if acc and acc.credit_limit_kopecks is not None
        else None,
        month_opening=fmt_rub(st.opening),
        month_income=fmt_rub(st.income),
        month_spend=fmt_rub(st.spend),
        spend_today=fmt_rub(st.spend_today),
        promised_payment=PromisedRead(
            amount=fmt_rub(pp[0].amount_kopecks),
            created_at=pp[0].created_at,
            expires_at=pp[0].expires_at,
            debited=pp[0].debited,
            closed=pp[1],
        )
        if pp
        else None,
        monthly_total=fmt_rub(monthly),
    )


@router.get("/billing/charges", response_model=PageRead, operation_id="billing_charges")
def list_charges(
    session: SessionDep,
    principal: DomainAdmin,
    request: Request,
    now: Now,
    start: datetime | None = None,
    end: datetime | None = None,
    period: Period | None = None,
    q: Annotated[str | None, Query(max_length=100)] = None,
    offset: Annotated[int, Query(ge=0)] = 0,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> PageRead:
    """«Списания и начисления»: today by default, newest first; search by operation."""
    lo, hi = _period(start, end, period, now)
    rows, total = billing_reports.ledger_page(
        session, _domain(session, principal).id, lo, hi, q, offset, limit
    )
    en = language(request) == "en"
    items = [
        EntryRead(
            id=e.id,
            at=e.at,
            code=e.code,
            kind=e.kind,
            operation=e.operation_en if en else e.operation_ru,
            quantity=e.quantity,
            amount=fmt_rub(e.amount_kopecks),
            balance_after=fmt_rub(e.balance_after_kopecks),
        )
        for e in rows
    ]
    return PageRead(items=items, total=total, offset=offset, limit=limit)


@router.get("/billing/payments", response_model=PageRead, operation_id="billing_payments")
def list_payments(
    session: SessionDep,
    principal: DomainAdmin,
    now: Now,
    start: datetime | None = None,
    end: datetime | None = None,
    period: Period | None = None,
    offset: Annotated[int, Query(ge=0)] = 0,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> PageRead:
    lo, hi = _period(start, end, period, now)
    rows, total = billing_reports.payment_page(
        session, _domain(session, principal).id, lo, hi, offset, limit
    )
    items = [
        PaymentRead(
            id=p.id,
            at=p.at,
            source=p.source,
            description=p.description,
            amount=fmt_rub(p.amount_kopecks),
        )
        for p in rows
    ]
    return PageRead(items=items, total=total, offset=offset, limit=limit)


@router.post(
    "/billing/top-ups", response_model=PaymentRead, status_code=201, operation_id="billing_top_up"
)
def top_up(
    body: TopUpIn, session: SessionDep, principal: Provider, request: Request, now: Now
) -> PaymentRead:
    """Money received (any provider: bank, card, correction); ``external_ref`` makes a
    provider's retried notification harmless."""
    domain = _target_domain(session, principal, body.domain_id)
    if body.amount <= 0:
        raise field_error("amount", "Сумма должна быть больше нуля", "The amount must be positive")
    before = domain.balance_kopecks
    result = billing_ops.top_up(
        session,
        domain.id,
        body.amount,
        now,
        source=body.source,
        description=body.description,
        external_ref=body.external_ref,
    )
    if not result.duplicate:
        audit.record(
            session,
            principal,
            "top_up",
            "billing_account",
            domain.id,
            domain.name,
            {"balance": fmt_rub(before)},
            {
                "balance": fmt_rub(domain.balance_kopecks),
                "amount": fmt_rub(body.amount),
                "source": body.source,
            },
            domain_id=domain.id,
            address=client_address(request),
        )
    session.commit()
    publish(request, "billing.balance", domain.id, {"balance": fmt_rub(domain.balance_kopecks)})
    p = result.payment
    return PaymentRead(
        id=p.id,
        at=p.at,
        source=p.source,
        description=p.description,
        amount=fmt_rub(p.amount_kopecks),
    )


@router.post(
    "/billing/promised-payment",
    response_model=PromisedRead,
    status_code=201,
    operation_id="billing_promised_payment",
)
def take_promised(
    body: AmountIn, session: SessionDep, principal: DomainAdmin, request: Request, now: Now
) -> PromisedRead:
    domain = _domain(session, principal)
    try:
        pp = billing_ops.take_promised(session, domain.id, body.amount, now)
    except L.Refusal as exc:
        raise _refused(exc) from None
    audit.record(
        session,
        principal,
        "create",
        "promised_payment",
        pp.id,
        fmt_rub(pp.amount_kopecks),
        None,
        {"amount": fmt_rub(pp.amount_kopecks), "expires_at": pp.expires_at.isoformat()},
    )
    session.commit()
    publish(request, "billing.balance", domain.id, {"balance": fmt_rub(domain.balance_kopecks)})
    return PromisedRead(
        amount=fmt_rub(pp.amount_kopecks),
        created_at=pp.created_at,
        expires_at=pp.expires_at,
        debited=False,
        closed=False,
    )


@router.put(
    "/billing/credit-limit", response_model=AccountRead, operation_id="billing_set_credit_limit"
)
def set_credit_limit(
    body: AmountIn, session: SessionDep, principal: DomainAdmin, request: Request, now: Now
) -> AccountRead:
    """«Предел кредита»: audited; an unlimited domain is switched to credit (audited too)."""
    domain = _domain(session, principal)
    try:
        before, after = billing_ops.set_credit_limit(session, domain.id, body.amount)
    except L.Refusal as exc:
        raise _refused(exc) from None
    if before["payment_scheme"] != after["payment_scheme"]:
        audit.record(
            session,
            principal,
            "update",
            "payment_scheme",
            domain.id,
            domain.name,
            {"payment_scheme": before["payment_scheme"]},
            {"payment_scheme": after["payment_scheme"], "automatic": True},
        )
    audit.record(
        session,
        principal,
        "update",
        "credit_limit",
        domain.id,
        domain.name,
        {
            "credit_limit": None
            if before["credit_limit_kopecks"] is None
            else fmt_rub(before["credit_limit_kopecks"])
        },
        {"credit_limit": fmt_rub(body.amount)},
    )
    session.commit()
    publish(request, "billing.account", domain.id, {"payment_scheme": after["payment_scheme"]})
    return get_account(session, principal, now)


# --- services ------------------------------------------------------------------------------


def _service_read(
    acc: BillingAccount | None, code: str, sub: ServiceSubscription | None, lang: str
) -> ServiceRead:
    tariff = L.tariff_of(acc or BillingAccount(tariff_code="default"))
    s = tariff.services[code]
    qty = sub.quantity if sub else 0
    return ServiceRead(
        code=code,
        name=s.name_en if lang == "en" else s.name_ru,
        level=s.level.value,
        unit_monthly=fmt_rub(s.monthly),
        connection_fee=fmt_rub(s.connection),
        quantity=qty,
        monthly=fmt_rub(qty * s.monthly),
        enabled=sub is not None,
        settings=sub.settings if sub else {},
        show_counter=s.level != Level.DOMAIN,
    )


def _subs(session: Session, domain_id: int) -> dict[str, ServiceSubscription]:
    rows = session.scalars(
        select(ServiceSubscription).where(ServiceSubscription.domain_id == domain_id)
    ).all()
    return {r.code: r for r in rows}


def _known_service(acc: BillingAccount | None, code: str) -> None:
    tariff = L.tariff_of(acc or BillingAccount(tariff_code="default"))
    service = tariff.service(code)
    if service is None or not service.manual:
        raise ApiError(404, "not_found", Text("Услуга не найдена", "No such service"))


@router.get("/billing/services", response_model=list[ServiceRead], operation_id="billing_services")
def list_services(
    session: SessionDep, principal: DomainAdmin, request: Request
) -> list[ServiceRead]:
    domain = _domain(session, principal)
    acc = session.get(BillingAccount, domain.id)
    subs = _subs(session, domain.id)
    tariff = L.tariff_of(acc or BillingAccount(tariff_code="default"))
    lang = language(request)
    items = [_service_read(acc, code, subs.get(code), lang) for code in tariff.services]
    return sorted(items, key=lambda s: (not s.enabled, s.code))


@router.get(
    "/billing/services/{code}/quote", response_model=QuoteRead, operation_id="billing_service_quote"
)
def quote_service(
    code: str,
    session: SessionDep,
    principal: DomainAdmin,
    now: Now,
    quantity: Annotated[int, Query(ge=0, le=10_000)] = 1,
) -> QuoteRead:
    """The price dialog before switching a service on, changing its count or off (0)."""
    domain = _domain(session, principal)
    _known_service(session.get(BillingAccount, domain.id), code)
    return _quote(billing_ops.quote_service(session, domain.id, code, quantity, now))


@router.put(
    "/billing/services/{code}", response_model=ServiceChange, operation_id="billing_service_set"
)
def set_service(
    code: str,
    body: ServiceSet,
    session: SessionDep,
    principal: DomainAdmin,
    request: Request,
    now: Now,
) -> ServiceChange:
    domain = _domain(session, principal)
    acc = session.get(BillingAccount, domain.id)
    _known_service(acc, code)
    before = _subs(session, domain.id).get(code)
    before_snap = audit.snapshot(before) if before else None
    try:
        quote, sub = billing_ops.set_service(
            session, domain.id, code, body.quantity, now, body.settings
        )
    except L.Refusal as exc:
        raise _refused(exc) from None
    except ValueError:
        raise field_error("quantity", "Недопустимое количество", "Quantity out of range") from None
    audit.record(
        session,
        principal,
        "update" if before_snap else "create",
        "service",
        sub.id,
        code,
        before_snap,
        audit.snapshot(sub),
    )
    session.commit()
    publish(request, "billing.service", domain.id, {"code": code, "quantity": sub.quantity})
    acc = session.get(BillingAccount, domain.id)
    return ServiceChange(
        quote=_quote(quote), service=_service_read(acc, code, sub, language(request))
    )


@router.delete(
    "/billing/services/{code}", response_model=ServiceChange, operation_id="billing_service_disable"
)
def disable_service(
    code: str,
    session: SessionDep,
    principal: DomainAdmin,
    request: Request,
    now: Now,
    confirm: bool = False,
) -> ServiceChange:
    """Disconnecting deletes the service's settings, so it needs ``confirm=true``; without it
    the answer is 409 with the monthly decrease in ``details``."""
    domain = _domain(session, principal)
    acc = session.get(BillingAccount, domain.id)
    _known_service(acc, code)
    sub = _subs(session, domain.id).get(code)
    if sub is None:
        raise ApiError(404, "not_found", Text("Услуга не подключена", "The service is not on"))
    if not confirm:
        q = billing_ops.quote_service(session, domain.id, code, 0, now)
        ru, en = texts.CONFIRM_DISABLE
        raise ApiError(
            409,
            "confirmation_required",
            Text(
                f"{ru} Ежемесячная плата уменьшится на {fmt_rub(-q.monthly_delta)} ₽",
                f"{en} The monthly fee drops by {fmt_rub(-q.monthly_delta)} RUB",
            ),
            [FieldProblem("confirm", Text(ru, en))],
        )
    snap = audit.snapshot(sub)
    quote = billing_ops.disable_service(session, domain.id, code, now)
    audit.record(session, principal, "delete", "service", snap["id"], code, snap, None)
    session.commit()
    publish(request, "billing.service", domain.id, {"code": code, "quantity": 0})
    return ServiceChange(quote=_quote(quote), service=None)


@router.get(
    "/billing/quotes/operators", response_model=QuoteRead, operation_id="billing_quote_operators"
)
def quote_operators(
    session: SessionDep,
    principal: DomainAdmin,
    now: Now,
    count: Annotated[int, Query(ge=1, le=10_000)] = 1,
) -> QuoteRead:
    """The price of making ``count`` more users contact-centre operators."""
    return _quote(billing_ops.quote_operators(session, _domain(session, principal).id, count, now))


@router.get("/billing/quotes/users", response_model=QuoteRead, operation_id="billing_quote_users")
def quote_users(
    session: SessionDep,
    principal: DomainAdmin,
    now: Now,
    count: Annotated[int, Query(ge=1, le=10_000)] = 1,
) -> QuoteRead:
    return _quote(billing_ops.quote_users(session, _domain(session, principal).id, count, now))


# --- dashboard -----------------------------------------------------------------------------


@router.get("/billing/dashboard", response_model=DashboardRead, operation_id="billing_dashboard")
def dashboard(
    session: SessionDep, principal: DomainAdmin, request: Request, now: Now
) -> DashboardRead:
    domain = _domain(session, principal)
    acc = session.get(BillingAccount, domain.id)
    st = billing_reports.statement(session, domain, now)
    lang = language(request)
    services = [
        DashboardService(code=s.code, name=s.name, quantity=s.quantity if s.show_counter else None)
        for s in (
            _service_read(acc, code, sub, lang)
            for code, sub in _subs(session, domain.id).items()
            if L.tariff_of(acc or BillingAccount(tariff_code="default")).service(code)
        )
    ]
    top = [
        TopUser(
            id=u.id,
            display_name=u.display_name,
            login=u.login,
            extension=u.extension,
            talk_seconds=secs,
        )
        for u, secs in billing_reports.top_talkers(session, domain, now)
    ]
    return DashboardRead(
        users_included=domain.users_included,
        users_connected=L.count_users(session, domain.id),
        month_income=fmt_rub(st.income),
        month_spend=fmt_rub(st.spend),
        spend_by_kind={
            k: fmt_rub(v) for k, v in billing_reports.spend_by_kind(session, domain, now).items()
        },
        services=services,
        top_users=top,
    )


# --- storage and SMS packages --------------------------------------------------------------


def _storage_read(session: Session, domain: Domain) -> StorageRead:
    acc = session.get(BillingAccount, domain.id)
    sub = _subs(session, domain.id).get(STORAGE_PACKAGE)
    packages = sub.quantity if sub else 0
    tariff = L.tariff_of(acc or BillingAccount(tariff_code="default"))
    return StorageRead(
        capacity_gb=capacity(packages) // (1024**3),
        used_bytes=acc.storage_used_bytes if acc else 0,
        packages=packages,
        auto_buy=bool(acc and acc.storage_auto_buy),
        monthly=fmt_rub(packages * tariff.services[STORAGE_PACKAGE].monthly),
    )


@router.get("/billing/storage", response_model=StorageRead, operation_id="billing_storage")
def get_storage(session: SessionDep, principal: DomainAdmin) -> StorageRead:
    return _storage_read(session, _domain(session, principal))


@router.put("/billing/storage", response_model=StorageRead, operation_id="billing_storage_set")
def set_storage(
    body: StorageSet, session: SessionDep, principal: DomainAdmin, request: Request
) -> StorageRead:
    """«Автоматическое подключение дополнительных пакетов при заполнении хранилища»."""
    domain = L.lock_domain(session, _domain(session, principal).id)
    acc = L.account(session, domain)
    before = {"storage_auto_buy": acc.storage_auto_buy}
    acc.storage_auto_buy = body.auto_buy
    audit.record(
        session,
        principal,
        "update",
        "recording_storage",
        domain.id,
        domain.name,
        before,
        {"storage_auto_buy": body.auto_buy},
    )
    session.commit()
    publish(request, "billing.storage", domain.id, {"auto_buy": body.auto_buy})
    return _storage_read(session, domain)


@router.get("/billing/sms", response_model=SmsRead, operation_id="billing_sms")
def get_sms(session: SessionDep, principal: DomainAdmin) -> SmsRead:
    acc = session.get(BillingAccount, _domain(session, principal).id)
    return SmsRead(available=acc.sms_available if acc else 0)


@router.post(
    "/billing/sms/packages", response_model=SmsRead, status_code=201, operation_id="billing_sms_buy"
)
def buy_sms(
    body: SmsBuyIn, session: SessionDep, principal: DomainAdmin, request: Request, now: Now
) -> SmsRead:
    domain = _domain(session, principal)
    try:
        available = billing_storage.buy_sms(session, domain.id, body.size, now)
    except L.Refusal as exc:
        raise _refused(exc) from None
    audit.record(
        session,
        principal,
        "create",
        "sms_package",
        None,
        str(body.size),
        None,
        {"size": body.size, "available": available},
    )
    session.commit()
    publish(request, "billing.sms", domain.id, {"available": available})
    return SmsRead(available=available)


# --- system endpoints (SIP edge, scheduler) -------------------------------------------------


@router.post("/billing/calls/rate", response_model=RateCallOut, operation_id="billing_rate_call")
def rate_call(body: RateCallIn, session: SessionDep, principal: Provider, now: Now) -> RateCallOut:
    """Charge a finished call exactly once: a replay (same ``call_id``) charges nothing.

    When a person (a pool admin) rather than the system charges a call, the charge is in the
    action history, written in the charge's own transaction.
    """
    domain = _target_domain(session, principal, body.domain_id)
    try:
        for attempt in range(3):
            try:
                charge = billing_calls.rate_call(
                    session,
                    body.domain_id,
                    body.call_id,
                    body.direction,
                    body.number,
                    body.answered_at,
                    body.duration_seconds,
                    user_id=body.user_id,
                    now=now,
                )
                if principal.kind != "system" and not charge.replay:
                    audit.record(
                        session,
                        principal,
                        "rate_call",
                        "call",
                        body.call_id,
                        body.number,
                        None,
                        {"amount": fmt_rub(charge.amount), "direction": body.direction},
                        domain_id=domain.id,
                    )
                session.commit()
                break
            except (IntegrityError, OperationalError):
                session.rollback()  # a concurrent writer of the same call id: replay
                if attempt == 2:
                    raise
    except L.Refusal as exc:
        raise _refused(exc) from None
    return RateCallOut(
        call_id=charge.call_id,
        amount=fmt_rub(charge.amount),
        billed_seconds=charge.billed_seconds,
        charged_now=fmt_rub(charge.charged_now),
        replay=charge.replay,
    )


@router.post("/billing/calls/start", status_code=204, operation_id="billing_call_started")
def call_started(body: CallStartIn, session: SessionDep, principal: Provider) -> None:
    _target_domain(session, principal, body.domain_id)
    billing_calls.call_started(
        session, body.domain_id, body.call_id, body.direction, body.number, body.answered_at
    )
    session.commit()


@router.post("/billing/authorize", response_model=AuthorizeOut, operation_id="billing_authorize")
def authorize_call(
    body: AuthorizeIn, session: SessionDep, principal: Provider, request: Request, now: Now
) -> AuthorizeOut:
    _target_domain(session, principal, body.domain_id)
    state = billing_calls.auth_state(session, body.domain_id, now)
    refusal = authorize(state, body.direction, body.number, now)
    if refusal is None:
        return AuthorizeOut(allowed=True, reason=None)
    return AuthorizeOut(
        allowed=False, reason=refusal[1] if language(request) == "en" else refusal[0]
    )


@router.post("/billing/tick", response_model=TickOut, operation_id="billing_tick")
def tick(session: SessionDep, principal: Provider, request: Request, now: Now) -> TickOut:
    """Run the scheduled work now (daily fees, promised-payment expiry, calls in progress,
    credit-limit warnings). Meant to be called about once a minute."""
    if principal.kind != "system":
        raise forbidden()
    done = billing_work.run_due_work(session, now)
    call_cuts.enqueue(session, done.calls_to_cut)  # the SIP edge ends them (GET /api/sip/cuts)
    sent = billing_storage.send_credit_warnings(request.app.state.settings, done.credit_warnings)
    return TickOut(
        domains_accrued=done.domains_accrued,
        promised_debited=done.promised_debited,
        calls_to_cut=done.calls_to_cut,
        credit_warnings_sent=sent,
    )


@router.post("/billing/rerate", response_model=RerateOut, operation_id="billing_rerate")
def rerate(
    body: RerateIn, session: SessionDep, principal: Provider, now: Now, apply: bool = False
) -> RerateOut:
    """Re-price a period's calls with the current rates. Without ``apply`` only the difference
    is shown; ``apply`` needs ``expected_difference`` equal to the one shown (so what is posted
    is what was reviewed)."""
    domain = _target_domain(session, principal, body.domain_id)
    result = billing_calls.rerate(session, domain.id, body.start, body.end, now, apply=False)
    applied = False
    if apply:
        if body.expected_difference is None or body.expected_difference != result.difference:
            raise field_error(
                "expected_difference",
                f"Разница изменилась: {fmt_rub(result.difference)}",
                f"The difference has changed: {fmt_rub(result.difference)}",
            )
        result = billing_calls.rerate(session, domain.id, body.start, body.end, now, apply=True)
        audit.record(
            session,
            principal if principal.kind != "system" else None,
            "rerate",
            "billing_account",
            domain.id,
            domain.name,
            None,
            {"difference": fmt_rub(result.difference), "calls": result.changed},
            domain_id=domain.id,
            actor_login=principal.login,
        )
        session.commit()
        applied = True
    return RerateOut(
        calls=result.calls,
        changed=result.changed,
        old_total=fmt_rub(result.old_total),
        new_total=fmt_rub(result.new_total),
        difference=fmt_rub(result.difference),
        applied=applied,
    )
