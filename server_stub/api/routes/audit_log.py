"""Routes: the action history (read-only by design: no route edits or deletes a row).

``/audit`` is a domain's log (domain admins, also a pool admin acting as the domain's admin);
``/pool/audit`` is the pool cabinet's log. Scopes are explained in ``audit_query``.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import StreamingResponse
from sqlalchemy import ColumnElement

from server_stub.api.deps import DomainAdmin, SessionDep
from server_stub.api.errors import language
from server_stub.api.routes import audit_query as aq
from server_stub.api.routes.pool_common import PoolCaller

router = APIRouter(tags=["audit"])

Filters = Annotated[aq.AuditFilters, Depends(aq.audit_filters)]
Offset = Annotated[int, Query(ge=0, le=10_000_000)]
Limit = Annotated[int, Query(ge=1, le=500)]
CsvFormat = Annotated[Literal["csv"], Query(alias="format")]


def _export(
    request: Request, scope: list[ColumnElement[bool]], filters: aq.AuditFilters, name: str
) -> StreamingResponse:
    stamp = datetime.now(UTC).strftime("%Y%m%d-%H%M%S")
    return StreamingResponse(
        aq.csv_rows(
            request.app.state.session_factory, aq.statement(scope, filters), language(request)
        ),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{name}-{stamp}.csv"'},
    )


@router.get("/audit", response_model=aq.AuditPage, operation_id="audit_list")
def domain_audit(
    session: SessionDep,
    principal: DomainAdmin,
    filters: Filters,
    offset: Offset = 0,
    limit: Limit = 50,
) -> aq.AuditPage:
    """The domain's action history, newest first."""
    return aq.page(session, aq.statement(aq.domain_scope(principal), filters), offset, limit)


@router.get("/audit/export", response_class=StreamingResponse, operation_id="audit_export")
def domain_audit_export(
    request: Request,
    principal: DomainAdmin,
    filters: Filters,
    fmt: CsvFormat = "csv",
) -> StreamingResponse:
    """The same rows as ``/audit`` with the same filters, as a CSV file (every row, no paging)."""
    return _export(request, aq.domain_scope(principal), filters, "audit")


@router.get("/pool/audit", response_model=aq.AuditPage, operation_id="pool_audit_list")
def pool_audit(
    session: SessionDep,
    principal: PoolCaller,
    filters: Filters,
    offset: Offset = 0,
    limit: Limit = 50,
) -> aq.AuditPage:
    """The pool cabinet's action history, newest first."""
    scope = aq.pool_scope(session, principal)
    return aq.page(session, aq.statement(scope, filters), offset, limit)


@router.get(
    "/pool/audit/export", response_class=StreamingResponse, operation_id="pool_audit_export"
)
def pool_audit_export(
    request: Request,
    session: SessionDep,
    principal: PoolCaller,
    filters: Filters,
    fmt: CsvFormat = "csv",
) -> StreamingResponse:
    scope = aq.pool_scope(session, principal)
    return _export(request, scope, filters, "pool-audit")
