"""Building the routing engine's immutable snapshot of a domain from the database.

A user without a stored SIP contact gets the manual's initial scheme (the built-in SIP
contact, priority 10, 40 s, no schedule), so every user is reachable from the moment they exist.

``cached`` is what the SIP edge's per-INVITE route request uses: building a snapshot costs a
dozen queries, about half of a call's server time, while the configuration changes rarely.
Every write this process sends to a table the snapshot reads (seen in the SQL itself, so ORM
flushes, bulk statements and raw SQL alike) advances a version, once when the statement runs
and once more when its transaction has ended (connection back in the pool, or its next
transaction begins); an entry is used only while the version it was built under is current,
so the first route request after a committed change sees the change. Writes from other
processes (a CLI run beside the server) cannot be seen that way: an entry older than
``TTL_SECONDS`` is rebuilt (beside the call that found it old, which is routed by it once more).
"""

from __future__ import annotations

import logging
import re
import threading
import time
import weakref
from collections import defaultdict
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Engine, event, select
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session
from sqlalchemy.pool import Pool

from server_stub.routing.config import (
    Algorithm,
    Condition,
    DomainCfg,
    ForwardRule,
    GroupCfg,
    ListMode,
    Member,
    NumberCfg,
    Restriction,
    Rule,
    Target,
    TargetKind,
    UserCfg,
)
from server_stub.store.models import (
    BlockState,
    CallGroup,
    Contact,
    ContactPhone,
    Domain,
    ForwardingContact,
    GroupMember,
    Number,
    NumberFilter,
    NumberKind,
    RoutingRule,
    Schedule,
    User,
)

TTL_SECONDS = 2.0
log = logging.getLogger("pult.routing")


def build(session: Session, domain_id: int) -> DomainCfg:
    domain = session.get(Domain, domain_id)
    if domain is None:
        raise LookupError(f"no domain {domain_id}")
    schedules: dict[int, dict[str, Any]] = {
        s.id: s.intervals or {}
        for s in session.execute(select(Schedule).where(Schedule.domain_id == domain_id)).scalars()
    }
    numbers = list(session.execute(select(Number).where(Number.domain_id == domain_id)).scalars())
    number_e164 = {n.id: n.e164 for n in numbers}

    forwarding: dict[int, list[ForwardRule]] = defaultdict(list)
    for c in session.execute(
        select(ForwardingContact).where(ForwardingContact.domain_id == domain_id)
    ).scalars():
        forwarding[c.user_id].append(
            ForwardRule(
                priority=c.priority,
                ring_seconds=c.ring_seconds,
                number=c.number,
                sip=c.is_sip,
                schedule=schedules.get(c.schedule_id) if c.schedule_id else None,
                when=c.schedule_when,
                enabled=c.enabled,
            )
        )
    users = []
    for u in session.execute(select(User).where(User.domain_id == domain_id)).scalars():
        rules = forwarding.get(u.id, [])
        if not any(r.sip for r in rules):
            rules = [ForwardRule(sip=True), *rules]
        users.append(
            UserCfg(
                id=u.id,
                login=u.login,
                extension=u.extension,
                display_name=u.display_name,
                restriction=Restriction(u.outgoing_restriction.value),
                outgoing_number=number_e164.get(u.outgoing_number_id or -1),
                voicemail=u.voicemail_enabled,
                forwarding=tuple(rules),
                is_operator=u.is_operator,
                active=u.active,
                pickup_group=u.pickup_group_id,
            )
        )

    members: dict[int, list[Member]] = defaultdict(list)
    for m in session.execute(
        select(GroupMember).join(CallGroup).where(CallGroup.domain_id == domain_id)
    ).scalars():
        members[m.group_id].append(Member(m.user_id, m.priority))
    groups = tuple(
        GroupCfg(
            id=g.id,
            name=g.name,
            extension=g.extension,
            algorithm=Algorithm(g.algorithm.value),
            members=tuple(members.get(g.id, [])),
            voicemail=g.voicemail_enabled,
            step_seconds=g.step_seconds,
            total_wait_seconds=g.total_wait_seconds,
            answer_seconds=g.answer_seconds,
        )
        for g in session.execute(
            select(CallGroup).where(CallGroup.domain_id == domain_id)
        ).scalars()
    )

    rules_by_number: dict[int, list[Rule]] = defaultdict(list)
    for r in session.execute(
        select(RoutingRule).where(RoutingRule.domain_id == domain_id)
    ).scalars():
        schedule = schedules.get(r.schedule_id) if r.schedule_id else None
        rules_by_number[r.number_id].append(
            Rule(
                priority=r.priority,
                target=Target(TargetKind(r.target.value), r.target_ref, r.target_number),
                condition=Condition(
                    schedule=schedule, when=r.schedule_when, prefixes=tuple(r.prefixes or ())
                ),
                active=r.active,
                name=r.name,
            )
        )
    listed: dict[int, set[str]] = defaultdict(set)
    for f in session.execute(
        select(NumberFilter).where(NumberFilter.domain_id == domain_id)
    ).scalars():
        listed[f.number_id].add(f.e164)
    number_cfgs = tuple(
        NumberCfg(
            e164=n.e164,
            kind=n.kind.value,
            rules=tuple(rules_by_number.get(n.id, [])),
            list_mode=ListMode(n.list_mode),
            listed=frozenset(listed.get(n.id, set())),
        )
        for n in numbers
    )

    personal: dict[int, dict[str, str]] = defaultdict(dict)
    company: dict[str, str] = {}
    for contact in session.execute(
        select(Contact).where(Contact.domain_id == domain_id, Contact.speed_dial.is_not(None))
    ).scalars():
        if not contact.phones or not contact.speed_dial:
            continue
        number = contact.phones[0].number
        if contact.owner_user_id is None:
            company[contact.speed_dial] = number
        else:
            personal[contact.owner_user_id][contact.speed_dial] = number

    pool_routing: dict[str, str] = {}
    if domain.pool_id is not None:
        for other in session.execute(
            select(Domain).where(Domain.pool_id == domain.pool_id, Domain.id != domain.id)
        ).scalars():
            if other.routing_number:
                pool_routing[other.routing_number] = other.name

    return DomainCfg(
        id=domain.id,
        name=domain.name,
        timezone=domain.timezone,
        routing_number=domain.routing_number,
        default_restriction=Restriction(domain.default_restriction.value),
        default_outgoing_number=number_e164.get(domain.default_outgoing_number_id or -1),
        pickup_code=domain.pickup_code,
        users=tuple(users),
        groups=groups,
        numbers=number_cfgs,
        personal_speed_dials=dict(personal),
        company_speed_dials=company,
        toll_free_numbers=frozenset(n.e164 for n in numbers if n.kind == NumberKind.TOLL_FREE),
        pool_routing=pool_routing,
        blocked_reason=None if domain.block_state == BlockState.NONE else domain.block_state.value,
    )


# --- the cache ----------------------------------------------------------------------------

#: Every table ``build`` reads (keep in step with it: a table missing here means stale plans).
ROUTING_TABLES = frozenset(
    m.__tablename__
    for m in (
        CallGroup,
        Contact,
        ContactPhone,
        Domain,
        ForwardingContact,
        GroupMember,
        Number,
        NumberFilter,
        RoutingRule,
        Schedule,
        User,
    )
)
#: Columns rewritten on every paid call that no snapshot reads: updating only these is quiet.
_QUIET_COLUMNS = {"domains": frozenset({"balance_kopecks"})}

_WRITE = re.compile(
    r"""\s*(?:INSERT\s+(?:OR\s+\w+\s+)?INTO|REPLACE\s+INTO|UPDATE|DELETE\s+FROM)\s+"""
    r"""(?:"?\w+"?\.)?"?(\w+)"?""",
    re.IGNORECASE,
)
_SET_COLUMNS = re.compile(r"""\bSET\s+(.*?)(?:\bWHERE\b|\bRETURNING\b|$)""", re.I | re.S)
_ASSIGNED = re.compile(r""""?(\w+)"?\s*=""")
_SCHEMA = re.compile(r"""\s*(?:TRUNCATE|DROP|ALTER|CREATE|WITH)\b""", re.IGNORECASE)
_PENDING = "pult.routing_write"  # on a pooled connection: it wrote routing data this transaction

_lock = threading.Lock()
_version = 0


def _bump() -> None:
    global _version
    with _lock:
        _version += 1


def version() -> int:
    """Advances on every write to a routing table seen in this process (and after its end)."""
    return _version


def touches_routing(statement: str) -> bool:
    """Does this SQL statement change what a snapshot is built from? (When unsure: yes.)"""
    found = _WRITE.match(statement)
    if found is None:
        return _SCHEMA.match(statement) is not None
    table = found.group(1).lower()
    if table not in ROUTING_TABLES:
        return False
    quiet = _QUIET_COLUMNS.get(table)
    if quiet and statement.lstrip()[:6].upper() == "UPDATE":
        assigned = _SET_COLUMNS.search(statement)
        columns = {c.lower() for c in _ASSIGNED.findall(assigned.group(1))} if assigned else set()
        return not columns or not columns <= quiet
    return True


def _after_cursor_execute(
    conn: Connection, _cursor: Any, statement: str, *_args: Any, **_kwargs: Any
) -> None:
    if touches_routing(statement):
        _bump()  # a snapshot built from here on is suspect until the transaction ends
        conn.info[_PENDING] = True


def _transaction_over(conn: Connection) -> None:
    # The next transaction of a connection begins after its previous one ended.
    if conn.info.pop(_PENDING, False):
        _bump()


def _checkin(_dbapi_conn: Any, record: Any) -> None:
    # Back in the pool: the transaction has committed (or rolled back) by now.
    if record is not None and record.info.pop(_PENDING, False):
        _bump()


_installed = False


def _install() -> None:
    global _installed
    if not _installed:
        # Class level: every engine of the process, including ones created later.
        event.listen(Engine, "after_cursor_execute", _after_cursor_execute)
        event.listen(Engine, "begin", _transaction_over)
        event.listen(Pool, "checkin", _checkin)
        _installed = True


_install()  # the cache below is only usable with its invalidation in place


@dataclass(frozen=True)
class _Entry:
    version: int
    built: float
    cfg: DomainCfg


_cache: weakref.WeakKeyDictionary[Engine, dict[int, _Entry]] = weakref.WeakKeyDictionary()
_names: weakref.WeakKeyDictionary[Engine, dict[str, tuple[int, float, int]]] = (
    weakref.WeakKeyDictionary()
)


def _engine(session: Session) -> Engine:
    bind = session.get_bind()
    return bind if isinstance(bind, Engine) else bind.engine


def cached(session: Session, domain_id: int) -> DomainCfg:
    """``build``, reused while no routing data changed (see the module's docstring).

    A fresh snapshot is built in its own short transaction: one begun after the version was
    read, so it cannot predate a change whose version bump it missed (``session``'s own
    transaction may have started earlier)."""
    engine = _engine(session)
    now = time.monotonic()
    entries = _cache.setdefault(engine, {})
    entry = entries.get(domain_id)
    if entry is not None and entry.version == _version:
        if now - entry.built >= TTL_SECONDS:
            # Only another process's write could have changed it: this call is routed by it
            # as it is while a fresh one is built beside. Built here, on PostgreSQL its dozen
            # queries made every TTL's first call the slowest of all (the SIPp bench's p99).
            _refresh_beside(engine, domain_id)
        return entry.cfg
    current = _version
    with Session(engine) as fresh:
        cfg = build(fresh, domain_id)
    entries[domain_id] = _Entry(current, now, cfg)
    return cfg


_refreshing: set[tuple[int, int]] = set()
_refreshing_lock = threading.Lock()


def _refresh_beside(engine: Engine, domain_id: int) -> None:
    key = (id(engine), domain_id)
    with _refreshing_lock:
        if key in _refreshing:
            return
        _refreshing.add(key)

    def rebuild() -> None:
        try:
            current, started = _version, time.monotonic()
            with Session(engine) as fresh:
                cfg = build(fresh, domain_id)
            entries = _cache.get(engine)
            if entries is not None and current == _version:  # else a write came meanwhile
                entries[domain_id] = _Entry(current, started, cfg)
        except Exception:  # the next call after the TTL tries again
            log.warning("rebuilding the routing snapshot of domain %s failed", domain_id)
        finally:
            with _refreshing_lock:
                _refreshing.discard(key)

    threading.Thread(target=rebuild, name=f"snapshot-{domain_id}", daemon=True).start()


def domain_id(session: Session, name: str) -> int | None:
    """The id of the domain called ``name`` (cached like snapshots; unknown names are not)."""
    engine = _engine(session)
    now = time.monotonic()
    names = _names.setdefault(engine, {})
    hit = names.get(name)
    if hit is not None and hit[0] == _version and now - hit[1] < TTL_SECONDS:
        return hit[2]
    current = _version
    with Session(engine) as fresh:
        found = fresh.execute(select(Domain.id).where(Domain.name == name)).scalar_one_or_none()
    if found is not None:
        names[name] = (current, now, found)
    return found
