"""The operator model: the *status* a person chooses, kept apart from the *state* the system sets.

This is the FreeSWITCH mod_callcenter split (ARCHITECTURE.md): an operator on «Обед» who is
still finishing post-call work has status ``break`` and state ``post_call``; only an operator
whose status is ``ready`` and whose state is ``idle`` may be offered a call.

Every function here is pure: it takes an :class:`Operator` and ``now`` (epoch seconds) and
returns a :class:`Step` with the new operator and the interval changes to store. Reports are
built from those intervals (spec 02 §4.4, §4.12), so a change that does not change anything
emits nothing. Invalid transitions raise :class:`TransitionError` with a reason in Russian and
English.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from enum import StrEnum


class Status(StrEnum):
    """Chosen by the person (or set to ``away`` after lapsed offers)."""

    READY = "ready"  # «Ожидаю звонок»
    BREAK = "break"  # «Технический перерыв», «Обед», ... (admin-defined reasons)
    AWAY = "away"  # «Нет на месте»
    OFFLINE = "offline"  # «Не в сети»


class State(StrEnum):
    """Set by the system."""

    IDLE = "idle"
    OFFERED = "offered"  # «Вызывается»: ringing, waiting for the answer
    INCOMING_CALL = "incoming_call"
    OUTGOING_CALL = "outgoing_call"
    POST_CALL = "post_call"  # «Поствызывная обработка»
    CAMPAIGN = "campaign"  # «Исходящая кампания»


class Outcome(StrEnum):
    """How an ``offered`` interval ended (reports: answered vs lost, reaction time)."""

    ANSWERED = "answered"
    MISSED = "missed"  # the answer time ran out
    REJECTED = "rejected"  # the operator declined
    WITHDRAWN = "withdrawn"  # the caller hung up, or the operator left «ready»


class TransitionError(Exception):
    """A change the current state does not allow; ``ru``/``en`` say why to a person."""

    def __init__(self, code: str, ru: str, en: str) -> None:
        super().__init__(en)
        self.code = code
        self.ru = ru
        self.en = en


@dataclass(frozen=True)
class IntervalChange:
    """Close the open interval of ``kind`` at ``at`` and open one with ``value``.

    ``closing_outcome`` is stored on the interval being closed (only ``offered`` ones have it).
    ``group_id``/``call_id`` describe the interval being opened.
    """

    kind: str  # "status" | "state"
    value: str
    at: float
    reason_id: int | None = None
    group_id: int | None = None
    call_id: str | None = None
    closing_outcome: str | None = None


@dataclass(frozen=True)
class Operator:
    user_id: int
    status: Status = Status.OFFLINE
    break_reason_id: int | None = None
    status_since: float = 0.0
    state: State = State.IDLE
    state_since: float = 0.0
    call_id: str | None = None  # the offered or answered call
    group_id: int | None = None  # the group of that call (post-call time is per group)
    # The working session (since the operator left «offline»): least-busy and the statistics.
    online_since: float | None = None
    idle_since: float = 0.0  # when the last call ended; longest-idle picks the smallest
    talk_seconds: float = 0.0
    answered: int = 0
    missed: int = 0
    lapses_in_a_row: int = 0
    post_call_until: float | None = None
    post_call_extended: bool = False

    @property
    def free(self) -> bool:
        return self.status == Status.READY and self.state == State.IDLE

    @property
    def online(self) -> bool:
        return self.status != Status.OFFLINE

    @property
    def presence(self) -> str:
        """The one label statistics show: offline, else the system state, else the status."""
        if not self.online:
            return Status.OFFLINE.value
        if self.state != State.IDLE:
            return self.state.value
        return self.status.value

    def work_seconds(self, now: float) -> float:
        return max(0.0, now - self.online_since) if self.online_since is not None else 0.0


@dataclass(frozen=True)
class Step:
    operator: Operator
    changes: tuple[IntervalChange, ...] = ()


def _state(
    op: Operator,
    state: State,
    now: float,
    *,
    call_id: str | None = None,
    group_id: int | None = None,
    outcome: Outcome | None = None,
) -> tuple[Operator, IntervalChange]:
    change = IntervalChange(
        "state",
        state.value,
        now,
        group_id=group_id,
        call_id=call_id,
        closing_outcome=outcome.value if outcome else None,
    )
    new = replace(op, state=state, state_since=now, call_id=call_id, group_id=group_id)
    return new, change


def set_status(op: Operator, status: Status, now: float, reason_id: int | None = None) -> Step:
    """The person picks a status. A break may carry an admin-defined reason."""
    if reason_id is not None and status != Status.BREAK:
        raise TransitionError(
            "reason_without_break",
            "Причина указывается только для перерыва",
            "A reason can only be given for a break",
        )
    if status == op.status and reason_id == op.break_reason_id:
        return Step(op)
    if status in (Status.OFFLINE,) and op.state in (State.INCOMING_CALL, State.OUTGOING_CALL):
        raise TransitionError(
            "in_call",
            "Нельзя выйти из сети во время разговора",
            "You cannot go offline during a call",
        )
    changes = [IntervalChange("status", status.value, now, reason_id=reason_id)]
    new = replace(op, status=status, break_reason_id=reason_id, status_since=now)
    if status == Status.READY:
        new = replace(new, lapses_in_a_row=0)
    if not op.online and status != Status.OFFLINE:
        # A new working session: least-busy and the statistics count from here.
        new = replace(new, online_since=now, idle_since=now, talk_seconds=0.0, answered=0, missed=0)
    if status == Status.OFFLINE:
        new = replace(new, online_since=None)
        if op.state != State.IDLE:
            # Offline ends post-call work and withdraws an offer; nothing runs for a ghost.
            outcome = Outcome.WITHDRAWN if op.state == State.OFFERED else None
            new, change = _state(new, State.IDLE, now, outcome=outcome)
            new = replace(new, post_call_until=None, post_call_extended=False)
            changes.append(change)
    return Step(new, tuple(changes))


def offer(op: Operator, call_id: str, group_id: int, now: float) -> Step:
    if not op.free:
        raise TransitionError(
            "not_free",
            "Оператор не свободен для приёма вызова",
            "The operator is not free to take a call",
        )
    new, change = _state(op, State.OFFERED, now, call_id=call_id, group_id=group_id)
    return Step(new, (change,))


def _require_offer(op: Operator, call_id: str) -> None:
    if op.state != State.OFFERED or op.call_id != call_id:
        raise TransitionError(
            "no_such_offer",
            "Этот вызов вам сейчас не предлагается",
            "This call is not being offered to you now",
        )


def answer(op: Operator, call_id: str, now: float) -> Step:
    _require_offer(op, call_id)
    new, change = _state(
        op,
        State.INCOMING_CALL,
        now,
        call_id=call_id,
        group_id=op.group_id,
        outcome=Outcome.ANSWERED,
    )
    return Step(replace(new, answered=op.answered + 1, lapses_in_a_row=0), (change,))


def lapse(
    op: Operator, call_id: str, now: float, *, away_after: int, rejected: bool = False
) -> Step:
    """The offer ended unanswered: a lapse (timeout) or a refusal.

    Both count as a missed call for the operator. Only timeouts count towards going away:
    an operator who presses «Отклонить» is evidently at the desk.
    """
    _require_offer(op, call_id)
    outcome = Outcome.REJECTED if rejected else Outcome.MISSED
    new, change = _state(op, State.IDLE, now, outcome=outcome)
    lapses = op.lapses_in_a_row if rejected else op.lapses_in_a_row + 1
    new = replace(new, missed=op.missed + 1, lapses_in_a_row=lapses)
    changes: list[IntervalChange] = [change]
    if not rejected and lapses >= away_after and new.status == Status.READY:
        new = replace(new, status=Status.AWAY, break_reason_id=None, status_since=now)
        changes.append(IntervalChange("status", Status.AWAY.value, now))
    return Step(new, tuple(changes))


def withdraw(op: Operator, call_id: str, now: float) -> Step:
    """The caller hung up while ringing the operator: no fault of the operator."""
    _require_offer(op, call_id)
    new, change = _state(op, State.IDLE, now, outcome=Outcome.WITHDRAWN)
    return Step(new, (change,))


def start_outgoing(op: Operator, now: float, call_id: str | None = None) -> Step:
    if op.state != State.IDLE or not op.online:
        raise TransitionError(
            "busy",
            "Сейчас нельзя начать исходящий вызов",
            "An outgoing call cannot be started now",
        )
    new, change = _state(op, State.OUTGOING_CALL, now, call_id=call_id)
    return Step(new, (change,))


def start_campaign(op: Operator, now: float) -> Step:
    if op.state != State.IDLE or not op.online:
        raise TransitionError(
            "busy",
            "Сейчас нельзя начать работу в кампании",
            "Campaign work cannot be started now",
        )
    new, change = _state(op, State.CAMPAIGN, now)
    return Step(new, (change,))


def end_campaign(op: Operator, now: float) -> Step:
    if op.state != State.CAMPAIGN:
        raise TransitionError(
            "not_in_campaign",
            "Оператор не работает в кампании",
            "The operator is not in a campaign",
        )
    new, change = _state(op, State.IDLE, now)
    return Step(new, (change,))


def hang_up(op: Operator, now: float, post_call_seconds: int) -> Step:
    """A call ended: talk time counts, then post-call work for the call's group (if any)."""
    if op.state not in (State.INCOMING_CALL, State.OUTGOING_CALL):
        raise TransitionError(
            "not_in_call", "Оператор не разговаривает", "The operator is not on a call"
        )
    talk = op.talk_seconds + max(0.0, now - op.state_since)
    base = replace(op, talk_seconds=talk, idle_since=now)
    if post_call_seconds > 0 and op.online:
        new, change = _state(base, State.POST_CALL, now, call_id=op.call_id, group_id=op.group_id)
        new = replace(new, post_call_until=now + post_call_seconds, post_call_extended=False)
    else:
        new, change = _state(base, State.IDLE, now)
    return Step(new, (change,))


def _require_post_call(op: Operator) -> None:
    if op.state != State.POST_CALL:
        raise TransitionError(
            "not_in_post_call",
            "Поствызывная обработка не идёт",
            "Post-call work is not in progress",
        )


def finish_post_call(op: Operator, now: float) -> Step:
    """The operator is done early (or the timer ran out: see :func:`expire_post_call`)."""
    _require_post_call(op)
    new, change = _state(op, State.IDLE, now)
    return Step(replace(new, post_call_until=None, post_call_extended=False), (change,))


def extend_post_call(op: Operator, now: float, seconds: int) -> Step:
    """One extension by the group's post-call time; a second one is refused."""
    _require_post_call(op)
    if op.post_call_extended:
        raise TransitionError(
            "already_extended",
            "Поствызывную обработку можно продлить только один раз",
            "Post-call work can be extended only once",
        )
    until = (op.post_call_until or now) + seconds
    return Step(replace(op, post_call_until=until, post_call_extended=True))


def expire_post_call(op: Operator, now: float) -> Step:
    """Ends post-call work whose time is up; the interval ends when the time ran out."""
    if op.state != State.POST_CALL or op.post_call_until is None or now < op.post_call_until:
        return Step(op)
    return finish_post_call(op, op.post_call_until)


def post_call_remaining(op: Operator, now: float) -> float | None:
    if op.state != State.POST_CALL or op.post_call_until is None:
        return None
    return max(0.0, op.post_call_until - now)
