"""Users of a domain (spec 01 §9): the company directory, create/edit/delete, bulk operations.

Every domain user may read the directory (it is the company phone book); they get the public
view. Administrators get the full view and are the only ones who write.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, Response
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from server_stub.api.deps import ADMIN, DomainAdmin, DomainUser, SessionDep
from server_stub.api.directory import (
    AuditRow,
    domain_group,
    domain_of,
    domain_pickup_group,
    domain_users,
    flush,
    record_and_commit,
    user_snapshot,
)
from server_stub.api.errors import field_error, language, not_found
from server_stub.api.schemas_users import (
    BulkRequest,
    BulkResult,
    DeleteCheck,
    NextExtension,
    UserCreate,
    UserPage,
    UserPublic,
    UserRead,
    UserUpdate,
)
from server_stub.api.users_service import (
    DEFAULT_PRIORITY,
    create_user,
    delete_check,
    delete_refusal,
    ensure_an_admin_remains,
    render,
    update_user,
)
from server_stub.store import provision
from server_stub.store.models import Domain, GroupMember, User

router = APIRouter(tags=["users"])

MIN_SEARCH = 3  # the manual: filtering starts from the third character (L1518)


def _user(session: Session, domain_id: int, user_id: int) -> User:
    user = session.execute(
        select(User).where(User.domain_id == domain_id, User.id == user_id)
    ).scalar_one_or_none()
    if user is None:
        raise not_found("user")
    return user


def _one(session: Session, domain: Domain, user: User) -> UserRead:
    rendered = render(session, domain, [user], admin_view=True)[0]
    assert isinstance(rendered, UserRead)
    return rendered


def _matches(user: User, needle: str) -> bool:
    hay = (user.display_name, user.login, user.extension, user.email)
    return any(needle in value.casefold() for value in hay)


@router.get("/users", response_model=UserPage, operation_id="list_users")
def list_users(
    session: SessionDep,
    principal: DomainUser,
    q: Annotated[str | None, Query(max_length=100)] = None,
    operator: bool | None = None,
    pickup_group_id: int | None = None,
    group_id: int | None = None,
    offset: Annotated[int, Query(ge=0, le=10_000_000)] = 0,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> UserPage:
    """The directory, by display name.

    ``q`` searches display name, login, extension and e-mail, case-insensitively, and only
    when it has at least 3 characters (as the manual's search box does); a shorter ``q`` is
    ignored and the whole list comes back. The search runs in Python because SQLite's
    ``lower()`` folds only ASCII (Cyrillic names would not match); a domain's user count is
    bounded by ``Domain.max_users``.
    """
    domain = domain_of(session, principal)
    stmt = select(User).where(User.domain_id == domain.id)
    if operator is not None:
        stmt = stmt.where(User.is_operator.is_(operator))
    if pickup_group_id is not None:
        stmt = stmt.where(User.pickup_group_id == pickup_group_id)
    if group_id is not None:
        stmt = stmt.where(
            User.id.in_(select(GroupMember.user_id).where(GroupMember.group_id == group_id))
        )
    stmt = stmt.order_by(User.display_name, User.id)
    needle = (q or "").strip().casefold()
    if len(needle) >= MIN_SEARCH:
        found = [u for u in session.execute(stmt).scalars() if _matches(u, needle)]
        total, page = len(found), found[offset : offset + limit]
    else:
        total = session.execute(select(func.count()).select_from(stmt.subquery())).scalar_one()
        page = list(session.execute(stmt.offset(offset).limit(limit)).scalars())
    items = render(session, domain, page, admin_view=principal.has(ADMIN))
    return UserPage(items=items, total=total, offset=offset, limit=limit)


@router.get(
    "/users/next-extension", response_model=NextExtension, operation_id="next_user_extension"
)
def next_extension(session: SessionDep, principal: DomainAdmin) -> NextExtension:
    """The extension the create form pre-fills (users and call groups share the space)."""
    domain = domain_of(session, principal)
    return NextExtension(extension=provision.next_free_extension(session, domain.id))


@router.get("/users/{user_id}", response_model=UserRead | UserPublic, operation_id="get_user")
def get_user(user_id: int, session: SessionDep, principal: DomainUser) -> UserRead | UserPublic:
    domain = domain_of(session, principal)
    user = _user(session, domain.id, user_id)
    return render(session, domain, [user], admin_view=principal.has(ADMIN))[0]


@router.post("/users", response_model=UserRead, status_code=201, operation_id="create_user")
def create(
    body: UserCreate, request: Request, session: SessionDep, principal: DomainAdmin
) -> UserRead:
    domain = domain_of(session, principal)
    user = create_user(session, domain, body)
    events: list[tuple[str, dict[str, Any]]] = [("user.created", {"id": user.id})]
    events += [("group.updated", {"id": gid}) for gid in sorted(set(body.group_ids))]
    record_and_commit(
        session,
        request,
        principal,
        [("create", "user", user.id, user.login, None, user_snapshot(session, user))],
        events,
    )
    return _one(session, domain, user)


@router.patch("/users/{user_id}", response_model=UserRead, operation_id="update_user")
def update(
    user_id: int,
    body: UserUpdate,
    request: Request,
    session: SessionDep,
    principal: DomainAdmin,
) -> UserRead:
    domain = domain_of(session, principal)
    user = _user(session, domain.id, user_id)
    before = user_snapshot(session, user)
    update_user(session, domain, principal, user, body.model_dump(exclude_unset=True))
    after = user_snapshot(session, user)
    changed_groups = set(before["group_ids"]) ^ set(after["group_ids"])
    events: list[tuple[str, dict[str, Any]]] = [("user.updated", {"id": user.id})]
    events += [("group.updated", {"id": gid}) for gid in sorted(changed_groups)]
    record_and_commit(
        session,
        request,
        principal,
        [("update", "user", user.id, user.login, before, after)],
        events,
    )
    return _one(session, domain, user)


@router.get(
    "/users/{user_id}/delete-check",
    response_model=DeleteCheck,
    operation_id="check_user_delete",
)
def check_delete(
    user_id: int, request: Request, session: SessionDep, principal: DomainAdmin
) -> DeleteCheck:
    """Ask before deleting: groups left empty or without an operator, and any refusal."""
    domain = domain_of(session, principal)
    user = _user(session, domain.id, user_id)
    return delete_check(session, principal, user, language(request))


@router.delete(
    "/users/{user_id}", status_code=204, response_class=Response, operation_id="delete_user"
)
def delete(user_id: int, request: Request, session: SessionDep, principal: DomainAdmin) -> Response:
    """Delete a user; refused for yourself and for the domain's last active administrator."""
    domain = domain_of(session, principal)
    user = _user(session, domain.id, user_id)
    refusal = delete_refusal(session, principal, [user])
    if refusal is not None:
        raise refusal
    before = user_snapshot(session, user)
    session.delete(user)
    record_and_commit(
        session,
        request,
        principal,
        [("delete", "user", user_id, user.login, before, None)],
        [("user.deleted", {"id": user_id})]
        + [("group.updated", {"id": gid}) for gid in before["group_ids"]],
    )
    return Response(status_code=204)


@router.post("/users/bulk", response_model=BulkResult, operation_id="bulk_users")
def bulk(
    body: BulkRequest, request: Request, session: SessionDep, principal: DomainAdmin
) -> BulkResult:
    """One operation on many users, all or nothing (spec 01 §9.1 group operations).

    Every id must be a user of the caller's domain, otherwise nothing changes and the answer
    is 404 (an id of another domain looks exactly like one that does not exist).
    «В группу» adds the group to the users' groups (the manual says "move", yet users may be
    in several groups; replacing them would silently drop memberships).
    """
    domain = domain_of(session, principal)
    users = domain_users(session, domain.id, body.user_ids, "user_ids")
    befores = {u.id: user_snapshot(session, u) for u in users}
    event_extra: list[tuple[str, dict[str, Any]]] = []

    if body.action == "delete":
        refusal = delete_refusal(session, principal, users)
        if refusal is not None:
            raise refusal
        deleted: list[AuditRow] = [
            ("delete", "user", u.id, u.login, befores[u.id], None) for u in users
        ]
        events = [("user.deleted", {"id": u.id}) for u in users]
        touched = {gid for b in befores.values() for gid in b["group_ids"]}
        events += [("group.updated", {"id": gid}) for gid in sorted(touched)]
        for u in users:
            session.delete(u)
        record_and_commit(session, request, principal, deleted, events)
        return BulkResult(action=body.action, changed=[u.id for u in users])

    if body.action == "add_to_group":
        if body.group_id is None:
            raise field_error("group_id", "выберите группу", "choose a group")
        group = domain_group(session, domain.id, body.group_id)
        for u in users:
            if all(m.group_id != group.id for m in u.memberships):
                u.memberships.append(GroupMember(group_id=group.id, priority=DEFAULT_PRIORITY))
        event_extra.append(("group.updated", {"id": group.id}))
    elif body.action == "set_pickup_group":
        if body.pickup_group_id is not None:
            domain_pickup_group(session, domain.id, body.pickup_group_id)
            event_extra.append(("pickup_group.updated", {"id": body.pickup_group_id}))
        for u in users:
            u.pickup_group_id = body.pickup_group_id
    elif body.action == "set_roles":
        roles = {
            k: v
            for k, v in (
                ("is_operator", body.is_operator),
                ("is_supervisor", body.is_supervisor),
                ("is_admin", body.is_admin),
            )
            if v is not None
        }
        if not roles:
            raise field_error(
                "is_operator",
                "укажите хотя бы одну роль (is_operator, is_supervisor, is_admin)",
                "give at least one role (is_operator, is_supervisor, is_admin)",
            )
        for u in users:
            for key, value in roles.items():
                setattr(u, key, value)
        ensure_an_admin_remains(session, domain.id)
    elif body.action == "set_recording":
        if body.recording is None:
            raise field_error("recording", "укажите да или нет", "give true or false")
        for u in users:
            u.recording = body.recording

    flush(session)
    rows: list[AuditRow] = []
    changed: list[int] = []
    for u in users:
        after = user_snapshot(session, u)
        if after != befores[u.id]:
            changed.append(u.id)
            rows.append(("update", "user", u.id, u.login, befores[u.id], after))
    events = [("user.updated", {"id": uid}) for uid in changed]
    record_and_commit(session, request, principal, rows, events + (event_extra if changed else []))
    return BulkResult(action=body.action, changed=changed)
