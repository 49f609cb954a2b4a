"""Break reasons (admin-defined, e.g. «Технический перерыв», «Обед»): operators pick one."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BaseModel, StringConstraints

from server_stub.api.crud import Ctx, Resource, ensure_unique
from server_stub.api.deps import ADMIN, USER
from server_stub.store.models_acd import BreakReason

ReasonName = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=120)]


class ReasonRead(BaseModel):
    id: int
    name: str


class ReasonCreate(BaseModel):
    name: ReasonName


class ReasonUpdate(BaseModel):
    name: ReasonName | None = None


def _apply(ctx: Ctx, obj: BreakReason, data: dict[str, Any], creating: bool) -> None:
    if data.get("name") is not None:
        ensure_unique(ctx, BreakReason, "name", data["name"], "name", exclude_id=obj.id)
        obj.name = data["name"]


resource: Resource[BreakReason] = Resource(
    path="/break-reasons",
    tag="operator",
    model=BreakReason,
    object_type="break_reason",
    read=ReasonRead,
    create=ReasonCreate,
    update=ReasonUpdate,
    read_roles=(USER,),
    write_roles=(ADMIN,),
    apply=_apply,
    search_columns=("name",),
    order_by="name",
)
router = resource.router()
