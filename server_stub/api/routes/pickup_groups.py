"""Pickup groups (spec 01 §9.4): colleagues who may answer each other's ringing phones.

Membership is ``users.pickup_group_id``, so a user is in at most one pickup group. Putting a
user into a group *moves* them out of the previous one, as the manual's «В группу перехвата»
operation does; each moved user gets an audit row of their own. Deleting a group leaves its
users without a pickup group.
"""

from __future__ import annotations

from typing import Any

from fastapi import Request
from sqlalchemy import select
from sqlalchemy.orm import Session

from server_stub.api import audit
from server_stub.api.crud import Ctx, Resource
from server_stub.api.deps import ADMIN, USER, DomainAdmin, Principal, SessionDep
from server_stub.api.directory import (
    check_unique_name,
    domain_of,
    domain_pickup_group,
    domain_users,
    flush,
    record_and_commit,
)
from server_stub.api.schemas_groups import (
    PickupGroupCreate,
    PickupGroupRead,
    PickupGroupUpdate,
    PickupMemberRead,
    PickupMembers,
)
from server_stub.store.models import Domain, PickupGroup, User


def _members(session: Session, group: PickupGroup) -> list[User]:
    return list(
        session.execute(
            select(User)
            .where(User.domain_id == group.domain_id, User.pickup_group_id == group.id)
            .order_by(User.display_name, User.id)
        ).scalars()
    )


def render(session: Session, domain: Domain, group: PickupGroup) -> PickupGroupRead:
    members = _members(session, group)
    return PickupGroupRead(
        id=group.id,
        name=group.name,
        pickup_code=domain.pickup_code,
        member_ids=[u.id for u in members],
        members=[
            PickupMemberRead(user_id=u.id, display_name=u.display_name, extension=u.extension)
            for u in members
        ],
    )


def _set_members(
    ctx_session: Session, principal: Principal, group: PickupGroup, users: list[User]
) -> list[int]:
    """Make exactly ``users`` the members; audit each user whose pickup group changed."""
    wanted = {u.id for u in users}
    changes: list[tuple[User, int | None]] = [
        (u, None) for u in _members(ctx_session, group) if u.id not in wanted
    ]
    changes += [(u, group.id) for u in users if u.pickup_group_id != group.id]
    for user, new in changes:
        before = {"pickup_group_id": user.pickup_group_id}
        user.pickup_group_id = new
        audit.record(
            ctx_session,
            principal,
            "update",
            "user",
            user.id,
            user.login,
            before,
            {"pickup_group_id": new},
        )
    return [u.id for u, _ in changes]


def _apply(ctx: Ctx, obj: PickupGroup, data: dict[str, Any], creating: bool) -> None:
    if data.get("name") is not None:
        check_unique_name(ctx.session, PickupGroup, ctx.domain_id, data["name"], obj.id)
        obj.name = data["name"]
    user_ids = data.get("user_ids") or []
    if creating and user_ids:
        users = domain_users(ctx.session, ctx.domain_id, user_ids, "user_ids")
        # The members point at the group by id, so it needs one before they can join.
        ctx.session.add(obj)
        flush(ctx.session)
        _set_members(ctx.session, ctx.principal, obj, users)


def _before_delete(ctx: Ctx, obj: PickupGroup) -> None:
    # Explicit rather than left to ON DELETE SET NULL, so the history shows who was ungrouped.
    _set_members(ctx.session, ctx.principal, obj, [])


resource: Resource[PickupGroup] = Resource(
    path="/pickup-groups",
    tag="pickup groups",
    model=PickupGroup,
    object_type="pickup_group",
    read=PickupGroupRead,
    create=PickupGroupCreate,
    update=PickupGroupUpdate,
    read_roles=(USER,),
    write_roles=(ADMIN,),
    apply=_apply,
    to_read=lambda ctx, obj: render(ctx.session, ctx.domain, obj),
    search_columns=("name",),
    order_by="name",
    before_delete=_before_delete,
)
router = resource.router()


@router.put(
    "/pickup-groups/{group_id}/members",
    response_model=PickupGroupRead,
    operation_id="replace_pickup_group_members",
)
def replace_members(
    group_id: int,
    body: PickupMembers,
    request: Request,
    session: SessionDep,
    principal: DomainAdmin,
) -> PickupGroupRead:
    """Make exactly these users the members (moving them out of any other pickup group)."""
    domain = domain_of(session, principal)
    group = domain_pickup_group(session, domain.id, group_id)
    users = domain_users(session, domain.id, body.user_ids, "user_ids")
    # Users moved here leave their previous group: its members list changes too.
    previous = {u.pickup_group_id for u in users if u.pickup_group_id is not None} - {group.id}
    changed = _set_members(session, principal, group, users)
    events: list[tuple[str, dict[str, Any]]] = [
        ("pickup_group.updated", {"id": gid}) for gid in sorted([group.id, *previous])
    ]
    events += [("user.updated", {"id": uid}) for uid in changed]
    record_and_commit(session, request, principal, [], events)
    return render(session, domain, group)
