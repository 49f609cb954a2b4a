"""Tariff plans: the monthly subscription, per-unit fees, option prices and call rates.

A tariff is data; the engine never hard-codes a price. ``DEFAULT_TARIFF`` is the plan every
domain gets until the provider assigns another one (its call rates may be overridden by rows in
the rates table). Prices are kopecks.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from types import MappingProxyType

from server_stub.billing.money import Kopecks


class Level(StrEnum):
    """Tariffication level (spec 02 §11.2): what the count of a service follows."""

    DOMAIN = "domain"  # fixed; the counter is not shown
    USER = "user"
    OPERATOR = "operator"
    NUMBER = "number"
    SPECIAL = "special"  # per instance (storage packages…)


@dataclass(frozen=True)
class Service:
    code: str
    name_ru: str
    name_en: str
    monthly: Kopecks  # per unit
    connection: Kopecks = 0  # per unit added
    level: Level = Level.DOMAIN
    max_quantity: int = 1
    manual: bool = True  # the admin may switch it on and off


@dataclass(frozen=True)
class Rate:
    """Per-minute price of calls whose number (E.164 digits) starts with ``prefix``."""

    prefix: str
    per_minute: Kopecks
    increment: int = 60  # seconds; a started increment is billed in full
    minimum: int = 0  # seconds billed at least once the call is answered
    direction: str | None = None  # None: any paid direction

    def __post_init__(self) -> None:
        if self.increment < 1 or self.minimum < 0 or self.per_minute < 0:
            raise ValueError("bad rate")


# Internal, inter-domain, private-route and toll-free calls cost nothing (manual §4.5.4).
FREE_DIRECTIONS = frozenset({"internal", "inter_domain", "private_route", "toll_free"})
PAID_DIRECTIONS = frozenset({"local", "long_distance", "mobile", "international"})


@dataclass(frozen=True)
class Tariff:
    code: str
    name: str
    base_monthly: Kopecks
    operator_monthly: Kopecks
    operator_connection: Kopecks
    services: Mapping[str, Service]
    rates: tuple[Rate, ...]
    storage_free_gb: int = 5
    storage_package_gb: int = 5
    storage_max_gb: int = 50
    sms_packages: Mapping[int, Kopecks] = field(
        default_factory=lambda: MappingProxyType({500: 70000, 1000: 120000, 3000: 300000})
    )

    def service(self, code: str) -> Service | None:
        return self.services.get(code)


def _catalogue(*items: Service) -> Mapping[str, Service]:
    return MappingProxyType({s.code: s for s in items})


STORAGE_PACKAGE = "storage_package"
SMART_CALLBACK = "smart_callback"

DEFAULT_TARIFF = Tariff(
    code="default",
    name="Виртуальная АТС",
    base_monthly=130000,
    operator_monthly=25000,
    operator_connection=0,
    services=_catalogue(
        Service(
            "recording",
            "Выборочная запись разговоров",
            "Selective call recording",
            7000,
            0,
            Level.USER,
            10_000,
        ),
        Service(
            "speech_analytics", "Аналитика речи", "Speech analytics", 15000, 0, Level.USER, 10_000
        ),
        Service("fmc", "FMC", "FMC mobile workplace", 8333, 0, Level.USER, 10_000),
        Service(
            "short_numbers", "Короткая нумерация", "Short numbers", 5000, 0, Level.NUMBER, 10_000
        ),
        Service(
            "caller_id",
            "АОН (подмена номера)",
            "Caller ID substitution",
            10000,
            0,
            Level.NUMBER,
            10_000,
        ),
        Service(
            "ringback_melody",
            "Мелодия при звонке сотруднику",
            "Ringback melody",
            5000,
            0,
            Level.NUMBER,
            10_000,
        ),
        Service(
            "contact_centre",
            "Виртуальный Контакт Центр",
            "Virtual contact centre",
            41667,
            0,
            Level.DOMAIN,
        ),
        Service("integration_api", "Интеграционный API", "Integration API", 41667),
        Service("callback_order", "Заказ звонка", "Call-back order", 100, 100),
        Service(SMART_CALLBACK, "Умный перезвон", "Smart callback", 20000),
        Service(
            STORAGE_PACKAGE,
            "Пакет хранения записей +5 ГБ",
            "Recording storage +5 GB",
            15000,
            0,
            Level.SPECIAL,
            9,
        ),
    ),
    rates=(
        Rate("7", 250, 60, 0, "long_distance"),
        Rate("7", 90, 60, 0, "local"),
        Rate("79", 190, 60, 0, "mobile"),
        Rate("", 3000, 60, 60, "international"),
        Rate("1", 1500, 60, 60, "international"),
        Rate("44", 1200, 60, 60, "international"),
        Rate("375", 1800, 60, 60, "international"),
    ),
)
