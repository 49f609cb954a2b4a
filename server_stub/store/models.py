"""SQLAlchemy models: the whole stored configuration of every tenant.

Conventions (ARCHITECTURE.md): UTC timestamps, money as integer kopecks, phone numbers as
E.164 strings. Every tenant-owned row carries ``domain_id`` so that a single predicate keeps
tenants apart; the API layer adds it to every query (see ``server_stub.api.crud``).
"""

from __future__ import annotations

import enum
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    DateTime,
    Enum,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship
from sqlalchemy.types import TypeDecorator


def utcnow() -> datetime:
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC datetimes on both SQLite (which drops tzinfo) and PostgreSQL."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime stored; use UTC-aware datetimes")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map = {datetime: UTCDateTime(), dict[str, Any]: JSON}


def _enum(cls: type[enum.Enum]) -> Enum:
    # Stored as plain strings (no native PG enum) so that adding a value needs no migration dance.
    return Enum(cls, native_enum=False, length=32, values_callable=lambda e: [m.value for m in e])


# --- enumerations -------------------------------------------------------------------------


class BlockState(StrEnum):
    NONE = "none"
    FINANCIAL = "financial"
    ADMINISTRATIVE = "administrative"


class DomainMode(StrEnum):
    TEST = "test"
    COMMERCIAL = "commercial"


class PaymentScheme(StrEnum):
    ADVANCE = "advance"
    CREDIT = "credit"
    UNLIMITED = "unlimited"


class OutgoingRestriction(StrEnum):
    """Outgoing call restriction levels of the manual, plus INHERIT (use the domain default)."""

    INHERIT = "inherit"
    NONE = "none"
    NO_INTERNATIONAL = "no_international"
    NO_INTERNATIONAL_LONG_DISTANCE = "no_international_long_distance"
    INTERNAL_ONLY = "internal_only"


class GroupAlgorithm(StrEnum):
    NOT_SET = "not_set"  # calls go to the group's voicemail
    RING_ALL = "ring_all"
    SERIAL = "serial"  # one after another (department ring mode, seed 003)
    ADD_NEXT = "add_next"  # ring one, then add the next every step (seed 003)
    RANDOM = "random"  # ACD
    LONGEST_IDLE = "longest_idle"  # ACD
    LEAST_BUSY = "least_busy"  # ACD: least talk/work ratio


ACD_ALGORITHMS = frozenset(
    {GroupAlgorithm.RANDOM, GroupAlgorithm.LONGEST_IDLE, GroupAlgorithm.LEAST_BUSY}
)


class NumberKind(StrEnum):
    LANDLINE = "landline"
    TOLL_FREE = "toll_free"  # 8-800: never usable as an outgoing caller ID
    MOBILE = "mobile"


class PhoneKind(StrEnum):
    IP = "ip"
    MOBILE = "mobile"
    WORK = "work"
    HOME = "home"
    OTHER = "other"


class PoolRole(StrEnum):
    SUPERVISOR = "supervisor"
    SUBGROUP_ADMIN = "subgroup_admin"


# --- tenancy ------------------------------------------------------------------------------


class DomainPool(Base):
    __tablename__ = "domain_pools"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120), unique=True)
    routing_number_length: Mapped[int] = mapped_column(Integer, default=4)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Subgroup(Base):
    """A bucket of domains inside a pool; each pool has one built-in «Без группы»."""

    __tablename__ = "subgroups"
    __table_args__ = (UniqueConstraint("pool_id", "name"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    pool_id: Mapped[int] = mapped_column(ForeignKey("domain_pools.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(120))
    is_default: Mapped[bool] = mapped_column(Boolean, default=False)


class Domain(Base):
    __tablename__ = "domains"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(253), unique=True)  # technical name, e.g. demo.pult
    display_name: Mapped[str] = mapped_column(String(200), default="")
    company_name: Mapped[str] = mapped_column(String(200), default="")
    pool_id: Mapped[int | None] = mapped_column(ForeignKey("domain_pools.id"), index=True)
    subgroup_id: Mapped[int | None] = mapped_column(ForeignKey("subgroups.id"))
    account_number: Mapped[str] = mapped_column(String(32), unique=True)  # НЛС
    routing_number: Mapped[str | None] = mapped_column(String(16))
    timezone: Mapped[str] = mapped_column(String(64), default="Europe/Moscow")
    block_state: Mapped[BlockState] = mapped_column(_enum(BlockState), default=BlockState.NONE)
    mode: Mapped[DomainMode] = mapped_column(_enum(DomainMode), default=DomainMode.COMMERCIAL)
    payment_scheme: Mapped[PaymentScheme] = mapped_column(
        _enum(PaymentScheme), default=PaymentScheme.ADVANCE
    )
    max_users: Mapped[int] = mapped_column(Integer, default=500)
    notification_email: Mapped[str] = mapped_column(String(254), default="")
    default_outgoing_number_id: Mapped[int | None] = mapped_column(
        ForeignKey("numbers.id", use_alter=True, ondelete="SET NULL")
    )
    default_restriction: Mapped[OutgoingRestriction] = mapped_column(
        _enum(OutgoingRestriction), default=OutgoingRestriction.NONE
    )
    pickup_code: Mapped[str] = mapped_column(String(8), default="*8")
    # Tariff figures used by the price quote until the billing engine owns tariffs.
    users_included: Mapped[int] = mapped_column(Integer, default=10)
    extra_user_monthly_kopecks: Mapped[int] = mapped_column(BigInteger, default=30000)
    user_connection_kopecks: Mapped[int] = mapped_column(BigInteger, default=0)
    balance_kopecks: Mapped[int] = mapped_column(BigInteger, default=0)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    __table_args__ = (UniqueConstraint("pool_id", "routing_number"),)


class PoolAdmin(Base):
    """A pool-level account (supervisor or sub-group admin); logs in without a domain."""

    __tablename__ = "pool_admins"
    id: Mapped[int] = mapped_column(primary_key=True)
    pool_id: Mapped[int] = mapped_column(ForeignKey("domain_pools.id", ondelete="CASCADE"))
    login: Mapped[str] = mapped_column(String(64), unique=True)
    display_name: Mapped[str] = mapped_column(String(200))
    email: Mapped[str] = mapped_column(String(254), default="")
    phone: Mapped[str] = mapped_column(String(32), default="")
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[PoolRole] = mapped_column(_enum(PoolRole), default=PoolRole.SUBGROUP_ADMIN)
    blocked: Mapped[bool] = mapped_column(Boolean, default=False)
    allowed_subgroup_ids: Mapped[list[int]] = mapped_column(JSON, default=list)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


# --- people -------------------------------------------------------------------------------


class User(Base):
    __tablename__ = "users"
    __table_args__ = (
        UniqueConstraint("domain_id", "login"),
        UniqueConstraint("domain_id", "extension"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    domain_id: Mapped[int] = mapped_column(ForeignKey("domains.id", ondelete="CASCADE"), index=True)
    login: Mapped[str] = mapped_column(String(64))
    display_name: Mapped[str] = mapped_column(String(200))
    position: Mapped[str] = mapped_column(String(200), default="")
    email: Mapped[str] = mapped_column(String(254), default="")
    extension: Mapped[str] = mapped_column(String(5))
    password_hash: Mapped[str] = mapped_column(String(255))
    # SIP digest secrets: HA1 = MD5(login:realm:password) and HA1B = MD5(login@realm:realm:pw),
    # the two forms Kamailio's auth_db reads; the plain SIP password is never stored.
    sip_ha1: Mapped[str] = mapped_column(String(64))
    sip_ha1b: Mapped[str] = mapped_column(String(64))
    is_operator: Mapped[bool] = mapped_column(Boolean, default=False)
    is_supervisor: Mapped[bool] = mapped_column(Boolean, default=False)
    is_admin: Mapped[bool] = mapped_column(Boolean, default=False)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    outgoing_restriction: Mapped[OutgoingRestriction] = mapped_column(
        _enum(OutgoingRestriction), default=OutgoingRestriction.INHERIT
    )
    outgoing_number_id: Mapped[int | None] = mapped_column(
        ForeignKey("numbers.id", ondelete="SET NULL")
    )
    recording: Mapped[bool] = mapped_column(Boolean, default=False)
    voicemail_enabled: Mapped[bool] = mapped_column(Boolean, default=False)
    voicemail_to_email: Mapped[bool] = mapped_column(Boolean, default=False)
    pickup_group_id: Mapped[int | None] = mapped_column(
        ForeignKey("pickup_groups.id", ondelete="SET NULL")
    )
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    memberships: Mapped[list[GroupMember]] = relationship(
        back_populates="user", cascade="all, delete-orphan"
    )

    @property
    def roles(self) -> list[str]:
        roles = ["user"]
        if self.is_operator:
            roles.append("operator")
        if self.is_supervisor:
            roles.append("supervisor")
        if self.is_admin:
            roles.append("domain_admin")
        return roles


class CallGroup(Base):
    __tablename__ = "call_groups"
    __table_args__ = (
        UniqueConstraint("domain_id", "extension"),
        UniqueConstraint("domain_id", "name"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    domain_id: Mapped[int] = mapped_column(ForeignKey("domains.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(120))
    extension: Mapped[str] = mapped_column(String(5))
    algorithm: Mapped[GroupAlgorithm] = mapped_column(
        _enum(GroupAlgorithm), default=GroupAlgorithm.NOT_SET
    )
    email: Mapped[str] = mapped_column(String(254), default="")
    # serial / add-the-next timing (seed 003): step 5–30 s, total wait 15 s – 10 min
    step_seconds: Mapped[int] = mapped_column(Integer, default=15)
    total_wait_seconds: Mapped[int] = mapped_column(Integer, default=60)
    voicemail_enabled: Mapped[bool] = mapped_column(Boolean, default=False)
    # Operator workstation settings (РМО), used when the algorithm is ACD.
    greeting_text: Mapped[str] = mapped_column(Text, default="")
    answer_seconds: Mapped[int] = mapped_column(Integer, default=20)
    post_call_seconds: Mapped[int] = mapped_column(Integer, default=30)
    avg_talk_seconds: Mapped[int] = mapped_column(Integer, default=0)
    crm_url_template: Mapped[str] = mapped_column(String(2000), default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    members: Mapped[list[GroupMember]] = relationship(
        back_populates="group", cascade="all, delete-orphan", order_by="GroupMember.priority"
    )


class GroupMember(Base):
    __tablename__ = "group_members"
    group_id: Mapped[int] = mapped_column(
        ForeignKey("call_groups.id", ondelete="CASCADE"), primary_key=True
    )
    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    priority: Mapped[int] = mapped_column(Integer, default=10)
    group: Mapped[CallGroup] = relationship(back_populates="members")
    user: Mapped[User] = relationship(back_populates="memberships")


class PickupGroup(Base):
    __tablename__ = "pickup_groups"
    __table_args__ = (UniqueConstraint("domain_id", "name"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    domain_id: Mapped[int] = mapped_column(ForeignKey("domains.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(120))


# --- numbers and lists --------------------------------------------------------------------


class Number(Base):
    __tablename__ = "numbers"
    id: Mapped[int] = mapped_column(primary_key=True)
    domain_id: Mapped[int] = mapped_column(ForeignKey("domains.id", ondelete="CASCADE"), index=True)
    e164: Mapped[str] = mapped_column(String(20), unique=True)  # a number belongs to one domain
    kind: Mapped[NumberKind] = mapped_column(_enum(NumberKind), default=NumberKind.LANDLINE)
    name: Mapped[str] = mapped_column(String(120), default="")
    schedule_id: Mapped[int | None] = mapped_column(ForeignKey("schedules.id", ondelete="SET NULL"))
    list_mode: Mapped[str] = mapped_column(String(8), default="none", server_default="none")


class VipNumber(Base):
    __tablename__ = "vip_numbers"
    __table_args__ = (UniqueConstraint("domain_id", "e164"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    domain_id: Mapped[int] = mapped_column(ForeignKey("domains.id", ondelete="CASCADE"), index=True)
    e164: Mapped[str] = mapped_column(String(20))
    priority: Mapped[int] = mapped_column(Integer)  # lower value is served first
    comment: Mapped[str] = mapped_column(String(500), default="")


class Schedule(Base):
    """A week grid: working intervals plus up to three named extra intervals (seed 001).

    ``intervals`` is ``{"working": [[weekday, "HH:MM", "HH:MM"], ...], "extra": [{"name": ...,
    "intervals": [...]}, ...]}``; the routing engine evaluates it in the domain's time zone.
    """

    __tablename__ = "schedules"
    __table_args__ = (UniqueConstraint("domain_id", "name"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    domain_id: Mapped[int] = mapped_column(ForeignKey("domains.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(120))
    is_company: Mapped[bool] = mapped_column(Boolean, default=False)
    intervals: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


# --- address books ------------------------------------------------------------------------


class ContactGroup(Base):
    """A contact group; ``owner_user_id`` NULL means the company (shared) book."""

    __tablename__ = "contact_groups"
    id: Mapped[int] = mapped_column(primary_key=True)
    domain_id: Mapped[int] = mapped_column(ForeignKey("domains.id", ondelete="CASCADE"), index=True)
    owner_user_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), index=True
    )
    name: Mapped[str] = mapped_column(String(120))


class Contact(Base):
    __tablename__ = "contacts"
    id: Mapped[int] = mapped_column(primary_key=True)
    domain_id: Mapped[int] = mapped_column(ForeignKey("domains.id", ondelete="CASCADE"), index=True)
    owner_user_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), index=True
    )
    group_id: Mapped[int | None] = mapped_column(
        ForeignKey("contact_groups.id", ondelete="SET NULL")
    )
    name: Mapped[str] = mapped_column(String(200))
    speed_dial: Mapped[str | None] = mapped_column(String(5))
    email: Mapped[str] = mapped_column(String(254), default="")
    position: Mapped[str] = mapped_column(String(200), default="")
    phones: Mapped[list[ContactPhone]] = relationship(
        back_populates="contact", cascade="all, delete-orphan", order_by="ContactPhone.id"
    )


class ContactPhone(Base):
    __tablename__ = "contact_phones"
    id: Mapped[int] = mapped_column(primary_key=True)
    contact_id: Mapped[int] = mapped_column(
        ForeignKey("contacts.id", ondelete="CASCADE"), index=True
    )
    kind: Mapped[PhoneKind] = mapped_column(_enum(PhoneKind))
    number: Mapped[str] = mapped_column(String(32))
    contact: Mapped[Contact] = relationship(back_populates="phones")


# --- devices ------------------------------------------------------------------------------


class SipDevice(Base):
    __tablename__ = "sip_devices"
    id: Mapped[int] = mapped_column(primary_key=True)
    domain_id: Mapped[int] = mapped_column(ForeignKey("domains.id", ondelete="CASCADE"), index=True)
    mac: Mapped[str] = mapped_column(String(12), unique=True)  # 12 upper-case hex digits
    serial: Mapped[str] = mapped_column(String(64), unique=True)
    model: Mapped[str] = mapped_column(String(64), default="")
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    use_domain_settings: Mapped[bool] = mapped_column(Boolean, default=True)
    push_proxy: Mapped[bool] = mapped_column(Boolean, default=False)
    primary_proxy: Mapped[str] = mapped_column(String(253), default="")
    primary_port: Mapped[int] = mapped_column(Integer, default=5060)
    backup_proxy: Mapped[str] = mapped_column(String(253), default="")
    backup_port: Mapped[int] = mapped_column(Integer, default=5060)


# --- security, audit ----------------------------------------------------------------------


class RefreshToken(Base):
    __tablename__ = "refresh_tokens"
    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    subject: Mapped[str] = mapped_column(String(64), index=True)  # "u:<id>" or "p:<id>"
    claims: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    expires_at: Mapped[datetime] = mapped_column()
    revoked: Mapped[bool] = mapped_column(Boolean, default=False)


class LoginAttempt(Base):
    __tablename__ = "login_attempts"
    __table_args__ = (
        Index("ix_login_attempts_login_at", "login", "at"),
        Index("ix_login_attempts_ip_at", "address", "at"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    login: Mapped[str] = mapped_column(String(320))
    address: Mapped[str] = mapped_column(String(64))
    at: Mapped[datetime] = mapped_column(default=utcnow)
    success: Mapped[bool] = mapped_column(Boolean)


class PasswordReset(Base):
    __tablename__ = "password_resets"
    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    expires_at: Mapped[datetime] = mapped_column()
    used: Mapped[bool] = mapped_column(Boolean, default=False)


class AuditEntry(Base):
    """One row per login and per change; append-only (no API updates or deletes it)."""

    __tablename__ = "audit_entries"
    __table_args__ = (Index("ix_audit_domain_at", "domain_id", "at"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(default=utcnow)
    domain_id: Mapped[int | None] = mapped_column(Integer)  # no FK: history outlives the domain
    pool_id: Mapped[int | None] = mapped_column(Integer)
    actor_kind: Mapped[str] = mapped_column(String(16))  # user | pool_admin | system | anonymous
    actor_id: Mapped[int | None] = mapped_column(Integer)
    actor_login: Mapped[str] = mapped_column(String(320))
    # Set when a pool admin acts inside a domain through "open as admin".
    on_behalf_of: Mapped[str | None] = mapped_column(String(320))
    address: Mapped[str] = mapped_column(String(64), default="")
    action: Mapped[str] = mapped_column(String(32))
    object_type: Mapped[str] = mapped_column(String(64))
    object_id: Mapped[str | None] = mapped_column(String(64))
    object_name: Mapped[str] = mapped_column(String(300), default="")
    before: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    after: Mapped[dict[str, Any] | None] = mapped_column(JSON)


# --- routing ------------------------------------------------------------------------------


class ListMode(StrEnum):
    NONE = "none"
    BLACK = "black"
    WHITE = "white"


class RuleTarget(StrEnum):
    USER = "user"
    USER_VOICEMAIL = "user_voicemail"
    USER_FAX = "user_fax"
    GROUP = "group"
    GROUP_VOICEMAIL = "group_voicemail"
    GROUP_FAX = "group_fax"
    IVR = "ivr"
    EXTERNAL = "external"
    PRIVATE_ROUTE = "private_route"
    HANGUP = "hangup"


class NumberFilter(Base):
    """Black/white list of one number; the number's ``list_mode`` says which one is used."""

    __tablename__ = "number_filters"
    __table_args__ = (UniqueConstraint("number_id", "e164"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    domain_id: Mapped[int] = mapped_column(ForeignKey("domains.id", ondelete="CASCADE"), index=True)
    number_id: Mapped[int] = mapped_column(ForeignKey("numbers.id", ondelete="CASCADE"), index=True)
    e164: Mapped[str] = mapped_column(String(20))
    comment: Mapped[str] = mapped_column(String(200), default="")


class RoutingRule(Base):
    """One rule of an incoming number: conditions (schedule, caller prefixes) and a target.

    The schedule condition names a stored schedule (company or the number's own) and which
    of its intervals must be active ("working", "non_working" or an extra interval's name).
    """

    __tablename__ = "routing_rules"
    id: Mapped[int] = mapped_column(primary_key=True)
    domain_id: Mapped[int] = mapped_column(ForeignKey("domains.id", ondelete="CASCADE"), index=True)
    number_id: Mapped[int] = mapped_column(ForeignKey("numbers.id", ondelete="CASCADE"), index=True)
    priority: Mapped[int] = mapped_column(Integer)
    name: Mapped[str] = mapped_column(String(120), default="")
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    schedule_id: Mapped[int | None] = mapped_column(ForeignKey("schedules.id", ondelete="SET NULL"))
    schedule_when: Mapped[str] = mapped_column(String(60), default="working")
    prefixes: Mapped[list[str]] = mapped_column(JSON, default=list)
    target: Mapped[RuleTarget] = mapped_column(_enum(RuleTarget))
    target_ref: Mapped[int | None] = mapped_column(Integer)  # user / group / IVR id
    target_number: Mapped[str] = mapped_column(String(32), default="")


class ForwardingContact(Base):
    """A contact of a user's forwarding scheme; every user has one built-in SIP contact."""

    __tablename__ = "forwarding_contacts"
    id: Mapped[int] = mapped_column(primary_key=True)
    domain_id: Mapped[int] = mapped_column(ForeignKey("domains.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    is_sip: Mapped[bool] = mapped_column(Boolean, default=False)
    number: Mapped[str] = mapped_column(String(32), default="")
    priority: Mapped[int] = mapped_column(Integer, default=10)
    ring_seconds: Mapped[int] = mapped_column(Integer, default=40)
    schedule_id: Mapped[int | None] = mapped_column(ForeignKey("schedules.id", ondelete="SET NULL"))
    schedule_when: Mapped[str] = mapped_column(String(60), default="working")
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
