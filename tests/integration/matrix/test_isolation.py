"""Tenant isolation, for every endpoint the app has (read from its routes at collection time).

- An endpoint naming an object by id: another domain's admin (for pool endpoints: another
  pool's supervisor and a sub-group admin of another sub-group; for a personal book: also a
  colleague in the same domain; for a machine endpoint: people of both kinds) sends every
  method with a valid body and A's object id: 403/404, none of A's names or numbers in the
  answer, and not one of A's rows changed.
- An endpoint without an id: the attacker calls it for its own data; the answer shows nothing
  of A's. When its body names other objects, the attacker also tries naming A's objects
  instead of its own: refused (4xx), and A unchanged.
- The event stream: a B admin never receives A's events, live or replayed.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest

from tests.integration.matrix.conftest import Matrix
from tests.integration.matrix.discovery import Endpoint, endpoints, websocket_paths
from tests.integration.matrix.table import (
    DOMAIN,
    MACHINE,
    NO_CHANGE,
    PERSONAL,
    POOL,
    PUBLIC_SCOPE,
    RULES,
    WEBSOCKETS,
    BodyCtx,
    Sent,
    body_for,
    rule_for,
    send,
    url_for,
)
from tests.integration.matrix.world import (
    Side,
    leaked,
    snapshot,
    snapshot_diff,
    snapshot_personal,
    unclassified_tables,
)

WITH_ID = [e for e in endpoints() if e.int_params]
WITHOUT_ID = [e for e in endpoints() if not e.int_params]


@dataclass
class Attacker:
    who: str
    side: Side  # the attacker's own objects (what its bodies name)
    headers: dict[str, str]
    markers: tuple[str, ...]  # what of A's it must never see
    protected: Callable[[], dict[str, list[str]]]  # A's rows it must never change
    # A sub-group admin sees the whole pool's domain list and the sub-group admins' history
    # by design (spec 01, R-SGADM), so a read of A may succeed; a change to A may not.
    may_read: bool = False


def _attackers(mx: Matrix, scope: str, *, same_domain: bool = True) -> list[Attacker]:
    w = mx.world

    def whole_of_a() -> dict[str, list[str]]:
        return snapshot(mx.db, w.a.domain)

    def book_of_a() -> dict[str, list[str]]:
        return snapshot_personal(mx.db, w.a.admin)

    if scope in (POOL, MACHINE):
        side = mx.fresh(w.c.domain, "Г")
        # Same pool, another sub-group: B's side has a sub-group of its own that holds none
        # of A's domains, so its admin may manage nothing of A's.
        b_sub = mx.fresh(w.b.domain, "Б")
        own_row = f"('login', '{b_sub.pool_admin.login}')"

        def a_but_own_profile() -> dict[str, list[str]]:
            # A's pool holds the attacker's own profile, which it may edit.
            rows = snapshot(mx.db, w.a.domain)
            rows["pool_admins"] = [r for r in rows["pool_admins"] if own_row not in r]
            return rows

        found = [
            Attacker(
                "another pool's supervisor",
                side,
                w.role_headers("pool_supervisor", w.c),
                w.victim_markers,
                whole_of_a,
            ),
            Attacker(
                "another sub-group's admin",
                b_sub,
                w.role_headers("pool_subgroup_admin", b_sub),
                (),
                a_but_own_profile,
                may_read=True,
            ),
        ]
        if scope == POOL:
            return found
    else:
        found = []
    b = mx.fresh(w.b.domain, "Б")
    found.append(Attacker("domain B's admin", b, b.headers("admin"), w.victim_markers, whole_of_a))
    if scope == PERSONAL or (scope == DOMAIN and same_domain):
        colleague = mx.fresh(w.a.domain, "К")
        # A colleague legitimately sees A's company data, never someone else's own book or
        # forwarding scheme. A plain user: an admin may see every scheme of the domain.
        found.append(
            Attacker(
                "a colleague in domain A",
                colleague,
                colleague.headers("user"),
                w.a.personal_markers,
                book_of_a,
            )
        )
    return found


def _check_answer(sent: Sent, attacker: Attacker) -> None:
    assert sent.status_code < 500, (
        f"server error: {sent.request} -> {sent.status_code} {sent.text[:300]}"
    )
    # What the attacker typed itself may be echoed back (an error naming the bad value).
    markers = tuple(m for m in attacker.markers if not leaked(sent.request, (m,)))
    found = leaked(sent.text, markers)
    with contextlib.suppress(ValueError):
        # Non-ASCII may arrive \u-escaped; compare the decoded text too.
        found += leaked(json.dumps(json.loads(sent.text), ensure_ascii=False), markers)
    assert not found, f"{sent.request} shows A's data {sorted(set(found))}: {sent.text[:300]}"


def test_every_endpoint_is_classified() -> None:
    unknown = [e.key for e in endpoints() if e.key not in RULES]
    assert not unknown, f"add these endpoints to RULES in matrix/table.py: {unknown}"


def test_table_names_only_existing_endpoints() -> None:
    existing = {e.key for e in endpoints()}
    stale = sorted(set(RULES) - existing)
    assert not stale, f"RULES rows without an endpoint (renamed or removed?): {stale}"


def test_every_table_is_tied_to_a_domain_or_placed() -> None:
    """A table the snapshot cannot tie to a domain would hide a change to A's rows."""
    import server_stub.store.registry  # noqa: F401  (every area's tables)

    assert not unclassified_tables(), "place these tables in matrix/world.py (_CHILD_OF, ...)"


def test_every_websocket_is_classified() -> None:
    assert set(websocket_paths()) == set(WEBSOCKETS)


@pytest.mark.parametrize("endpoint", WITH_ID, ids=str)
def test_object_of_another_tenant_is_out_of_reach(mx: Matrix, endpoint: Endpoint) -> None:
    found = rule_for(endpoint)
    victim = mx.world.a
    if found.prepare is not None:
        found.prepare(mx.ctx(victim))  # A's live object (a ringing call) exists: its id is used
    url = url_for(endpoint, victim)
    for attacker in _attackers(mx, found.scope, same_domain=False):
        body = body_for(endpoint, found, mx.ctx(attacker.side))
        before = attacker.protected()
        sent = send(mx.client, endpoint, url, attacker.headers, body, attacker.who)
        assert sent.status_code in (403, 404) or (attacker.may_read and not endpoint.mutating), (
            f"{sent.request} -> {sent.status_code}, expected 403/404: {sent.text[:300]}"
        )
        _check_answer(sent, attacker)
        changed = snapshot_diff(before, attacker.protected())
        assert not changed, f"{sent.request} changed A's rows: {changed}"


@pytest.mark.parametrize("endpoint", WITHOUT_ID, ids=str)
def test_endpoint_without_id_shows_and_takes_nothing_of_another_tenant(
    mx: Matrix, endpoint: Endpoint
) -> None:
    found = rule_for(endpoint)
    if found.scope == PUBLIC_SCOPE and endpoint.mutating:
        pytest.skip("sign-in endpoints hold no tenant data; tests/integration/api covers them")
    victim = mx.world.a
    attackers = (
        [
            Attacker(
                "anonymous",
                victim,
                {},
                mx.world.victim_markers,
                lambda: snapshot(mx.db, victim.domain),
            )
        ]
        if found.scope == PUBLIC_SCOPE
        else _attackers(mx, found.scope, same_domain=not endpoint.mutating)
    )
    for attacker in attackers:
        n = mx.ctx(attacker.side).n
        own = body_for(endpoint, found, BodyCtx(attacker.side, mx.world, mx.db, mx.client, n))
        own_url = url_for(endpoint, attacker.side)
        before = attacker.protected()
        sent = send(mx.client, endpoint, own_url, attacker.headers, own, attacker.who)
        _check_answer(sent, attacker)
        changed = snapshot_diff(before, attacker.protected())
        assert not changed, f"{sent.request} changed A's rows: {changed}"

        if not endpoint.mutating or not endpoint.has_body:
            continue
        crossed = body_for(endpoint, found, BodyCtx(victim, mx.world, mx.db, mx.client, n))
        crossed_url = url_for(endpoint, victim)
        if crossed == own and crossed_url == own_url:
            continue  # the request names no object: nothing to cross
        before = attacker.protected()
        sent = send(mx.client, endpoint, crossed_url, attacker.headers, crossed, attacker.who)
        reads_only = not endpoint.mutating or found.audit_exempt == NO_CHANGE
        if found.cross_refs_refused and not (attacker.may_read and reads_only):
            assert 400 <= sent.status_code < 500, (
                f"{sent.request} names A's objects and got {sent.status_code}: {sent.text[:300]}"
            )
        _check_answer(sent, attacker)
        changed = snapshot_diff(before, attacker.protected())
        assert not changed, f"{sent.request} changed A's rows: {changed}"


def _domain_seqs(mx: Matrix, domain_id: int) -> set[int]:
    bus = mx.app.state.bus
    return {e.seq for e in bus.replay(bus.epoch, 0) or [] if e.domain_id == domain_id}


def test_event_stream_never_carries_another_domain(mx: Matrix) -> None:
    """B's admin listens; A changes something, then B does: B's first event is its own.
    Then B replays the whole buffer: not one of A's events is in it."""
    w = mx.world
    a, b = mx.fresh(w.a.domain, "СА"), mx.fresh(w.b.domain, "СБ")
    token = b.headers("admin")["Authorization"].split()[1]
    with mx.client.websocket_connect("/api/events") as ws:
        ws.send_json({"token": token})
        hello = ws.receive_json()
        assert hello["type"] == "hello", hello
        r = mx.client.patch(
            f"/api/vip-numbers/{a.vip.id}", json={"comment": "событие A"}, headers=a.headers()
        )
        assert r.status_code == 200, r.text
        r = mx.client.patch(
            f"/api/vip-numbers/{b.vip.id}", json={"comment": "событие B"}, headers=b.headers()
        )
        assert r.status_code == 200, r.text
        event = ws.receive_json()
        assert event.get("data", {}).get("id") == b.vip.id, f"B received {event}"
    with mx.client.websocket_connect("/api/events") as ws:
        ws.send_json({"token": token, "since": 0, "epoch": hello["epoch"]})
        assert ws.receive_json()["type"] == "hello"
        mx.client.patch(
            f"/api/vip-numbers/{b.vip.id}", json={"comment": "конец"}, headers=b.headers()
        )
        last = mx.app.state.bus.last_seq
        received: list[dict[str, Any]] = []
        while not received or received[-1]["seq"] < last:
            event = ws.receive_json()
            assert event.get("type") != "resync", "the buffer could not be replayed"
            received.append(event)
    a_seqs = _domain_seqs(mx, w.a.domain.id)
    assert a_seqs, "A's changes published no events: the check would prove nothing"
    leaks = [e for e in received if e["seq"] in a_seqs]
    assert not leaks, f"B replayed A's events: {leaks[:3]}"
