"""Request and response bodies of call groups (/api/groups) and pickup groups."""

from __future__ import annotations

import re
from typing import Annotated
from urllib.parse import urlsplit

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from server_stub.api.directory import Email, GroupName
from server_stub.api.errors import bilingual_value_error
from server_stub.api.fields import Extension, Priority
from server_stub.store.models import GroupAlgorithm

# What the desktop substitutes into the CRM address when it opens the CRM pane for a call.
CRM_PLACEHOLDERS = ("caller", "called", "call_id", "operator", "group", "campaign", "client_id")
_PLACEHOLDER = re.compile(r"\{([^{}]*)\}")


def _crm_template(value: str) -> str:
    value = value.strip()
    if not value:
        return ""
    allowed = ", ".join("{" + p + "}" for p in CRM_PLACEHOLDERS)
    unknown = [n for n in _PLACEHOLDER.findall(value) if n not in CRM_PLACEHOLDERS]
    if unknown:
        names = ", ".join("{" + n + "}" for n in unknown)
        raise bilingual_value_error(
            f"неизвестная подстановка {names}; допустимы: {allowed}",
            f"unknown placeholder {names}; allowed: {allowed}",
        )
    bare = _PLACEHOLDER.sub("x", value)
    if "{" in bare or "}" in bare:
        raise bilingual_value_error(
            "непарная фигурная скобка в адресе", "an unmatched curly brace in the address"
        )
    parts = urlsplit(bare)
    if parts.scheme not in ("http", "https") or not parts.netloc or any(c.isspace() for c in bare):
        raise bilingual_value_error(
            "нужен адрес, начинающийся с http:// или https://",
            "an address starting with http:// or https:// is required",
        )
    return value


CrmTemplate = Annotated[str, Field(max_length=2000), AfterValidator(_crm_template)]
StepSeconds = Annotated[int, Field(ge=5, le=30)]
TotalWaitSeconds = Annotated[int, Field(ge=15, le=600)]
GreetingText = Annotated[str, Field(max_length=1000)]
AnswerSeconds = Annotated[int, Field(ge=5, le=300)]
WrapSeconds = Annotated[int, Field(ge=0, le=3600)]

DEFAULT_PRIORITY = 10


class MemberIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    user_id: int
    priority: Priority = DEFAULT_PRIORITY


class MemberRead(BaseModel):
    user_id: int
    display_name: str
    extension: str
    is_operator: bool
    priority: int  # lower is served first; used by the ACD algorithms only


class PriorityUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    priority: Priority


class GroupRead(BaseModel):
    id: int
    name: str
    extension: str
    algorithm: GroupAlgorithm
    email: str
    step_seconds: int
    total_wait_seconds: int
    voicemail_enabled: bool
    greeting_text: str
    answer_seconds: int
    post_call_seconds: int
    avg_talk_seconds: int
    crm_url_template: str
    users: int  # members who are not operators (the list's "N пользователей")
    operators: int
    members: list[MemberRead]


class GroupCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: GroupName
    extension: Extension | None = None  # None: the next free one (shared with users)
    algorithm: GroupAlgorithm = GroupAlgorithm.NOT_SET
    email: Email = ""
    step_seconds: StepSeconds = 15
    total_wait_seconds: TotalWaitSeconds = 60
    voicemail_enabled: bool = False
    greeting_text: GreetingText = ""
    answer_seconds: AnswerSeconds = 20
    post_call_seconds: WrapSeconds = 30
    avg_talk_seconds: WrapSeconds = 0  # 0: no expected-wait announcement
    crm_url_template: CrmTemplate = ""
    members: Annotated[list[MemberIn], Field(max_length=1000)] = []


class GroupUpdate(BaseModel):
    """Members change through /api/groups/{id}/members, not here."""

    model_config = ConfigDict(extra="forbid")

    name: GroupName | None = None
    extension: Extension | None = None
    algorithm: GroupAlgorithm | None = None
    email: Email | None = None
    step_seconds: StepSeconds | None = None
    total_wait_seconds: TotalWaitSeconds | None = None
    voicemail_enabled: bool | None = None
    greeting_text: GreetingText | None = None
    answer_seconds: AnswerSeconds | None = None
    post_call_seconds: WrapSeconds | None = None
    avg_talk_seconds: WrapSeconds | None = None
    crm_url_template: CrmTemplate | None = None


class PickupMemberRead(BaseModel):
    user_id: int
    display_name: str
    extension: str


class PickupGroupRead(BaseModel):
    id: int
    name: str
    pickup_code: str  # domain-wide; dialled to answer a colleague's ringing phone
    member_ids: list[int]
    members: list[PickupMemberRead]


class PickupGroupCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: GroupName
    user_ids: Annotated[list[int], Field(max_length=1000)] = []


class PickupGroupUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: GroupName | None = None


class PickupMembers(BaseModel):
    model_config = ConfigDict(extra="forbid")

    user_ids: Annotated[list[int], Field(max_length=1000)]
