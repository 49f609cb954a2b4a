"""Queue order: VIP first (lower priority first), then arrival; returned calls at the head."""

from __future__ import annotations

from server_stub.acd.queue import Queue, WaitingCall, expected_wait, vip_priority


def call(cid: str, seq: int, vip: int | None = None, returned: bool = False) -> WaitingCall:
    return WaitingCall(cid, 1, "+7", float(seq), seq, vip, returned)


def test_vip_callers_come_first_lower_priority_first_then_arrival() -> None:
    q = Queue(1)
    for c in (call("a", 1), call("b", 2, vip=20), call("c", 3), call("d", 4, vip=5)):
        q.add(c)
    assert [c.call_id for c in q] == ["d", "b", "a", "c"]
    assert q.position("a") == 3 and q.position("zzz") is None


def test_a_returned_call_goes_to_the_head_of_its_rank_not_past_vips() -> None:
    q = Queue(1)
    for c in (call("v", 2, vip=1), call("b", 3), call("a", 1, returned=True)):
        q.add(c)
    assert [c.call_id for c in q] == ["v", "a", "b"]


def test_longest_wait_and_removal() -> None:
    q = Queue(1)
    q.add(call("a", 10))
    q.add(call("b", 40))
    assert q.longest_wait(100.0) == 90.0
    assert q.remove("a") is not None and q.longest_wait(100.0) == 60.0
    assert Queue(2).longest_wait(100.0) == 0.0


def test_expected_wait_is_rounds_of_online_operators_times_average_talk() -> None:
    assert expected_wait(1, 2, 120) == 120
    assert expected_wait(3, 2, 120) == 240
    assert expected_wait(3, 0, 60) == 180  # nobody online still gives an estimate
    assert expected_wait(3, 2, 0) is None  # 0 switches the announcement off


def test_vip_lookup_uses_the_domain_list() -> None:
    assert vip_priority("+74951112233", {"+74951112233": 5}) == 5
    assert vip_priority("+74950000000", {"+74951112233": 5}) is None
