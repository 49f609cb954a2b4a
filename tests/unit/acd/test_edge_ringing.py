"""Offers rung by the SIP edge: the edge's ring timer decides, the dispatcher's expiry is only
a safety net, and a lapse reported for an outdated offer changes nothing."""

from __future__ import annotations

from server_stub.acd.dispatcher import EDGE_GRACE_SECONDS, Dispatcher, GroupConfig
from server_stub.acd.operator import State, Status
from server_stub.acd.select import AcdAlgorithm


def dispatcher() -> Dispatcher:
    d = Dispatcher([GroupConfig(5, AcdAlgorithm.LONGEST_IDLE, ((1, 10), (2, 10)), 10, 30)])
    d.set_status(1, Status.READY, 0.0)
    d.set_status(2, Status.READY, 1.0)
    return d


def test_ringing_at_the_edge_counts_the_answer_time_from_the_first_ring() -> None:
    d = dispatcher()
    d.enqueue(5, "c", "+7", 2.0)
    offer = d.offers["c"]
    d.ring_at_edge("c", offer.offer_id, 2.5)
    d.ring_at_edge("c", offer.offer_id, 9.0)  # asked again: the first ring stands
    assert d.offers["c"].expires_at == 2.5 + 10 + EDGE_GRACE_SECONDS
    assert not d.tick(12.5).lapsed  # the edge still rings; it reports the lapse itself
    assert [o.call.call_id for o in d.tick(14.5).lapsed] == ["c"]  # the edge went silent


def test_a_lapse_from_the_edge_returns_the_call_and_offers_it_to_someone_else() -> None:
    d = dispatcher()
    d.enqueue(5, "c", "+7", 2.0)
    first = d.offers["c"]
    assert first.user_id == 1
    eff = d.edge_lapse("c", first.offer_id, 12.0)
    assert [o.offer_id for o in eff.lapsed] == [first.offer_id]
    assert d.operator(1).missed == 1 and d.operator(1).state == State.IDLE
    assert d.offers["c"].user_id == 2
    # A late report about the first offer must not touch the second one.
    assert not d.edge_lapse("c", first.offer_id, 12.5).lapsed
    assert d.offers["c"].user_id == 2


def test_a_refusal_on_the_phone_does_not_count_towards_going_away() -> None:
    d = Dispatcher([GroupConfig(5, AcdAlgorithm.LONGEST_IDLE, ((1, 10),), 10, 30)], away_after=1)
    d.set_status(1, Status.READY, 0.0)
    d.enqueue(5, "c", "+7", 1.0)
    d.edge_lapse("c", d.offers["c"].offer_id, 2.0, rejected=True)
    assert d.operator(1).status == Status.READY
