"""Every refusal the billing engine gives, in Russian (the manual's wording) and English."""

from __future__ import annotations

from datetime import datetime

from server_stub.billing.money import Kopecks, fmt_rub

Msg = tuple[str, str]

PROMISED_ADVANCE_ONLY: Msg = (
    "Услугой «Обещанный платёж» могут воспользоваться только клиенты с авансовой схемой расчетов.",
    "Only customers on the advance payment scheme can use the promised payment.",
)
PROMISED_RANGE: Msg = (
    "Сумма обещанного платежа не может быть меньше 50 рублей и больше 5 000 рублей.",
    "A promised payment must be at least 50 and at most 5,000 roubles.",
)
PROMISED_TOO_SMALL_WHILE_BLOCKED: Msg = (
    "Заданная сумма недостаточна для разблокировки услуги. Задайте сумму платежа больше.",
    "The amount is not enough to unblock the service. Enter a larger amount.",
)


def promised_not_closed(created_local: datetime, amount: Kopecks) -> Msg:
    """The manual's warning, e.g. «… от 16.04.2021 16:02:52 +03:00 на сумму 500.00 руб.»"""
    offset = created_local.strftime("%z")  # +0300
    when = created_local.strftime("%d.%m.%Y %H:%M:%S ") + f"{offset[:3]}:{offset[3:]}"
    rub = fmt_rub(amount)
    return (
        "В настоящий момент невозможно выполнить операцию, т. к. не закрыт обещанный платеж "
        f"от {when} на сумму {rub} руб.",
        "The operation is not possible at the moment: the promised payment of "
        f"{when} for {rub} RUB has not been repaid.",
    )


CREDIT_ONLY: Msg = (
    "Услуга «Предел кредита» доступна только для клиентов с кредитной системой расчёта.",
    "The credit limit is available only to customers on the credit payment scheme.",
)
CREDIT_RANGE: Msg = (
    "Минимальный допустимый баланс домена должен находиться в диапазоне между 1 000 и "
    "500 000 рублей.",
    "The minimum balance must be between 1,000 and 500,000 roubles.",
)
CREDIT_WHILE_BLOCKED: Msg = (
    "Установить минимальное допустимое значение баланса для домена, находящегося в состоянии "
    "финансовой блокировки, нельзя.",
    "A credit limit cannot be set while the domain is financially blocked.",
)

BLOCKED_FINANCIAL: Msg = (
    "домен заблокирован за неуплату",
    "the domain is blocked for non-payment",
)
BLOCKED_ADMINISTRATIVE: Msg = (
    "домен заблокирован администратором",
    "the domain is blocked by the administrator",
)
NO_MONEY: Msg = ("недостаточно средств на счёте", "not enough money on the account")
CREDIT_LIMIT_REACHED: Msg = ("достигнут предел кредита", "the credit limit has been reached")
DAILY_CAP: Msg = (
    "превышен дневной лимит расходов на вызовы",
    "the daily spend cap on calls has been reached",
)
CONCURRENT_CAP: Msg = (
    "превышено число одновременных платных вызовов",
    "too many simultaneous paid calls",
)
NO_RATE: Msg = ("направление не тарифицируется", "no rate for this destination")
NOT_ENOUGH_FOR_SERVICE: Msg = (
    "Недостаточно средств на счёте для подключения услуги.",
    "Not enough money on the account to connect the service.",
)
CONFIRM_DISABLE: Msg = (
    "Отключение услуги удалит все её настройки. Подтвердите отключение.",
    "Disabling the service deletes all its settings. Please confirm.",
)
SMS_EMPTY: Msg = ("Пакет SMS исчерпан.", "The SMS package is used up.")
