"""Choices and formats several sections share (translated when shown, not at import)."""

from __future__ import annotations

from typing import Any

from desktop.common.i18n import tr

WEEKDAYS = ("Пн", "Вт", "Ср", "Чт", "Пт", "Сб", "Вс")


def restrictions() -> list[tuple[Any, str]]:
    return [
        ("inherit", tr("Как у домена")),
        ("none", tr("Без ограничений")),
        ("no_international", tr("Без международных")),
        ("no_international_long_distance", tr("Без международных и междугородных")),
        ("internal_only", tr("Только внутренние")),
    ]


def algorithms() -> list[tuple[Any, str]]:
    return [
        ("ring_all", tr("Всем одновременно")),
        ("serial", tr("По очереди")),
        ("add_next", tr("С добавлением следующего")),
        ("random", tr("Случайно")),
        ("longest_idle", tr("Дольше всех без вызова")),
        ("least_busy", tr("Наименее загруженному")),
        ("not_set", tr("Не задан")),
    ]


def targets() -> list[tuple[Any, str]]:
    return [
        ("group", tr("Группа")),
        ("user", tr("Пользователь")),
        ("group_voicemail", tr("Голосовая почта группы")),
        ("user_voicemail", tr("Голосовая почта пользователя")),
        ("group_fax", tr("Факс группы")),
        ("user_fax", tr("Факс пользователя")),
        ("external", tr("Внешний номер")),
        ("private_route", tr("Частный маршрут")),
        ("hangup", tr("Отбой")),
    ]


def label_of(choices: list[tuple[Any, str]], value: Any) -> str:
    return next((text for v, text in choices if v == value), str(value or ""))


def number_label(row: dict[str, Any]) -> str:
    return f"{row['e164']} {row.get('name') or ''}".strip()


def user_label(row: dict[str, Any]) -> str:
    return f"{row['display_name']} ({row['extension']})"


def group_label(row: dict[str, Any]) -> str:
    return f"{row['name']} ({row['extension']})"


def money(value: Any) -> str:
    return f"{value} ₽"
