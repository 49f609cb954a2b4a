"""Issue 7, end to end: a new empty domain is configured ONLY through the admin panel, then a
call from the carrier through Kamailio reaches the group the panel set up.

The provider opens the customer account (the domain and its first admin, straight in the
database: that is the provider's act, not the customer's). Everything after that is what the
customer's admin does in the desktop panel, signed in over real HTTP to the real server:
two users with SIP passwords, a ring-all group with both, a 24/7 schedule, the number with
that schedule and a rule «in working time → the group». Two pjsua2 phones register as those
users; the carrier's gateway calls the number; both phones ring, one answers and hears the
carrier's 440 Hz tone; the call history names the group and the one who answered.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from desktop.admin.sections.cdrs import CallHistorySection
from desktop.admin.sections.common import WEEKDAYS
from desktop.admin.workspace import AdminWorkspace
from desktop.api.client import PultClient
from server_stub.sip.edge import kamailio_binary
from server_stub.store import provision
from server_stub.store.models import DomainPool
from tests.integration.sip.conftest import HAVE_PJSUA, Pbx, free_port, make_pbx
from tests.sip import fixtures
from tests.sip.agents import Agent, record_together
from tests.sip.audio import has_tone
from tests.sip.fixtures import AgentFactory
from tests.ui.admin.conftest import fresh, settle
from tests.ui.admin.e2e_steps import (
    Member,
    add_member,
    create_group,
    create_number_with_rule,
    create_schedule,
    create_user,
)

agent_factory = fixtures.agent_factory  # the SIP tests' fixture, used here too

DOMAIN = "gamma.test"
ADMIN_PASSWORD = "Gamma-admin-1"
DID = "+74951112233"
MEMBERS = (
    Member("anna", "Anna Lebedeva", "Web-pass-anna1", "Sip-pass-anna1"),
    Member("boris", "Boris Orlov", "Web-pass-boris1", "Sip-pass-boris1"),
)
WHOLE_WEEK = "\n".join(f"Рабочее время: {day} 00:00-24:00" for day in WEEKDAYS)


@pytest.fixture
def carrier(tmp_path: Path) -> Iterator[Agent]:
    """The carrier's gateway: the endpoint that brings calls from the telephone network."""
    if kamailio_binary() is None or not HAVE_PJSUA:
        pytest.skip("needs kamailio (scripts/common.sh installs it) and pjsua2")
    with Agent("carrier", port=free_port(), workdir=tmp_path / "carrier") as agent:
        yield agent


@pytest.fixture
def trunk_pbx(tmp_path: Path, carrier: Agent) -> Iterator[Pbx]:
    (tmp_path / "pbx").mkdir()
    yield from make_pbx(tmp_path / "pbx", trunk=f"127.0.0.1:{carrier.port}")


def open_customer_account(pbx: Pbx) -> None:
    """The provider's part: an empty domain in the pool and its first admin, nothing else."""
    with pbx.session() as s:
        pool = s.get(DomainPool, pbx.world.a.domain.pool_id)
        domain = provision.create_domain(
            s, DOMAIN, display_name="Гамма", pool=pool, balance_kopecks=1_000_000
        )
        provision.create_user(s, domain, "admin", ADMIN_PASSWORD, "Админ Гамма", is_admin=True)
        s.commit()


@pytest.fixture
def gamma_admin(trunk_pbx: Pbx, loop: asyncio.AbstractEventLoop) -> Iterator[PultClient]:
    open_customer_account(trunk_pbx)
    client = PultClient(trunk_pbx.server.url)
    loop.run_until_complete(client.login(f"admin@{DOMAIN}", ADMIN_PASSWORD))
    yield client
    loop.run_until_complete(client.aclose())


def wait_cdr(
    loop: asyncio.AbstractEventLoop, api: PultClient, timeout: float = 10.0
) -> dict[str, Any]:
    """The finished call to the number, as the domain's own call history shows it."""
    deadline = time.monotonic() + timeout
    seen: list[dict[str, Any]] = []
    while time.monotonic() < deadline:
        seen = fresh(loop, api, "/api/cdrs", lang="en")["items"]
        done = [c for c in seen if c["called"] == DID and c["ended_at"] is not None]
        if done:
            return done[0]
        time.sleep(0.2)
    raise AssertionError(f"no finished call to {DID} in {timeout} s; have {seen}")


def test_a_domain_configured_only_in_the_admin_panel_takes_a_call_from_the_carrier(
    trunk_pbx: Pbx,
    carrier: Agent,
    gamma_admin: PultClient,
    agent_factory: AgentFactory,
    loop: asyncio.AbstractEventLoop,
    qtbot: Any,
    tmp_path: Path,
) -> None:
    api = gamma_admin
    # The domain really starts empty: only the admin the provider made.
    assert [u["login"] for u in fresh(loop, api, "/api/users")["items"]] == ["admin"]
    assert fresh(loop, api, "/api/numbers")["total"] == 0

    workspace = AdminWorkspace(api)
    qtbot.addWidget(workspace)
    workspace.resize(1200, 800)
    workspace.show()
    settle(loop)

    users = [create_user(workspace, loop, m) for m in MEMBERS]
    group = create_group(workspace, loop, "Приём звонков")
    for user in users:
        add_member(workspace, loop, user)
    schedule = create_schedule(workspace, loop, "Круглосуточно", WHOLE_WEEK)
    number = create_number_with_rule(workspace, loop, DID, schedule, group)

    # What the panel stored, read back as any client would.
    stored_group = fresh(loop, api, f"/api/groups/{group['id']}")
    assert stored_group["algorithm"] == "ring_all"
    assert sorted(m["user_id"] for m in stored_group["members"]) == sorted(u["id"] for u in users)
    stored_schedule = fresh(loop, api, f"/api/schedules/{schedule['id']}")
    assert stored_schedule["intervals"]["working"] == [[day, "00:00", "24:00"] for day in range(7)]
    assert fresh(loop, api, f"/api/numbers/{number['id']}")["schedule_id"] == schedule["id"]
    rules = fresh(loop, api, "/api/routing-rules", number_id=number["id"])["items"]
    assert [
        (r["target"], r["target_ref"], r["schedule_id"], r["schedule_when"]) for r in rules
    ] == [("group", group["id"], schedule["id"], "working")]

    # The phones sign in with the SIP passwords typed into the panel.
    phones = []
    for member, user in zip(MEMBERS, users, strict=True):
        phone = agent_factory(member.login)
        state = phone.register(
            trunk_pbx.registrar, user["login"], DOMAIN, password=member.sip_password
        )
        assert state["code"] == 200, state
        phones.append(phone)

    call = carrier.call(f"sip:{DID}@127.0.0.1:{trunk_pbx.edge.cfg.port}", account="local")
    ringing = [phone.wait_incoming(timeout=15) for phone in phones]  # ring all: both ring
    answerer, answered_leg = phones[1], ringing[1]
    answerer.answer(answered_leg)
    carrier.wait_state(call, "CONFIRMED")
    phones[0].wait_state(ringing[0], "DISCONNECTED")  # the other phone stops ringing
    carrier.wait_media(call)
    answerer.wait_media(answered_leg)
    carrier.play_tone(call, 440)
    (heard,) = record_together([(answerer, answered_leg, tmp_path / "boris-hears.wav")], 2.0)
    assert has_tone(heard, 440)
    carrier.hangup(call)
    answerer.wait_state(answered_leg, "DISCONNECTED")

    cdr = wait_cdr(loop, api)
    assert cdr["result"] == "answered" and cdr["direction"] == "incoming"
    assert cdr["group_id"] == group["id"] and cdr["duration_seconds"] >= 2
    assert cdr["answered_by"] == f"sip:{MEMBERS[1].login}@{DOMAIN}"

    # The admin sees it in the panel's call history: the route went through the rule and group.
    history = workspace.open("cdrs")
    assert isinstance(history, CallHistorySection)
    settle(loop)
    history.number.setText(DID)
    history.apply_filters()
    settle(loop)
    assert history.model.total == 1
    history.table.selectRow(0)
    route = history.trace.toPlainText()
    assert group["name"] in route and "Рабочее время → группа" in route, route
