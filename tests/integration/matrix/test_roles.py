"""Who may call what, for every endpoint the app has.

Every role the table does not allow gets refused (see ``table.refusal_status``: 401 without a
person's token, 403 signed in or on the SIP edge's endpoints), with the objects and a valid
body of the caller's own domain, so the refusal can only come from the role check.
Every allowed role gets past the check on reads (not 401/403). Two guards keep the table
itself honest: plain users and operators may change only their own session and book,
anonymous callers reach only sign-in, password recovery, health and the schema, and the
machine callers' secrets open only the machine endpoints.
"""

from __future__ import annotations

import pytest

from tests.integration.matrix.conftest import Matrix
from tests.integration.matrix.discovery import Endpoint, endpoints
from tests.integration.matrix.table import (
    ALL_ROLES,
    ANON,
    ANONYMOUS_ALLOWED,
    EDGE,
    EDGE_PATHS,
    OPERATOR,
    POOL_IN_DOMAIN,
    PUBLIC_SCOPE,
    RULES,
    SELF_SERVICE_PREFIXES,
    SYSTEM,
    SYSTEM_PATHS,
    USER,
    body_for,
    refusal_status,
    rule_for,
    send,
    url_for,
)
from tests.integration.matrix.world import snapshot, snapshot_diff


def test_users_and_operators_change_only_their_own_things() -> None:
    wrong = [
        key
        for key, found in RULES.items()
        if key.split()[0] in ("POST", "PUT", "PATCH", "DELETE")
        and not key.split()[1].startswith(SELF_SERVICE_PREFIXES)
        and found.roles & {USER, OPERATOR}
    ]
    assert not wrong, f"plain users/operators may not change admin resources: {wrong}"


def test_nobody_below_pool_level_reaches_the_pool_cabinet() -> None:
    wrong = [
        key
        for key, found in RULES.items()
        if key.split()[1].startswith("/api/pool")
        and found.roles & {ANON, USER, OPERATOR, POOL_IN_DOMAIN, "supervisor", "domain_admin"}
    ]
    assert not wrong, f"only pool-level sessions may use /api/pool/*: {wrong}"


def test_anonymous_reaches_only_sign_in_health_and_schema() -> None:
    wrong = sorted(k for k, found in RULES.items() if ANON in found.roles)
    assert set(wrong) <= ANONYMOUS_ALLOWED, set(wrong) - ANONYMOUS_ALLOWED


def test_machine_secrets_open_only_machine_endpoints() -> None:
    """The edge's secret opens the edge's endpoints and nothing else (and no person's token
    opens those); the system secret opens only billing's system endpoints."""
    wrong = [
        key
        for key, found in RULES.items()
        if found.scope != PUBLIC_SCOPE  # health, schema, sign-in: open to every caller
        and (
            (EDGE in found.roles) != key.split()[1].startswith(EDGE_PATHS)
            or (EDGE in found.roles and found.roles != {EDGE})
            or (SYSTEM in found.roles and not key.split()[1].startswith(SYSTEM_PATHS))
        )
    ]
    assert not wrong, f"machine callers belong to the machine endpoints only: {wrong}"


@pytest.mark.parametrize("endpoint", endpoints(), ids=str)
def test_only_the_allowed_roles_get_through(mx: Matrix, endpoint: Endpoint) -> None:
    found = rule_for(endpoint)
    w = mx.world
    problems: list[str] = []
    for role in ALL_ROLES:
        allowed = role in found.roles
        if allowed and endpoint.mutating:
            continue  # the audit matrix makes the allowed changes, on throwaway objects
        body = body_for(endpoint, found, mx.ctx(w.a))
        url = url_for(endpoint, w.a)  # after the body: its preparation may make the object
        before = snapshot(mx.db, w.a.domain)
        sent = send(mx.client, endpoint, url, w.role_headers(role), body, role)
        if allowed:
            if sent.status_code in (401, 403) or sent.status_code >= 500:
                problems.append(f"{sent.request} -> {sent.status_code}: {sent.text[:200]}")
            continue
        expected = refusal_status(role, found)
        if sent.status_code != expected:
            problems.append(f"{sent.request} -> {sent.status_code}, expected {expected}")
        changed = snapshot_diff(before, snapshot(mx.db, w.a.domain))
        if changed:
            problems.append(f"{sent.request} was refused? yet changed {changed}")
    assert not problems, "\n".join(problems)
