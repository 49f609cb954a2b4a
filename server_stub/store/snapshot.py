"""Building the routing engine's immutable snapshot of a domain from the database.

A user without a stored SIP contact gets the manual's initial scheme (the built-in SIP
contact, priority 10, 40 s, no schedule), so every user is reachable from the moment they exist.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

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
