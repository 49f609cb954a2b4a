"""Every change is in the action history: for every endpoint that changes something (POST,
PUT, PATCH, DELETE), a successful call by an allowed role writes at least one audit row in the
same request, naming the caller. Endpoints that store nothing are exempt in the table, each
with its reason. Calls work on a throwaway side of domain A, so they may delete what they hit.
"""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from server_stub.store.models import AuditEntry
from tests.integration.matrix.conftest import Matrix
from tests.integration.matrix.discovery import Endpoint, endpoints
from tests.integration.matrix.table import actor_of, body_for, rule_for, send, url_for

MUTATING = [e for e in endpoints() if e.mutating]


def _last_id(mx: Matrix) -> int:
    mx.db.expire_all()
    return int(mx.db.execute(select(func.coalesce(func.max(AuditEntry.id), 0))).scalar_one())


def test_every_exemption_says_why() -> None:
    from tests.integration.matrix.table import RULES

    blank = [
        k for k, r in RULES.items() if r.audit_exempt is not None and not r.audit_exempt.strip()
    ]
    assert not blank


@pytest.mark.parametrize("endpoint", MUTATING, ids=str)
def test_successful_change_writes_an_audit_row(mx: Matrix, endpoint: Endpoint) -> None:
    found = rule_for(endpoint)
    side = mx.fresh(mx.world.a.domain, "А")
    role = actor_of(found)
    body = body_for(endpoint, found, mx.ctx(side))
    url = url_for(endpoint, side)  # after the body: its preparation may make the object
    start = _last_id(mx)
    sent = send(mx.client, endpoint, url, mx.world.role_headers(role, side), body, role)
    assert sent.status_code in found.ok, (
        f"a valid call failed, so the matrix cannot check it: {sent.request} -> "
        f"{sent.status_code} {sent.text[:400]}"
    )
    if found.audit_exempt:
        return
    mx.db.expire_all()
    rows = mx.db.execute(select(AuditEntry).where(AuditEntry.id > start)).scalars().all()
    assert rows, f"{sent.request} -> {sent.status_code} wrote no audit row"
    login = mx.world.role_login(role, side)
    assert any(r.actor_login == login for r in rows), (
        f"{sent.request}: no audit row names {login}: "
        f"{[(r.action, r.object_type, r.actor_login) for r in rows]}"
    )
    if found.audit_action:
        assert any(r.action == found.audit_action for r in rows), (
            f"{sent.request}: no '{found.audit_action}' row: {[r.action for r in rows]}"
        )
