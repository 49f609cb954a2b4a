"""SIP devices (desk phones) attached to the domain (spec 03 §9), admin only.

A device is identified by its MAC address (12 hex digits, stored upper-case without separators,
as the manual's list shows ``80BEC0287ADC``) and serial number; both are unique on the whole
platform, because the provisioning server hands one configuration to one physical phone. A
duplicate is refused without naming the domain that owns the device.

The list takes ``?bound=true`` («Только занятые») or ``?bound=false`` («Только свободные») and
``?q=`` (part of a MAC, with or without separators, or of a serial number).

Domain-level proxy settings («Настройки прокси-сервера для устройств домена») have no columns
in the data model yet, so there is no endpoint for them (see the report).
"""

from __future__ import annotations

import ipaddress
import re
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, Field
from sqlalchemy import ColumnElement, func, or_, select

from server_stub.api.crud import Ctx, Resource
from server_stub.api.deps import ADMIN
from server_stub.api.errors import bilingual_value_error, conflict, field_error
from server_stub.store.models import SipDevice, User

_MAC_SEPARATORS = re.compile(r"[\s:.\-]")
_HEX12 = re.compile(r"^[0-9A-F]{12}$")
_SERIAL = re.compile(r"^[A-Za-z0-9._/-]{1,64}$")
_LABEL = re.compile(r"^(?!-)[A-Za-z0-9-]{1,63}(?<!-)$")


def normalise_mac(raw: str) -> str:
    """'80:be:c0:28:7a:dc', '80-BE-C0-28-7A-DC', '80be.c028.7adc' -> '80BEC0287ADC'."""
    return _MAC_SEPARATORS.sub("", raw).upper()


def _mac(value: str) -> str:
    mac = normalise_mac(value)
    if not _HEX12.match(mac):
        raise bilingual_value_error(
            "MAC-адрес: 12 шестнадцатеричных цифр (например 80BEC0287ADC)",
            "MAC address: 12 hexadecimal digits (for example 80BEC0287ADC)",
        )
    return mac


def _serial(value: str) -> str:
    value = value.strip()
    if not _SERIAL.match(value):
        raise bilingual_value_error(
            "Серийный номер: латинские буквы, цифры, точка, дефис; до 64 символов",
            "Serial number: Latin letters, digits, dot, dash; up to 64 characters",
        )
    return value


def _host(value: str) -> str:
    """An FQDN or an IP address, or empty (no proxy)."""
    value = value.strip().lower().rstrip(".")
    if not value:
        return ""
    try:
        return str(ipaddress.ip_address(value))
    except ValueError:
        pass
    labels = value.split(".")
    if len(value) > 253 or not all(_LABEL.match(label) for label in labels):
        raise bilingual_value_error(
            "Укажите доменное имя (FQDN) или IP-адрес", "Give a host name (FQDN) or an IP address"
        )
    if labels[-1].isdigit():
        raise bilingual_value_error("Неверный IP-адрес", "Not a valid IP address")
    return value


Mac = Annotated[str, Field(min_length=1, max_length=32), AfterValidator(_mac)]
Serial = Annotated[str, Field(min_length=1, max_length=64), AfterValidator(_serial)]
Host = Annotated[str, Field(max_length=253), AfterValidator(_host)]
Port = Annotated[int, Field(ge=1, le=65535)]


class DeviceRead(BaseModel):
    id: int
    mac: str
    serial: str
    model: str
    user_id: int | None
    use_domain_settings: bool
    push_proxy: bool
    primary_proxy: str
    primary_port: int
    backup_proxy: str
    backup_port: int


class DeviceCreate(BaseModel):
    mac: Mac
    serial: Serial
    model: str = Field(default="", max_length=64)
    user_id: int | None = None
    use_domain_settings: bool = True
    push_proxy: bool = False
    primary_proxy: Host = ""
    primary_port: Port = 5060
    backup_proxy: Host = ""
    backup_port: Port = 5060


class DeviceUpdate(BaseModel):
    mac: Mac | None = None
    serial: Serial | None = None
    model: str | None = Field(default=None, max_length=64)
    user_id: int | None = Field(default=None, description="null unbinds the device")
    use_domain_settings: bool | None = None
    push_proxy: bool | None = None
    primary_proxy: Host | None = None
    primary_port: Port | None = None
    backup_proxy: Host | None = None
    backup_port: Port | None = None


def _taken(ctx: Ctx, column: str, value: str, own_id: int | None) -> bool:
    col = getattr(SipDevice, column)
    stmt = select(SipDevice.id).where(col == value)
    if own_id is not None:
        stmt = stmt.where(SipDevice.id != own_id)
    return ctx.session.execute(stmt.limit(1)).first() is not None


def _apply(ctx: Ctx, obj: SipDevice, data: dict[str, Any], creating: bool) -> None:
    user_given = "user_id" in data
    user_id = data.pop("user_id", None)
    data = {k: v for k, v in data.items() if v is not None}
    if "mac" in data and _taken(ctx, "mac", data["mac"], obj.id):
        raise conflict(
            "mac",
            "Устройство с таким MAC-адресом уже подключено",
            "A device with this MAC address is already attached",
        )
    if "serial" in data and _taken(ctx, "serial", data["serial"], obj.id):
        raise conflict(
            "serial",
            "Устройство с таким серийным номером уже подключено",
            "A device with this serial number is already attached",
        )
    if user_given and user_id is not None:
        owner = ctx.session.execute(
            select(User.id).where(User.id == user_id, User.domain_id == ctx.domain_id)
        ).first()
        if owner is None:
            raise field_error("user_id", "Пользователь не найден", "No such user in this domain")
    for key, value in data.items():
        setattr(obj, key, value)
    if user_given:
        obj.user_id = user_id


def _filters(ctx: Ctx) -> list[ColumnElement[bool]]:
    """``bound`` and ``q`` from the query string (MAC search ignores separators and case)."""
    params = ctx.request.query_params if ctx.request is not None else {}
    conds: list[ColumnElement[bool]] = []
    bound = str(params.get("bound", "")).lower()
    if bound == "true":
        conds.append(SipDevice.user_id.is_not(None))
    elif bound == "false":
        conds.append(SipDevice.user_id.is_(None))
    elif bound:
        raise field_error("bound", "Ожидается true или false", "Expected true or false")
    q = str(params.get("q", "")).strip()
    if q:
        mac_part = normalise_mac(q)
        conds.append(
            or_(
                SipDevice.mac.contains(mac_part, autoescape=True),
                func.lower(SipDevice.serial).contains(q.lower(), autoescape=True),
            )
        )
    return conds


resource: Resource[SipDevice] = Resource(
    path="/devices",
    tag="devices",
    model=SipDevice,
    object_type="sip_device",
    read=DeviceRead,
    create=DeviceCreate,
    update=DeviceUpdate,
    read_roles=(ADMIN,),
    write_roles=(ADMIN,),
    apply=_apply,
    name_of=lambda o: o.serial,
    # No search_columns: ``_filters`` does the search so that "80:be:c0" finds 80BEC0….
    scope=_filters,
    order_by="serial",
)
router = resource.router()
