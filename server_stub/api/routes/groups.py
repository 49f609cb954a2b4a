"""Call-handling groups (spec 02 §1): settings, operator workstation (РМО) settings, members.

Plain create/read/update/delete come from ``crud.Resource``; the member list has its own
endpoints (replace, add, remove, change priority), each audited as one change of the group.
Priorities are stored for every group although only the ACD algorithms use them, so that
switching a group to ACD keeps what the administrator set.
"""

from __future__ import annotations

from typing import Any

from fastapi import Request, Response
from sqlalchemy.orm import Session

from server_stub.api.crud import Ctx, Resource
from server_stub.api.deps import ADMIN, SUPERVISOR, DomainAdmin, Principal, SessionDep
from server_stub.api.directory import (
    check_extension,
    check_unique_name,
    domain_group,
    domain_of,
    domain_users,
    record_and_commit,
)
from server_stub.api.errors import conflict, field_error, not_found
from server_stub.api.schemas_groups import (
    GroupCreate,
    GroupRead,
    GroupUpdate,
    MemberIn,
    MemberRead,
    PriorityUpdate,
)
from server_stub.store import provision
from server_stub.store.models import CallGroup, GroupMember


def render(group: CallGroup) -> GroupRead:
    members = sorted(group.members, key=lambda m: (m.priority, m.user.display_name, m.user_id))
    operators = sum(1 for m in members if m.user.is_operator)
    return GroupRead(
        id=group.id,
        name=group.name,
        extension=group.extension,
        algorithm=group.algorithm,
        email=group.email,
        step_seconds=group.step_seconds,
        total_wait_seconds=group.total_wait_seconds,
        voicemail_enabled=group.voicemail_enabled,
        greeting_text=group.greeting_text,
        answer_seconds=group.answer_seconds,
        post_call_seconds=group.post_call_seconds,
        avg_talk_seconds=group.avg_talk_seconds,
        crm_url_template=group.crm_url_template,
        users=len(members) - operators,
        operators=operators,
        members=[
            MemberRead(
                user_id=m.user_id,
                display_name=m.user.display_name,
                extension=m.user.extension,
                is_operator=m.user.is_operator,
                priority=m.priority,
            )
            for m in members
        ],
    )


def _check_members(session: Session, domain_id: int, members: list[MemberIn]) -> None:
    ids = [m.user_id for m in members]
    if len(set(ids)) != len(ids):
        raise field_error(
            "members", "пользователь указан дважды", "a user is listed more than once"
        )
    domain_users(session, domain_id, ids, "members")


def _apply(ctx: Ctx, obj: CallGroup, data: dict[str, Any], creating: bool) -> None:
    data = {k: v for k, v in data.items() if v is not None}
    members = [MemberIn(**m) for m in data.pop("members", [])]
    if "name" in data:
        check_unique_name(ctx.session, CallGroup, ctx.domain_id, data["name"], obj.id)
    if "extension" in data:
        if data["extension"] != obj.extension:
            check_extension(ctx.session, ctx.domain_id, data["extension"], group_id=obj.id)
    elif creating:
        data["extension"] = provision.next_free_extension(ctx.session, ctx.domain_id)
    for key, value in data.items():
        setattr(obj, key, value)
    # Only the model default is known before the first flush; read the effective values.
    step = obj.step_seconds if obj.step_seconds is not None else 15
    total = obj.total_wait_seconds if obj.total_wait_seconds is not None else 60
    if total < step:
        raise field_error(
            "total_wait_seconds",
            "общее время ожидания не может быть меньше шага",
            "the total waiting time cannot be shorter than the step",
        )
    if members:
        _check_members(ctx.session, ctx.domain_id, members)
        obj.members = [GroupMember(user_id=m.user_id, priority=m.priority) for m in members]


resource: Resource[CallGroup] = Resource(
    path="/groups",
    tag="groups",
    model=CallGroup,
    object_type="group",
    read=GroupRead,
    create=GroupCreate,
    update=GroupUpdate,
    read_roles=(ADMIN, SUPERVISOR),
    write_roles=(ADMIN,),
    apply=_apply,
    to_read=lambda ctx, obj: render(obj),
    search_columns=("name", "extension"),
    order_by="name",
)
router = resource.router()


# --- members -------------------------------------------------------------------------------


def _members_snapshot(group: CallGroup) -> dict[str, Any]:
    return {
        "members": sorted(
            ({"user_id": m.user_id, "priority": m.priority} for m in group.members),
            key=lambda m: m["user_id"],
        )
    }


def _save(
    session: Session,
    request: Request,
    principal: Principal,
    group: CallGroup,
    before: dict[str, Any],
) -> None:
    after = _members_snapshot(group)
    old = {m["user_id"] for m in before["members"]}
    new = {m["user_id"] for m in after["members"]}
    events: list[tuple[str, dict[str, Any]]] = [("group.updated", {"id": group.id})]
    events += [("user.updated", {"id": uid}) for uid in sorted(old ^ new)]
    record_and_commit(
        session,
        request,
        principal,
        [("update", "group", group.id, group.name, before, after)],
        events,
    )
    session.refresh(group)


@router.put(
    "/groups/{group_id}/members", response_model=GroupRead, operation_id="replace_group_members"
)
def replace_members(
    group_id: int,
    body: list[MemberIn],
    request: Request,
    session: SessionDep,
    principal: DomainAdmin,
) -> GroupRead:
    """Make the member list exactly this; members kept get the priority given here."""
    domain = domain_of(session, principal)
    group = domain_group(session, domain.id, group_id)
    _check_members(session, domain.id, body)
    before = _members_snapshot(group)
    wanted = {m.user_id: m.priority for m in body}
    for m in list(group.members):
        if m.user_id not in wanted:
            group.members.remove(m)
        else:
            m.priority = wanted.pop(m.user_id)
    for user_id, priority in wanted.items():
        group.members.append(GroupMember(user_id=user_id, priority=priority))
    _save(session, request, principal, group, before)
    return render(group)


@router.post(
    "/groups/{group_id}/members", response_model=GroupRead, operation_id="add_group_members"
)
def add_members(
    group_id: int,
    body: list[MemberIn],
    request: Request,
    session: SessionDep,
    principal: DomainAdmin,
) -> GroupRead:
    """Add users to the group (409 naming the user when one is already a member)."""
    domain = domain_of(session, principal)
    group = domain_group(session, domain.id, group_id)
    _check_members(session, domain.id, body)
    present = {m.user_id for m in group.members}
    already = [m.user_id for m in body if m.user_id in present]
    if already:
        ids = ", ".join(str(i) for i in already)
        raise conflict(
            "members",
            f"пользователи уже в группе: {ids}",
            f"users already in the group: {ids}",
        )
    before = _members_snapshot(group)
    for m in body:
        group.members.append(GroupMember(user_id=m.user_id, priority=m.priority))
    _save(session, request, principal, group, before)
    return render(group)


def _member(group: CallGroup, user_id: int) -> GroupMember:
    for m in group.members:
        if m.user_id == user_id:
            return m
    raise not_found("group member")


@router.patch(
    "/groups/{group_id}/members/{user_id}",
    response_model=GroupRead,
    operation_id="update_group_member",
)
def update_member(
    group_id: int,
    user_id: int,
    body: PriorityUpdate,
    request: Request,
    session: SessionDep,
    principal: DomainAdmin,
) -> GroupRead:
    domain = domain_of(session, principal)
    group = domain_group(session, domain.id, group_id)
    member = _member(group, user_id)
    before = _members_snapshot(group)
    member.priority = body.priority
    _save(session, request, principal, group, before)
    return render(group)


@router.delete(
    "/groups/{group_id}/members/{user_id}",
    status_code=204,
    response_class=Response,
    operation_id="remove_group_member",
)
def remove_member(
    group_id: int,
    user_id: int,
    request: Request,
    session: SessionDep,
    principal: DomainAdmin,
) -> Response:
    domain = domain_of(session, principal)
    group = domain_group(session, domain.id, group_id)
    member = _member(group, user_id)
    before = _members_snapshot(group)
    group.members.remove(member)
    _save(session, request, principal, group, before)
    return Response(status_code=204)
