"""Recording storage packages and SMS packages (seed 000).

Storage: 5 GB free, +5 GB packages up to 50 GB in all. When a new recording does not fit,
either enough packages are bought (if the domain chose auto-purchase and the cap allows) or the
oldest recordings must free the missing bytes.

SMS: a message is split into parts — GSM-7 text 160 characters in one part, 153 per part when
longer; anything else (Cyrillic) 70 and 67 — and each part takes one SMS from the pool.
"""

from __future__ import annotations

from dataclasses import dataclass

GB = 1024**3
_GSM7 = set(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?¡ABCDEFGHIJKLMNOPQRSTUVWXYZ"
    "ÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
_GSM7_EXT = set("^{}\\[~]|€\f")


@dataclass(frozen=True)
class StoragePlan:
    buy_packages: int  # packages to connect now
    free_bytes: int  # bytes of the oldest recordings to delete


def capacity(packages: int, free_gb: int = 5, package_gb: int = 5) -> int:
    return (free_gb + packages * package_gb) * GB


def storage_plan(
    used: int,
    incoming: int,
    packages: int,
    auto_buy: bool,
    free_gb: int = 5,
    package_gb: int = 5,
    max_gb: int = 50,
) -> StoragePlan:
    if used + incoming <= capacity(packages, free_gb, package_gb):
        return StoragePlan(0, 0)
    max_packages = (max_gb - free_gb) // package_gb
    buy = 0
    if auto_buy:
        while packages + buy < max_packages and used + incoming > capacity(
            packages + buy, free_gb, package_gb
        ):
            buy += 1
    overflow = used + incoming - capacity(packages + buy, free_gb, package_gb)
    return StoragePlan(buy, max(0, overflow))


def sms_parts(text: str) -> int:
    if not text:
        return 1
    if all(ch in _GSM7 or ch in _GSM7_EXT for ch in text):
        units = sum(2 if ch in _GSM7_EXT else 1 for ch in text)
        return 1 if units <= 160 else -(-units // 153)
    # UCS-2 counts UTF-16 code units: a character outside the BMP takes two.
    units = len(text.encode("utf-16-le")) // 2
    return 1 if units <= 70 else -(-units // 67)
