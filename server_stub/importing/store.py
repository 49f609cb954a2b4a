"""The database side of an import: what validation must know, and writing the valid rows.

Nothing here commits: the caller audits every created row and commits once, so a file is
imported completely or not at all.
"""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from server_stub.importing.contacts import ContactContext, ContactImport
from server_stub.importing.users import DomainNumber, UserContext, UserImport
from server_stub.store import provision
from server_stub.store.models import (
    CallGroup,
    Contact,
    ContactGroup,
    ContactPhone,
    Domain,
    GroupMember,
    Number,
    NumberKind,
    PhoneKind,
    User,
)


def user_context(session: Session, domain: Domain) -> UserContext:
    numbers = session.execute(select(Number).where(Number.domain_id == domain.id)).scalars()
    group_names = session.execute(
        select(CallGroup.name).where(CallGroup.domain_id == domain.id)
    ).scalars()
    return UserContext(
        logins=set(
            session.execute(select(User.login).where(User.domain_id == domain.id)).scalars()
        ),
        extensions=provision.used_extensions(session, domain.id),
        groups={name.casefold(): name for name in group_names},
        numbers={n.e164: DomainNumber(n.id, n.kind != NumberKind.TOLL_FREE) for n in numbers},
        users_now=count_users(session, domain.id),
        max_users=domain.max_users,
    )


def count_users(session: Session, domain_id: int) -> int:
    return session.execute(
        select(func.count()).select_from(User).where(User.domain_id == domain_id)
    ).scalar_one()


def create_users(
    session: Session, domain: Domain, plan: UserImport
) -> tuple[list[User], list[CallGroup], dict[int, list[int]]]:
    """Add the planned call groups and users; flushed, not committed.

    Returns the users, the new groups and each new user's group ids. Members join with the
    model's default priority (10, as ``/api/users`` does).
    """
    groups = {
        g.name: g
        for g in session.execute(
            select(CallGroup).where(CallGroup.domain_id == domain.id)
        ).scalars()
    }
    new_groups = []
    for planned in plan.new_groups or []:
        group = CallGroup(domain_id=domain.id, name=planned.name, extension=planned.extension)
        session.add(group)
        groups[group.name] = group
        new_groups.append(group)
    session.flush()
    users = []
    memberships: dict[int, list[int]] = {}
    for row in plan.valid:
        user = provision.create_user(
            session,
            domain,
            row.login,
            row.password,
            row.display_name,
            extension=row.extension,
            email=row.email,
        )
        user.outgoing_number_id = row.outgoing_number_id
        memberships[user.id] = sorted({groups[name].id for name in row.groups})
        for group_id in memberships[user.id]:
            session.add(GroupMember(group_id=group_id, user_id=user.id))
        users.append(user)
    session.flush()
    return users, new_groups, memberships


def contact_context(session: Session, domain: Domain) -> ContactContext:
    group_names = session.execute(
        select(ContactGroup.name).where(
            ContactGroup.domain_id == domain.id, ContactGroup.owner_user_id.is_(None)
        )
    ).scalars()
    dials = session.execute(
        select(Contact.speed_dial).where(
            Contact.domain_id == domain.id,
            Contact.owner_user_id.is_(None),
            Contact.speed_dial.is_not(None),
        )
    ).scalars()
    return ContactContext(
        groups={name.casefold(): name for name in group_names},
        speed_dials={d for d in dials if d},
        pickup_code=domain.pickup_code,
    )


def create_contacts(
    session: Session, domain_id: int, plan: ContactImport
) -> tuple[list[Contact], list[ContactGroup]]:
    """Add the planned company groups and contacts; flushed, not committed."""
    groups = {
        g.name: g
        for g in session.execute(
            select(ContactGroup).where(
                ContactGroup.domain_id == domain_id, ContactGroup.owner_user_id.is_(None)
            )
        ).scalars()
    }
    new_groups = []
    for name in plan.new_groups or []:
        group = ContactGroup(domain_id=domain_id, owner_user_id=None, name=name)
        session.add(group)
        groups[name] = group
        new_groups.append(group)
    session.flush()
    contacts = []
    for row in plan.valid:
        contact = Contact(
            domain_id=domain_id,
            owner_user_id=None,
            group_id=groups[row.group].id if row.group else None,
            name=row.name,
            speed_dial=row.speed_dial,
            phones=[ContactPhone(kind=PhoneKind(kind), number=n) for kind, n in row.phones],
        )
        session.add(contact)
        contacts.append(contact)
    session.flush()
    return contacts, new_groups
