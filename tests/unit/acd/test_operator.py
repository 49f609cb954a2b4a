"""The operator model: status (chosen) apart from state (system), every change an interval."""

from __future__ import annotations

import pytest

from server_stub.acd import operator as opm
from server_stub.acd.operator import Operator, State, Status, TransitionError


def ready(now: float = 100.0) -> Operator:
    return opm.set_status(Operator(7), Status.READY, now).operator


def test_going_ready_starts_a_session_and_opens_a_status_interval() -> None:
    step = opm.set_status(Operator(7), Status.READY, 100.0)
    assert step.operator.free and step.operator.online_since == 100.0
    assert [(c.kind, c.value, c.at) for c in step.changes] == [("status", "ready", 100.0)]


def test_break_keeps_its_reason_and_same_status_twice_emits_nothing() -> None:
    op = opm.set_status(ready(), Status.BREAK, 200.0, reason_id=3).operator
    assert op.status == Status.BREAK and op.break_reason_id == 3 and not op.free
    assert opm.set_status(op, Status.BREAK, 250.0, reason_id=3).changes == ()
    # Another reason is another interval (the reports show «Обед» apart from «Технический»).
    assert len(opm.set_status(op, Status.BREAK, 250.0, reason_id=4).changes) == 1


def test_reason_for_a_status_other_than_break_is_refused_bilingually() -> None:
    with pytest.raises(TransitionError) as exc:
        opm.set_status(ready(), Status.AWAY, 200.0, reason_id=3)
    assert "перерыв" in exc.value.ru and "break" in exc.value.en


def test_offer_answer_hang_up_then_post_call_and_talk_time() -> None:
    op = opm.offer(ready(), "c1", 5, 110.0).operator
    assert op.state == State.OFFERED and not op.free
    step = opm.answer(op, "c1", 112.0)
    assert step.changes[0].closing_outcome == "answered"
    op = step.operator
    assert op.state == State.INCOMING_CALL and op.answered == 1
    op = opm.hang_up(op, 172.0, post_call_seconds=30).operator
    assert op.state == State.POST_CALL and op.post_call_until == 202.0
    assert op.talk_seconds == 60.0 and op.idle_since == 172.0
    assert opm.expire_post_call(op, 201.0).operator.state == State.POST_CALL
    done = opm.expire_post_call(op, 500.0)
    # The interval ends when the time ran out, not when somebody noticed.
    assert done.operator.state == State.IDLE and done.changes[0].at == 202.0


def test_post_call_can_be_finished_early_and_extended_only_once() -> None:
    op = opm.answer(opm.offer(ready(), "c1", 5, 110.0).operator, "c1", 111.0).operator
    op = opm.hang_up(op, 120.0, post_call_seconds=30).operator
    op = opm.extend_post_call(op, 125.0, 30).operator
    assert op.post_call_until == 180.0
    with pytest.raises(TransitionError) as exc:
        opm.extend_post_call(op, 126.0, 30)
    assert exc.value.code == "already_extended"
    assert opm.finish_post_call(op, 130.0).operator.free


def test_zero_post_call_time_goes_straight_back_to_idle() -> None:
    op = opm.answer(opm.offer(ready(), "c1", 5, 110.0).operator, "c1", 111.0).operator
    assert opm.hang_up(op, 120.0, post_call_seconds=0).operator.free


def test_lapses_in_a_row_set_the_operator_away_but_a_refusal_does_not() -> None:
    op = ready()
    for i in range(2):
        op = opm.offer(op, f"c{i}", 5, 100.0 + i).operator
        op = opm.lapse(op, f"c{i}", 110.0 + i, away_after=2).operator
    assert op.status == Status.AWAY and op.missed == 2
    op = opm.set_status(op, Status.READY, 200.0).operator
    for i in range(3):
        op = opm.offer(op, f"r{i}", 5, 201.0 + i).operator
        op = opm.lapse(op, f"r{i}", 202.0 + i, away_after=2, rejected=True).operator
    assert op.status == Status.READY and op.missed == 5


def test_an_answer_resets_the_lapse_count() -> None:
    op = opm.lapse(opm.offer(ready(), "a", 5, 101.0).operator, "a", 111.0, away_after=2).operator
    op = opm.answer(opm.offer(op, "b", 5, 112.0).operator, "b", 113.0).operator
    op = opm.hang_up(op, 120.0, 0).operator
    op = opm.lapse(opm.offer(op, "c", 5, 121.0).operator, "c", 131.0, away_after=2).operator
    assert op.status == Status.READY


def test_offering_a_busy_operator_is_refused() -> None:
    op = opm.offer(ready(), "c1", 5, 110.0).operator
    with pytest.raises(TransitionError):
        opm.offer(op, "c2", 5, 111.0)
    with pytest.raises(TransitionError):
        opm.offer(opm.set_status(Operator(1), Status.AWAY, 1.0).operator, "c3", 5, 2.0)


def test_going_offline_during_a_call_is_refused_but_withdraws_an_offer() -> None:
    talking = opm.answer(opm.offer(ready(), "c1", 5, 110.0).operator, "c1", 111.0).operator
    with pytest.raises(TransitionError) as exc:
        opm.set_status(talking, Status.OFFLINE, 120.0)
    assert "разговор" in exc.value.ru
    offered = opm.offer(ready(), "c1", 5, 110.0).operator
    step = opm.set_status(offered, Status.OFFLINE, 115.0)
    assert step.operator.state == State.IDLE and not step.operator.online
    assert [c.closing_outcome for c in step.changes if c.kind == "state"] == ["withdrawn"]


def test_outgoing_call_and_campaign_states() -> None:
    op = opm.start_outgoing(ready(), 120.0).operator
    assert op.state == State.OUTGOING_CALL and not op.free
    op = opm.hang_up(op, 150.0, post_call_seconds=0).operator
    op = opm.start_campaign(op, 160.0).operator
    assert op.presence == "campaign"
    assert opm.end_campaign(op, 170.0).operator.free
