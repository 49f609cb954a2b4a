"""Creating, changing and describing domain users: the rules behind /api/users.

Kept apart from the routes so that other entry points (bulk import) can apply exactly the same
checks. Functions here never commit: the caller audits and commits in one transaction.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from server_stub.api.deps import Principal
from server_stub.api.directory import (
    active_admin_count,
    check_extension,
    flush,
    groups_by_user,
    last_admin_error,
)
from server_stub.api.errors import ApiError, Text, conflict, field_error
from server_stub.api.schemas_groups import DEFAULT_PRIORITY
from server_stub.api.schemas_users import (
    DeleteCheck,
    GroupWarning,
    UserCreate,
    UserPublic,
    UserRead,
)
from server_stub.api.security import hash_password
from server_stub.store import provision
from server_stub.store.models import (
    CallGroup,
    Domain,
    GroupMember,
    Number,
    NumberKind,
    PickupGroup,
    User,
)

# --- rendering -----------------------------------------------------------------------------


def render(
    session: Session, domain: Domain, users: list[User], admin_view: bool
) -> list[UserRead | UserPublic]:
    groups = groups_by_user(session, [u.id for u in users])
    out: list[UserRead | UserPublic] = []
    for u in users:
        public: dict[str, Any] = {
            "id": u.id,
            "login": u.login,
            "sip_address": f"{u.login}@{domain.name}",
            "display_name": u.display_name,
            "position": u.position,
            "email": u.email,
            "extension": u.extension,
            "roles": u.roles,
            "is_operator": u.is_operator,
            "is_supervisor": u.is_supervisor,
            "is_admin": u.is_admin,
            "active": u.active,
            "pickup_group_id": u.pickup_group_id,
            "groups": groups.get(u.id, []),
        }
        if admin_view:
            out.append(
                UserRead(
                    **public,
                    outgoing_restriction=u.outgoing_restriction,
                    outgoing_number_id=u.outgoing_number_id,
                    recording=u.recording,
                    voicemail_enabled=u.voicemail_enabled,
                    voicemail_to_email=u.voicemail_to_email,
                )
            )
        else:
            out.append(UserPublic(**public))
    return out


# --- checks --------------------------------------------------------------------------------


def check_capacity(session: Session, domain: Domain, adding: int = 1) -> None:
    count = session.execute(
        select(func.count()).select_from(User).where(User.domain_id == domain.id)
    ).scalar_one()
    if count + adding > domain.max_users:
        raise ApiError(
            422,
            "max_users_reached",
            Text(
                f"Достигнуто максимальное число пользователей домена ({domain.max_users}). "
                "Чтобы увеличить его, обратитесь к администратору системы",
                f"The domain already has its maximum number of users ({domain.max_users}). "
                "Ask the system administrator to raise it",
            ),
        )


def check_login_free(session: Session, domain_id: int, login: str) -> None:
    taken = session.execute(
        select(User.id).where(User.domain_id == domain_id, User.login == login).limit(1)
    ).first()
    if taken is not None:
        raise conflict(
            "login",
            f"логин «{login}» уже используется в домене",
            f"the login '{login}' is already used in this domain",
        )


def check_outgoing_number(session: Session, domain_id: int, number_id: int) -> None:
    """The caller ID must be a number of this domain and not an 8-800 (it cannot call out)."""
    number = session.execute(
        select(Number).where(Number.domain_id == domain_id, Number.id == number_id)
    ).scalar_one_or_none()
    if number is None:
        raise field_error(
            "outgoing_number_id",
            "такого номера нет в домене",
            "there is no such number in this domain",
        )
    if number.kind == NumberKind.TOLL_FREE:
        raise field_error(
            "outgoing_number_id",
            "номер 8-800 нельзя использовать для исходящих вызовов",
            "an 8-800 (toll-free) number cannot be used for outgoing calls",
        )


def check_pickup_group(session: Session, domain_id: int, pickup_id: int) -> None:
    found = session.execute(
        select(PickupGroup.id).where(
            PickupGroup.domain_id == domain_id, PickupGroup.id == pickup_id
        )
    ).first()
    if found is None:
        raise field_error(
            "pickup_group_id",
            "такой группы перехвата нет в домене",
            "there is no such pickup group in this domain",
        )


def resolve_groups(session: Session, domain_id: int, group_ids: list[int]) -> list[CallGroup]:
    wanted = list(dict.fromkeys(group_ids))
    if not wanted:
        return []
    found = {
        g.id: g
        for g in session.execute(
            select(CallGroup).where(CallGroup.domain_id == domain_id, CallGroup.id.in_(wanted))
        ).scalars()
    }
    missing = [str(i) for i in wanted if i not in found]
    if missing:
        ids = ", ".join(missing)
        raise field_error("group_ids", f"группы не найдены: {ids}", f"groups not found: {ids}")
    return [found[i] for i in wanted]


def set_groups(user: User, groups: list[CallGroup]) -> None:
    """Make the user a member of exactly these groups; kept memberships keep their priority."""
    wanted = {g.id for g in groups}
    for m in list(user.memberships):
        if m.group_id not in wanted:
            user.memberships.remove(m)
    have = {m.group_id for m in user.memberships}
    for g in groups:
        if g.id not in have:
            user.memberships.append(GroupMember(group_id=g.id, priority=DEFAULT_PRIORITY))


def ensure_an_admin_remains(session: Session, domain_id: int) -> None:
    """Call after the change is flushed: a domain nobody can administer is a locked door."""
    flush(session)
    if active_admin_count(session, domain_id) == 0:
        session.rollback()
        raise last_admin_error()


# --- create / update -----------------------------------------------------------------------


def create_user(session: Session, domain: Domain, body: UserCreate) -> User:
    check_capacity(session, domain)
    check_login_free(session, domain.id, body.login)
    if body.extension is not None:
        check_extension(session, domain.id, body.extension)
    if body.outgoing_number_id is not None:
        check_outgoing_number(session, domain.id, body.outgoing_number_id)
    if body.pickup_group_id is not None:
        check_pickup_group(session, domain.id, body.pickup_group_id)
    groups = resolve_groups(session, domain.id, body.group_ids)
    user = provision.create_user(
        session,
        domain,
        body.login,
        body.password,
        body.display_name,
        extension=body.extension,
        sip_password=body.sip_password,
        email=body.email,
        position=body.position,
        is_operator=body.is_operator,
        is_supervisor=body.is_supervisor,
        is_admin=body.is_admin,
    )
    user.active = body.active
    user.outgoing_restriction = body.outgoing_restriction
    user.outgoing_number_id = body.outgoing_number_id
    user.recording = body.recording
    user.voicemail_enabled = body.voicemail_enabled
    user.voicemail_to_email = body.voicemail_to_email
    user.pickup_group_id = body.pickup_group_id
    set_groups(user, groups)
    flush(session)
    return user


_PLAIN_FIELDS = (
    "display_name",
    "email",
    "position",
    "is_operator",
    "is_supervisor",
    "is_admin",
    "active",
    "outgoing_restriction",
    "recording",
    "voicemail_enabled",
    "voicemail_to_email",
)


def update_user(
    session: Session, domain: Domain, principal: Principal, user: User, data: dict[str, Any]
) -> None:
    """Apply a PATCH. The administrator needs no current password to set a new one."""
    login = data.pop("login", None)
    if login is not None and login != user.login:
        raise field_error(
            "login",
            "логин (SIP-адрес) изменить нельзя",
            "the login (SIP address) cannot be changed",
        )
    if data.get("active") is False and principal.user_id == user.id:
        raise conflict(
            "active",
            "нельзя заблокировать собственную учётную запись",
            "you cannot deactivate your own account",
        )
    extension = data.get("extension")
    if extension is not None and extension != user.extension:
        check_extension(session, domain.id, extension, user_id=user.id)
        user.extension = extension
    if data.get("outgoing_number_id") is not None:
        check_outgoing_number(session, domain.id, data["outgoing_number_id"])
    if "outgoing_number_id" in data:
        user.outgoing_number_id = data["outgoing_number_id"]
    if data.get("pickup_group_id") is not None:
        check_pickup_group(session, domain.id, data["pickup_group_id"])
    if "pickup_group_id" in data:
        user.pickup_group_id = data["pickup_group_id"]
    if data.get("group_ids") is not None:
        set_groups(user, resolve_groups(session, domain.id, data["group_ids"]))
    for key in _PLAIN_FIELDS:
        if data.get(key) is not None:
            setattr(user, key, data[key])
    if data.get("password") is not None:
        user.password_hash = hash_password(data["password"])
    # A new web password leaves the phone's secret alone: changing it would unregister
    # every desk phone of the user. The SIP secret changes only when asked for.
    if data.get("sip_password") is not None:
        provision.set_sip_password(user, domain.name, data["sip_password"])
    ensure_an_admin_remains(session, domain.id)


# --- delete --------------------------------------------------------------------------------


def delete_refusal(session: Session, principal: Principal, users: list[User]) -> ApiError | None:
    """Why deleting these users must be refused (yourself, or every active admin), if so."""
    if principal.user_id is not None and any(u.id == principal.user_id for u in users):
        return ApiError(
            409,
            "cannot_delete_self",
            Text(
                "Нельзя удалить собственную учётную запись",
                "You cannot delete your own account",
            ),
        )
    doomed = {u.id for u in users}
    domain_id = users[0].domain_id if users else None
    if domain_id is not None:
        remaining = session.execute(
            select(func.count())
            .select_from(User)
            .where(
                User.domain_id == domain_id,
                User.is_admin.is_(True),
                User.active.is_(True),
                User.id.not_in(doomed),
            )
        ).scalar_one()
        if remaining == 0:
            return last_admin_error()
    return None


def delete_check(session: Session, principal: Principal, user: User, lang: str) -> DeleteCheck:
    """Groups the deletion would leave empty, or with members but no operator.

    A group that would become empty is listed only under ``groups_left_empty``: an empty group
    trivially has no operators, and one warning per group is what a person wants to read.
    """
    memberships = session.execute(
        select(CallGroup).join(GroupMember).where(GroupMember.user_id == user.id)
    ).scalars()
    empty: list[GroupWarning] = []
    no_ops: list[GroupWarning] = []
    for group in memberships:
        others = [m for m in group.members if m.user_id != user.id]
        warning = GroupWarning(
            id=group.id,
            name=group.name,
            extension=group.extension,
            algorithm=group.algorithm.value,
        )
        if not others:
            empty.append(warning)
        elif user.is_operator and not any(m.user.is_operator for m in others):
            no_ops.append(warning)
    refusal = delete_refusal(session, principal, [user])
    return DeleteCheck(
        can_delete=refusal is None,
        reason=refusal.text.pick(lang) if refusal else None,
        groups_left_empty=empty,
        groups_left_without_operators=no_ops,
    )


def clear_pickup_members(session: Session, domain_id: int, pickup_id: int) -> list[User]:
    users = list(
        session.execute(
            select(User).where(User.domain_id == domain_id, User.pickup_group_id == pickup_id)
        ).scalars()
    )
    for u in users:
        u.pickup_group_id = None
    return users
