"""Hypothesis: random sequences of ACD events never break the dispatcher's promises."""

from __future__ import annotations

import random
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from server_stub.acd.dispatcher import Dispatcher, GroupConfig
from server_stub.acd.operator import State, Status, TransitionError
from server_stub.acd.select import AcdAlgorithm

OPS = (1, 2, 3)

event = st.one_of(
    st.tuples(st.just("enqueue"), st.sampled_from([5, 6]), st.none() | st.integers(1, 3)),
    st.tuples(st.just("status"), st.sampled_from(OPS), st.sampled_from(list(Status))),
    st.tuples(st.just("answer"), st.sampled_from(OPS), st.none()),
    st.tuples(st.just("reject"), st.sampled_from(OPS), st.none()),
    st.tuples(st.just("end"), st.integers(0, 30), st.none()),
    st.tuples(st.just("finish"), st.sampled_from(OPS), st.none()),
    st.tuples(st.just("tick"), st.integers(1, 40), st.none()),
)


def check(d: Dispatcher) -> None:
    offered_to = [o.user_id for o in d.offers.values()]
    assert len(offered_to) == len(set(offered_to)), "an operator holds two offers"
    ids = [c.call_id for q in d.queues.values() for c in q]
    assert len(ids) == len(set(ids))
    assert not set(ids) & set(d.offers), "a call is both waiting and offered"
    assert not set(d.offers) & set(d.talks)
    for offer in d.offers.values():
        op = d.operator(offer.user_id)
        assert op.state == State.OFFERED and op.call_id == offer.call.call_id
        assert op.status == Status.READY, "an offer to someone not ready"
    for uid, op in d.operators.items():
        if op.state == State.OFFERED:
            assert d.offer_of(uid) is not None
    for q in d.queues.values():
        keys = [c.sort_key for c in q]
        assert keys == sorted(keys), "VIP/arrival order broken"


@settings(max_examples=150, deadline=None)
@given(st.lists(event, max_size=60), st.integers(0, 1000))
def test_random_event_sequences_keep_every_invariant(
    events: list[tuple[str, Any, Any]], seed: int
) -> None:
    groups = [
        GroupConfig(5, AcdAlgorithm.RANDOM, ((1, 10), (2, 20)), 10, 5, 30),
        GroupConfig(6, AcdAlgorithm.LEAST_BUSY, ((2, 10), (3, 10)), 10, 5, 30),
    ]
    d = Dispatcher(groups, rng=random.Random(seed))
    now, n = 0.0, 0
    for kind, a, b in events:
        now += 1
        talking_before = {t.user_id for t in d.talks.values()}
        post_call_before = {u for u, op in d.operators.items() if op.state == State.POST_CALL}
        try:
            if kind == "enqueue":
                n += 1
                eff = d.enqueue(int(a), f"c{n}", "+7", now, b)
            elif kind == "status":
                eff = d.set_status(int(a), b, now)
            elif kind == "answer":
                offer = d.offer_of(int(a))
                if offer is None:
                    continue
                eff = d.accept(offer.user_id, offer.offer_id, now)
            elif kind == "reject":
                offer = d.offer_of(int(a))
                if offer is None:
                    continue
                eff = d.reject(offer.user_id, offer.offer_id, now)
            elif kind == "end":
                eff = d.ended(f"c{a}", now)
            elif kind == "finish":
                eff = d.finish_post_call(int(a), now)
            else:
                now += int(a)
                eff = d.tick(now)
        except TransitionError:
            check(d)
            continue
        # A talking operator is never offered (hang-up leads to post-call work, 5 s here);
        # one in post-call work only once it is finished or its time ran out.
        for offer in eff.offers:
            assert offer.user_id not in talking_before
            if offer.user_id in post_call_before:
                assert kind == "tick" or (kind == "finish" and a == offer.user_id)
        check(d)


@settings(max_examples=100, deadline=None)
@given(st.lists(st.none() | st.integers(1, 5), min_size=1, max_size=15))
def test_one_operator_serves_vips_first_in_priority_order(vips: list[int | None]) -> None:
    d = Dispatcher([GroupConfig(5, AcdAlgorithm.LONGEST_IDLE, ((1, 10),), 10, 0, 0)])
    for i, vip in enumerate(vips):
        d.enqueue(5, f"c{i}", "+7", float(i), vip)
    d.set_status(1, Status.READY, 100.0)
    served: list[tuple[int, int, int]] = []
    now = 100.0
    while (offer := d.offer_of(1)) is not None:
        i = int(offer.call.call_id[1:])
        vip = vips[i]
        served.append((0 if vip is not None else 1, vip or 0, i))
        d.accept(1, offer.offer_id, now)
        now += 1
        d.ended(offer.call.call_id, now)
    assert served == sorted(served) and len(served) == len(vips)
