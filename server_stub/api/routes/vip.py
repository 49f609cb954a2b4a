"""VIP numbers: callers served first in ACD queues (lower priority value first)."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

from server_stub.api.crud import Ctx, Resource, ensure_unique
from server_stub.api.deps import ADMIN, SUPERVISOR
from server_stub.api.fields import PhoneNumber, Priority
from server_stub.store.models import VipNumber


class VipRead(BaseModel):
    id: int
    e164: str
    priority: int
    comment: str


class VipCreate(BaseModel):
    e164: PhoneNumber
    priority: Priority
    comment: str = Field(default="", max_length=500)


class VipUpdate(BaseModel):
    e164: PhoneNumber | None = None
    priority: Priority | None = None
    comment: str | None = Field(default=None, max_length=500)


def _apply(ctx: Ctx, obj: VipNumber, data: dict[str, Any], creating: bool) -> None:
    data = {k: v for k, v in data.items() if v is not None}
    if "e164" in data:
        ensure_unique(ctx, VipNumber, "e164", data["e164"], "e164", exclude_id=obj.id)
    for key, value in data.items():
        setattr(obj, key, value)


resource: Resource[VipNumber] = Resource(
    path="/vip-numbers",
    tag="vip",
    model=VipNumber,
    object_type="vip_number",
    read=VipRead,
    create=VipCreate,
    update=VipUpdate,
    read_roles=(ADMIN, SUPERVISOR),
    write_roles=(ADMIN,),
    apply=_apply,
    name_of=lambda o: o.e164,
    search_columns=("e164", "comment"),
    order_by="priority",
)
router = resource.router()
