"""What the matrices know about each endpoint: who may call it, how, and what it records.

One row per ``METHOD /path``. A new endpoint without a row fails every matrix (see
``rule_for``): whoever adds an endpoint says here which roles may call it, gives a valid request
body, and either expects an audit row or writes down why the endpoint changes nothing stored.

Roles are the callers of ``world.MatrixWorld.role_headers``; ``pool_in_domain`` is a pool
supervisor who opened the domain ("open as admin"), which acts as the domain's admin but is no
longer a pool-level session. Two callers are machines, not people: ``edge`` (the SIP edge,
header ``X-Pult-Edge-Token``) and ``system`` (the provider's bank notifications and scheduler,
header ``X-Pult-System-Token``); each carries only its secret, never a person's token.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from server_stub.api.security import token_digest
from server_stub.importing.campaign_clients import CLIENT_COLUMNS
from server_stub.importing.contacts import CONTACT_COLUMNS
from server_stub.importing.users import USER_COLUMNS
from server_stub.store import billing_ops
from server_stub.store.models import Domain, GroupMember, PasswordReset, PaymentScheme
from server_stub.store.models_calls import Cdr
from server_stub.store.models_campaigns import CampaignClient
from server_stub.store.models_spy import SpySession
from tests.factories import PASSWORD
from tests.integration.matrix.discovery import Endpoint
from tests.integration.matrix.world import (
    EDGE_HEADER,
    EDGE_TOKEN,
    MatrixWorld,
    Side,
    landline,
    mac,
    mobile,
)

ANON = "anonymous"
USER = "user"
OPERATOR = "operator"
SUPERVISOR = "supervisor"
ADMIN = "domain_admin"
POOL_SUP = "pool_supervisor"
POOL_SUB = "pool_subgroup_admin"
POOL_IN_DOMAIN = "pool_in_domain"
EDGE = "edge"  # the SIP edge: its shared secret, no person's token
SYSTEM = "system"  # the provider's systems: the system secret, no person's token
ALL_ROLES = (
    ANON,
    USER,
    OPERATOR,
    SUPERVISOR,
    ADMIN,
    POOL_SUP,
    POOL_SUB,
    POOL_IN_DOMAIN,
    EDGE,
    SYSTEM,
)
MACHINES = frozenset({EDGE, SYSTEM})
# Who acts in the audit test: the strongest role that may call the endpoint (a person before
# a machine: a person's change is the one that must be in the history).
ACTOR_PREFERENCE = (
    ADMIN,
    SUPERVISOR,
    OPERATOR,
    USER,
    POOL_SUP,
    POOL_SUB,
    POOL_IN_DOMAIN,
    SYSTEM,
    EDGE,
    ANON,
)

PUBLIC = frozenset(ALL_ROLES)
SIGNED_IN = PUBLIC - {ANON} - MACHINES  # a person's token, whoever it is
DOMAIN_ANYONE = frozenset({USER, OPERATOR, SUPERVISOR, ADMIN, POOL_IN_DOMAIN})
DOMAIN_PEOPLE = DOMAIN_ANYONE - {POOL_IN_DOMAIN}  # a pool admin has no personal book
DOMAIN_SUPERVISORS = frozenset({SUPERVISOR, ADMIN, POOL_IN_DOMAIN})
DOMAIN_ADMINS = frozenset({ADMIN, POOL_IN_DOMAIN})
POOL_ANY = frozenset({POOL_SUP, POOL_SUB})  # pool-level sessions only (not "opened a domain")
POOL_SUPERVISOR_ONLY = frozenset({POOL_SUP})
OPERATORS = frozenset({OPERATOR})  # a contact-centre operator's own workstation
EDGE_ONLY = frozenset({EDGE})
SYSTEM_ONLY = frozenset({SYSTEM})
# Billing's provider: whoever receives money for the provider (a pool admin, in a domain or
# not, or the system secret); the body names the domain.
PROVIDER = POOL_ANY | {POOL_IN_DOMAIN, SYSTEM}

# Scopes: whose data an endpoint serves, hence who attacks it in test_isolation.
DOMAIN = "domain"  # the caller's domain: attacked by another domain's admin
PERSONAL = "personal"  # the caller's own book: also attacked by a colleague of the same domain
POOL = "pool"  # the caller's pool: attacked by another pool's supervisor
PUBLIC_SCOPE = "public"  # no tenant data (health, schema, sign-in)
# Every tenant at once, for a machine caller that names the domain in the body (the SIP edge,
# the scheduler): attacked by every person's session, which must be refused and change nothing.
MACHINE = "machine"


@dataclass
class BodyCtx:
    """What a body builder may use: the side whose objects the body names, and the app."""

    side: Side
    world: MatrixWorld
    db: Session
    client: TestClient
    n: int  # unique per call: names, numbers


@dataclass(frozen=True)
class Upload:
    """A multipart body (file upload) instead of JSON."""

    files: dict[str, tuple[str, bytes, str]]


Body = Any  # a JSON value or an Upload
Builder = Callable[[BodyCtx], Body]


@dataclass(frozen=True)
class Rule:
    roles: frozenset[str]
    scope: str
    body: Builder | None = None
    # None: a successful call must write an audit row naming the caller. Text: why not.
    audit_exempt: str | None = None
    audit_action: str | None = None  # when the row must have this action
    ok: frozenset[int] = frozenset({200, 201, 202, 204})
    actor: str | None = None  # who acts in the audit test (default: ACTOR_PREFERENCE)
    # Naming another domain's objects in the body must be refused (4xx). False where such a
    # body is legitimate (simulating a call to another company's number).
    cross_refs_refused: bool = True
    # Sets up what a valid call needs (money on the account, a service to switch off) in the
    # database, before the request and before any snapshot, for every caller; no audit row.
    prepare: Callable[[BodyCtx], None] | None = None
    query: str = ""  # a query string every call carries (e.g. a confirmation)
    # What an id no object has gives (test_id_range).
    unknown_id: frozenset[int] = frozenset({404, 422})


def rule(
    roles: frozenset[str],
    scope: str,
    body: Builder | None = None,
    *,
    exempt: str | None = None,
    action: str | None = None,
    actor: str | None = None,
    cross_refs_refused: bool = True,
    prepare: Callable[[BodyCtx], None] | None = None,
    query: str = "",
    unknown_id: frozenset[int] = frozenset({404, 422}),
) -> Rule:
    return Rule(
        roles,
        scope,
        body,
        exempt,
        action,
        actor=actor,
        cross_refs_refused=cross_refs_refused,
        prepare=prepare,
        query=query,
        unknown_id=unknown_id,
    )


# --- path parameters ------------------------------------------------------------------------

# The path up to an integer parameter (parameters written "{}") -> the Side attribute it names.
PARAM_KINDS = {
    "/api/users/{}": "employee",
    "/api/groups/{}": "group",
    "/api/groups/{}/members/{}": "member",
    "/api/pickup-groups/{}": "pickup",
    "/api/numbers/{}": "number",
    "/api/schedules/{}": "schedule",
    "/api/vip-numbers/{}": "vip",
    "/api/contact-groups/{}": "contact_group",
    "/api/contacts/{}": "contact",
    "/api/me/contact-groups/{}": "personal_group",
    "/api/me/contacts/{}": "personal_contact",
    "/api/devices/{}": "device",
    "/api/routing-rules/{}": "rule",
    "/api/number-filters/{}": "number_filter",
    "/api/forwarding-contacts/{}": "forwarding",
    "/api/pool/subgroups/{}": "subgroup",
    "/api/pool/domains/{}": "domain",
    "/api/pool/admins/{}": "pool_admin",
    "/api/break-reasons/{}": "break_reason",
    "/api/operator-messages/{}": "message",
    "/api/operator/messages/{}": "message",
    "/api/campaigns/{}": "campaign",
    "/api/campaigns/{}/statuses/{}": "campaign_status",
}
# Path parameters that are not object ids (a service code, a call id): the value for a side.
PARAM_TEXT: dict[str, Callable[[Side], str]] = {
    "/api/billing/services/{}": lambda side: "recording",
    # Live ACD objects: set up by the row's ``prepare`` (``_offered``), which runs first.
    "/api/operator/offers/{}": lambda side: LIVE.get((side.label, "offer"), "0"),
    "/api/acd/calls/{}": lambda side: LIVE.get((side.label, "call"), "none"),
    "/api/acd/edge/offers/{}": lambda side: LIVE.get((side.label, "offer"), "0"),
    "/api/operator/campaign/attempts/{}": lambda side: LIVE.get((side.label, "attempt"), "0"),
    "/api/acd/spy/{}": lambda side: LIVE.get((side.label, "spy"), "0"),
}
# What the ACD preparations set up, by (side label, kind): an offer id, its call id.
LIVE: dict[tuple[str, str], str] = {}


def param_prefixes(path: str) -> list[tuple[str, str]]:
    """[(parameter name, normalised path up to it)] for every ``{param}`` of ``path``."""
    out: list[tuple[str, str]] = []
    normalised = ""
    for part in path.split("/")[1:]:
        if part.startswith("{") and part.endswith("}"):
            normalised += "/{}"
            out.append((part[1:-1].split(":")[0], normalised))
        else:
            normalised += "/" + part
    return out


def url_for(endpoint: Endpoint, side: Side) -> str:
    """The endpoint's URL with every parameter naming ``side``'s object of that kind (and
    the row's query string, if any)."""
    url = endpoint.path
    for name, prefix in param_prefixes(endpoint.path):
        if prefix in PARAM_TEXT:
            url = url.replace("{" + name + "}", PARAM_TEXT[prefix](side), 1)
            continue
        kind = PARAM_KINDS.get(prefix)
        assert kind is not None, (
            f"{endpoint}: add the kind of object '{{{name}}}' names to PARAM_KINDS "
            f"(or its value to PARAM_TEXT; key {prefix!r}) in tests/integration/matrix/table.py"
        )
        url = url.replace("{" + name + "}", str(getattr(side, kind).id), 1)
    found = RULES.get(endpoint.key)
    if found is not None and found.query:
        url += "?" + found.query
    return url


def refusal_status(role: str, found: Rule) -> int:
    """What a caller the row does not allow gets.

    The SIP edge's secret check answers 403 ``edge_only`` to every caller without the secret,
    anonymous ones included (sip_auth: the edge is told apart by its header, not by a
    session). Elsewhere a caller without a person's token is unauthenticated (401) and a
    signed-in person without the role is forbidden (403).
    """
    if found.roles == EDGE_ONLY:
        return 403
    if role in (ANON, *MACHINES):
        return 401
    return 403


# --- bodies -----------------------------------------------------------------------------------


def _refresh_token(c: BodyCtx) -> str:
    r = c.client.post("/api/auth/login", json={"login": c.side.full_login(), "password": PASSWORD})
    assert r.status_code == 200, f"login for a refresh token failed: {r.status_code} {r.text}"
    return str(r.json()["refresh_token"])


def _reset_token(c: BodyCtx) -> str:
    raw = f"matrix-reset-{c.n}-{c.side.admin.id}"
    from datetime import UTC, datetime, timedelta

    c.db.add(
        PasswordReset(
            user_id=c.side.admin.id,
            token_hash=token_digest(raw),
            expires_at=datetime.now(UTC) + timedelta(hours=1),
        )
    )
    c.db.commit()
    return raw


def _csv(titles: list[str], row: list[str]) -> bytes:
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, delimiter=";", lineterminator="\r\n")
    writer.writerow(titles)
    writer.writerow(row)
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")


def _user_file(c: BodyCtx) -> Upload:
    values = {
        "login": f"imp{c.n}",
        "password": PASSWORD,
        "display_name": f"Импорт {c.n}",
        "email": f"imp{c.n}@example.com",
        # A group name, not a reference: the import creates the groups a file names.
        "groups": f"Импорт-группа {c.n}",
    }
    row = [values.get(col.key, "") for col in USER_COLUMNS]
    data = _csv([col.title for col in USER_COLUMNS], row)
    return Upload({"file": ("users.csv", data, "text/csv")})


def _contact_file(c: BodyCtx) -> Upload:
    values = {"name": f"Импорт-контакт {c.n}", "work_phone": landline(c.n)}
    row = [values.get(col.key, "") for col in CONTACT_COLUMNS]
    data = _csv([col.title for col in CONTACT_COLUMNS], row)
    return Upload({"file": ("contacts.csv", data, "text/csv")})


def _contact(c: BodyCtx, group_id: int) -> dict[str, Any]:
    return {
        "name": f"Контакт {c.n}",
        "group_id": group_id,
        "phones": [{"kind": "work", "number": landline(c.n)}],
    }


NEW_PASSWORD = "Changed-pass9"

# --- billing preconditions ------------------------------------------------------------------

SERVICE = "recording"  # a manual service with a per-user count (PARAM_TEXT names it too)


def _iso(moment: datetime) -> str:
    return moment.isoformat()


def _funded(scheme: PaymentScheme) -> Callable[[BodyCtx], None]:
    """Money on the side's account and the payment scheme a call needs.

    Domain A's sides share one account, and one valid call needs the advance scheme (a
    promised payment) while another needs credit (a credit limit), so each row sets what it
    needs. The top-up also closes any earlier promised payment and lifts a financial block.
    Done in the database: the call under test stays the only audited change.
    """

    def prepare(c: BodyCtx) -> None:
        domain = c.db.get(Domain, c.side.domain.id)
        assert domain is not None
        domain.payment_scheme = scheme
        billing_ops.top_up(c.db, domain.id, 1_000_000, datetime.now(UTC), source="correction")
        c.db.commit()

    return prepare


def _service_on(c: BodyCtx) -> None:
    """The service the DELETE switches off is on (and paid for)."""
    _funded(PaymentScheme.ADVANCE)(c)
    billing_ops.set_service(c.db, c.side.domain.id, SERVICE, 1, datetime.now(UTC))
    c.db.commit()


def _paid_call(c: BodyCtx) -> dict[str, Any]:
    return {
        "domain_id": c.side.domain.id,
        "call_id": f"matrix-rate-{c.side.label}-{c.n}",
        "direction": "mobile",
        "number": mobile(c.n),
        "answered_at": _iso(datetime.now(UTC) - timedelta(minutes=5)),
    }


# --- the operator workstation: live ACD state ---------------------------------------------

EDGE_HEADERS = {EDGE_HEADER: EDGE_TOKEN}


def _me(c: BodyCtx) -> dict[str, Any]:
    r = c.client.get("/api/operator/me", headers=c.world.role_headers(OPERATOR, c.side))
    assert r.status_code == 200, f"operator/me: {r.status_code} {r.text}"
    me: dict[str, Any] = r.json()
    return me


def _acd(c: BodyCtx, method: str, url: str, who: str, body: Any = None) -> None:
    headers = EDGE_HEADERS if who == EDGE else c.world.role_headers(who, c.side)
    r = c.client.request(method, url, json=body, headers=headers)
    assert r.status_code == 200, f"ACD set-up {method} {url}: {r.status_code} {r.text[:300]}"


def _offered(c: BodyCtx) -> None:
    """A call rings the side's operator: they are in the side's ACD group and ready, and the
    edge queued a call. Whatever the operator was doing before (a call, post-call work) is
    finished first, so every caller of the matrix finds the same state."""
    if c.db.get(GroupMember, (c.side.group.id, c.side.operator.id)) is None:
        c.db.add(GroupMember(group_id=c.side.group.id, user_id=c.side.operator.id))
        c.db.commit()
    for _ in range(3):
        me = _me(c)
        if me["offer"] is not None:
            break
        if me["state"] == "campaign":  # an outbound campaign (routes/campaigns.py) takes no calls
            _acd(c, "POST", "/api/operator/campaign/stop", OPERATOR)
        if me["post_call_remaining_seconds"] is not None:  # (names the call just ended)
            _acd(c, "POST", "/api/operator/post-call/finish", OPERATOR)
        elif me["call_id"]:
            _acd(c, "POST", f"/api/acd/calls/{me['call_id']}/ended", EDGE)
        _acd(c, "PUT", "/api/operator/status", OPERATOR, {"status": "ready"})
        if _me(c)["offer"] is None:
            call = {
                "domain": c.side.domain.name,
                "group_id": c.side.group.id,
                "call_id": f"matrix-acd-{c.side.label}-{c.n}",
                "caller": mobile(c.n),
            }
            _acd(c, "POST", "/api/acd/calls", EDGE, call)
    offer = _me(c)["offer"]
    assert offer is not None, f"no offer reached {c.side.full_login('operator')}"
    LIVE[(c.side.label, "offer")] = str(offer["id"])
    LIVE[(c.side.label, "call")] = str(offer["call_id"])


def _after_call(c: BodyCtx) -> None:
    """The side's operator has just hung up: post-call work (the group's 30 s) runs."""
    _offered(c)
    _acd(c, "POST", f"/api/operator/offers/{LIVE[(c.side.label, 'offer')]}/accept", OPERATOR)
    _acd(c, "POST", f"/api/acd/calls/{LIVE[(c.side.label, 'call')]}/ended", EDGE)


def _in_call(c: BodyCtx) -> str:
    """The side's operator is talking (their answered call's record, as the edge reports it);
    returns the call id."""
    call_id = f"matrix-talk-{c.side.label}-{c.n}"
    now = datetime.now(UTC)
    c.db.add(
        Cdr(
            call_id=call_id,
            domain_id=c.side.domain.id,
            direction="internal",
            caller=c.side.user.extension,
            called=c.side.operator.extension,
            answered_by=f"sip:{c.side.operator.login}@{c.side.domain.name}",
            started_at=now,
            answered_at=now,
            result="answered",
        )
    )
    c.db.commit()
    return call_id


def _talking(c: BodyCtx) -> None:
    _in_call(c)


def _spying(c: BodyCtx) -> None:
    """A listen-in session of the side's supervisor on the side's operator, connected."""
    row = SpySession(
        domain_id=c.side.domain.id,
        supervisor_id=c.side.supervisor.id,
        operator_id=c.side.operator.id,
        mode="listen",
        token_hash=token_digest(f"matrix-spy-{c.side.label}-{c.n}"),
        call_id=_in_call(c),
        spy_call_id=f"matrix-spy-call-{c.side.label}-{c.n}",
    )
    c.db.add(row)
    c.db.commit()
    LIVE[(c.side.label, "spy")] = str(row.id)
    LIVE[(c.side.label, "spy_call")] = str(row.spy_call_id)


# --- outbound campaigns: the operator's campaign state, card and attempt ----------------------


def _campaign_ready(c: BodyCtx) -> None:
    """The side's operator is in the campaign's group, online and free of calls, not yet in
    the campaign state (whatever an earlier row left: a campaign, a ringing call, a talk)."""
    if c.db.get(GroupMember, (c.side.group.id, c.side.operator.id)) is None:
        c.db.add(GroupMember(group_id=c.side.group.id, user_id=c.side.operator.id))
        c.db.commit()
    for _ in range(3):
        me = _me(c)
        if me["state"] == "campaign":
            _acd(c, "POST", "/api/operator/campaign/stop", OPERATOR)
        elif me["post_call_remaining_seconds"] is not None:
            _acd(c, "POST", "/api/operator/post-call/finish", OPERATOR)
        elif me["call_id"] and me["state"] != "offered":
            _acd(c, "POST", f"/api/acd/calls/{me['call_id']}/ended", EDGE)
        # «away» withdraws a ringing offer and keeps new ones off while the row runs.
        _acd(c, "PUT", "/api/operator/status", OPERATOR, {"status": "away"})
        if _me(c)["state"] == "idle":
            return
    raise AssertionError(f"{c.side.full_login('operator')} did not become free: {_me(c)}")


def _campaign_client(c: BodyCtx) -> None:
    """A client nobody has called yet, so the next card is there to take."""
    c.db.add(
        CampaignClient(
            domain_id=c.side.domain.id,
            campaign_id=c.side.campaign.id,
            position=c.n,
            name=f"Клиент {c.n}",
            numbers=[mobile(c.n + 900_000)],
        )
    )
    c.db.commit()


def _in_campaign(c: BodyCtx) -> None:
    _campaign_ready(c)
    _acd(c, "POST", "/api/operator/campaign/start", OPERATOR, {"campaign_id": c.side.campaign.id})


def _card_ready(c: BodyCtx) -> None:
    _in_campaign(c)
    _campaign_client(c)


def _with_card(c: BodyCtx) -> None:
    _card_ready(c)
    _acd(c, "POST", "/api/operator/campaign/next", OPERATOR)


def _with_attempt(c: BodyCtx) -> None:
    _with_card(c)
    headers = c.world.role_headers(OPERATOR, c.side)
    r = c.client.post("/api/operator/campaign/attempts", headers=headers)
    assert r.status_code == 201, f"campaign attempt set-up: {r.status_code} {r.text[:300]}"
    LIVE[(c.side.label, "attempt")] = str(r.json()["attempt"]["id"])


def _campaign_body(c: BodyCtx) -> dict[str, Any]:
    now = datetime.now(UTC)
    return {
        "name": f"Кампания {c.n}",
        "group_id": c.side.group.id,
        "starts_at": _iso(now - timedelta(hours=1)),
        "ends_at": _iso(now + timedelta(days=7)),
    }


def _client_file(c: BodyCtx) -> Upload:
    values = {"name": f"Импорт-клиент {c.n}", "phone1": mobile(c.n + 950_000)}
    row = [values.get(col.key, "") for col in CLIENT_COLUMNS]
    data = _csv([col.title for col in CLIENT_COLUMNS], row)
    return Upload({"file": ("clients.csv", data, "text/csv")})


CAMPAIGN_STATE = "the operator's own working state (the campaign state interval), as routes/acd.py"

OWN_STATE = (
    "the operator's own working state, stored as intervals for the reports (routes/acd.py), "
    "not configuration"
)
EDGE_CALL = "the edge's call handling (queue state), not configuration or a person's change"

# An offer lives seconds in the dispatcher's memory: an id that is not ringing this operator
# now (lapsed a moment ago, or never existed) is the same conflict, 409 ``no_such_offer``.
OFFER_GONE = frozenset({404, 409, 422})

# --- the table ------------------------------------------------------------------------------

NO_CHANGE = "reads or checks only; stores nothing"

RULES: dict[str, Rule] = {
    # Framework pages and health: public, no tenant data.
    "GET /api/health": rule(PUBLIC, PUBLIC_SCOPE),
    "GET /api/openapi.json": rule(PUBLIC, PUBLIC_SCOPE),
    "GET /api/docs": rule(PUBLIC, PUBLIC_SCOPE),
    "GET /docs/oauth2-redirect": rule(PUBLIC, PUBLIC_SCOPE),
    # --- sign-in -----------------------------------------------------------------------------
    "POST /api/auth/login": rule(
        PUBLIC,
        PUBLIC_SCOPE,
        lambda c: {"login": c.side.full_login(), "password": PASSWORD},
        action="login",
        actor=ANON,
    ),
    "POST /api/auth/refresh": rule(
        PUBLIC,
        PUBLIC_SCOPE,
        lambda c: {"refresh_token": _refresh_token(c)},
        exempt="trades a token for a new pair; no configuration changes",
        actor=ANON,
    ),
    # The refresh token in the body is the credential, so no access token is needed.
    "POST /api/auth/logout": rule(
        PUBLIC,
        PUBLIC_SCOPE,
        lambda c: {"refresh_token": _refresh_token(c)},
        action="logout",
        actor=ANON,
    ),
    "POST /api/auth/recover": rule(
        PUBLIC,
        PUBLIC_SCOPE,
        lambda c: {"domain": c.side.domain.name, "login": c.side.admin.login},
        actor=ANON,
    ),
    "POST /api/auth/reset": rule(
        PUBLIC,
        PUBLIC_SCOPE,
        lambda c: {"token": _reset_token(c), "new_password": NEW_PASSWORD},
        actor=ANON,
    ),
    "GET /api/auth/me": rule(SIGNED_IN, PUBLIC_SCOPE),
    "POST /api/auth/password": rule(
        SIGNED_IN,
        PUBLIC_SCOPE,
        lambda c: {"current_password": PASSWORD, "new_password": NEW_PASSWORD},
    ),
    "POST /api/auth/open-domain": rule(
        POOL_ANY, POOL, lambda c: {"domain_id": c.side.domain.id}, actor=POOL_SUP
    ),
    # --- domain settings ---------------------------------------------------------------------
    "GET /api/domain": rule(DOMAIN_ANYONE, DOMAIN),
    "PATCH /api/domain": rule(
        DOMAIN_ADMINS,
        DOMAIN,
        lambda c: {
            "timezone": "Asia/Yekaterinburg",
            "default_outgoing_number_id": c.side.number.id,
        },
    ),
    # --- users -------------------------------------------------------------------------------
    "GET /api/users": rule(DOMAIN_ANYONE, DOMAIN),
    "GET /api/users/next-extension": rule(DOMAIN_ADMINS, DOMAIN),
    "GET /api/users/{user_id}": rule(DOMAIN_ANYONE, DOMAIN),
    "GET /api/users/{user_id}/delete-check": rule(DOMAIN_ADMINS, DOMAIN),
    "POST /api/users": rule(
        DOMAIN_ADMINS,
        DOMAIN,
        lambda c: {
            "login": f"mx{c.n}",
            "password": PASSWORD,
            "display_name": f"Матрица {c.n}",
            "pickup_group_id": c.side.pickup.id,
            "outgoing_number_id": c.side.number.id,
            "group_ids": [c.side.group.id],
        },
    ),
    "PATCH /api/users/{user_id}": rule(
        DOMAIN_ADMINS,
        DOMAIN,
        lambda c: {"position": f"Должность {c.n}", "pickup_group_id": c.side.pickup.id},
    ),
    "DELETE /api/users/{user_id}": rule(DOMAIN_ADMINS, DOMAIN),
    "POST /api/users/bulk": rule(
        DOMAIN_ADMINS,
        DOMAIN,
        lambda c: {
            "user_ids": [c.side.employee.id],
            "action": "add_to_group",
            "group_id": c.side.group.id,
        },
    ),
    # --- call groups -------------------------------------------------------------------------
    "GET /api/groups": rule(DOMAIN_SUPERVISORS, DOMAIN),
    "GET /api/groups/{obj_id}": rule(DOMAIN_SUPERVISORS, DOMAIN),
    "POST /api/groups": rule(
        DOMAIN_ADMINS,
        DOMAIN,
        lambda c: {"name": f"Группа {c.n}", "members": [{"user_id": c.side.employee.id}]},
    ),
    "PATCH /api/groups/{obj_id}": rule(
        DOMAIN_ADMINS, DOMAIN, lambda c: {"greeting_text": f"Приветствие {c.n}"}
    ),
    "DELETE /api/groups/{obj_id}": rule(DOMAIN_ADMINS, DOMAIN),
    "PUT /api/groups/{group_id}/members": rule(
        DOMAIN_ADMINS,
        DOMAIN,
        lambda c: [{"user_id": c.side.member.id, "priority": 5}, {"user_id": c.side.employee.id}],
    ),
    "POST /api/groups/{group_id}/members": rule(
        DOMAIN_ADMINS, DOMAIN, lambda c: [{"user_id": c.side.employee.id, "priority": 20}]
    ),
    "PATCH /api/groups/{group_id}/members/{user_id}": rule(
        DOMAIN_ADMINS, DOMAIN, lambda c: {"priority": 7}
    ),
    "DELETE /api/groups/{group_id}/members/{user_id}": rule(DOMAIN_ADMINS, DOMAIN),
    # --- pickup groups -----------------------------------------------------------------------
    "GET /api/pickup-groups": rule(DOMAIN_ANYONE, DOMAIN),
    "GET /api/pickup-groups/{obj_id}": rule(DOMAIN_ANYONE, DOMAIN),
    "POST /api/pickup-groups": rule(
        DOMAIN_ADMINS,
        DOMAIN,
        lambda c: {"name": f"Подхват {c.n}", "user_ids": [c.side.member.id]},
    ),
    "PATCH /api/pickup-groups/{obj_id}": rule(
        DOMAIN_ADMINS, DOMAIN, lambda c: {"name": f"Подхват {c.n}"}
    ),
    "DELETE /api/pickup-groups/{obj_id}": rule(DOMAIN_ADMINS, DOMAIN),
    "PUT /api/pickup-groups/{group_id}/members": rule(
        DOMAIN_ADMINS, DOMAIN, lambda c: {"user_ids": [c.side.member.id, c.side.employee.id]}
    ),
    # --- numbers and schedules ---------------------------------------------------------------
    "GET /api/numbers": rule(DOMAIN_ANYONE, DOMAIN),
    "GET /api/numbers/{obj_id}": rule(DOMAIN_ANYONE, DOMAIN),
    "POST /api/numbers": rule(
        DOMAIN_ADMINS,
        DOMAIN,
        lambda c: {
            "e164": landline(c.n),
            "name": f"Линия {c.n}",
            "schedule_id": c.side.schedule.id,
        },
    ),
    "PATCH /api/numbers/{obj_id}": rule(
        DOMAIN_ADMINS,
        DOMAIN,
        lambda c: {"name": f"Линия {c.n}", "schedule_id": c.side.schedule.id},
    ),
    "DELETE /api/numbers/{obj_id}": rule(DOMAIN_ADMINS, DOMAIN),
    "GET /api/schedules": rule(DOMAIN_ADMINS, DOMAIN),
    "GET /api/schedules/{obj_id}": rule(DOMAIN_ADMINS, DOMAIN),
    "POST /api/schedules": rule(
        DOMAIN_ADMINS,
        DOMAIN,
        lambda c: {
            "name": f"График {c.n}",
            "intervals": {"working": [[d, "09:00", "18:00"] for d in range(5)], "extra": []},
        },
    ),
    "PATCH /api/schedules/{obj_id}": rule(
        DOMAIN_ADMINS, DOMAIN, lambda c: {"name": f"График {c.n}"}
    ),
    "DELETE /api/schedules/{obj_id}": rule(DOMAIN_ADMINS, DOMAIN),
    "GET /api/vip-numbers": rule(DOMAIN_SUPERVISORS, DOMAIN),
    "GET /api/vip-numbers/{obj_id}": rule(DOMAIN_SUPERVISORS, DOMAIN),
    "POST /api/vip-numbers": rule(
        DOMAIN_ADMINS, DOMAIN, lambda c: {"e164": mobile(c.n), "priority": 3}
    ),
    "PATCH /api/vip-numbers/{obj_id}": rule(
        DOMAIN_ADMINS, DOMAIN, lambda c: {"comment": f"VIP {c.n}"}
    ),
    "DELETE /api/vip-numbers/{obj_id}": rule(DOMAIN_ADMINS, DOMAIN),
    # --- address books -----------------------------------------------------------------------
    "GET /api/directory/search": rule(DOMAIN_ANYONE, DOMAIN),
    "GET /api/contact-groups": rule(DOMAIN_ANYONE, DOMAIN),
    "GET /api/contact-groups/{obj_id}": rule(DOMAIN_ANYONE, DOMAIN),
    "POST /api/contact-groups": rule(DOMAIN_ADMINS, DOMAIN, lambda c: {"name": f"Книга {c.n}"}),
    "PATCH /api/contact-groups/{obj_id}": rule(
        DOMAIN_ADMINS, DOMAIN, lambda c: {"name": f"Книга {c.n}"}
    ),
    "DELETE /api/contact-groups/{obj_id}": rule(DOMAIN_ADMINS, DOMAIN),
    "GET /api/contacts": rule(DOMAIN_ANYONE, DOMAIN),
    "GET /api/contacts/{contact_id}": rule(DOMAIN_ANYONE, DOMAIN),
    "POST /api/contacts": rule(
        DOMAIN_ADMINS, DOMAIN, lambda c: _contact(c, c.side.contact_group.id)
    ),
    "PATCH /api/contacts/{contact_id}": rule(
        DOMAIN_ADMINS,
        DOMAIN,
        lambda c: {"position": f"Должность {c.n}", "group_id": c.side.contact_group.id},
    ),
    "DELETE /api/contacts/{contact_id}": rule(DOMAIN_ADMINS, DOMAIN),
    "POST /api/contacts/delete": rule(
        DOMAIN_ADMINS, DOMAIN, lambda c: {"ids": [c.side.contact.id]}
    ),
    "POST /api/contacts/move": rule(
        DOMAIN_ADMINS,
        DOMAIN,
        lambda c: {"ids": [c.side.contact.id], "group_id": None},
    ),
    "GET /api/me/contact-groups": rule(DOMAIN_PEOPLE, PERSONAL),
    "GET /api/me/contact-groups/{obj_id}": rule(DOMAIN_PEOPLE, PERSONAL),
    "POST /api/me/contact-groups": rule(
        DOMAIN_PEOPLE, PERSONAL, lambda c: {"name": f"Моя книга {c.n}"}
    ),
    "PATCH /api/me/contact-groups/{obj_id}": rule(
        DOMAIN_PEOPLE, PERSONAL, lambda c: {"name": f"Моя книга {c.n}"}
    ),
    "DELETE /api/me/contact-groups/{obj_id}": rule(DOMAIN_PEOPLE, PERSONAL),
    "GET /api/me/contacts": rule(DOMAIN_PEOPLE, PERSONAL),
    "GET /api/me/contacts/{contact_id}": rule(DOMAIN_PEOPLE, PERSONAL),
    "POST /api/me/contacts": rule(
        DOMAIN_PEOPLE, PERSONAL, lambda c: _contact(c, c.side.personal_group.id)
    ),
    "PATCH /api/me/contacts/{contact_id}": rule(
        DOMAIN_PEOPLE,
        PERSONAL,
        lambda c: {"position": f"Должность {c.n}", "group_id": c.side.personal_group.id},
    ),
    "DELETE /api/me/contacts/{contact_id}": rule(DOMAIN_PEOPLE, PERSONAL),
    "POST /api/me/contacts/delete": rule(
        DOMAIN_PEOPLE, PERSONAL, lambda c: {"ids": [c.side.personal_contact.id]}
    ),
    "POST /api/me/contacts/move": rule(
        DOMAIN_PEOPLE,
        PERSONAL,
        lambda c: {"ids": [c.side.personal_contact.id], "group_id": None},
    ),
    # --- routing: rules, black/white lists, forwarding schemes, simulation --------------------
    "GET /api/routing-rules": rule(DOMAIN_ADMINS, DOMAIN),
    "GET /api/routing-rules/{obj_id}": rule(DOMAIN_ADMINS, DOMAIN),
    "POST /api/routing-rules": rule(
        DOMAIN_ADMINS,
        DOMAIN,
        lambda c: {
            "number_id": c.side.number.id,
            "name": f"Правило {c.n}",
            "schedule_id": c.side.schedule.id,
            "schedule_when": "working",
            "target": "user",
            "target_ref": c.side.employee.id,
        },
    ),
    "PATCH /api/routing-rules/{obj_id}": rule(
        DOMAIN_ADMINS,
        DOMAIN,
        lambda c: {"name": f"Правило {c.n}", "target": "group", "target_ref": c.side.group.id},
    ),
    "DELETE /api/routing-rules/{obj_id}": rule(DOMAIN_ADMINS, DOMAIN),
    "PUT /api/numbers/{number_id}/rules/order": rule(
        DOMAIN_ADMINS, DOMAIN, lambda c: {"rule_ids": [c.side.rule.id]}
    ),
    "POST /api/numbers/{number_id}/rules/copy": rule(
        DOMAIN_ADMINS, DOMAIN, lambda c: {"to_number_id": c.side.spare_number.id}
    ),
    "GET /api/number-filters": rule(DOMAIN_ADMINS, DOMAIN),
    "GET /api/number-filters/{obj_id}": rule(DOMAIN_ADMINS, DOMAIN),
    "POST /api/number-filters": rule(
        DOMAIN_ADMINS, DOMAIN, lambda c: {"number_id": c.side.number.id, "e164": mobile(c.n)}
    ),
    "PATCH /api/number-filters/{obj_id}": rule(
        DOMAIN_ADMINS, DOMAIN, lambda c: {"comment": f"Фильтр {c.n}"}
    ),
    "DELETE /api/number-filters/{obj_id}": rule(DOMAIN_ADMINS, DOMAIN),
    "PUT /api/numbers/{number_id}/list-mode": rule(
        DOMAIN_ADMINS, DOMAIN, lambda c: {"mode": "black"}
    ),
    # A person edits their own forwarding scheme; an admin edits anyone's in the domain.
    "GET /api/forwarding-contacts": rule(DOMAIN_ANYONE, PERSONAL),
    "GET /api/forwarding-contacts/{obj_id}": rule(DOMAIN_ANYONE, PERSONAL),
    "POST /api/forwarding-contacts": rule(
        DOMAIN_ANYONE,
        PERSONAL,
        lambda c: {
            "user_id": c.side.employee.id,
            "number": mobile(c.n),
            "schedule_id": c.side.schedule.id,
        },
    ),
    "PATCH /api/forwarding-contacts/{obj_id}": rule(
        DOMAIN_ANYONE, PERSONAL, lambda c: {"ring_seconds": 30, "schedule_id": c.side.schedule.id}
    ),
    "DELETE /api/forwarding-contacts/{obj_id}": rule(DOMAIN_ANYONE, PERSONAL),
    "PUT /api/users/{user_id}/forwarding/sip": rule(
        DOMAIN_ANYONE, PERSONAL, lambda c: {"priority": 5, "schedule_id": c.side.schedule.id}
    ),
    "POST /api/routing/simulate": rule(
        DOMAIN_ADMINS,
        DOMAIN,
        lambda c: {"caller": mobile(c.n), "called": c.side.number.e164, "source": "trunk"},
        exempt="a dry run of the routing engine; stores nothing",
        # Dialling another company's number is an ordinary outgoing call.
        cross_refs_refused=False,
    ),
    # --- devices -----------------------------------------------------------------------------
    "GET /api/devices": rule(DOMAIN_ADMINS, DOMAIN),
    "GET /api/devices/{obj_id}": rule(DOMAIN_ADMINS, DOMAIN),
    "POST /api/devices": rule(
        DOMAIN_ADMINS,
        DOMAIN,
        lambda c: {"mac": mac(c.n), "serial": f"MX-SN-{c.n}", "user_id": c.side.employee.id},
    ),
    "PATCH /api/devices/{obj_id}": rule(
        DOMAIN_ADMINS,
        DOMAIN,
        lambda c: {"model": f"Yealink T{c.n % 100}", "user_id": c.side.member.id},
    ),
    "DELETE /api/devices/{obj_id}": rule(DOMAIN_ADMINS, DOMAIN),
    # --- imports and quotes ------------------------------------------------------------------
    "GET /api/import/users/template": rule(DOMAIN_ADMINS, DOMAIN),
    "GET /api/import/contacts/template": rule(DOMAIN_ADMINS, DOMAIN),
    "POST /api/import/users/check": rule(DOMAIN_ADMINS, DOMAIN, _user_file, exempt=NO_CHANGE),
    "POST /api/import/users/create": rule(DOMAIN_ADMINS, DOMAIN, _user_file),
    "POST /api/import/contacts/check": rule(DOMAIN_ADMINS, DOMAIN, _contact_file, exempt=NO_CHANGE),
    "POST /api/import/contacts/create": rule(DOMAIN_ADMINS, DOMAIN, _contact_file),
    "GET /api/quotes/users": rule(DOMAIN_ADMINS, DOMAIN),
    # --- billing: the domain admin's account -----------------------------------------------
    "GET /api/billing/account": rule(DOMAIN_ADMINS, DOMAIN),
    "GET /api/billing/charges": rule(DOMAIN_ADMINS, DOMAIN),
    "GET /api/billing/payments": rule(DOMAIN_ADMINS, DOMAIN),
    "GET /api/billing/services": rule(DOMAIN_ADMINS, DOMAIN),
    "GET /api/billing/quotes/operators": rule(DOMAIN_ADMINS, DOMAIN),
    "GET /api/billing/quotes/users": rule(DOMAIN_ADMINS, DOMAIN),
    "GET /api/billing/dashboard": rule(DOMAIN_ADMINS, DOMAIN),
    "GET /api/billing/storage": rule(DOMAIN_ADMINS, DOMAIN),
    "GET /api/billing/sms": rule(DOMAIN_ADMINS, DOMAIN),
    "GET /api/billing/services/{code}/quote": rule(DOMAIN_ADMINS, DOMAIN),
    "POST /api/billing/promised-payment": rule(
        DOMAIN_ADMINS,
        DOMAIN,
        lambda c: {"amount": "500.00"},
        action="create",
        prepare=_funded(PaymentScheme.ADVANCE),
    ),
    "PUT /api/billing/credit-limit": rule(
        DOMAIN_ADMINS,
        DOMAIN,
        lambda c: {"amount": "2000.00"},
        action="update",
        prepare=_funded(PaymentScheme.CREDIT),
    ),
    "PUT /api/billing/services/{code}": rule(
        DOMAIN_ADMINS,
        DOMAIN,
        lambda c: {"quantity": 1 + c.n % 3},
        prepare=_funded(PaymentScheme.ADVANCE),
    ),
    # Switching off deletes the service's settings, so the call carries the confirmation.
    "DELETE /api/billing/services/{code}": rule(
        DOMAIN_ADMINS, DOMAIN, action="delete", prepare=_service_on, query="confirm=true"
    ),
    "PUT /api/billing/storage": rule(DOMAIN_ADMINS, DOMAIN, lambda c: {"auto_buy": c.n % 2 == 0}),
    "POST /api/billing/sms/packages": rule(
        DOMAIN_ADMINS, DOMAIN, lambda c: {"size": 500}, prepare=_funded(PaymentScheme.ADVANCE)
    ),
    # --- billing: the provider (money received, the edge's and the scheduler's calls) --------
    # Money received is a person's change when a pool admin enters it: audited, naming them.
    "POST /api/billing/top-ups": rule(
        PROVIDER,
        POOL,
        lambda c: {"amount": "100.00", "domain_id": c.side.domain.id, "source": "bank"},
        action="top_up",
        actor=POOL_SUP,
    ),
    # Charging a call moves money; a pool admin may post it by hand, so it must be audited.
    "POST /api/billing/calls/rate": rule(
        PROVIDER,
        POOL,
        lambda c: {**_paid_call(c), "duration_seconds": 61},
        actor=POOL_SUP,
        prepare=_funded(PaymentScheme.ADVANCE),
    ),
    "POST /api/billing/calls/start": rule(
        PROVIDER,
        POOL,
        _paid_call,
        exempt="registers a call in progress (call state the edge reports); no money moves "
        "until the scheduled debit, which the ledger records",
        actor=SYSTEM,
        prepare=_funded(PaymentScheme.ADVANCE),
    ),
    "POST /api/billing/authorize": rule(
        PROVIDER,
        POOL,
        lambda c: {"domain_id": c.side.domain.id, "direction": "mobile", "number": mobile(c.n)},
        exempt=NO_CHANGE,
        actor=SYSTEM,
    ),
    "POST /api/billing/tick": rule(
        SYSTEM_ONLY,
        MACHINE,
        exempt="the scheduler's periodic work (daily fees, promised-payment expiry), not a "
        "person's action; every charge is a ledger entry",
    ),
    # Applying a re-rating posts money: it needs the difference the person reviewed.
    "POST /api/billing/rerate": rule(
        PROVIDER,
        POOL,
        lambda c: {
            "domain_id": c.side.domain.id,
            "start": _iso(datetime.now(UTC) - timedelta(days=1)),
            "end": _iso(datetime.now(UTC) + timedelta(minutes=1)),
            "expected_difference": "0.00",
        },
        action="rerate",
        actor=POOL_SUP,
        query="apply=true",
    ),
    # --- the SIP edge and call records -------------------------------------------------------
    "POST /api/sip/credentials": rule(
        EDGE_ONLY,
        MACHINE,
        lambda c: {"domain": c.side.domain.name, "username": c.side.operator.login},
        exempt=NO_CHANGE,
    ),
    "POST /api/sip/route": rule(
        EDGE_ONLY,
        MACHINE,
        lambda c: {
            "domain": c.side.domain.name,
            "caller_login": c.side.user.login,
            "called": c.side.employee.extension,
            "call_id": f"matrix-route-{c.n}",
        },
        exempt="records how a call was routed (its call record), not configuration; the "
        "edge's report, not a person's change",
    ),
    "POST /api/sip/events": rule(
        EDGE_ONLY,
        MACHINE,
        lambda c: {
            "events": [
                {
                    "call_id": f"matrix-events-{c.n}",
                    "seq": 1,
                    "type": "end",
                    "code": 487,
                    "domain": c.side.domain.name,
                    "caller": c.side.user.login,
                    "called": c.side.employee.extension,
                    "at": _iso(datetime.now(UTC)),
                }
            ]
        },
        exempt="stores call events and the call records built from them (facts the edge "
        "reports), not configuration and not a person's change",
    ),
    # The edge collects the calls billing asked to cut; taking them is the edge's bookkeeping.
    "GET /api/sip/cuts": rule(EDGE_ONLY, MACHINE),
    "GET /api/cdrs": rule(DOMAIN_ADMINS, DOMAIN),
    # --- contact centre: break reasons, operator messages, the workstation, statistics --------
    "GET /api/break-reasons": rule(DOMAIN_ANYONE, DOMAIN),
    "GET /api/break-reasons/{obj_id}": rule(DOMAIN_ANYONE, DOMAIN),
    "POST /api/break-reasons": rule(DOMAIN_ADMINS, DOMAIN, lambda c: {"name": f"Обед {c.n}"}),
    "PATCH /api/break-reasons/{obj_id}": rule(
        DOMAIN_ADMINS, DOMAIN, lambda c: {"name": f"Перерыв {c.n}"}
    ),
    "DELETE /api/break-reasons/{obj_id}": rule(DOMAIN_ADMINS, DOMAIN),
    "GET /api/operator-messages": rule(DOMAIN_SUPERVISORS, DOMAIN),
    "POST /api/operator-messages": rule(
        DOMAIN_SUPERVISORS,
        DOMAIN,
        lambda c: {"title": f"Сообщение {c.n}", "text": "Текст", "group_ids": [c.side.group.id]},
        action="create",
    ),
    "GET /api/operator-messages/{message_id}/report": rule(DOMAIN_SUPERVISORS, DOMAIN),
    "DELETE /api/operator-messages/{message_id}": rule(DOMAIN_SUPERVISORS, DOMAIN),
    "GET /api/operator/me": rule(OPERATORS, PERSONAL),
    "GET /api/operator/messages": rule(OPERATORS, PERSONAL),
    # Reading is confirmed with the password: a person's acknowledgement, audited.
    "POST /api/operator/messages/{message_id}/ack": rule(
        OPERATORS, PERSONAL, lambda c: {"password": PASSWORD}, action="acknowledge"
    ),
    "PUT /api/operator/status": rule(
        OPERATORS, PERSONAL, lambda c: {"status": "away"}, exempt=OWN_STATE
    ),
    "POST /api/operator/offers/{offer_id}/accept": rule(
        OPERATORS, PERSONAL, exempt=OWN_STATE, prepare=_offered, unknown_id=OFFER_GONE
    ),
    "POST /api/operator/offers/{offer_id}/reject": rule(
        OPERATORS, PERSONAL, exempt=OWN_STATE, prepare=_offered, unknown_id=OFFER_GONE
    ),
    "POST /api/operator/post-call/finish": rule(
        OPERATORS, PERSONAL, exempt=OWN_STATE, prepare=_after_call
    ),
    "POST /api/operator/post-call/extend": rule(
        OPERATORS, PERSONAL, exempt=OWN_STATE, prepare=_after_call
    ),
    "GET /api/stats/operators": rule(DOMAIN_SUPERVISORS, DOMAIN),
    "GET /api/stats/groups": rule(DOMAIN_SUPERVISORS, DOMAIN),
    # --- outbound campaigns ------------------------------------------------------------------
    "GET /api/campaigns": rule(DOMAIN_SUPERVISORS, DOMAIN),
    "POST /api/campaigns": rule(DOMAIN_ADMINS, DOMAIN, _campaign_body, action="create"),
    "GET /api/campaigns/{campaign_id}": rule(DOMAIN_SUPERVISORS, DOMAIN),
    "PATCH /api/campaigns/{campaign_id}": rule(
        DOMAIN_ADMINS, DOMAIN, lambda c: {"name": f"Кампания {c.side.label} {c.n}"}
    ),
    "DELETE /api/campaigns/{campaign_id}": rule(DOMAIN_ADMINS, DOMAIN, action="delete"),
    "POST /api/campaigns/{campaign_id}/statuses": rule(
        DOMAIN_ADMINS, DOMAIN, lambda c: {"name": f"Статус {c.n}"}, action="create"
    ),
    "DELETE /api/campaigns/{campaign_id}/statuses/{status_id}": rule(
        DOMAIN_ADMINS, DOMAIN, action="delete"
    ),
    "GET /api/campaigns/{campaign_id}/clients": rule(DOMAIN_SUPERVISORS, DOMAIN),
    "POST /api/campaigns/{campaign_id}/clients": rule(
        DOMAIN_ADMINS,
        DOMAIN,
        lambda c: {"name": f"Клиент {c.n}", "numbers": [mobile(c.n + 850_000)]},
        action="create",
    ),
    "DELETE /api/campaigns/{campaign_id}/clients": rule(DOMAIN_ADMINS, DOMAIN, action="delete"),
    "GET /api/campaigns/{campaign_id}/clients/export": rule(DOMAIN_SUPERVISORS, DOMAIN),
    "GET /api/import/campaign-clients/template": rule(DOMAIN_ADMINS, DOMAIN),
    "POST /api/campaigns/{campaign_id}/import/check": rule(
        DOMAIN_ADMINS, DOMAIN, _client_file, exempt=NO_CHANGE
    ),
    "POST /api/campaigns/{campaign_id}/import/create": rule(
        DOMAIN_ADMINS, DOMAIN, _client_file, action="create"
    ),
    "GET /api/operator/campaign": rule(OPERATORS, PERSONAL),
    "POST /api/operator/campaign/start": rule(
        OPERATORS,
        PERSONAL,
        lambda c: {"campaign_id": c.side.campaign.id},
        exempt=CAMPAIGN_STATE,
        prepare=_campaign_ready,
    ),
    "POST /api/operator/campaign/stop": rule(
        OPERATORS, PERSONAL, exempt=CAMPAIGN_STATE, prepare=_in_campaign
    ),
    # Taking a card, an attempt and a result change the client's record: audited.
    "POST /api/operator/campaign/next": rule(OPERATORS, PERSONAL, prepare=_card_ready),
    "POST /api/operator/campaign/attempts": rule(
        OPERATORS, PERSONAL, prepare=_with_card, action="create"
    ),
    "POST /api/operator/campaign/attempts/{attempt_id}/finish": rule(
        OPERATORS, PERSONAL, lambda c: {"outcome": "failed"}, prepare=_with_attempt
    ),
    "POST /api/operator/campaign/result": rule(
        OPERATORS,
        PERSONAL,
        lambda c: {"status_id": c.side.campaign_status.id},
        prepare=_with_attempt,
    ),
    "POST /api/acd/calls": rule(
        EDGE_ONLY,
        MACHINE,
        lambda c: {
            "domain": c.side.domain.name,
            "group_id": c.side.group.id,
            "call_id": f"matrix-queued-{c.n}",
            "caller": mobile(c.n),
        },
        exempt=EDGE_CALL,
    ),
    "POST /api/acd/calls/{call_id}/answered": rule(
        EDGE_ONLY,
        MACHINE,
        lambda c: {"user_id": c.side.operator.id},
        exempt=EDGE_CALL,
        prepare=_offered,
    ),
    "POST /api/acd/calls/{call_id}/ended": rule(
        EDGE_ONLY, MACHINE, exempt=EDGE_CALL, prepare=_offered
    ),
    "POST /api/acd/edge/offers": rule(
        EDGE_ONLY,
        MACHINE,
        lambda c: {"call_ids": [LIVE.get((c.side.label, "call"), "none")]},
        exempt=EDGE_CALL,
        prepare=_offered,
    ),
    "POST /api/acd/edge/offers/{offer_id}/lapsed": rule(
        EDGE_ONLY,
        MACHINE,
        lambda c: {"call_id": LIVE[(c.side.label, "call")], "reason": "no_answer"},
        exempt=EDGE_CALL,
        prepare=_offered,
        unknown_id=OFFER_GONE,
    ),
    # Listen-in / whisper / barge (routes/acd_spy.py): a person with a softphone starts it (a
    # pool admin in the domain has none); any supervisor of the domain may change or end it.
    "GET /api/acd/spy": rule(DOMAIN_SUPERVISORS, DOMAIN),
    "POST /api/acd/spy": rule(
        frozenset({SUPERVISOR, ADMIN}),
        DOMAIN,
        lambda c: {"operator_id": c.side.operator.id, "mode": "listen"},
        action="start",
        prepare=_talking,
    ),
    "PATCH /api/acd/spy/{spy_id}": rule(
        DOMAIN_SUPERVISORS,
        DOMAIN,
        lambda c: {"mode": "whisper"},
        action="change_mode",
        prepare=_spying,
    ),
    "DELETE /api/acd/spy/{spy_id}": rule(DOMAIN_SUPERVISORS, DOMAIN, action="end", prepare=_spying),
    # The edge asks before relaying a supervisor phone's mode change (a check, stores nothing).
    "POST /api/sip/spy/mode": rule(
        EDGE_ONLY,
        MACHINE,
        lambda c: {"call_id": LIVE[(c.side.label, "spy_call")], "mode": "listen"},
        prepare=_spying,
        exempt=NO_CHANGE,
    ),
    # --- history -----------------------------------------------------------------------------
    "GET /api/audit": rule(DOMAIN_ADMINS, DOMAIN),
    "GET /api/audit/export": rule(DOMAIN_ADMINS, DOMAIN),
    "GET /api/pool/audit": rule(POOL_ANY, POOL),
    "GET /api/pool/audit/export": rule(POOL_ANY, POOL),
    # --- pool cabinet ------------------------------------------------------------------------
    "GET /api/pool": rule(POOL_ANY, POOL),
    "GET /api/pool/me": rule(POOL_ANY, POOL),
    "PATCH /api/pool/me": rule(
        POOL_ANY, POOL, lambda c: {"display_name": f"Супервизор пула {c.n}"}
    ),
    "GET /api/pool/subgroups": rule(POOL_SUPERVISOR_ONLY, POOL),
    "POST /api/pool/subgroups": rule(
        POOL_SUPERVISOR_ONLY, POOL, lambda c: {"name": f"Подгруппа {c.n}"}
    ),
    "PATCH /api/pool/subgroups/{subgroup_id}": rule(
        POOL_SUPERVISOR_ONLY, POOL, lambda c: {"name": f"Подгруппа {c.n}"}
    ),
    "DELETE /api/pool/subgroups/{subgroup_id}": rule(POOL_SUPERVISOR_ONLY, POOL),
    "POST /api/pool/domains/move": rule(
        POOL_SUPERVISOR_ONLY,
        POOL,
        lambda c: (
            {"domain_ids": [c.world.spare_domain.id], "new_subgroup_name": f"Перенос {c.n}"}
            if c.side.domain.pool_id == c.world.spare_domain.pool_id
            else {"domain_ids": [c.side.domain.id], "subgroup_id": c.side.subgroup.id}
        ),
    ),
    "GET /api/pool/domains": rule(POOL_ANY, POOL),
    "GET /api/pool/domains/{domain_id}": rule(POOL_ANY, POOL),
    "PATCH /api/pool/domains/{domain_id}": rule(
        POOL_ANY, POOL, lambda c: {"display_name": f"Домен {c.n}"}, actor=POOL_SUP
    ),
    "GET /api/pool/admins": rule(POOL_SUPERVISOR_ONLY, POOL),
    "GET /api/pool/admins/{admin_id}": rule(POOL_SUPERVISOR_ONLY, POOL),
    "POST /api/pool/admins": rule(
        POOL_SUPERVISOR_ONLY,
        POOL,
        lambda c: {
            "display_name": f"Администратор {c.n}",
            "email": f"pa{c.n}@example.com",
            "password": PASSWORD,
            "login": f"pa{c.n}",
            "role": "subgroup_admin",
            "allowed_subgroup_ids": [c.side.subgroup.id],
        },
    ),
    "PATCH /api/pool/admins/{admin_id}": rule(
        POOL_SUPERVISOR_ONLY,
        POOL,
        lambda c: {
            "display_name": f"Администратор {c.n}",
            "allowed_subgroup_ids": [c.side.subgroup.id],
        },
    ),
    "DELETE /api/pool/admins/{admin_id}": rule(POOL_SUPERVISOR_ONLY, POOL),
}

# Endpoints a plain user or an operator may change: their own session, their own address book
# and their own forwarding scheme (the endpoint refuses someone else's).
SELF_SERVICE_PREFIXES = (
    "/api/auth/",
    "/api/me/",
    "/api/operator/",  # an operator's own status, offers, post-call work and messages
    "/api/forwarding-contacts",
    "/api/users/{user_id}/forwarding/",
)
# Anonymous callers reach only these (sign-in, password recovery, health and the schema).
ANONYMOUS_ALLOWED = frozenset(
    {
        "GET /api/health",
        "GET /api/openapi.json",
        "GET /api/docs",
        "GET /docs/oauth2-redirect",
        "POST /api/auth/login",
        "POST /api/auth/refresh",
        "POST /api/auth/logout",  # the refresh token in the body is the credential
        "POST /api/auth/recover",
        "POST /api/auth/reset",
    }
)
# Where the machine callers belong: the SIP edge's endpoints (only the edge, nobody else) and
# billing's system endpoints (the system secret beside the provider's people).
# (/api/acd/spy is a supervisor's: the edge's ACD endpoints are the calls and /acd/edge.)
EDGE_PATHS = ("/api/sip/", "/api/acd/calls", "/api/acd/edge/")
SYSTEM_PATHS = ("/api/billing/",)
# WebSocket endpoints and where they are checked (they are not in the HTTP table).
WEBSOCKETS = {"/api/events": "test_isolation.test_event_stream_never_carries_another_domain"}


def rule_for(endpoint: Endpoint) -> Rule:
    found = RULES.get(endpoint.key)
    assert found is not None, (
        f"{endpoint} is not in the matrix: add a row to RULES in "
        "tests/integration/matrix/table.py (roles, scope, a valid body, audit expectation)"
    )
    return found


def body_for(endpoint: Endpoint, found: Rule, ctx: BodyCtx) -> Body:
    if found.prepare is not None:
        found.prepare(ctx)
    if not endpoint.has_body:
        return None
    assert found.body is not None, f"add a body for {endpoint} to RULES in matrix/table.py"
    return found.body(ctx)


def actor_of(found: Rule) -> str:
    if found.actor is not None:
        return found.actor
    return next(r for r in ACTOR_PREFERENCE if r in found.roles)


@dataclass
class Sent:
    status_code: int
    text: str
    request: str = field(default="")


def send(
    client: TestClient,
    endpoint: Endpoint,
    url: str,
    headers: dict[str, str],
    body: Body,
    who: str,
) -> Sent:
    """Call and describe the exact request, for the failure message."""
    kwargs: dict[str, Any] = {"headers": headers}
    if isinstance(body, Upload):
        kwargs["files"] = body.files
        shown = f"<upload {next(iter(body.files.values()))[0]}>"
    elif body is not None:
        kwargs["json"] = body
        shown = repr(body)
    else:
        shown = ""
    r = client.request(endpoint.method, url, **kwargs)
    return Sent(r.status_code, r.text, f"{endpoint.method} {url} {shown} as {who}")
