"""The routing engine against the manual's own examples (spec 02 §7.7, spec 01 §9.6 E1–E5)."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from server_stub.routing.config import (
    Algorithm,
    Condition,
    DomainCfg,
    ForwardRule,
    GroupCfg,
    ListMode,
    Member,
    NumberCfg,
    Restriction,
    Rule,
    Target,
    TargetKind,
    UserCfg,
)
from server_stub.routing.engine import Call, route
from server_stub.routing.plan import BranchKind

MSK = ZoneInfo("Europe/Moscow")
MONDAY_NOON = datetime(2026, 11, 23, 12, 0, tzinfo=MSK)
MONDAY_NIGHT = datetime(2026, 11, 23, 22, 0, tzinfo=MSK)
SUNDAY_NOON = datetime(2026, 11, 29, 12, 0, tzinfo=MSK)
WEEKDAYS_10_19 = {"working": [[d, "10:00", "19:00"] for d in range(5)]}
MOBILE_SCHEDULE = {"working": [[d, "10:00", "19:00"] for d in range(5)] + [[5, "10:00", "16:00"]]}
DID = "+74951112233"
MSK_CALLER = "+74957654321"
SPB_CALLER = "+78127654321"
EKB_CALLER = "+73431234567"

ANNA = UserCfg(id=1, login="anna", extension="101", display_name="Анна")
BORIS = UserCfg(id=2, login="boris", extension="102", is_operator=True)
VERA = UserCfg(id=3, login="vera", extension="103", is_operator=True)
GLEB = UserCfg(id=4, login="gleb", extension="104")
MSK_GROUP = GroupCfg(
    id=10,
    name="Поддержка_МСК",
    extension="556",
    algorithm=Algorithm.RING_ALL,
    members=(Member(1), Member(2)),
    voicemail=True,
)
SPB_GROUP = GroupCfg(
    id=11,
    name="Поддержка_СПБ",
    extension="557",
    algorithm=Algorithm.RING_ALL,
    members=(Member(3),),
    voicemail=True,
)


def domain(
    *rules: Rule, users: tuple[UserCfg, ...] = (ANNA, BORIS, VERA, GLEB), **kw: object
) -> DomainCfg:
    number = NumberCfg(e164=DID, rules=rules)
    defaults: dict[str, object] = {
        "id": 1,
        "name": "demo.pult",
        "users": users,
        "groups": (MSK_GROUP, SPB_GROUP),
        "numbers": (number,),
        "default_outgoing_number": DID,
    }
    defaults.update(kw)
    return DomainCfg(**defaults)  # type: ignore[arg-type]


def incoming(cfg: DomainCfg, at: datetime, caller: str = MSK_CALLER) -> list[str]:
    """Where an incoming call ends up, as the list of what rings (or the final action)."""
    d = route(Call(caller=caller, called=DID, source="trunk"), cfg, at)
    if d.refused:
        return [f"refused {d.refused.sip_code}"]
    rung = [b.uri for s in d.stages for b in s.branches]
    return rung or [d.on_no_answer.uri]


GROUP = Target(TargetKind.GROUP, 10)
GROUP_VM = Target(TargetKind.GROUP_VOICEMAIL, 10)
SPB = Target(TargetKind.GROUP, 11)
SPB_VM = Target(TargetKind.GROUP_VOICEMAIL, 11)
MSK_RINGS = ["sip:anna@demo.pult", "sip:boris@demo.pult"]
MSK_VM = ["sip:group-voicemail-10@media.demo.pult"]


def test_example_1_rule_without_condition_takes_every_call() -> None:
    cfg = domain(Rule(1, GROUP))
    for at in (MONDAY_NOON, MONDAY_NIGHT, SUNDAY_NOON):
        assert incoming(cfg, at) == MSK_RINGS


def test_example_2_business_hours_to_group_otherwise_voicemail() -> None:
    cfg = domain(Rule(1, GROUP, Condition(schedule=WEEKDAYS_10_19)), Rule(2, GROUP_VM))
    assert incoming(cfg, MONDAY_NOON) == MSK_RINGS
    assert incoming(cfg, MONDAY_NIGHT) == MSK_VM
    assert incoming(cfg, SUNDAY_NOON) == MSK_VM


def test_example_3_unconditional_rule_first_shadows_the_rest() -> None:
    cfg = domain(Rule(2, GROUP, Condition(schedule=WEEKDAYS_10_19)), Rule(1, GROUP_VM))
    assert incoming(cfg, MONDAY_NOON) == MSK_VM


def test_example_4_regional_split_by_prefix_and_default_busy() -> None:
    cfg = domain(
        Rule(1, GROUP, Condition(prefixes=("495", "499"))),
        Rule(2, SPB, Condition(prefixes=("812",))),
    )
    assert incoming(cfg, MONDAY_NOON, MSK_CALLER) == MSK_RINGS
    assert incoming(cfg, MONDAY_NOON, SPB_CALLER) == ["sip:vera@demo.pult"]
    assert incoming(cfg, MONDAY_NOON, EKB_CALLER) == ["refused 486"]


def test_example_5_prefix_and_schedule_together() -> None:
    off_hours = {"working": [[d, "10:00", "19:00"] for d in range(5)]}
    cfg = domain(
        Rule(1, GROUP, Condition(schedule=WEEKDAYS_10_19, prefixes=("495", "499"))),
        Rule(
            2, GROUP_VM, Condition(schedule=off_hours, when="non_working", prefixes=("495", "499"))
        ),
        Rule(3, SPB, Condition(schedule=WEEKDAYS_10_19, prefixes=("812",))),
        Rule(4, SPB_VM, Condition(schedule=off_hours, when="non_working", prefixes=("812",))),
    )
    assert incoming(cfg, MONDAY_NOON, MSK_CALLER) == MSK_RINGS
    assert incoming(cfg, MONDAY_NIGHT, MSK_CALLER) == MSK_VM
    assert incoming(cfg, SUNDAY_NOON, SPB_CALLER) == ["sip:group-voicemail-11@media.demo.pult"]
    assert incoming(cfg, MONDAY_NOON, SPB_CALLER) == ["sip:vera@demo.pult"]


def test_no_rules_means_busy_and_the_trace_says_why() -> None:
    d = route(Call(MSK_CALLER, DID, "trunk"), domain(), MONDAY_NOON)
    assert d.refused is not None and d.refused.sip_code == 486
    assert any("правило по умолчанию" in ru for ru, _ in d.trace)


def test_inactive_rule_is_ignored() -> None:
    cfg = domain(Rule(1, GROUP_VM, active=False), Rule(2, GROUP))
    assert incoming(cfg, MONDAY_NOON) == MSK_RINGS


def test_black_list_blocks_listed_caller_only() -> None:
    number = NumberCfg(
        DID, rules=(Rule(1, GROUP),), list_mode=ListMode.BLACK, listed=frozenset({SPB_CALLER})
    )
    cfg = domain(numbers=(number,))
    assert incoming(cfg, MONDAY_NOON, SPB_CALLER) == ["refused 486"]
    assert incoming(cfg, MONDAY_NOON, MSK_CALLER) == MSK_RINGS


def test_white_list_lets_only_listed_callers_and_empty_list_blocks_all() -> None:
    number = NumberCfg(
        DID, rules=(Rule(1, GROUP),), list_mode=ListMode.WHITE, listed=frozenset({SPB_CALLER})
    )
    assert incoming(domain(numbers=(number,)), MONDAY_NOON, SPB_CALLER) == MSK_RINGS
    assert incoming(domain(numbers=(number,)), MONDAY_NOON, MSK_CALLER) == ["refused 486"]
    empty = NumberCfg(DID, rules=(Rule(1, GROUP),), list_mode=ListMode.WHITE)
    assert incoming(domain(numbers=(empty,)), MONDAY_NOON, SPB_CALLER) == ["refused 486"]


# --- user forwarding scheme (spec 01 §9.6) ------------------------------------------------

MOBILE = "+79161234567"


def call_user(user: UserCfg, at: datetime = MONDAY_NOON) -> list[list[tuple[str, int]]]:
    cfg = domain(users=(user, GLEB))
    d = route(Call(caller="104", called=user.extension), cfg, at)
    assert d.refused is None
    return [[(b.label, b.ring_seconds) for b in s.branches] for s in d.stages]


def test_initial_scheme_rings_sip_40_seconds_then_ends() -> None:
    d = route(Call("104", "101"), domain(), MONDAY_NOON)
    assert [[(b.uri, b.ring_seconds) for b in s.branches] for s in d.stages] == [
        [("sip:anna@demo.pult", 40)]
    ]
    assert d.on_no_answer.sip_code == 480


def test_e1_sequential_sip_then_mobile() -> None:
    user = replace_fwd(ForwardRule(priority=10, sip=True), ForwardRule(priority=20, number=MOBILE))
    assert call_user(user) == [[("101", 40)], [(MOBILE, 40)]]


def test_e2_equal_priority_rings_together() -> None:
    user = replace_fwd(ForwardRule(priority=10, sip=True), ForwardRule(priority=10, number=MOBILE))
    assert call_user(user) == [[("101", 40), (MOBILE, 40)]]


def test_e3_scheduled_mobile_first_within_schedule_only() -> None:
    user = replace_fwd(
        ForwardRule(priority=10, sip=True),
        ForwardRule(priority=5, number=MOBILE, schedule=MOBILE_SCHEDULE),
    )
    assert call_user(user, MONDAY_NOON) == [[(MOBILE, 40)], [("101", 40)]]
    assert call_user(user, SUNDAY_NOON) == [[("101", 40)]]


def test_e4_sip_first_then_scheduled_mobile() -> None:
    user = replace_fwd(
        ForwardRule(priority=4, sip=True),
        ForwardRule(priority=5, number=MOBILE, schedule=MOBILE_SCHEDULE),
    )
    assert call_user(user, MONDAY_NOON) == [[("101", 40)], [(MOBILE, 40)]]
    assert call_user(user, MONDAY_NIGHT) == [[("101", 40)]]


def test_e5_equal_priority_within_schedule_rings_both_our_reading() -> None:
    user = replace_fwd(
        ForwardRule(priority=4, sip=True),
        ForwardRule(priority=4, number=MOBILE, schedule=MOBILE_SCHEDULE),
    )
    assert call_user(user, MONDAY_NOON) == [[("101", 40), (MOBILE, 40)]]
    assert call_user(user, SUNDAY_NOON) == [[("101", 40)]]


def test_busy_stops_the_cascade_to_voicemail_when_on() -> None:
    user = replace_fwd(ForwardRule(priority=10, sip=True), ForwardRule(priority=20, number=MOBILE))
    cfg = domain(users=(UserCfg(**{**user.__dict__, "voicemail": True}), GLEB))
    d = route(Call("104", "101"), cfg, MONDAY_NOON)
    assert all(s.busy_stops for s in d.stages)
    assert d.on_busy.uri == "sip:voicemail-1@media.demo.pult"
    assert d.on_no_answer.uri == "sip:voicemail-1@media.demo.pult"


def test_disabled_contact_is_skipped() -> None:
    user = replace_fwd(
        ForwardRule(priority=10, sip=True), ForwardRule(priority=5, number=MOBILE, enabled=False)
    )
    assert call_user(user) == [[("101", 40)]]


def test_forwarding_to_external_obeys_the_users_restriction() -> None:
    intl = "+442071234567"
    user = replace_fwd(ForwardRule(priority=10, sip=True), ForwardRule(priority=20, number=intl))
    user = UserCfg(**{**user.__dict__, "restriction": Restriction.NO_INTERNATIONAL})
    assert call_user(user) == [[("101", 40)]]


def replace_fwd(*rules: ForwardRule) -> UserCfg:
    return UserCfg(id=1, login="anna", extension="101", forwarding=rules)


# --- group ring modes (seed 003) -----------------------------------------------------------

FIVE = tuple(UserCfg(id=50 + i, login=f"u{i}", extension=str(200 + i)) for i in range(1, 6))


def group_decision(
    algorithm: Algorithm, step: int = 10, total: int = 60, members: tuple[Member, ...] | None = None
):  # type: ignore[no-untyped-def]
    group = GroupCfg(
        id=20,
        name="Отдел",
        extension="500",
        algorithm=algorithm,
        members=members or tuple(Member(u.id, u.id) for u in FIVE),
        step_seconds=step,
        total_wait_seconds=total,
    )
    cfg = DomainCfg(id=1, name="demo.pult", users=(*FIVE, GLEB), groups=(group,))
    return route(Call("104", "500"), cfg, MONDAY_NOON)


def test_ring_all_rings_every_member_for_the_total_wait() -> None:
    d = group_decision(Algorithm.RING_ALL, total=45)
    assert len(d.stages) == 1 and d.stages[0].timeout_seconds == 45
    assert [b.uri for b in d.stages[0].branches] == [f"sip:u{i}@demo.pult" for i in range(1, 6)]


def test_one_after_another_steps_and_wraps_until_total_wait() -> None:
    d = group_decision(Algorithm.SERIAL, step=10, total=60)
    assert [(s.branches[0].label, s.timeout_seconds) for s in d.stages] == [
        ("201", 10),
        ("202", 10),
        ("203", 10),
        ("204", 10),
        ("205", 10),
        ("201", 10),
    ]


def test_add_the_next_adds_a_member_every_step() -> None:
    d = group_decision(Algorithm.ADD_NEXT, step=15, total=40)
    assert [(b.label, b.delay_seconds, b.ring_seconds) for b in d.stages[0].branches] == [
        ("201", 0, 40),
        ("202", 15, 25),
        ("203", 30, 10),
    ]


def test_acd_group_with_members_but_no_operators_ends_the_call() -> None:
    d = group_decision(Algorithm.LONGEST_IDLE)
    assert d.refused is not None and d.refused.sip_code == 480
    assert "оператор" in d.trace[-1][0]


def test_acd_group_with_operators_queues_the_call() -> None:
    d = route(
        Call("104", "556"),
        domain(
            groups=(
                GroupCfg(
                    id=30,
                    name="ACD",
                    extension="556",
                    algorithm=Algorithm.RANDOM,
                    members=(Member(2), Member(3)),
                ),
            )
        ),
        MONDAY_NOON,
    )
    assert d.queue_group_id == 30 and d.refused is None


def test_group_without_algorithm_goes_to_voicemail_or_ends() -> None:
    with_vm = GroupCfg(id=40, name="A", extension="600", members=(Member(1),), voicemail=True)
    d = route(Call("104", "600"), domain(groups=(with_vm,)), MONDAY_NOON)
    assert d.on_no_answer.uri == "sip:group-voicemail-40@media.demo.pult" and not d.stages
    without = GroupCfg(id=41, name="B", extension="601", members=(Member(1),))
    assert route(Call("104", "601"), domain(groups=(without,)), MONDAY_NOON).refused is not None


# --- outgoing ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("restriction", "number", "allowed"),
    [
        (Restriction.NONE, "+442071234567", True),
        (Restriction.NO_INTERNATIONAL, "+442071234567", False),
        (Restriction.NO_INTERNATIONAL, "+78121234567", True),
        (Restriction.NO_INTERNATIONAL_LONG_DISTANCE, "+78121234567", False),
        (Restriction.NO_INTERNATIONAL_LONG_DISTANCE, "+74957654321", True),
        (Restriction.NO_INTERNATIONAL_LONG_DISTANCE, "+79161234567", True),
        (Restriction.INTERNAL_ONLY, "+74957654321", False),
        (Restriction.INTERNAL_ONLY, "102", True),
    ],
)
def test_outgoing_restrictions(restriction: Restriction, number: str, allowed: bool) -> None:
    anna = UserCfg(id=1, login="anna", extension="101", restriction=restriction)
    d = route(Call("101", number), domain(users=(anna, BORIS)), MONDAY_NOON)
    assert (d.refused is None) is allowed
    if not allowed:
        assert d.refused is not None and d.refused.sip_code == 403
        assert "ограничение" in d.trace[-1][0]


def test_user_restriction_inherits_the_domain_default() -> None:
    cfg = domain(default_restriction=Restriction.NO_INTERNATIONAL)
    assert route(Call("101", "+442071234567"), cfg, MONDAY_NOON).refused is not None


def test_caller_id_is_own_number_else_domain_default_and_never_8800() -> None:
    own = UserCfg(id=1, login="anna", extension="101", outgoing_number="+74950000001")
    d = route(Call("101", "+74957654321"), domain(users=(own,)), MONDAY_NOON)
    assert d.caller_id == "+74950000001" and d.paid and d.direction == "local"
    d = route(Call("101", "+74957654321"), domain(), MONDAY_NOON)
    assert d.caller_id == DID
    tollfree = UserCfg(id=1, login="anna", extension="101", outgoing_number="+78002000600")
    d = route(Call("101", "+74957654321"), domain(users=(tollfree,)), MONDAY_NOON)
    assert d.caller_id == DID


def test_speed_dial_personal_before_company() -> None:
    cfg = domain(
        personal_speed_dials={1: {"15": "102"}},
        company_speed_dials={"15": "103", "16": "+74957654321"},
    )
    assert [b.uri for b in route(Call("101", "*15"), cfg, MONDAY_NOON).stages[0].branches] == [
        "sip:boris@demo.pult"
    ]
    assert [b.uri for b in route(Call("102", "*15"), cfg, MONDAY_NOON).stages[0].branches] == [
        "sip:vera@demo.pult"
    ]
    assert route(Call("101", "*16"), cfg, MONDAY_NOON).direction == "local"
    assert route(Call("101", "*99"), cfg, MONDAY_NOON).refused is not None


def test_inter_domain_dialling_is_free() -> None:
    cfg = domain(pool_routing={"4456": "beta.pult"})
    d = route(Call("101", "4456101"), cfg, MONDAY_NOON)
    assert d.direction == "inter_domain" and not d.paid
    assert d.stages[0].branches[0].kind == BranchKind.INTER_DOMAIN
    assert d.stages[0].branches[0].uri == "sip:101@beta.pult"


def test_unknown_extension_is_404() -> None:
    assert route(Call("101", "999"), domain(), MONDAY_NOON).refused.sip_code == 404  # type: ignore[union-attr]


def test_billing_hook_refuses_paid_calls_with_its_reason() -> None:
    def no_money(cfg: DomainCfg, direction: object, number: str) -> tuple[str, str]:
        return ("недостаточно средств", "insufficient funds")

    d = route(Call("101", "+74957654321"), domain(), MONDAY_NOON, authorize=no_money)
    assert (
        d.refused is not None
        and d.refused.sip_code == 403
        and d.refused.reason == "insufficient funds"
    )
    # Internal calls never ask billing.
    assert route(Call("101", "102"), domain(), MONDAY_NOON, authorize=no_money).refused is None


def test_blocked_domain_keeps_internal_calls_but_refuses_paid_ones() -> None:
    cfg = domain(blocked_reason="финансовая блокировка")
    assert route(Call("101", "102"), cfg, MONDAY_NOON).refused is None
    assert route(Call("101", "+74957654321"), cfg, MONDAY_NOON).refused is not None


def test_pickup_code_needs_a_pickup_group() -> None:
    member = UserCfg(id=1, login="anna", extension="101", pickup_group=7)
    d = route(Call("101", "*8"), domain(users=(member, BORIS)), MONDAY_NOON)
    assert d.on_no_answer.uri == "pickup:7"
    assert route(Call("102", "*8"), domain(users=(member, BORIS)), MONDAY_NOON).refused is not None
