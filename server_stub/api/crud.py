"""Domain-scoped CRUD routers built from a small declaration (``Resource``).

Why one generic layer: tenant isolation and the action history must hold for every object the
same way. Here every query is filtered by the caller's domain (an object of another domain is
simply "not found"), every change is audited in its own transaction, and every committed
change is published on the event bus. Resources add their own validation in ``apply``.

Note: this module deliberately has no ``from __future__ import annotations``; FastAPI reads
the generated endpoints' annotations, which name schema classes held in local variables.
"""

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Annotated, Any, Generic, TypeVar

from fastapi import APIRouter, Body, Depends, Query, Request, Response
from pydantic import BaseModel, ConfigDict
from sqlalchemy import ColumnElement, Select, func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from server_stub.api import audit
from server_stub.api.deps import ADMIN, USER, Principal, SessionDep, require_domain
from server_stub.api.errors import ApiError, Text, conflict, not_found
from server_stub.store.models import Base, Domain

M = TypeVar("M", bound=Base)


class Page(BaseModel):
    model_config = ConfigDict(arbitrary_types_allowed=True)
    items: list[Any]
    total: int
    offset: int
    limit: int


@dataclass
class Ctx:
    """What a resource hook may use: the open transaction, the caller and their domain."""

    session: Session
    principal: Principal
    domain: Domain
    request: Request | None = None

    @property
    def domain_id(self) -> int:
        return self.domain.id


def ensure_unique(
    ctx: Ctx,
    model: type[Base],
    column: str,
    value: Any,
    field_name: str,
    exclude_id: int | None = None,
    extra: Sequence[ColumnElement[bool]] = (),
) -> None:
    """Refuse a duplicate inside the caller's domain with a message naming the field."""
    col = getattr(model, column)
    stmt = select(model.id).where(col == value)  # type: ignore[attr-defined]
    if hasattr(model, "domain_id"):
        stmt = stmt.where(model.domain_id == ctx.domain_id)  # type: ignore[attr-defined]
    for cond in extra:
        stmt = stmt.where(cond)
    if exclude_id is not None:
        stmt = stmt.where(model.id != exclude_id)  # type: ignore[attr-defined]
    if ctx.session.execute(stmt.limit(1)).first() is not None:
        raise conflict(
            field_name,
            f"значение «{value}» уже используется",
            f"the value '{value}' is already in use",
        )


def _default_apply(ctx: Ctx, obj: Any, data: dict[str, Any], creating: bool) -> None:
    for key, value in data.items():
        setattr(obj, key, value)


@dataclass
class Resource(Generic[M]):
    path: str  # "/vip-numbers"
    tag: str
    model: type[M]
    object_type: str  # the audit object type, e.g. "vip_number"
    read: type[BaseModel]
    create: type[BaseModel]
    update: type[BaseModel]
    read_roles: tuple[str, ...] = (USER,)
    write_roles: tuple[str, ...] = (ADMIN,)
    apply: Callable[[Ctx, Any, dict[str, Any], bool], None] = _default_apply
    to_read: Callable[[Ctx, Any], BaseModel] | None = None
    name_of: Callable[[Any], str] = field(default=lambda obj: str(getattr(obj, "name", obj.id)))
    search_columns: tuple[str, ...] = ()
    # Extra where-clauses and creation defaults (e.g. personal vs company address book).
    scope: Callable[[Ctx], list[ColumnElement[bool]]] = field(default=lambda ctx: [])
    defaults: Callable[[Ctx], dict[str, Any]] = field(default=lambda ctx: {})
    before_delete: Callable[[Ctx, Any], None] | None = None
    order_by: str = "id"
    filters: dict[str, str] = field(default_factory=dict)  # query param -> column (equality)

    # --- queries -------------------------------------------------------------------------

    def base_query(self, ctx: Ctx) -> Select[Any]:
        stmt = select(self.model).where(self.model.domain_id == ctx.domain_id)  # type: ignore[attr-defined]
        for cond in self.scope(ctx):
            stmt = stmt.where(cond)
        return stmt

    def get(self, ctx: Ctx, obj_id: int) -> M:
        stmt = self.base_query(ctx).where(self.model.id == obj_id)  # type: ignore[attr-defined]
        obj = ctx.session.execute(stmt).scalar_one_or_none()
        if obj is None:
            raise not_found(self.object_type)
        return obj  # type: ignore[no-any-return]

    def render(self, ctx: Ctx, obj: M) -> BaseModel:
        if self.to_read is not None:
            return self.to_read(ctx, obj)
        return self.read.model_validate(obj, from_attributes=True)

    # --- router --------------------------------------------------------------------------

    def router(self) -> APIRouter:
        res = self
        router = APIRouter(tags=[self.tag])
        reader = Annotated[Principal, Depends(require_domain(*self.read_roles))]
        writer = Annotated[Principal, Depends(require_domain(*self.write_roles))]
        create_body = Annotated[self.create, Body()]  # type: ignore[name-defined]
        update_body = Annotated[self.update, Body()]  # type: ignore[name-defined]

        def ctx_of(session: Session, principal: Principal, request: Request) -> Ctx:
            domain = session.get(Domain, principal.domain_id)
            if domain is None:
                raise not_found("domain")
            return Ctx(session, principal, domain, request)

        @router.get(
            self.path,
            response_model=Page,
            summary=f"List {self.object_type}s",
            operation_id=f"list_{self.object_type}s",
        )
        def list_(
            request: Request,
            session: SessionDep,
            principal: reader,  # type: ignore[valid-type]
            q: Annotated[str | None, Query(max_length=100)] = None,
            offset: Annotated[int, Query(ge=0, le=10_000_000)] = 0,
            limit: Annotated[int, Query(ge=1, le=500)] = 100,
        ) -> Page:
            ctx = ctx_of(session, principal, request)
            stmt = res.base_query(ctx)
            if q and res.search_columns:
                like = f"%{q.lower()}%"
                stmt = stmt.where(
                    or_(*[func.lower(getattr(res.model, c)).like(like) for c in res.search_columns])
                )
            for param, column in res.filters.items():
                raw = request.query_params.get(param)
                if raw is not None:
                    stmt = stmt.where(getattr(res.model, column) == _coerce(raw))
            total = session.execute(select(func.count()).select_from(stmt.subquery())).scalar_one()
            rows = session.execute(
                stmt.order_by(getattr(res.model, res.order_by), res.model.id)  # type: ignore[attr-defined]
                .offset(offset)
                .limit(limit)
            ).scalars()
            return Page(
                items=[res.render(ctx, r) for r in rows], total=total, offset=offset, limit=limit
            )

        @router.get(
            self.path + "/{obj_id}",
            response_model=self.read,
            operation_id=f"get_{self.object_type}",
        )
        def get_(
            obj_id: int,
            request: Request,
            session: SessionDep,
            principal: reader,  # type: ignore[valid-type]
        ) -> BaseModel:
            ctx = ctx_of(session, principal, request)
            return res.render(ctx, res.get(ctx, obj_id))

        @router.post(
            self.path,
            response_model=self.read,
            status_code=201,
            operation_id=f"create_{self.object_type}",
        )
        def create_(
            body: create_body,  # type: ignore[valid-type]
            request: Request,
            session: SessionDep,
            principal: writer,  # type: ignore[valid-type]
        ) -> BaseModel:
            ctx = ctx_of(session, principal, request)
            obj = res.model(domain_id=ctx.domain_id, **res.defaults(ctx))
            res.apply(ctx, obj, body.model_dump(), True)
            session.add(obj)
            flush(session)
            audit.record(
                session,
                principal,
                "create",
                res.object_type,
                obj.id,  # type: ignore[attr-defined]
                res.name_of(obj),
                None,
                audit.snapshot(obj),
            )
            session.commit()
            publish(request, f"{res.object_type}.created", ctx.domain_id, {"id": obj.id})  # type: ignore[attr-defined]
            return res.render(ctx, obj)

        @router.patch(
            self.path + "/{obj_id}",
            response_model=self.read,
            operation_id=f"update_{self.object_type}",
        )
        def update_(
            obj_id: int,
            body: update_body,  # type: ignore[valid-type]
            request: Request,
            session: SessionDep,
            principal: writer,  # type: ignore[valid-type]
        ) -> BaseModel:
            ctx = ctx_of(session, principal, request)
            obj = res.get(ctx, obj_id)
            before = audit.snapshot(obj)
            res.apply(ctx, obj, body.model_dump(exclude_unset=True), False)
            flush(session)
            audit.record(
                session,
                principal,
                "update",
                res.object_type,
                obj_id,
                res.name_of(obj),
                before,
                audit.snapshot(obj),
            )
            session.commit()
            publish(request, f"{res.object_type}.updated", ctx.domain_id, {"id": obj_id})
            return res.render(ctx, obj)

        @router.delete(
            self.path + "/{obj_id}",
            status_code=204,
            response_class=Response,
            operation_id=f"delete_{self.object_type}",
        )
        def delete_(
            obj_id: int,
            request: Request,
            session: SessionDep,
            principal: writer,  # type: ignore[valid-type]
        ) -> Response:
            ctx = ctx_of(session, principal, request)
            obj = res.get(ctx, obj_id)
            if res.before_delete is not None:
                res.before_delete(ctx, obj)
            before = audit.snapshot(obj)
            name = res.name_of(obj)
            session.delete(obj)
            flush(session)
            audit.record(session, principal, "delete", res.object_type, obj_id, name, before, None)
            session.commit()
            publish(request, f"{res.object_type}.deleted", ctx.domain_id, {"id": obj_id})
            return Response(status_code=204)

        return router


def _coerce(raw: str) -> Any:
    if raw.lower() in ("true", "false"):
        return raw.lower() == "true"
    if re.fullmatch(r"-?\d{1,18}", raw):
        return int(raw)
    return raw


def flush(session: Session) -> None:
    """Flush, turning a database constraint violation into a clear 409 instead of a 500."""
    try:
        session.flush()
    except IntegrityError as exc:
        session.rollback()
        raise ApiError(
            409,
            "conflict",
            Text(
                "Изменение противоречит существующим данным (дубликат или ссылка)",
                "The change conflicts with existing data (a duplicate or a reference)",
            ),
        ) from exc


def publish(
    request: Request | None,
    type_: str,
    domain_id: int | None,
    data: dict[str, Any],
    audience: tuple[str, ...] | None = None,
) -> None:
    if request is None:
        return
    bus = getattr(request.app.state, "bus", None)
    if bus is not None:
        bus.publish(type_, domain_id, data, audience)
