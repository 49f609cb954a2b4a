"""Outbound campaigns (spec 02 §13): which client card an operator gets next, attempts,
results, callbacks and the progress counters. Plain data in, plain data out; time is epoch
seconds passed in by the caller.

The rules, as a person sees them:
- A card (one client of the call list) is worked by one operator at a time: taking it assigns
  it, so two operators never call the same client at once, and the import refuses a number
  that is already in the campaign — «на один номер не позвонят дважды».
- The next card for an operator: their own card in work if any; else a callback they agreed
  with a client whose time has come (earliest first); else a client never called (in list
  order); else a client to call again whose last attempt is at least ``RETRY_AFTER_SECONDS``
  old (oldest attempt first). Cards are offered only while the campaign is active and inside
  its start–end window.
- ``attempts`` is the total number of dialling attempts per client (at least one). Each
  attempt rings for ``RING_SECONDS`` (20 s, «Одна попытка длится 20 секунд»). Sequential
  dialling calls one of the client's numbers per attempt, the next number on the next attempt
  (round robin); parallel dialling calls all of them at once and the first to answer wins.
- After the call the operator picks a result status. «Успешный вызов» and the custom statuses
  are final; «Нет ответа» puts the card back for another attempt while attempts are left. Any
  result may come with a callback time: the card then returns to the same operator at that
  time (and a callback grants one attempt even when the attempts are used up: the client asked).
- ``max_minutes`` is the maximum talk time of a campaign call (the manual's text; its form
  label says «дозвона»). The desktop ends the call when it runs out (``talk_deadline``).
- An attempt's outcome comes from the operator's own call record (CDR) when there is one:
  :func:`attempt_outcome` links the calls the operator made to the attempt's numbers inside the
  attempt's time; what the softphone reported counts only when no call record exists (e.g. the
  call could not even be placed).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from enum import StrEnum

from server_stub.acd.operator import TransitionError

RING_SECONDS = 20
RETRY_AFTER_SECONDS = 600
# An attempt nobody closed counts as failed this long after it could possibly have ended.
ATTEMPT_GRACE_SECONDS = 30
# A call record may be started a moment before the attempt is recorded (clocks, ordering).
LINK_SLACK_SECONDS = 5


class DialMethod(StrEnum):
    SEQUENTIAL = "sequential"  # «последовательный»
    PARALLEL = "parallel"  # «параллельный»


class StatusKind(StrEnum):
    SUCCESS = "success"  # «Успешный вызов» (fixed)
    NO_ANSWER = "no_answer"  # «Нет ответа» (fixed)
    CUSTOM = "custom"


FIXED_STATUSES = ((StatusKind.SUCCESS, "Успешный вызов"), (StatusKind.NO_ANSWER, "Нет ответа"))
INITIAL_STATUS = "Начальное состояние"


class CardState(StrEnum):
    NEW = "new"  # never called
    ASSIGNED = "assigned"  # an operator has it on screen
    RETRY = "retry"  # «Нет ответа», attempts left
    CALLBACK = "callback"  # comes back to one operator at a time
    DONE = "done"


class Outcome(StrEnum):
    IN_PROGRESS = "in_progress"
    ANSWERED = "answered"
    NO_ANSWER = "no_answer"
    BUSY = "busy"
    FAILED = "failed"


class CampaignError(TransitionError):
    """A refused campaign step; ``ru``/``en`` say why to a person."""


@dataclass(frozen=True)
class Rules:
    attempts: int
    method: DialMethod
    max_minutes: int
    starts_at: float
    ends_at: float
    active: bool = True

    def open_at(self, now: float) -> bool:
        return self.active and self.starts_at <= now < self.ends_at


@dataclass(frozen=True)
class Card:
    client_id: int
    position: int
    numbers: tuple[str, ...]
    state: CardState = CardState.NEW
    attempts_used: int = 0
    extra_attempts: int = 0  # granted by callbacks
    assigned_to: int | None = None
    callback_at: float | None = None
    callback_user: int | None = None
    last_attempt_at: float | None = None
    status_kind: StatusKind | None = None

    def attempts_left(self, rules: Rules) -> int:
        return max(0, rules.attempts + self.extra_attempts - self.attempts_used)


# --- choosing a card ---------------------------------------------------------------------------


def _rank(card: Card, user_id: int, now: float) -> tuple[int, float, int] | None:
    """Smaller is sooner; None: not for this operator now."""
    if card.state == CardState.ASSIGNED:
        return (0, 0.0, card.position) if card.assigned_to == user_id else None
    if card.state == CardState.CALLBACK:
        due = card.callback_at is not None and card.callback_at <= now
        return (
            (1, card.callback_at or 0.0, card.position)
            if due and card.callback_user == user_id
            else None
        )
    if card.state == CardState.NEW:
        return (2, 0.0, card.position)
    if card.state == CardState.RETRY:
        last = card.last_attempt_at or 0.0
        return (3, last, card.position) if now - last >= RETRY_AFTER_SECONDS else None
    return None


def next_card(cards: Iterable[Card], user_id: int, rules: Rules, now: float) -> Card | None:
    """The card ``user_id`` works next (see the module rules), or None."""
    if not rules.open_at(now):
        return None
    best: tuple[tuple[int, float, int], Card] | None = None
    for card in cards:
        rank = _rank(card, user_id, now)
        if rank is not None and (best is None or rank < best[0]):
            best = (rank, card)
    return best[1] if best else None


def take(card: Card, user_id: int) -> Card:
    """The operator puts the card on screen; nobody else gets it meanwhile."""
    if card.state == CardState.ASSIGNED and card.assigned_to != user_id:
        raise CampaignError(
            "card_taken", "Карточку уже взял другой оператор", "Another operator has this card"
        )
    if card.state == CardState.DONE:
        raise CampaignError("card_done", "Клиент уже обзвонен", "This client is done")
    return replace(card, state=CardState.ASSIGNED, assigned_to=user_id)


def release(card: Card) -> Card:
    """The operator leaves the campaign with the card on screen: it goes back unharmed."""
    if card.state != CardState.ASSIGNED:
        return card
    if card.callback_at is not None and card.callback_user is not None:
        state = CardState.CALLBACK
    elif card.attempts_used == 0:
        state = CardState.NEW
    else:
        state = CardState.RETRY
    return replace(card, state=state, assigned_to=None)


# --- attempts ----------------------------------------------------------------------------------


def numbers_for_attempt(card: Card, method: DialMethod) -> tuple[str, ...]:
    """Sequential: one number per attempt, round robin; parallel: all at once."""
    if not card.numbers:
        return ()
    if method == DialMethod.PARALLEL:
        return card.numbers
    return (card.numbers[card.attempts_used % len(card.numbers)],)


def start_attempt(
    card: Card, user_id: int, rules: Rules, now: float
) -> tuple[Card, tuple[str, ...]]:
    """One more attempt on the operator's card: the numbers to dial now."""
    if card.state != CardState.ASSIGNED or card.assigned_to != user_id:
        raise CampaignError(
            "not_your_card",
            "Эта карточка сейчас не у вас",
            "This card is not on your screen",
        )
    if not rules.open_at(now):
        raise CampaignError(
            "campaign_closed",
            "Кампания не активна или вне периода обзвона",
            "The campaign is not active or outside its dialling period",
        )
    if card.attempts_left(rules) <= 0:
        raise CampaignError(
            "no_attempts_left",
            "Попытки дозвона этому клиенту исчерпаны",
            "No dialling attempts are left for this client",
        )
    numbers = numbers_for_attempt(card, rules.method)
    return replace(card, attempts_used=card.attempts_used + 1, last_attempt_at=now), numbers


def ring_deadline(started_at: float) -> float:
    return started_at + RING_SECONDS


def talk_deadline(answered_at: float, rules: Rules) -> float | None:
    return answered_at + rules.max_minutes * 60 if rules.max_minutes > 0 else None


@dataclass(frozen=True)
class CallFact:
    """What the operator's call record says (the CDR as plain data)."""

    call_id: str
    called: str
    started_at: float
    result: str  # CdrResult value: in_progress, answered, busy, missed, refused, failed
    answered_at: float | None = None


@dataclass(frozen=True)
class AttemptView:
    outcome: Outcome
    source: str  # "cdr" | "softphone" | "timeout" | ""
    call_ids: tuple[str, ...] = ()
    answered_at: float | None = None


def number_key(number: str) -> str:
    """The digits of a number, so '+7 495 111-22-33', '84951112233' and '74951112233' match."""
    digits = "".join(ch for ch in number if ch.isdigit())
    if len(digits) == 11 and digits[0] == "8":
        digits = "7" + digits[1:]
    return digits


def attempt_outcome(
    numbers: Sequence[str],
    started_at: float,
    until: float | None,
    calls: Iterable[CallFact],
    reported: Outcome | None,
    now: float,
    rules: Rules,
) -> AttemptView:
    """The outcome of one attempt: the operator's calls to its numbers inside its time.

    ``until`` is when the next attempt of the same operator began (a call after it belongs to
    that one). Any linked call answered → answered; all ended → busy if any was busy, else
    no answer if any rang out, else failed; some still ringing → in progress. No call record
    at all → what the softphone reported, else in progress until the attempt could not
    possibly still run, then failed.
    """
    keys = {number_key(n) for n in numbers}
    latest = started_at + RING_SECONDS + rules.max_minutes * 60 + ATTEMPT_GRACE_SECONDS
    end = min(until, latest) if until is not None else latest
    linked = [
        c
        for c in calls
        if number_key(c.called) in keys and started_at - LINK_SLACK_SECONDS <= c.started_at < end
    ]
    if linked:
        ids = tuple(c.call_id for c in sorted(linked, key=lambda c: c.started_at))
        answered = [c for c in linked if c.answered_at is not None or c.result == "answered"]
        if answered:
            first = min((c.answered_at or c.started_at) for c in answered)
            return AttemptView(Outcome.ANSWERED, "cdr", ids, first)
        results = {c.result for c in linked}
        if "in_progress" in results:
            return AttemptView(Outcome.IN_PROGRESS, "cdr", ids)
        if "busy" in results:
            return AttemptView(Outcome.BUSY, "cdr", ids)
        if "missed" in results:
            return AttemptView(Outcome.NO_ANSWER, "cdr", ids)
        return AttemptView(Outcome.FAILED, "cdr", ids)
    if reported is not None:
        return AttemptView(reported, "softphone")
    if now >= end:
        return AttemptView(Outcome.FAILED, "timeout")
    return AttemptView(Outcome.IN_PROGRESS, "")


# --- results -----------------------------------------------------------------------------------


def record_result(
    card: Card,
    user_id: int,
    kind: StatusKind,
    rules: Rules,
    now: float,
    callback_at: float | None = None,
) -> Card:
    """The operator's result status after the call; optionally a callback at ``callback_at``."""
    if card.state != CardState.ASSIGNED or card.assigned_to != user_id:
        raise CampaignError(
            "not_your_card", "Эта карточка сейчас не у вас", "This card is not on your screen"
        )
    if card.attempts_used == 0:
        raise CampaignError(
            "not_called",
            "Сначала позвоните клиенту: результат ставится после звонка",
            "Call the client first: the result is recorded after the call",
        )
    base = replace(card, status_kind=kind, assigned_to=None, callback_at=None, callback_user=None)
    if callback_at is not None:
        if callback_at <= now:
            raise CampaignError(
                "callback_in_past",
                "Время перезвона должно быть в будущем",
                "The callback time must be in the future",
            )
        if callback_at >= rules.ends_at:
            raise CampaignError(
                "callback_after_end",
                "Время перезвона позже окончания кампании",
                "The callback time is after the end of the campaign",
            )
        extra = card.extra_attempts + (1 if card.attempts_left(rules) <= 0 else 0)
        return replace(
            base,
            state=CardState.CALLBACK,
            callback_at=callback_at,
            callback_user=user_id,
            extra_attempts=extra,
        )
    if kind == StatusKind.NO_ANSWER and card.attempts_left(rules) > 0:
        return replace(base, state=CardState.RETRY)
    return replace(base, state=CardState.DONE)


# --- progress ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Progress:
    total: int
    done: int
    in_progress: int  # on an operator's screen now
    remaining: int  # still to call: never called, to call again, callbacks
    called: int  # «Обзвонили»: at least one attempt
    callbacks: int
    by_result: dict[str, int] = field(default_factory=dict)  # status name -> clients

    def as_dict(self) -> dict[str, object]:
        return {
            "total": self.total,
            "done": self.done,
            "in_progress": self.in_progress,
            "remaining": self.remaining,
            "called": self.called,
            "callbacks": self.callbacks,
            "by_result": dict(self.by_result),
        }


def progress(cards: Iterable[tuple[Card, str | None]]) -> Progress:
    """Counters over (card, name of its latest result status or None)."""
    total = done = busy = called = callbacks = 0
    by_result: dict[str, int] = {}
    for card, status in cards:
        total += 1
        if card.state == CardState.DONE:
            done += 1
        elif card.state == CardState.ASSIGNED:
            busy += 1
        if card.state == CardState.CALLBACK:
            callbacks += 1
        if card.attempts_used > 0:
            called += 1
        name = status or INITIAL_STATUS
        by_result[name] = by_result.get(name, 0) + 1
    return Progress(total, done, busy, total - done - busy, called, callbacks, by_result)
