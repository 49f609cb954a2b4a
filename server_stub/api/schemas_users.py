"""Request and response bodies of the users API (/api/users)."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from server_stub.api.directory import CleanName, Email, GroupRef
from server_stub.api.errors import bilingual_value_error
from server_stub.api.fields import Extension
from server_stub.api.security import login_problem, password_problem
from server_stub.store.models import OutgoingRestriction


def _login(value: str) -> str:
    value = value.strip()
    problem = login_problem(value)
    if problem:
        raise bilingual_value_error(*problem)
    return value


def _password(value: str) -> str:
    problem = password_problem(value)
    if problem:
        raise bilingual_value_error(*problem)
    return value


Login = Annotated[str, Field(max_length=100), AfterValidator(_login)]
Password = Annotated[str, Field(max_length=200), AfterValidator(_password)]
Position = Annotated[str, Field(max_length=200)]
IdList = Annotated[list[int], Field(max_length=1000)]


class UserPublic(BaseModel):
    """The company-directory view every domain user may read."""

    id: int
    login: str
    sip_address: str  # login@domain; never changes (spec 01 §9.5.1)
    display_name: str
    position: str
    email: str
    extension: str
    roles: list[str]
    is_operator: bool
    is_supervisor: bool
    is_admin: bool
    active: bool
    pickup_group_id: int | None
    groups: list[GroupRef]


class UserRead(UserPublic):
    """The administrator's view: the directory plus call settings. Hashes never leave."""

    outgoing_restriction: OutgoingRestriction
    outgoing_number_id: int | None
    recording: bool
    voicemail_enabled: bool
    voicemail_to_email: bool


class UserPage(BaseModel):
    items: list[UserRead | UserPublic]
    total: int
    offset: int
    limit: int


class UserCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    login: Login
    password: Password
    # The SIP (phone) secret; defaults to the web password. Stored only as digest HA1.
    sip_password: Password | None = None
    display_name: CleanName
    extension: Extension | None = None  # None: the next free one
    email: Email = ""
    position: Position = ""
    is_operator: bool = False
    is_supervisor: bool = False
    is_admin: bool = False
    active: bool = True
    outgoing_restriction: OutgoingRestriction = OutgoingRestriction.INHERIT
    outgoing_number_id: int | None = None
    recording: bool = False
    voicemail_enabled: bool = False
    voicemail_to_email: bool = False
    pickup_group_id: int | None = None
    group_ids: IdList = []


class UserUpdate(BaseModel):
    """Every field optional; ``null`` clears the nullable ones (outgoing number, pickup group).

    ``login`` is accepted only to say clearly that it cannot change: it is the SIP address,
    and the phone's digest secret is computed from it.
    """

    model_config = ConfigDict(extra="forbid")

    login: str | None = None
    password: Password | None = None
    sip_password: Password | None = None
    display_name: CleanName | None = None
    extension: Extension | None = None
    email: Email | None = None
    position: Position | None = None
    is_operator: bool | None = None
    is_supervisor: bool | None = None
    is_admin: bool | None = None
    active: bool | None = None
    outgoing_restriction: OutgoingRestriction | None = None
    outgoing_number_id: int | None = None
    recording: bool | None = None
    voicemail_enabled: bool | None = None
    voicemail_to_email: bool | None = None
    pickup_group_id: int | None = None
    group_ids: IdList | None = None  # replaces the user's call groups


class NextExtension(BaseModel):
    extension: str


class GroupWarning(BaseModel):
    id: int
    name: str
    extension: str
    algorithm: str


class DeleteCheck(BaseModel):
    """What deleting the user would break, so the client can warn first (spec 01 §9.5 item 4)."""

    can_delete: bool
    reason: str | None  # why it is refused, in the caller's language
    groups_left_empty: list[GroupWarning]
    groups_left_without_operators: list[GroupWarning]


BulkAction = Literal["add_to_group", "set_pickup_group", "set_roles", "set_recording", "delete"]


class BulkRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    user_ids: Annotated[list[int], Field(min_length=1, max_length=1000)]
    action: BulkAction
    group_id: int | None = None  # add_to_group
    pickup_group_id: int | None = None  # set_pickup_group; null = «Без группы»
    is_operator: bool | None = None  # set_roles: null leaves the role as it is
    is_supervisor: bool | None = None
    is_admin: bool | None = None
    recording: bool | None = None  # set_recording


class BulkResult(BaseModel):
    action: BulkAction
    changed: list[int]  # the users actually changed (already-matching ones are skipped)
