"""The manual's promised-payment and credit-limit rules, each with its message; authorisation."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from server_stub.billing import credit, promised, texts
from server_stub.billing.account import DayOutcome, Scheme, day_outcome, may_unblock
from server_stub.billing.authorize import AuthState, authorize
from server_stub.billing.rating import RateTable
from server_stub.billing.tariff import DEFAULT_TARIFF

MSK = ZoneInfo("Europe/Moscow")
NOW = datetime(2026, 11, 21, 9, 0, tzinfo=UTC)


def _pp(**kw: object) -> tuple[str, str] | None:
    args: dict[str, object] = dict(
        scheme=Scheme.ADVANCE,
        amount=50_000,
        previous=None,
        blocked=False,
        balance=0,
        rest_of_month_fee=0,
        tz=MSK,
    )
    args.update(kw)
    return promised.refusal(**args)  # type: ignore[arg-type]


def test_promised_payment_only_for_the_advance_scheme() -> None:
    assert _pp(scheme=Scheme.CREDIT) == texts.PROMISED_ADVANCE_ONLY
    assert _pp(scheme=Scheme.UNLIMITED) == texts.PROMISED_ADVANCE_ONLY
    assert "авансовой схемой" in texts.PROMISED_ADVANCE_ONLY[0]


def test_promised_payment_is_50_to_5000_roubles() -> None:
    assert _pp(amount=4_999) == texts.PROMISED_RANGE
    assert _pp(amount=500_001) == texts.PROMISED_RANGE
    assert _pp(amount=5_000) is None and _pp(amount=500_000) is None


def test_promised_payment_is_allowed_at_a_negative_balance() -> None:
    assert _pp(balance=-100_000) is None


def test_a_new_one_before_the_previous_is_repaid_gives_the_manuals_warning() -> None:
    created = datetime(2021, 4, 16, 13, 2, 52, tzinfo=UTC)  # 16:02:52 in Moscow
    prev = promised.Previous(created, 50_000, topped_up_since=49_999)
    ru, en = _pp(previous=prev)  # type: ignore[misc]
    assert ru == (
        "В настоящий момент невозможно выполнить операцию, т. к. не закрыт обещанный платеж "
        "от 16.04.2021 16:02:52 +03:00 на сумму 500.00 руб."
    )
    assert "500.00" in en and "16.04.2021 16:02:52 +03:00" in en


def test_top_ups_of_at_least_the_amount_close_the_previous_one() -> None:
    prev = promised.Previous(NOW - timedelta(days=1), 50_000, topped_up_since=50_000)
    assert _pp(previous=prev) is None


def test_blocked_domain_needs_enough_for_the_rest_of_the_month() -> None:
    assert _pp(blocked=True, balance=0, amount=10_000, rest_of_month_fee=10_001) == (
        "Заданная сумма недостаточна для разблокировки услуги. Задайте сумму платежа больше.",
        texts.PROMISED_TOO_SMALL_WHILE_BLOCKED[1],
    )
    assert _pp(blocked=True, balance=0, amount=10_001, rest_of_month_fee=10_001) is None
    # a debt is not money: it must be covered too
    assert _pp(blocked=True, balance=-1, amount=10_001, rest_of_month_fee=10_001) is not None


def test_promised_payment_lasts_five_days() -> None:
    assert promised.expires_at(NOW) == NOW + timedelta(days=5)


def test_credit_limit_only_on_the_credit_scheme() -> None:
    d = credit.set_limit(Scheme.ADVANCE, False, 100_000)
    assert d.refusal == texts.CREDIT_ONLY and d.scheme_after == Scheme.ADVANCE


def test_credit_limit_is_1000_to_500000_roubles() -> None:
    assert credit.set_limit(Scheme.CREDIT, False, 99_999).refusal == texts.CREDIT_RANGE
    assert credit.set_limit(Scheme.CREDIT, False, 50_000_001).refusal == texts.CREDIT_RANGE
    assert credit.set_limit(Scheme.CREDIT, False, 100_000).refusal is None
    assert "1 000 и 500 000 рублей" in texts.CREDIT_RANGE[0]


def test_credit_limit_not_while_blocked() -> None:
    assert credit.set_limit(Scheme.CREDIT, True, 100_000).refusal == texts.CREDIT_WHILE_BLOCKED


def test_a_limit_on_an_unlimited_domain_switches_it_to_credit() -> None:
    d = credit.set_limit(Scheme.UNLIMITED, False, 100_000)
    assert d.refusal is None and d.scheme_after == Scheme.CREDIT


def test_reaching_the_credit_limit_blocks_and_a_top_up_unblocks() -> None:
    assert day_outcome(Scheme.CREDIT, -99_000, 100_000, False, 1_000) == (
        DayOutcome.CHARGE_AND_BLOCK
    )
    assert day_outcome(Scheme.CREDIT, -98_000, 100_000, False, 1_000) == DayOutcome.CHARGE
    assert not may_unblock(Scheme.CREDIT, -99_500, 100_000, 1_000)
    assert may_unblock(Scheme.CREDIT, 0, 100_000, 1_000)


def test_advance_without_money_for_the_day_is_blocked_not_charged() -> None:
    assert day_outcome(Scheme.ADVANCE, 999, None, False, 1_000) == DayOutcome.BLOCK
    assert day_outcome(Scheme.ADVANCE, 999, None, True, 1_000) == DayOutcome.SKIP
    assert day_outcome(Scheme.UNLIMITED, -(10**9), None, False, 1_000) == DayOutcome.CHARGE


def _auth(**kw: object) -> AuthState:
    args: dict[str, object] = dict(
        scheme=Scheme.ADVANCE,
        balance=100_000,
        credit_limit=None,
        block="none",
        rates=RateTable(DEFAULT_TARIFF.rates),
    )
    args.update(kw)
    return AuthState(**args)  # type: ignore[arg-type]


MOBILE = "+79161234567"


def test_each_refusal_has_its_own_reason() -> None:
    assert authorize(_auth(), "mobile", MOBILE, NOW) is None
    assert authorize(_auth(block="financial"), "mobile", MOBILE, NOW) == texts.BLOCKED_FINANCIAL
    assert authorize(_auth(block="administrative"), "mobile", MOBILE, NOW) == (
        texts.BLOCKED_ADMINISTRATIVE
    )
    assert authorize(_auth(balance=100), "mobile", MOBILE, NOW) == texts.NO_MONEY
    assert (
        authorize(
            _auth(scheme=Scheme.CREDIT, balance=-99_900, credit_limit=100_000),
            "mobile",
            MOBILE,
            NOW,
        )
        == texts.CREDIT_LIMIT_REACHED
    )
    assert (
        authorize(
            _auth(spent_today=10_000, spent_on=date(2026, 11, 21), daily_cap=10_000),
            "mobile",
            MOBILE,
            NOW,
        )
        == texts.DAILY_CAP
    )
    assert authorize(_auth(paid_calls_now=3, concurrent_cap=3), "mobile", MOBILE, NOW) == (
        texts.CONCURRENT_CAP
    )
    refusals = {
        texts.BLOCKED_FINANCIAL,
        texts.BLOCKED_ADMINISTRATIVE,
        texts.NO_MONEY,
        texts.CREDIT_LIMIT_REACHED,
        texts.DAILY_CAP,
        texts.CONCURRENT_CAP,
    }
    assert len({ru for ru, _ in refusals}) == len({en for _, en in refusals}) == 6


def test_yesterdays_spend_does_not_count_against_todays_cap() -> None:
    state = _auth(spent_today=10_000, spent_on=date(2026, 11, 20), daily_cap=10_000)
    assert authorize(state, "mobile", MOBILE, NOW) is None


def test_free_calls_pass_even_when_blocked_and_unlimited_never_runs_out() -> None:
    assert authorize(_auth(block="financial"), "internal", "101", NOW) is None
    assert (
        authorize(_auth(scheme=Scheme.UNLIMITED, balance=-(10**9)), "mobile", MOBILE, NOW) is None
    )
