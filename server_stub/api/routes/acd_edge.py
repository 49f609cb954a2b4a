"""What the SIP edge asks about the calls it holds in ACD queues (``/api/acd/edge``).

The edge keeps a queued caller's INVITE suspended (it hears ringback) and asks about ten times
a second which of its held calls the dispatcher now offers, and to whom. Asking is what starts
the ringing: the first answer naming an offer marks it as ringing at the edge, and from then
on the edge's ring timer (the group's answer time) decides when the offer lapses — the edge
reports it here. Offers made when an operator becomes free (ready after post-call work, a
status change) are found the same way, because every offer lives in the dispatcher.

Answer and hang-up use the edge endpoints of ``routes/acd.py`` (``/calls/{id}/answered``,
``/calls/{id}/ended``). Like them these are machine calls, not audited: the operators' state
changes they cause are stored as intervals.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any, Literal

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel, Field
from sqlalchemy import select

from server_stub.acd.dispatcher import Dispatcher, Effects, Offer
from server_stub.api.acd_service import AcdDep, AcdNow, run_announced
from server_stub.api.deps import SessionDep
from server_stub.api.errors import ApiError, Text
from server_stub.api.sip_auth import require_edge
from server_stub.store.models import Domain, User
from server_stub.store.models_acd import AcdCall

router = APIRouter(prefix="/acd/edge", tags=["acd"], dependencies=[Depends(require_edge)])


class HeldCalls(BaseModel):
    call_ids: list[str] = Field(max_length=1000)


@router.post("/offers", operation_id="acd_edge_offers")
def offers(
    body: HeldCalls, request: Request, session: SessionDep, svc: AcdDep, at: AcdNow
) -> dict[str, Any]:
    """The current offers of the edge's held calls, and which of them the ACD no longer holds.

    Each offer is answered with the operator's SIP address and the group's answer time; an
    offer named here for the first time counts as ringing from now (see ``ring_at_edge``).
    """
    wanted = set(body.call_ids)
    rows = (
        session.execute(
            select(AcdCall.call_id, AcdCall.domain_id).where(AcdCall.call_id.in_(wanted))
        ).all()
        if wanted
        else []
    )
    by_domain: dict[int, list[str]] = defaultdict(list)
    for call_id, domain_id in rows:
        by_domain[domain_id].append(call_id)
    found: list[tuple[Offer, Dispatcher]] = []
    for domain_id, call_ids in by_domain.items():
        d = svc.peek(domain_id)
        fresh = [] if d is None else [d.offers[c] for c in call_ids if c in d.offers]
        if d is None or any(not o.ringing for o in fresh):
            # A new offer (or a dispatcher not rebuilt yet after a restart): mark it ringing.
            def ring(work: Dispatcher, now: float, ids: list[str] = call_ids) -> Effects:
                for call_id in ids:
                    offer = work.offers.get(call_id)
                    if offer is not None:
                        work.ring_at_edge(call_id, offer.offer_id, now)
                return Effects()

            d = run_announced(request, session, svc, domain_id, at, ring).dispatcher
        found += [(d.offers[c], d) for c in call_ids if c in d.offers]
    users = {
        u.id: (u.login, name)
        for u, name in session.execute(
            select(User, Domain.name)
            .join(Domain, Domain.id == User.domain_id)
            .where(User.id.in_({o.user_id for o, _ in found}))
        ).all()
    }
    items = []
    for offer, d in found:
        login, domain = users.get(offer.user_id, ("", ""))
        cfg = d.groups.get(offer.call.group_id)
        items.append(
            {
                "call_id": offer.call.call_id,
                "offer_id": offer.offer_id,
                "user_id": offer.user_id,
                "uri": f"sip:{login}@{domain}",
                "ring_seconds": cfg.answer_seconds if cfg else 0,
            }
        )
    held = {c for c, _ in rows}
    return {"offers": items, "unknown": sorted(wanted - held)}


class LapseIn(BaseModel):
    call_id: str = Field(min_length=1, max_length=255)
    # no_answer: rang for the answer time; unreachable: no registered phone (both count towards
    # going away); rejected: the operator declined on the phone.
    reason: Literal["no_answer", "unreachable", "rejected"] = "no_answer"


@router.post("/offers/{offer_id}/lapsed", operation_id="acd_edge_offer_lapsed")
def offer_lapsed(
    offer_id: int, body: LapseIn, request: Request, session: SessionDep, svc: AcdDep, at: AcdNow
) -> dict[str, Any]:
    """The operator's phone did not take the call: it goes back to the head of its queue and
    is not offered to the same operator again at once. An outdated offer changes nothing (409)."""
    row = session.execute(
        select(AcdCall.domain_id).where(AcdCall.call_id == body.call_id)
    ).scalar_one_or_none()
    if row is None:
        raise ApiError(
            404, "unknown_call", Text("Такого вызова нет в очередях", "No such call in the queues")
        )
    domain_id = row
    rejected = body.reason == "rejected"
    result = run_announced(
        request,
        session,
        svc,
        domain_id,
        at,
        lambda d, now: d.edge_lapse(body.call_id, offer_id, now, rejected=rejected),
    )
    if not any(o.offer_id == offer_id for o in result.effects.lapsed):
        # Already over (the server's expiry, a decline on the desktop): nothing to change.
        raise ApiError(
            409,
            "no_such_offer",
            Text("Этот вызов сейчас не предлагается", "This offer is not current"),
        )
    return {"call_id": body.call_id, "lapsed": True}
