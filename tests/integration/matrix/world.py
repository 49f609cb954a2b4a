"""The seeded world of the matrices: one object of every kind per "side", and A's fingerprint.

A *side* is a set of people (admin, supervisor, operator, user) plus one object of every kind
in one domain: the objects a path parameter or a request body can name. Domain A's side is the
victim; other sides are attackers (domain B, a colleague inside A, another pool) or throwaway
sides for tests that change what they touch.

Every name of A's side carries the label «Альфа» and every number is unique, so a response
that mentions any of them has leaked A's data (``markers``). ``snapshot`` reads every row that
belongs to A (and to A's pool) so a test can prove that a refused request changed nothing.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import cache
from typing import Any

import pytest
from sqlalchemy import Table, select
from sqlalchemy.orm import Session

from server_stub.api import security
from server_stub.store import provision
from server_stub.store.models import (
    AuditEntry,
    Base,
    CallGroup,
    Contact,
    ContactGroup,
    ContactPhone,
    Domain,
    DomainPool,
    ForwardingContact,
    GroupAlgorithm,
    GroupMember,
    Number,
    NumberFilter,
    NumberKind,
    PhoneKind,
    PickupGroup,
    PoolAdmin,
    RoutingRule,
    RuleTarget,
    Schedule,
    SipDevice,
    Subgroup,
    User,
    VipNumber,
)
from server_stub.store.models_acd import BreakReason, OperatorMessage, OperatorMessageRecipient
from server_stub.store.models_calls import Cdr
from server_stub.store.models_campaigns import Campaign, CampaignClient, CampaignStatus
from tests.factories import PASSWORD, World, auth, make_world, token_for_pool_admin, token_for_user

_counter = itertools.count(1)

# The shared secrets of the two callers that are not people: the SIP edge (Kamailio, header
# ``X-Pult-Edge-Token``) and the provider's systems (bank notifications, the scheduler, header
# ``X-Pult-System-Token``). conftest.py puts them in the environment the app reads them from.
EDGE_TOKEN = "matrix-edge-secret"
SYSTEM_TOKEN = "matrix-system-secret"
EDGE_HEADER = "X-Pult-Edge-Token"
SYSTEM_HEADER = "X-Pult-System-Token"
# The login audit rows name when the system acts (billing's ``SYSTEM`` principal).
SYSTEM_LOGIN = "system"


def unique() -> int:
    """A number never handed out before in this test process (names, numbers, MACs)."""
    return next(_counter)


def landline(n: int) -> str:
    return f"+7495{3000000 + n:07d}"


def mobile(n: int) -> str:
    return f"+7916{3000000 + n:07d}"


def mac(n: int) -> str:
    return f"{0xA1B2C3000000 + n:012X}"


@cache
def _hash_with(hasher: object, password: str) -> str:
    return _real_hash(password)


def _hash_once(password: str) -> str:
    return _hash_with(security._hasher, password)


_real_hash = provision.hash_password


@contextmanager
def fast_hashing() -> Iterator[None]:
    """argon2 costs ~0.1–0.3 s; every seeded account shares a password, so hash it once.

    The cached value is a genuine argon2 hash, so logging in with it works as usual.
    """
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(provision, "hash_password", _hash_once)
        yield


@dataclass
class Side:
    label: str
    domain: Domain
    admin: User
    supervisor: User
    operator: User
    user: User
    employee: User  # the target of /users/{id}: in a group, a pickup group, owns a device
    member: User  # a member of ``group``
    group: CallGroup
    pickup: PickupGroup
    number: Number
    schedule: Schedule
    vip: VipNumber
    contact_group: ContactGroup
    contact: Contact
    personal_group: ContactGroup  # the admin's own book
    personal_contact: Contact
    device: SipDevice
    audit: AuditEntry
    spare_number: Number  # a second number (copying rules needs two)
    rule: RoutingRule  # of ``number``
    number_filter: NumberFilter  # of ``number``
    forwarding: ForwardingContact  # of ``employee``
    subgroup: Subgroup  # in the domain's pool
    pool_admin: PoolAdmin  # a sub-group admin allowed ``subgroup``
    break_reason: BreakReason
    message: OperatorMessage  # to ``group``'s operators; ``operator`` is a recipient
    campaign: Campaign  # an active outbound campaign of ``group`` with one client
    campaign_status: CampaignStatus  # a custom result status of ``campaign``
    markers: tuple[str, ...] = ()  # strings that only this side's data contains
    personal_markers: tuple[str, ...] = ()  # only the admin's personal book contains these

    def full_login(self, who: str = "admin") -> str:
        user: User = getattr(self, who)
        return f"{user.login}@{self.domain.name}"

    def headers(self, who: str = "admin") -> dict[str, str]:
        return auth(token_for_user(getattr(self, who)))


def _person(
    db: Session,
    domain: Domain,
    login: str,
    name: str,
    *,
    is_admin: bool = False,
    is_supervisor: bool = False,
    is_operator: bool = False,
) -> User:
    user = provision.create_user(
        db,
        domain,
        login,
        PASSWORD,
        name,
        is_admin=is_admin,
        is_supervisor=is_supervisor,
        is_operator=is_operator,
    )
    user.email = f"{login}@{domain.name}"
    return user


def make_side(
    db: Session,
    domain: Domain,
    label: str,
    people: tuple[User, User, User, User] | None = None,
    *,
    own_subgroup: bool = False,
) -> Side:
    """One object of every kind in ``domain``; ``people`` reuses existing role holders.

    ``own_subgroup`` moves the domain into the side's new sub-group (so that sub-group's
    admin manages it).
    """
    n = unique()
    tag = f"s{n}"
    if people is None:
        people = (
            _person(db, domain, f"adm{tag}", f"{label} Админ", is_admin=True),
            _person(db, domain, f"sup{tag}", f"{label} Супервизор", is_supervisor=True),
            _person(db, domain, f"op{tag}", f"{label} Оператор", is_operator=True),
            _person(db, domain, f"usr{tag}", f"{label} Сотрудник"),
        )
    admin, supervisor, operator, user = people
    for person in people:
        person.email = person.email or f"{person.login}@{domain.name}"
    employee = _person(db, domain, f"emp{tag}", f"{label} Работник")
    member = _person(db, domain, f"mem{tag}", f"{label} Участник", is_operator=True)

    schedule = Schedule(
        domain_id=domain.id,
        name=f"{label}-график",
        intervals={"working": [[0, "09:00", "18:00"]], "extra": []},
    )
    pickup = PickupGroup(domain_id=domain.id, name=f"{label}-подхват")
    db.add_all([schedule, pickup])
    db.flush()
    group = CallGroup(
        domain_id=domain.id,
        name=f"{label}-продажи",
        extension=provision.next_free_extension(db, domain.id, start=700),
        algorithm=GroupAlgorithm.LONGEST_IDLE,
        greeting_text=f"{label}-приветствие",
    )
    number = Number(
        domain_id=domain.id,
        e164=landline(n),
        kind=NumberKind.LANDLINE,
        name=f"{label}-линия",
        schedule_id=schedule.id,
    )
    vip = VipNumber(domain_id=domain.id, e164=mobile(n), priority=5, comment=f"{label}-VIP")
    contact_group = ContactGroup(domain_id=domain.id, name=f"{label}-партнёры")
    personal_group = ContactGroup(
        domain_id=domain.id, owner_user_id=admin.id, name=f"{label}-личная-группа"
    )
    db.add_all([group, number, vip, contact_group, personal_group])
    db.flush()
    db.add(GroupMember(group_id=group.id, user_id=member.id, priority=10))
    break_reason = BreakReason(domain_id=domain.id, name=f"{label}-перерыв")
    message = OperatorMessage(
        domain_id=domain.id,
        title=f"{label}-сообщение",
        text=f"{label}-текст сообщения",
        group_ids=[group.id],
        author=admin.login,
    )
    db.add_all([break_reason, message])
    db.flush()
    db.add(OperatorMessageRecipient(message_id=message.id, user_id=operator.id))
    now = datetime.now(UTC)
    campaign = Campaign(
        domain_id=domain.id,
        name=f"{label}-кампания",
        group_id=group.id,
        starts_at=now - timedelta(days=1),
        ends_at=now + timedelta(days=30),
        active=True,
    )
    db.add(campaign)
    db.flush()
    campaign_status = CampaignStatus(
        domain_id=domain.id, campaign_id=campaign.id, name=f"{label}-итог", kind="custom"
    )
    db.add_all(
        [
            campaign_status,
            CampaignClient(
                domain_id=domain.id,
                campaign_id=campaign.id,
                name=f"{label}-клиент",
                numbers=[mobile(n + 800_000)],
            ),
        ]
    )
    # A call record naming the side's number, so a call history that leaks it shows a marker.
    db.add(
        Cdr(
            call_id=f"matrix-cdr-{tag}",
            domain_id=domain.id,
            direction="incoming",
            source="trunk",
            caller=mobile(n),
            called=landline(n),
            trace=[[f"{label}-маршрут", f"{label}-route"]],
        )
    )
    employee.pickup_group_id = pickup.id
    contact = Contact(
        domain_id=domain.id,
        group_id=contact_group.id,
        name=f"{label}-контакт",
        speed_dial=str(10000 + n),
    )
    contact.phones = [ContactPhone(kind=PhoneKind.WORK, number=landline(n + 500_000))]
    personal_contact = Contact(
        domain_id=domain.id,
        owner_user_id=admin.id,
        group_id=personal_group.id,
        name=f"{label}-личный-контакт",
        speed_dial=str(20000 + n),
    )
    personal_contact.phones = [ContactPhone(kind=PhoneKind.MOBILE, number=mobile(n + 500_000))]
    device = SipDevice(
        domain_id=domain.id,
        mac=mac(n),
        serial=f"{label}-SN-{n}",
        model="Yealink T46U",
        user_id=employee.id,
    )
    audit_row = AuditEntry(
        domain_id=domain.id,
        pool_id=domain.pool_id,
        actor_kind="user",
        actor_id=admin.id,
        actor_login=f"{admin.login}@{domain.name}",
        action="update",
        object_type="vip_number",
        object_id=str(n),
        object_name=f"{label}-аудит",
    )
    spare_number = Number(domain_id=domain.id, e164=landline(n + 600_000), name=f"{label}-резерв")
    rule = RoutingRule(
        domain_id=domain.id,
        number_id=number.id,
        priority=10,
        name=f"{label}-правило",
        schedule_id=schedule.id,
        target=RuleTarget.USER,
        target_ref=employee.id,
    )
    number_filter = NumberFilter(
        domain_id=domain.id,
        number_id=number.id,
        e164=mobile(n + 600_000),
        comment=f"{label}-фильтр",
    )
    forwarding = ForwardingContact(
        domain_id=domain.id, user_id=employee.id, number=mobile(n + 700_000), priority=20
    )
    db.add_all(
        [
            contact,
            personal_contact,
            device,
            audit_row,
            spare_number,
            rule,
            number_filter,
            forwarding,
        ]
    )
    assert domain.pool_id is not None, "matrix domains live in a pool"
    subgroup = Subgroup(pool_id=domain.pool_id, name=f"{label}-подгруппа")
    db.add(subgroup)
    db.flush()
    if own_subgroup:
        domain.subgroup_id = subgroup.id
    pool = db.get(DomainPool, domain.pool_id)
    assert pool is not None
    pool_admin = provision.create_pool_admin(
        db,
        pool,
        f"sub{tag}",
        PASSWORD,
        f"{label} Администратор подгруппы",
        allowed_subgroup_ids=[subgroup.id],
        email=f"sub{tag}@example.com",
    )
    db.flush()
    side = Side(
        label=label,
        domain=domain,
        admin=admin,
        supervisor=supervisor,
        operator=operator,
        user=user,
        employee=employee,
        member=member,
        group=group,
        pickup=pickup,
        number=number,
        schedule=schedule,
        vip=vip,
        contact_group=contact_group,
        contact=contact,
        personal_group=personal_group,
        personal_contact=personal_contact,
        device=device,
        audit=audit_row,
        spare_number=spare_number,
        rule=rule,
        number_filter=number_filter,
        forwarding=forwarding,
        subgroup=subgroup,
        pool_admin=pool_admin,
        break_reason=break_reason,
        message=message,
        campaign=campaign,
        campaign_status=campaign_status,
    )
    side.personal_markers = (
        personal_group.name,
        personal_contact.name,
        mobile(n + 500_000)[2:],
        mobile(n + 700_000)[2:],  # the employee's forwarding number
    )
    side.markers = (
        label,
        mac(n),
        device.serial,
        landline(n)[2:],
        mobile(n)[2:],
        landline(n + 500_000)[2:],
        landline(n + 600_000)[2:],
        mobile(n + 600_000)[2:],
        *side.personal_markers,
    )
    return side


@dataclass
class MatrixWorld:
    """Pool P with domains A (victim) and B; pool Q with domain C and its own supervisor."""

    base: World
    a: Side
    b: Side
    c: Side  # another pool's domain
    other_pool_supervisor: PoolAdmin
    spare_domain: Domain  # in pool P, for pool operations that move domains around
    extra: list[Side] = field(default_factory=list)

    @property
    def victim_markers(self) -> tuple[str, ...]:
        # A's domain name and the names tests.factories gives A's people.
        people = (self.base.a.admin, self.base.a.supervisor, self.base.a.operator, self.base.a.user)
        return (*self.a.markers, self.a.domain.name, *(p.display_name for p in people))

    def role_headers(self, role: str, side: Side | None = None) -> dict[str, str]:
        """Auth headers of ``role`` acting on ``side`` (A unless told otherwise)."""
        side = side or self.a
        if role == "anonymous":
            return {}
        # Machine callers carry only their shared secret, never a person's token.
        if role == "edge":
            return {EDGE_HEADER: EDGE_TOKEN}
        if role == "system":
            return {SYSTEM_HEADER: SYSTEM_TOKEN}
        if role in ("user", "operator", "supervisor"):
            return side.headers(role)
        if role == "domain_admin":
            return side.headers("admin")
        if role == "pool_supervisor":
            return auth(token_for_pool_admin(self._supervisor_of(side)))
        if role == "pool_subgroup_admin":
            return auth(token_for_pool_admin(side.pool_admin))
        if role == "pool_in_domain":
            return auth(token_for_pool_admin(self._supervisor_of(side), side.domain.id))
        raise AssertionError(f"unknown role {role}")

    def role_login(self, role: str, side: Side | None = None) -> str:
        """The login an audit row must name when ``role`` acts on ``side``."""
        side = side or self.a
        if role in ("user", "operator", "supervisor"):
            return side.full_login(role)
        if role in ("domain_admin", "anonymous"):
            return side.full_login("admin")
        if role in ("pool_supervisor", "pool_in_domain"):
            return self._supervisor_of(side).login
        if role == "pool_subgroup_admin":
            return side.pool_admin.login
        if role in ("system", "edge"):
            return SYSTEM_LOGIN
        raise AssertionError(f"unknown role {role}")

    def _supervisor_of(self, side: Side) -> PoolAdmin:
        return self.other_pool_supervisor if side is self.c else self.base.supervisor


def make_matrix_world(db: Session) -> MatrixWorld:
    with fast_hashing():
        base = make_world(db)
        a_people = (base.a.admin, base.a.supervisor, base.a.operator, base.a.user)
        b_people = (base.b.admin, base.b.supervisor, base.b.operator, base.b.user)
        a = make_side(db, base.a.domain, "Альфа", a_people, own_subgroup=True)
        b = make_side(db, base.b.domain, "Бета", b_people)
        other_pool = provision.create_pool(db, "Чужой пул")
        c_domain = provision.create_domain(db, "gamma.test", pool=other_pool, routing_number="4457")
        c = make_side(db, c_domain, "Гамма")
        other_sup = provision.create_pool_admin(
            db, other_pool, "gammasup", PASSWORD, "Гамма-супервизор", supervisor=True
        )
        spare = provision.create_domain(db, "spare.test", pool=base.pool, routing_number="4458")
        # Every change the matrices make works on a throwaway side of six people; a few
        # hundred of them must not reach the domains' user limit (500 by default).
        for domain in (base.a.domain, base.b.domain):
            domain.max_users = 100_000
        db.commit()
    return MatrixWorld(base, a, b, c, other_sup, spare)


def fresh_side(db: Session, domain: Domain, label: str) -> Side:
    with fast_hashing():
        side = make_side(db, domain, label)
        db.commit()
    return side


# --- A's rows, to prove that a refused request changed nothing ----------------------------

# How each table's rows are tied to a domain; a new table must be placed here.
# (column, parent table, parent column): a row belongs to the domain of its parent row.
_CHILD_OF = {
    "group_members": ("group_id", "call_groups", "id"),
    "contact_phones": ("contact_id", "contacts", "id"),
    "password_resets": ("user_id", "users", "id"),
    "operator_message_recipients": ("message_id", "operator_messages", "id"),
    "call_events": ("call_id", "cdrs", "call_id"),
    "call_cuts": ("call_id", "cdrs", "call_id"),  # calls billing asked the edge to end
}
_POOL_TABLES = {"domain_pools": "id", "subgroups": "pool_id", "pool_admins": "pool_id"}
# Session bookkeeping, not configuration: a refused request may legitimately touch them
# (a failed login attempt counter, for instance) and they hold nothing of A's to leak.
_NOT_TENANT_DATA = {"login_attempts", "refresh_tokens"}
# The provider's own tables, shared by every tenant (the call rates): no tenant may change
# them, so the snapshot takes every row.
_PROVIDER_TABLES = {"billing_rates"}


def unclassified_tables() -> list[str]:
    known = set(_CHILD_OF) | set(_POOL_TABLES) | _NOT_TENANT_DATA | _PROVIDER_TABLES | {"domains"}
    return sorted(
        name
        for name, table in Base.metadata.tables.items()
        if name not in known and "domain_id" not in table.c
    )


def _rows(db: Session, table: Table, *where: Any) -> list[str]:
    rows = db.execute(select(table).where(*where)).mappings().all()
    return sorted(repr(sorted(dict(r).items())) for r in rows)


def snapshot(db: Session, domain: Domain) -> dict[str, list[str]]:
    """Every stored row of ``domain`` and of its pool, as comparable text."""
    db.expire_all()
    out: dict[str, list[str]] = {}
    tables = Base.metadata.tables
    for name, table in tables.items():
        if name in _NOT_TENANT_DATA:
            continue
        if name == "domains":
            out[name] = _rows(db, table, table.c.id == domain.id)
        elif name in _POOL_TABLES:
            out[name] = _rows(db, table, table.c[_POOL_TABLES[name]] == domain.pool_id)
        elif name in _PROVIDER_TABLES:
            out[name] = _rows(db, table)
        elif name in _CHILD_OF:
            column, parent, key = _CHILD_OF[name]
            parent_keys = select(tables[parent].c[key]).where(
                tables[parent].c.domain_id == domain.id
            )
            out[name] = _rows(db, table, table.c[column].in_(parent_keys))
        elif "domain_id" in table.c:
            out[name] = _rows(db, table, table.c.domain_id == domain.id)
    return out


def snapshot_personal(db: Session, owner: User) -> dict[str, list[str]]:
    """The rows of ``owner``'s own address book (what a colleague must not touch)."""
    db.expire_all()
    tables = Base.metadata.tables
    contacts, groups, phones = (
        tables["contacts"],
        tables["contact_groups"],
        tables["contact_phones"],
    )
    own = select(contacts.c.id).where(contacts.c.owner_user_id == owner.id)
    return {
        "contacts": _rows(db, contacts, contacts.c.owner_user_id == owner.id),
        "contact_groups": _rows(db, groups, groups.c.owner_user_id == owner.id),
        "contact_phones": _rows(db, phones, phones.c.contact_id.in_(own)),
    }


def snapshot_diff(before: dict[str, list[str]], after: dict[str, list[str]]) -> list[str]:
    changed = []
    for name in before:
        gone = set(before[name]) - set(after[name])
        new = set(after[name]) - set(before[name])
        if gone or new:
            changed.append(f"{name}: -{sorted(gone)[:2]} +{sorted(new)[:2]}")
    return changed


def leaked(text: str, markers: tuple[str, ...]) -> list[str]:
    folded = text.casefold()
    return [m for m in markers if m.casefold() in folded]
