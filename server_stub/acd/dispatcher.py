"""The ACD dispatcher of one domain: queues, offers, answer timers and post-call work.

Plain data in, plain data out. The current time is always passed in (``now``, epoch seconds):
nothing sleeps and nothing runs by itself. Whoever holds a dispatcher calls :meth:`tick`
regularly (the server does it on every ACD request and from a periodic task); tests call it
with the instants they want.

After every change the dispatcher offers waiting calls to free operators (:meth:`_dispatch`):
the oldest VIP caller first across all groups (global arrival order), each to the operator the
group's algorithm picks among the best member priority tier (``select.select_operator``).
Each method returns :class:`Effects`: the interval changes to store and what to announce.
"""

from __future__ import annotations

import random
from collections.abc import Iterable
from dataclasses import dataclass, field, replace

from server_stub.acd import operator as opm
from server_stub.acd.operator import IntervalChange, Operator, State, Status, TransitionError
from server_stub.acd.queue import Queue, WaitingCall, expected_wait
from server_stub.acd.select import AcdAlgorithm, OperatorState, select_operator

DEFAULT_AWAY_AFTER = 2
# Once the SIP edge rings an operator's phone, the edge's ring timer ends the offer (it reports
# the lapse); the dispatcher's own expiry waits this much longer, only in case the edge is gone.
EDGE_GRACE_SECONDS = 2.0


@dataclass(frozen=True)
class GroupConfig:
    group_id: int
    algorithm: AcdAlgorithm
    members: tuple[tuple[int, int], ...]  # (user_id, priority) of the group's *operators*
    answer_seconds: int = 20
    post_call_seconds: int = 30
    avg_talk_seconds: int = 0


@dataclass(frozen=True)
class Offer:
    offer_id: int
    call: WaitingCall
    user_id: int
    offered_at: float
    expires_at: float
    ringing: bool = False  # the SIP edge rings the operator's phone (see ring_at_edge)


@dataclass(frozen=True)
class Talk:
    call: WaitingCall
    user_id: int
    answered_at: float


@dataclass
class Effects:
    changes: list[tuple[int, IntervalChange]] = field(default_factory=list)  # (user_id, change)
    offers: list[Offer] = field(default_factory=list)  # made now
    lapsed: list[Offer] = field(default_factory=list)  # timed out or refused
    operators: set[int] = field(default_factory=set)  # whose row changed
    groups: set[int] = field(default_factory=set)  # whose queue changed
    ended: list[str] = field(default_factory=list)  # calls the ACD no longer holds


class NoOperators(TransitionError):
    def __init__(self) -> None:
        super().__init__(
            "acd_no_operators",
            "В ACD-группе нет ни одного оператора: вызов завершён",
            "The ACD group has no operators: the call is ended",
        )


def _unknown_call() -> TransitionError:
    return TransitionError(
        "unknown_call", "Такого вызова нет в очередях", "No such call in the queues"
    )


class Dispatcher:
    def __init__(
        self,
        groups: Iterable[GroupConfig] = (),
        *,
        away_after: int = DEFAULT_AWAY_AFTER,
        rng: random.Random | None = None,
    ) -> None:
        self.groups: dict[int, GroupConfig] = {g.group_id: g for g in groups}
        self.away_after = away_after
        self.rng = rng or random.Random()
        self.operators: dict[int, Operator] = {}
        self.queues: dict[int, Queue] = {}
        self.offers: dict[str, Offer] = {}  # by call_id
        self.talks: dict[str, Talk] = {}  # by call_id
        self._seq = 0
        self._offer_seq = 0

    # --- configuration and rebuilding ----------------------------------------------------

    def set_groups(self, groups: Iterable[GroupConfig]) -> None:
        """New group settings; a group that disappeared keeps its last ones while it has calls."""
        fresh = {g.group_id: g for g in groups}
        for gid, cfg in self.groups.items():
            if gid not in fresh and (self.queues.get(gid) or self._group_busy(gid)):
                fresh[gid] = replace(cfg, members=())
        self.groups = fresh

    def _group_busy(self, group_id: int) -> bool:
        return any(o.call.group_id == group_id for o in self.offers.values()) or any(
            t.call.group_id == group_id for t in self.talks.values()
        )

    def put_operator(self, op: Operator) -> None:
        self.operators[op.user_id] = op

    def restore_call(self, call: WaitingCall) -> None:
        """Put a call back into its queue when rebuilding after a restart."""
        self._seq = max(self._seq, call.seq)
        self._queue(call.group_id).add(call)

    def restore_talk(self, talk: Talk) -> None:
        self._seq = max(self._seq, talk.call.seq)
        self.talks[talk.call.call_id] = talk

    def next_seq(self) -> int:
        self._seq += 1
        return self._seq

    def copy(self) -> Dispatcher:
        """A copy whose changes do not touch this one (to roll back a failed transaction)."""
        other = Dispatcher(self.groups.values(), away_after=self.away_after, rng=self.rng)
        other.operators = dict(self.operators)
        other.queues = {gid: q.copy() for gid, q in self.queues.items()}
        other.offers = dict(self.offers)
        other.talks = dict(self.talks)
        other._seq, other._offer_seq = self._seq, self._offer_seq
        return other

    # --- queries -------------------------------------------------------------------------

    def operator(self, user_id: int) -> Operator:
        return self.operators.get(user_id) or Operator(user_id)

    def _queue(self, group_id: int) -> Queue:
        return self.queues.setdefault(group_id, Queue(group_id))

    def offer_of(self, user_id: int) -> Offer | None:
        return next((o for o in self.offers.values() if o.user_id == user_id), None)

    def online_operators(self, group_id: int) -> int:
        cfg = self.groups.get(group_id)
        members = cfg.members if cfg else ()
        return sum(1 for uid, _ in members if self.operator(uid).online)

    def expected_wait(self, call_id: str) -> int | None:
        for gid, queue in self.queues.items():
            pos = queue.position(call_id)
            if pos is not None:
                cfg = self.groups.get(gid)
                avg = cfg.avg_talk_seconds if cfg else 0
                return expected_wait(pos, self.online_operators(gid), avg)
        return None

    def position(self, call_id: str) -> int | None:
        for queue in self.queues.values():
            pos = queue.position(call_id)
            if pos is not None:
                return pos
        return None

    def call_ids(self) -> set[str]:
        waiting = {c.call_id for q in self.queues.values() for c in q}
        return waiting | set(self.offers) | set(self.talks)

    # --- steps ---------------------------------------------------------------------------

    def _apply(self, step: opm.Step, eff: Effects) -> Operator:
        op = step.operator
        self.operators[op.user_id] = op
        eff.changes.extend((op.user_id, c) for c in step.changes)
        eff.operators.add(op.user_id)
        return op

    def _return_to_head(self, offer: Offer, at: float, eff: Effects, exclude: bool = True) -> None:
        cfg = self.groups.get(offer.call.group_id)
        cool_down = cfg.answer_seconds if cfg else 0
        call = replace(
            offer.call,
            returned=True,
            excluded=frozenset({offer.user_id}) if exclude else frozenset(),
            excluded_until=at + cool_down if exclude else 0.0,
        )
        self.offers.pop(offer.call.call_id, None)
        self._queue(call.group_id).add(call)
        eff.groups.add(call.group_id)

    def enqueue(
        self,
        group_id: int,
        call_id: str,
        caller: str,
        now: float,
        vip_priority: int | None = None,
    ) -> Effects:
        cfg = self.groups.get(group_id)
        if cfg is None or not cfg.members:
            raise NoOperators()
        if call_id in self.call_ids():
            raise TransitionError(
                "duplicate_call", "Этот вызов уже в очереди", "This call is already queued"
            )
        call = WaitingCall(call_id, group_id, caller, now, self.next_seq(), vip_priority)
        self._queue(group_id).add(call)
        eff = Effects(groups={group_id})
        self._dispatch(now, eff)
        return eff

    def set_status(
        self, user_id: int, status: Status, now: float, reason_id: int | None = None
    ) -> Effects:
        eff = Effects()
        before = self.operator(user_id)
        op = self._apply(opm.set_status(before, status, now, reason_id), eff)
        offer = self.offer_of(user_id)
        if offer is not None and status != Status.READY:
            if op.state == State.OFFERED:
                self._apply(opm.withdraw(op, offer.call.call_id, now), eff)
            self._return_to_head(offer, now, eff, exclude=False)
        self._dispatch(now, eff)
        return eff

    def _find_offer(self, user_id: int, offer_id: int) -> Offer:
        for offer in self.offers.values():
            if offer.offer_id == offer_id and offer.user_id == user_id:
                return offer
        raise TransitionError(
            "no_such_offer",
            "Этот вызов вам сейчас не предлагается",
            "This call is not being offered to you now",
        )

    def accept(self, user_id: int, offer_id: int, now: float) -> Effects:
        offer = self._find_offer(user_id, offer_id)
        eff = Effects()
        self._answer(offer, now, eff)
        self._dispatch(now, eff)
        return eff

    def _answer(self, offer: Offer, now: float, eff: Effects) -> None:
        self._apply(opm.answer(self.operator(offer.user_id), offer.call.call_id, now), eff)
        del self.offers[offer.call.call_id]
        self.talks[offer.call.call_id] = Talk(offer.call, offer.user_id, now)
        eff.groups.add(offer.call.group_id)

    def reject(self, user_id: int, offer_id: int, now: float) -> Effects:
        offer = self._find_offer(user_id, offer_id)
        eff = Effects()
        self._lapse(offer, now, eff, rejected=True)
        self._dispatch(now, eff)
        return eff

    def _lapse(self, offer: Offer, at: float, eff: Effects, rejected: bool = False) -> None:
        op = self.operator(offer.user_id)
        self._apply(
            opm.lapse(op, offer.call.call_id, at, away_after=self.away_after, rejected=rejected),
            eff,
        )
        eff.lapsed.append(offer)
        self._return_to_head(offer, at, eff)

    def ring_at_edge(self, call_id: str, offer_id: int, now: float) -> Effects:
        """The SIP edge started ringing the operator's phone for this offer (once per offer).

        The phone rings for the group's answer time counted from now, not from the offer, and
        the edge reports how it ended (:meth:`edge_lapse`, :meth:`answered`); the
        dispatcher's own expiry stays as a safety net a little later.
        """
        offer = self.offers.get(call_id)
        if offer is not None and offer.offer_id == offer_id and not offer.ringing:
            cfg = self.groups.get(offer.call.group_id)
            ring = cfg.answer_seconds if cfg else 0
            until = max(offer.expires_at, now + ring + EDGE_GRACE_SECONDS)
            self.offers[call_id] = replace(offer, ringing=True, expires_at=until)
        return Effects()

    def edge_lapse(
        self, call_id: str, offer_id: int, now: float, *, rejected: bool = False
    ) -> Effects:
        """The edge says the phone was not answered (or declined): the same as an offer that
        lapsed. An offer that is no longer current (already lapsed, withdrawn) is left alone."""
        eff = Effects()
        offer = self.offers.get(call_id)
        if offer is not None and offer.offer_id == offer_id:
            self._lapse(offer, now, eff, rejected=rejected)
        self._dispatch(now, eff)
        return eff

    def answered(self, call_id: str, now: float, user_id: int | None = None) -> Effects:
        """The edge reports that the operator picked up (same as the operator accepting)."""
        offer = self.offers.get(call_id)
        if offer is None or (user_id is not None and offer.user_id != user_id):
            raise _unknown_call()
        eff = Effects()
        self._answer(offer, now, eff)
        self._dispatch(now, eff)
        return eff

    def ended(self, call_id: str, now: float) -> Effects:
        """The call is over: the caller gave up waiting, or the conversation ended."""
        eff = Effects(ended=[call_id])
        offer = self.offers.pop(call_id, None)
        talk = self.talks.pop(call_id, None)
        if offer is not None:
            self._apply(opm.withdraw(self.operator(offer.user_id), call_id, now), eff)
            eff.groups.add(offer.call.group_id)
        elif talk is not None:
            cfg = self.groups.get(talk.call.group_id)
            seconds = cfg.post_call_seconds if cfg else 0
            self._apply(opm.hang_up(self.operator(talk.user_id), now, seconds), eff)
            eff.groups.add(talk.call.group_id)
        else:
            for gid, queue in self.queues.items():
                if queue.remove(call_id) is not None:
                    eff.groups.add(gid)
                    break
            else:
                raise _unknown_call()
        self._dispatch(now, eff)
        return eff

    def finish_post_call(self, user_id: int, now: float) -> Effects:
        eff = Effects()
        self._apply(opm.finish_post_call(self.operator(user_id), now), eff)
        self._dispatch(now, eff)
        return eff

    def extend_post_call(self, user_id: int, now: float) -> Effects:
        op = self.operator(user_id)
        cfg = self.groups.get(op.group_id) if op.group_id is not None else None
        eff = Effects()
        self._apply(opm.extend_post_call(op, now, cfg.post_call_seconds if cfg else 0), eff)
        return eff

    def tick(self, now: float) -> Effects:
        """Expire unanswered offers and finished post-call work (each at its own instant)."""
        eff = Effects()
        for offer in sorted(self.offers.values(), key=lambda o: (o.expires_at, o.offer_id)):
            if offer.expires_at <= now:
                self._lapse(offer, offer.expires_at, eff)
        for op in list(self.operators.values()):
            step = opm.expire_post_call(op, now)
            if step.changes:
                self._apply(step, eff)
        self._dispatch(now, eff)
        return eff

    # --- distribution --------------------------------------------------------------------

    def _states(self, cfg: GroupConfig, now: float) -> dict[int, OperatorState]:
        out = {}
        for uid, _ in cfg.members:
            op = self.operator(uid)
            out[uid] = OperatorState(
                free=op.free,
                idle_since=op.idle_since,
                talk_seconds=op.talk_seconds,
                work_seconds=op.work_seconds(now),
            )
        return out

    def _dispatch(self, now: float, eff: Effects) -> None:
        while True:
            waiting = sorted((c for q in self.queues.values() for c in q), key=lambda c: c.sort_key)
            for call in waiting:
                cfg = self.groups.get(call.group_id)
                if cfg is None:
                    continue
                uid = select_operator(
                    cfg.members,
                    self._states(cfg, now),
                    cfg.algorithm,
                    exclude=call.exclude_now(now),
                    rng=self.rng,
                )
                if uid is not None:
                    self._offer(call, cfg, uid, now, eff)
                    break
            else:
                return

    def _offer(
        self, call: WaitingCall, cfg: GroupConfig, uid: int, now: float, eff: Effects
    ) -> None:
        self._queue(call.group_id).remove(call.call_id)
        self._apply(opm.offer(self.operator(uid), call.call_id, call.group_id, now), eff)
        self._offer_seq += 1
        offer = Offer(self._offer_seq, call, uid, now, now + cfg.answer_seconds)
        self.offers[call.call_id] = offer
        eff.offers.append(offer)
        eff.groups.add(call.group_id)
