"""Outbound campaign rules: which card comes next, attempts, results, callbacks, progress."""

from __future__ import annotations

import pytest

from server_stub.acd import campaign as cm
from server_stub.acd.campaign import CallFact, Card, CardState, DialMethod, Outcome, StatusKind

RULES = cm.Rules(attempts=2, method=DialMethod.SEQUENTIAL, max_minutes=5, starts_at=0, ends_at=1e6)


def card(cid: int, *numbers: str, **kw: object) -> Card:
    return Card(cid, cid, numbers or ("+79161112233",), **kw)  # type: ignore[arg-type]


def test_next_card_own_card_then_due_callback_then_new_then_retry() -> None:
    cards = [
        card(1, state=CardState.RETRY, attempts_used=1, last_attempt_at=0.0),
        card(2),
        card(3, state=CardState.CALLBACK, callback_at=500.0, callback_user=7),
        card(4, state=CardState.ASSIGNED, assigned_to=8),
    ]
    assert cm.next_card(cards, 7, RULES, 100.0).client_id == 2  # type: ignore[union-attr]
    assert cm.next_card(cards, 7, RULES, 600.0).client_id == 3  # type: ignore[union-attr]
    # Another operator's callback and card on screen are never theirs.
    assert cm.next_card(cards, 9, RULES, 600.0).client_id == 2  # type: ignore[union-attr]
    assert cm.next_card(cards, 8, RULES, 600.0).client_id == 4  # type: ignore[union-attr]
    # A client to call again waits RETRY_AFTER_SECONDS after the last attempt.
    only_retry = [cards[0]]
    assert cm.next_card(only_retry, 7, RULES, cm.RETRY_AFTER_SECONDS - 1) is None
    assert cm.next_card(only_retry, 7, RULES, cm.RETRY_AFTER_SECONDS) is not None


def test_no_cards_outside_the_window_or_when_inactive() -> None:
    assert cm.next_card([card(1)], 7, RULES, 1e6) is None
    off = cm.Rules(2, DialMethod.SEQUENTIAL, 0, 0, 1e6, active=False)
    assert cm.next_card([card(1)], 7, off, 10) is None


def test_a_card_on_one_screen_cannot_be_taken_by_another_operator() -> None:
    taken = cm.take(card(1), 7)
    with pytest.raises(cm.CampaignError) as exc:
        cm.take(taken, 8)
    assert exc.value.code == "card_taken" and "другой оператор" in exc.value.ru


def test_sequential_dials_one_number_per_attempt_round_robin_parallel_all() -> None:
    c = cm.take(card(1, "+1", "+2"), 7)
    c, first = cm.start_attempt(c, 7, RULES, 10)
    c, second = cm.start_attempt(c, 7, RULES, 20)
    assert (first, second) == (("+1",), ("+2",))
    # The attempts are used up.
    with pytest.raises(cm.CampaignError) as exc:
        cm.start_attempt(c, 7, RULES, 30)
    assert exc.value.code == "no_attempts_left"
    parallel = cm.Rules(1, DialMethod.PARALLEL, 0, 0, 1e6)
    assert cm.start_attempt(cm.take(card(2, "+1", "+2"), 7), 7, parallel, 10)[1] == ("+1", "+2")


def test_no_answer_retries_while_attempts_are_left_other_results_are_final() -> None:
    c, _ = cm.start_attempt(cm.take(card(1), 7), 7, RULES, 10)
    retry = cm.record_result(c, 7, StatusKind.NO_ANSWER, RULES, 40)
    assert retry.state == CardState.RETRY and retry.assigned_to is None
    c, _ = cm.start_attempt(cm.take(retry, 7), 7, RULES, 700)
    assert cm.record_result(c, 7, StatusKind.NO_ANSWER, RULES, 740).state == CardState.DONE
    c, _ = cm.start_attempt(cm.take(card(2), 7), 7, RULES, 10)
    assert cm.record_result(c, 7, StatusKind.SUCCESS, RULES, 40).state == CardState.DONE
    assert cm.record_result(c, 7, StatusKind.CUSTOM, RULES, 40).state == CardState.DONE


def test_a_result_needs_a_call_and_ones_own_card() -> None:
    with pytest.raises(cm.CampaignError) as exc:
        cm.record_result(cm.take(card(1), 7), 7, StatusKind.SUCCESS, RULES, 5)
    assert exc.value.code == "not_called"
    c, _ = cm.start_attempt(cm.take(card(1), 7), 7, RULES, 10)
    with pytest.raises(cm.CampaignError):
        cm.record_result(c, 8, StatusKind.SUCCESS, RULES, 5)


def test_a_callback_comes_back_to_the_same_operator_with_an_attempt_granted() -> None:
    one = cm.Rules(1, DialMethod.SEQUENTIAL, 0, 0, 1e6)
    c, _ = cm.start_attempt(cm.take(card(1), 7), 7, one, 10)
    back = cm.record_result(c, 7, StatusKind.CUSTOM, one, 40, callback_at=5000)
    assert back.state == CardState.CALLBACK and back.callback_user == 7
    assert back.attempts_left(one) == 1
    assert cm.next_card([back], 7, one, 4999) is None
    assert cm.next_card([back], 8, one, 5000) is None
    assert cm.next_card([back], 7, one, 5000) == back
    for bad in (30.0, 2e6):
        with pytest.raises(cm.CampaignError):
            cm.record_result(c, 7, StatusKind.CUSTOM, one, 40, callback_at=bad)


def test_release_returns_the_card_to_where_it_was() -> None:
    assert cm.release(cm.take(card(1), 7)).state == CardState.NEW
    c, _ = cm.start_attempt(cm.take(card(1), 7), 7, RULES, 10)
    assert cm.release(c).state == CardState.RETRY and cm.release(c).assigned_to is None


def fact(called: str, at: float, result: str, answered: float | None = None) -> CallFact:
    return CallFact(f"c-{called}-{at}", called, at, result, answered)


def test_attempt_outcome_comes_from_the_call_records_of_its_numbers_and_time() -> None:
    def outcome(calls: list[CallFact], reported: Outcome | None = None, now: float = 60) -> str:
        view = cm.attempt_outcome(["+74951112233"], 100, None, calls, reported, 100 + now, RULES)
        return view.outcome.value + ":" + view.source

    assert outcome([]) == "in_progress:"
    assert outcome([fact("84951112233", 101, "missed")]) == "no_answer:cdr"
    assert outcome([fact("+74951112233", 101, "busy")]) == "busy:cdr"
    assert outcome([fact("74951112233", 101, "in_progress", 105)]) == "answered:cdr"
    assert outcome([fact("+74951112233", 101, "refused")]) == "failed:cdr"
    # Another number, or a call before the attempt, is not this attempt's.
    assert outcome([fact("+74951112299", 101, "answered", 102)]) == "in_progress:"
    assert outcome([fact("+74951112233", 50, "answered", 52)]) == "in_progress:"
    # The network's record wins over the softphone's word; without a record the word counts.
    assert outcome([fact("+74951112233", 101, "missed")], Outcome.ANSWERED) == "no_answer:cdr"
    assert outcome([], Outcome.FAILED) == "failed:softphone"
    # Nobody closed it and it cannot still run: failed.
    late = cm.RING_SECONDS + 5 * 60 + cm.ATTEMPT_GRACE_SECONDS
    assert outcome([], now=late) == "failed:timeout"


def test_a_later_attempt_ends_the_window_of_the_earlier_one() -> None:
    calls = [fact("+1", 130, "answered", 131)]
    view = cm.attempt_outcome(["+1"], 100, 120, calls, None, 200, RULES)
    assert view.outcome == Outcome.FAILED and view.source == "timeout"


def test_progress_counts_what_the_list_page_shows() -> None:
    cards = [
        (card(1, state=CardState.DONE, attempts_used=1), "Успешный вызов"),
        (card(2, state=CardState.ASSIGNED, assigned_to=7), None),
        (card(3, state=CardState.CALLBACK, attempts_used=1), "Перезвонить позже"),
        (card(4), None),
    ]
    p = cm.progress(cards)
    assert (p.total, p.done, p.in_progress, p.remaining, p.called, p.callbacks) == (
        4,
        1,
        1,
        2,
        2,
        1,
    )
    assert p.by_result == {
        "Успешный вызов": 1,
        "Начальное состояние": 2,
        "Перезвонить позже": 1,
    }
