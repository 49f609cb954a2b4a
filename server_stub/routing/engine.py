"""The routing engine: (call, domain snapshot, moment) -> ring plan + trace. Pure Python.

The order of checks follows the manual (spec 02 §7.5, 01 §9.6) with these decisions:
- Incoming: the number's black/white list first, then its rules by ascending priority; the
  first active rule whose conditions all hold wins; no rule → busy (the manual's default rule).
- A user's forwarding: active contacts grouped by priority (equal priorities ring together),
  each tier rings until its contacts' ring times run out; a tier whose every leg is busy stops
  the cascade (→ voicemail if on, else busy); exhausted → voicemail if on, else 480.
  The manual's example E5 reads as "SIP left out"; we ring both contacts of the equal tier
  (the only reading consistent with E3), as the spec recommends.
- The user's outgoing restriction also limits their forwarding to external numbers.
- A financially blocked domain keeps internal calls; paid calls are refused with the reason.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Literal

from server_stub.phones import BadNumber, to_e164
from server_stub.routing import schedule as week
from server_stub.routing.config import (
    ACD,
    Algorithm,
    DomainCfg,
    GroupCfg,
    ListMode,
    NumberCfg,
    Restriction,
    Rule,
    Target,
    TargetKind,
    UserCfg,
)
from server_stub.routing.numbering import (
    PAID,
    RESTRICTION_TEXT,
    Direction,
    classify,
    denied,
    national,
)
from server_stub.routing.plan import BUSY, Branch, BranchKind, Decision, Final, Stage

EXTERNAL_RING_SECONDS = 120
NO_ANSWER = Final("reject", 480, "No Answer")

# billing hook: (domain, direction, E.164) -> refusal reason (ru, en) or None
Authorize = Callable[[DomainCfg, Direction, str], tuple[str, str] | None]


@dataclass(frozen=True)
class Call:
    caller: str  # an extension (source "user") or an E.164 / raw number (source "trunk")
    called: str  # dialled digits, or the E.164 number the carrier delivered
    source: Literal["user", "trunk", "inter_domain"] = "user"
    caller_user_id: int | None = None


@dataclass
class _Trace:
    lines: list[tuple[str, str]] = field(default_factory=list)

    def __call__(self, ru: str, en: str) -> None:
        self.lines.append((ru, en))


def _refuse(trace: _Trace, code: int, ru: str, en: str, direction: str = "") -> Decision:
    trace(f"Вызов отклонён ({code}): {ru}", f"Call refused ({code}): {en}")
    return Decision(
        refused=Final("reject", code, en), direction=direction, trace=tuple(trace.lines)
    )


def _sip_uri(user: UserCfg, cfg: DomainCfg) -> str:
    return f"sip:{user.login}@{cfg.name}"


def _media(kind: str, ref: int | None, cfg: DomainCfg) -> Final:
    return Final("media", 200, kind, f"sip:{kind}-{ref}@media.{cfg.name}")


def _effective_restriction(user: UserCfg, cfg: DomainCfg) -> Restriction:
    return cfg.default_restriction if user.restriction == Restriction.INHERIT else user.restriction


def _caller_id(user: UserCfg | None, cfg: DomainCfg, trace: _Trace) -> str | None:
    """The user's own outgoing number, else the domain default; an 8-800 number never."""
    for source, number in (
        ("user", user.outgoing_number if user else None),
        ("domain", cfg.default_outgoing_number),
    ):
        if not number:
            continue
        if number in cfg.toll_free_numbers or national(number).startswith("800"):
            trace(
                f"Номер {number} — 8-800, он не может быть АОН",
                f"{number} is an 8-800 number and cannot be the caller ID",
            )
            continue
        trace(
            f"АОН: {number} ({'пользователя' if source == 'user' else 'домена по умолчанию'})",
            f"Caller ID: {number} ({source})",
        )
        return number
    trace("АОН не задан", "No caller ID configured")
    return None


def _home_area(cfg: DomainCfg) -> str | None:
    number = cfg.default_outgoing_number
    return national(number)[:3] if number and number.startswith("+7") else None


@dataclass(frozen=True)
class _Moment:
    """The call's instant, converted to the domain's (weekday, minute) once per decision."""

    at: datetime
    day: int
    minute: int


def _schedule_holds(
    compiled: week.Compiled | None, when: str, at: _Moment, cfg: DomainCfg
) -> tuple[bool, str]:
    if compiled is None:
        return True, week.WORKING
    active = compiled.at(at.day, at.minute)
    return active == when, active


# --- expansion of targets into stages ----------------------------------------------------


def _user_plan(
    user: UserCfg, cfg: DomainCfg, at: _Moment, trace: _Trace, authorize: Authorize | None
) -> Decision:
    vm = _media("voicemail", user.id, cfg) if user.voicemail else None
    active: list[tuple[int, Branch]] = []
    paid = False
    for rule in user.forwarding:
        label = "SIP" if rule.sip else rule.number
        if not rule.enabled:
            trace(f"Контакт {label} выключен", f"Contact {label} is switched off")
            continue
        holds, now = _schedule_holds(rule.compiled, rule.when, at, cfg)  # type: ignore[attr-defined]
        if not holds:
            trace(
                f"Контакт {label}: по расписанию сейчас «{now}» — пропущен",
                f"Contact {label}: the schedule says '{now}' now — skipped",
            )
            continue
        if rule.sip:
            branch = Branch(
                BranchKind.SIP_USER,
                _sip_uri(user, cfg),
                rule.ring_seconds,
                user_id=user.id,
                label=user.extension,
            )
        else:
            direction = classify(rule.number, _home_area(cfg))
            restriction = _effective_restriction(user, cfg)
            if denied(restriction, direction):
                ru, en = RESTRICTION_TEXT.get(restriction, ("запрещено", "barred"))
                trace(f"Контакт {label} пропущен: {ru}", f"Contact {label} skipped: {en}")
                continue
            if direction in PAID and authorize is not None:
                refusal = authorize(cfg, direction, rule.number)
                if refusal is not None:
                    trace(
                        f"Контакт {label} пропущен: {refusal[0]}",
                        f"Contact {label} skipped: {refusal[1]}",
                    )
                    continue
            paid = paid or direction in PAID
            branch = Branch(
                BranchKind.EXTERNAL,
                f"sip:{rule.number}@trunk",
                rule.ring_seconds,
                label=rule.number,
            )
        active.append((rule.priority, branch))
    # Equal priorities ring together; the built-in SIP contact is listed first in its tier.
    active.sort(key=lambda item: (item[0], item[1].kind != BranchKind.SIP_USER))
    stages = []
    for priority, tier in itertools.groupby(active, key=lambda item: item[0]):
        branches = tuple(b for _, b in tier)
        stages.append(
            Stage(
                branches,
                max(b.ring_seconds for b in branches),
                busy_stops=True,
                label=f"priority {priority}",
            )
        )
        trace(
            f"Приоритет {priority}: звонят {', '.join(b.label for b in branches)} одновременно"
            if len(branches) > 1
            else f"Приоритет {priority}: звонит {branches[0].label} ({branches[0].ring_seconds} с)",
            f"Priority {priority}: ringing {', '.join(b.label for b in branches)}",
        )
    end = vm or NO_ANSWER
    trace(
        "Нет ответа → " + ("голосовая почта" if vm else "завершение вызова"),
        "No answer → " + ("voicemail" if vm else "call ends"),
    )
    return Decision(
        stages=tuple(stages),
        on_no_answer=end,
        on_busy=vm or BUSY,
        paid=paid,
        trace=tuple(trace.lines),
    )


def _members(group: GroupCfg, cfg: DomainCfg) -> list[UserCfg]:
    ordered = sorted(group.members, key=lambda m: (m.priority, m.user_id))
    users = [cfg.user(m.user_id) for m in ordered]
    return [u for u in users if u is not None and u.active]


def _group_plan(group: GroupCfg, cfg: DomainCfg, trace: _Trace) -> Decision:
    vm = _media("group-voicemail", group.id, cfg) if group.voicemail else None
    fallback = vm or NO_ANSWER
    members = _members(group, cfg)
    trace(
        f"Группа «{group.name}» ({group.extension}), алгоритм {group.algorithm.value}",
        f"Group '{group.name}' ({group.extension}), algorithm {group.algorithm.value}",
    )
    if group.algorithm == Algorithm.NOT_SET or not members:
        why = "алгоритм не задан" if members else "в группе нет участников"
        trace(
            f"{why} → " + ("голосовая почта группы" if vm else "завершение"),
            ("no algorithm" if members else "no members") + (" → voicemail" if vm else " → end"),
        )
        if vm:
            return Decision(on_no_answer=vm, trace=tuple(trace.lines))
        return _refuse(trace, 480, "группе некуда направить вызов", "the group has nowhere to ring")
    if group.algorithm in ACD:
        operators = [u for u in members if u.is_operator]
        if not operators:
            return _refuse(
                trace,
                480,
                "в ACD-группе нет ни одного оператора",
                "the ACD group has no operators",
            )
        trace(
            f"Вызов ставится в очередь группы ({len(operators)} операторов)",
            f"The call joins the group's queue ({len(operators)} operators)",
        )
        return Decision(
            queue_group_id=group.id,
            on_no_answer=_media("queue", group.id, cfg),
            trace=tuple(trace.lines),
        )

    def branch(user: UserCfg, ring: int, delay: int = 0) -> Branch:
        return Branch(
            BranchKind.SIP_USER, _sip_uri(user, cfg), ring, delay, user.id, user.extension
        )

    total, step = group.total_wait_seconds, group.step_seconds
    if group.algorithm == Algorithm.RING_ALL:
        stage = Stage(tuple(branch(u, total) for u in members), total, label="ring all")
        trace(
            f"Звонят все {len(members)} участников {total} с",
            f"All {len(members)} members ring for {total} s",
        )
        return Decision(
            stages=(stage,), on_no_answer=fallback, on_busy=fallback, trace=tuple(trace.lines)
        )
    if group.algorithm == Algorithm.SERIAL:
        stages: list[Stage] = []
        elapsed = 0
        for user in itertools.cycle(members):
            if elapsed >= total:
                break
            ring = min(step, total - elapsed)
            stages.append(Stage((branch(user, ring),), ring, label=f"serial {user.extension}"))
            elapsed += ring
        trace(
            f"По очереди по {step} с, всего {total} с: "
            + ", ".join(s.branches[0].label for s in stages),
            f"One after another, {step} s each, {total} s in all",
        )
        return Decision(
            stages=tuple(stages), on_no_answer=fallback, on_busy=fallback, trace=tuple(trace.lines)
        )
    # ADD_NEXT: member k joins k*step seconds in and rings until the total wait is over.
    branches = tuple(
        branch(u, total - k * step, k * step) for k, u in enumerate(members) if k * step < total
    )
    trace(
        f"С добавлением: каждые {step} с добавляется следующий, всего {total} с",
        f"Add the next every {step} s, {total} s in all",
    )
    return Decision(
        stages=(Stage(branches, total, label="add next"),),
        on_no_answer=fallback,
        on_busy=fallback,
        trace=tuple(trace.lines),
    )


def _target_plan(
    target: Target,
    cfg: DomainCfg,
    at: _Moment,
    trace: _Trace,
    authorize: Authorize | None,
    caller_id: str | None = None,
) -> Decision:
    kind = target.kind
    if kind in (TargetKind.USER, TargetKind.USER_VOICEMAIL, TargetKind.USER_FAX):
        user = cfg.user(target.ref or -1)
        if user is None or not user.active:
            return _refuse(trace, 404, "пользователь не найден", "no such user")
        if kind == TargetKind.USER:
            trace(
                f"Пользователь {user.display_name or user.login} ({user.extension})",
                f"User {user.login} ({user.extension})",
            )
            return _user_plan(user, cfg, at, trace, authorize)
        what = "voicemail" if kind == TargetKind.USER_VOICEMAIL else "fax"
        trace(f"На {what} пользователя {user.extension}", f"To the {what} of user {user.extension}")
        return Decision(on_no_answer=_media(what, user.id, cfg), trace=tuple(trace.lines))
    if kind in (TargetKind.GROUP, TargetKind.GROUP_VOICEMAIL, TargetKind.GROUP_FAX):
        group = cfg.group(target.ref or -1)
        if group is None:
            return _refuse(trace, 404, "группа не найдена", "no such group")
        if kind == TargetKind.GROUP:
            return replace(_group_plan(group, cfg, trace), group_id=group.id)
        what = "group-voicemail" if kind == TargetKind.GROUP_VOICEMAIL else "group-fax"
        trace(f"На {what} группы {group.extension}", f"To the {what} of group {group.extension}")
        return Decision(on_no_answer=_media(what, group.id, cfg), trace=tuple(trace.lines))
    if kind == TargetKind.IVR:
        trace(f"Голосовое меню {target.ref}", f"IVR scenario {target.ref}")
        return Decision(on_no_answer=_media("ivr", target.ref, cfg), trace=tuple(trace.lines))
    if kind == TargetKind.HANGUP:
        return _refuse(trace, 486, "завершение вызова по правилу («Линия занята»)", "hang-up rule")
    if kind == TargetKind.PRIVATE_ROUTE:
        trace(f"В частный маршрут на {target.number}", f"Into the private route to {target.number}")
        stage = Stage(
            (
                Branch(
                    BranchKind.EXTERNAL,
                    f"sip:{target.number}@private-route",
                    EXTERNAL_RING_SECONDS,
                    label=target.number,
                ),
            ),
            EXTERNAL_RING_SECONDS,
        )
        return Decision(stages=(stage,), on_no_answer=NO_ANSWER, trace=tuple(trace.lines))
    # EXTERNAL: forwarding an incoming call to a PSTN number — a paid leg.
    direction = classify(target.number, _home_area(cfg))
    if authorize is not None and direction in PAID:
        refusal = authorize(cfg, direction, target.number)
        if refusal is not None:
            return _refuse(trace, 403, refusal[0], refusal[1], direction.value)
    trace(f"На внешний номер {target.number}", f"To the external number {target.number}")
    stage = Stage(
        (
            Branch(
                BranchKind.EXTERNAL,
                f"sip:{target.number}@trunk",
                EXTERNAL_RING_SECONDS,
                label=target.number,
            ),
        ),
        EXTERNAL_RING_SECONDS,
    )
    return Decision(
        stages=(stage,),
        on_no_answer=NO_ANSWER,
        paid=direction in PAID,
        caller_id=caller_id,
        trace=tuple(trace.lines),
    )


# --- incoming calls on a number ----------------------------------------------------------


def _rule_matches(
    rule: Rule, caller_national: str, at: _Moment, cfg: DomainCfg, trace: _Trace
) -> bool:
    name = rule.name or f"#{rule.priority}"
    if not rule.active:
        trace(f"Правило {name} неактивно", f"Rule {name} is inactive")
        return False
    cond = rule.condition
    # Both conditions must hold; the prefix is the cheaper check, so it goes first.
    if cond.prefixes and not caller_national.startswith(cond.prefixes):
        trace(
            f"Правило {name}: номер {caller_national} не начинается с {', '.join(cond.prefixes)}",
            f"Rule {name}: {caller_national} does not start with {', '.join(cond.prefixes)}",
        )
        return False
    if cond.schedule is not None:
        holds, now = _schedule_holds(cond.compiled, cond.when, at, cfg)  # type: ignore[attr-defined]
        if not holds:
            trace(
                f"Правило {name}: нужен интервал «{cond.when}», сейчас «{now}»",
                f"Rule {name}: needs '{cond.when}', it is '{now}' now",
            )
            return False
    trace(f"Сработало правило {name}", f"Rule {name} matched")
    return True


def _incoming(
    call: Call,
    number: NumberCfg,
    cfg: DomainCfg,
    at: _Moment,
    trace: _Trace,
    authorize: Authorize | None,
) -> Decision:
    try:
        caller = to_e164(call.caller)
    except BadNumber:
        caller = call.caller
    trace(f"Входящий на {number.e164} от {caller}", f"Incoming to {number.e164} from {caller}")
    if number.list_mode == ListMode.BLACK and caller in number.listed:
        return _refuse(trace, 486, "номер в чёрном списке", "the caller is blacklisted", "incoming")
    if number.list_mode == ListMode.WHITE and caller not in number.listed:
        why = "белый список пуст" if not number.listed else "номера нет в белом списке"
        return _refuse(trace, 486, why, "the caller is not on the white list", "incoming")
    caller_national = national(caller)
    for rule in sorted(number.rules, key=lambda r: r.priority):
        if _rule_matches(rule, caller_national, at, cfg, trace):
            decision = _target_plan(rule.target, cfg, at, trace, authorize, number.e164)
            return replace(decision, direction="incoming")
    return _refuse(
        trace,
        486,
        "ни одно правило не подошло (правило по умолчанию: «занято»)",
        "no rule matched (default rule: busy)",
        "incoming",
    )


# --- calls dialled by a user -------------------------------------------------------------


def _outgoing(
    call: Call,
    cfg: DomainCfg,
    at: _Moment,
    trace: _Trace,
    authorize: Authorize | None,
    depth: int = 0,
) -> Decision:
    user = (
        cfg.user(call.caller_user_id)
        if call.caller_user_id is not None
        else cfg.user_by_extension(call.caller)
    )
    if user is None or not user.active:
        return _refuse(trace, 403, "звонящий не является пользователем домена", "unknown caller")
    dialled = call.called.strip()
    trace(f"{user.extension} набирает {dialled}", f"{user.extension} dials {dialled}")
    if dialled == cfg.pickup_code:
        if user.pickup_group is None:
            return _refuse(
                trace, 403, "пользователь не входит в группу перехвата", "not in a pickup group"
            )
        trace("Перехват вызова в своей группе", "Call pickup in own group")
        return Decision(
            on_no_answer=Final("pickup", 200, "pickup", f"pickup:{user.pickup_group}"),
            trace=tuple(trace.lines),
        )
    if dialled.startswith("*") and dialled[1:].isdigit() and depth == 0:
        code = dialled[1:]
        target = cfg.personal_speed_dials.get(user.id, {}).get(code) or cfg.company_speed_dials.get(
            code
        )
        if target is None:
            return _refuse(
                trace, 404, f"нет номера быстрого набора *{code}", f"no speed dial *{code}"
            )
        trace(f"Быстрый набор *{code} → {target}", f"Speed dial *{code} → {target}")
        return _outgoing(replace(call, called=target), cfg, at, trace, authorize, depth + 1)
    if dialled == user.extension:
        return _refuse(trace, 486, "вызов самому себе", "calling yourself")
    target_user = cfg.user_by_extension(dialled)
    if target_user is not None:
        decision = _target_plan(Target(TargetKind.USER, target_user.id), cfg, at, trace, authorize)
        return replace(decision, direction=Direction.INTERNAL.value)
    group = cfg.group_by_extension(dialled)
    if group is not None:
        return replace(
            _group_plan(group, cfg, trace), direction=Direction.INTERNAL.value, group_id=group.id
        )
    if dialled.isdigit():
        for prefix, domain_name in cfg.pool_routing.items():
            rest = dialled[len(prefix) :]
            if dialled.startswith(prefix) and 2 <= len(rest) <= 5:
                trace(
                    f"Междоменный вызов: домен {domain_name}, внутренний {rest} (бесплатно)",
                    f"Inter-domain call: domain {domain_name}, extension {rest} (free)",
                )
                stage = Stage(
                    (
                        Branch(
                            BranchKind.INTER_DOMAIN,
                            f"sip:{rest}@{domain_name}",
                            EXTERNAL_RING_SECONDS,
                            label=rest,
                        ),
                    ),
                    EXTERNAL_RING_SECONDS,
                )
                return Decision(
                    stages=(stage,),
                    on_no_answer=NO_ANSWER,
                    direction=Direction.INTER_DOMAIN.value,
                    trace=tuple(trace.lines),
                )
        if len(dialled) <= 5:
            return _refuse(
                trace,
                404,
                f"внутренний номер {dialled} не существует",
                f"no extension {dialled}",
                "internal",
            )
    try:
        e164 = to_e164(dialled)
    except BadNumber as exc:
        return _refuse(trace, 404, exc.ru, exc.en)
    direction = classify(e164, _home_area(cfg))
    trace(
        f"Внешний номер {e164}: направление {direction.value}",
        f"External {e164}: {direction.value}",
    )
    restriction = _effective_restriction(user, cfg)
    if denied(restriction, direction):
        ru, en = RESTRICTION_TEXT.get(restriction, ("запрещено", "barred"))
        return _refuse(
            trace,
            403,
            f"ограничение исходящих: {ru}",
            f"outgoing restriction: {en}",
            direction.value,
        )
    if direction in PAID:
        if cfg.blocked_reason:
            return _refuse(
                trace,
                403,
                f"домен заблокирован: {cfg.blocked_reason}",
                "the domain is blocked",
                direction.value,
            )
        if authorize is not None:
            refusal = authorize(cfg, direction, e164)
            if refusal is not None:
                return _refuse(trace, 403, refusal[0], refusal[1], direction.value)
    caller_id = _caller_id(user, cfg, trace)
    stage = Stage(
        (Branch(BranchKind.EXTERNAL, f"sip:{e164}@trunk", EXTERNAL_RING_SECONDS, label=e164),),
        EXTERNAL_RING_SECONDS,
    )
    return Decision(
        stages=(stage,),
        on_no_answer=NO_ANSWER,
        caller_id=caller_id,
        direction=direction.value,
        paid=direction in PAID,
        trace=tuple(trace.lines),
    )


def presented(call: Call, cfg: DomainCfg) -> tuple[str | None, str]:
    """Who the callee sees on internal legs (the edge puts it in P-Asserted-Identity): a user
    by extension and name (never the SIP login, which means nothing to people), a trunk caller
    by the number as the carrier gave it, normalised. External legs present the decision's
    ``caller_id`` instead. Apart from :func:`route` so the benchmarked decision stays lean:
    only the edge's plan needs it."""
    if call.source == "trunk":
        try:
            return to_e164(call.caller), ""
        except BadNumber:
            return call.caller or None, ""
    user = (
        cfg.user(call.caller_user_id)
        if call.caller_user_id is not None
        else cfg.user_by_extension(call.caller)
    )
    if user is None:
        return call.caller or None, ""
    return user.extension, user.display_name


def route(call: Call, cfg: DomainCfg, at: datetime, authorize: Authorize | None = None) -> Decision:
    """Decide where ``call`` goes in domain ``cfg`` at instant ``at`` (aware datetime)."""
    trace = _Trace()
    day, minute = week.local_day_minute(at, cfg.timezone)
    moment = _Moment(at, day, minute)
    if call.source == "trunk":
        try:
            called = to_e164(call.called)
        except BadNumber:
            called = call.called
        number = cfg.number(called)
        if number is None:
            return _refuse(
                trace,
                404,
                f"номер {called} не принадлежит домену",
                f"{called} is not a number of this domain",
            )
        return _incoming(call, number, cfg, moment, trace, authorize)
    if call.source == "inter_domain":
        target = cfg.user_by_extension(call.called)
        if target is not None:
            trace(f"Междоменный вызов на {call.called}", f"Inter-domain call to {call.called}")
            return replace(
                _user_plan(target, cfg, moment, trace, authorize), direction="inter_domain"
            )
        group = cfg.group_by_extension(call.called)
        if group is not None:
            return replace(_group_plan(group, cfg, trace), direction="inter_domain")
        return _refuse(
            trace, 404, f"внутренний номер {call.called} не существует", "no such extension"
        )
    return _outgoing(call, cfg, moment, trace, authorize)
