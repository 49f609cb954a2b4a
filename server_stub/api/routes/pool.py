"""Routes: the pool admin cabinet (spec §6). Pool-level sessions only; see ``pool_common``."""

from __future__ import annotations

from fastapi import APIRouter
from pydantic import BaseModel
from sqlalchemy import func, select

from server_stub.api.deps import SessionDep
from server_stub.api.routes import pool_admins, pool_domains, pool_subgroups
from server_stub.api.routes.pool_common import PoolCaller, pool_of
from server_stub.store.models import Domain

router = APIRouter(tags=["pool"])


class PoolRead(BaseModel):
    id: int
    name: str
    routing_number_length: int
    domain_count: int


@router.get("/pool", response_model=PoolRead, operation_id="pool_get")
def get_pool(session: SessionDep, principal: PoolCaller) -> PoolRead:
    """The cabinet header: the pool's name and how many domains it holds (§6.3)."""
    pool = pool_of(session, principal)
    count = session.execute(
        select(func.count()).select_from(Domain).where(Domain.pool_id == pool.id)
    ).scalar_one()
    return PoolRead(
        id=pool.id,
        name=pool.name,
        routing_number_length=pool.routing_number_length,
        domain_count=count,
    )


# /pool/domains/move (subgroups) must be registered before /pool/domains/{domain_id}, although
# the methods differ today (POST vs GET/PATCH), so a future POST on {domain_id} cannot shadow it.
router.include_router(pool_subgroups.router)
router.include_router(pool_domains.router)
router.include_router(pool_admins.router)
