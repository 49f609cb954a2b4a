"""Plain data the engine hands out: snapshots of lines and registration, and its events.

Everything here is immutable and free of pjsua2, so the Qt adapter, the widgets and the fake
engine of the UI tests share it without importing pjsua2.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any


class EngineError(Exception):
    """An action that cannot be done now; ``code`` is stable, the UI words it.

    Codes: no_account, lines_busy, bad_target, dial_failed, no_line, not_ringing, not_talking,
    no_transport, not_started, bad_mode.
    """

    def __init__(self, code: str, detail: str = "") -> None:
        super().__init__(f"{code}: {detail}" if detail else code)
        self.code = code
        self.detail = detail


class Direction(StrEnum):
    OUT = "out"
    IN = "in"


class LineState(StrEnum):
    """Where a call is in its life; hold and mute are flags on top of ``TALKING``."""

    DIALING = "dialing"  # INVITE sent, nothing back yet
    RINGING = "ringing"  # the far end rings (18x)
    INCOMING = "incoming"  # rings here, waiting for answer / reject
    CONNECTING = "connecting"  # answered, waiting for ACK
    TALKING = "talking"
    ENDED = "ended"


class SpyMode(StrEnum):
    """How a supervisor takes part in an operator's call (the server authorises each)."""

    LISTEN = "listen"  # hears the customer and the operator; nobody hears them
    WHISPER = "whisper"  # as listen, and the operator hears them (the customer does not)
    BARGE = "barge"  # everyone hears everyone


#: Set on the operator's INVITE by the server only (the SIP edge strips it from clients).
SPY_HEADER = "X-Pult-Spy"
#: The in-dialog MESSAGE the supervisor's phone sends to change the mode (body: the mode).
SPY_CONTENT_TYPE = "application/x-pult-spy"


#: Who is calling, as the SIP edge asserts it (the caller's extension and name, or a trunk
#: caller's number). The edge removes any a phone sends, so on a line registered through the
#: project's edge it is the server's word; a bare From shows a SIP login instead.
IDENTITY_HEADER = "P-Asserted-Identity"


def parse_spy(value: str) -> tuple[SpyMode, int | None] | None:
    """``"whisper;session=12"`` → (WHISPER, 12); anything else → None."""
    mode, *params = (part.strip() for part in value.split(";"))
    try:
        found = SpyMode(mode.lower())
    except ValueError:
        return None
    session = None
    for param in params:
        key, _, val = param.partition("=")
        if key.strip().lower() == "session" and val.strip().isdigit():
            session = int(val.strip())
    return found, session


def header_value(message: str, name: str) -> str | None:
    """The first value of header ``name`` in a raw SIP message (the body is not searched)."""
    head = message.replace("\r\n", "\n").split("\n\n", 1)[0]
    for line in head.split("\n")[1:]:
        key, sep, value = line.partition(":")
        if sep and key.strip().lower() == name.lower():
            return value.strip()
    return None


class Transport(StrEnum):
    UDP = "udp"
    TCP = "tcp"
    TLS = "tls"


@dataclass(frozen=True)
class SipAccount:
    """What GET /api/auth/me says about the signed-in user's SIP identity."""

    login: str
    domain: str
    ha1: str
    registrar: str  # "sip:127.0.0.1:5060"
    display_name: str = ""
    transport: Transport = Transport.UDP

    @property
    def uri(self) -> str:
        return f"sip:{self.login}@{self.domain}"


@dataclass(frozen=True)
class Registration:
    registered: bool = False
    code: int = 0
    reason: str = ""
    expires: int = 0
    #: True while a failed registration waits for its next retry.
    retrying: bool = False


@dataclass(frozen=True)
class Quality:
    """1 (bad) … 5 (excellent) bars from RTCP receive statistics; 0 = nothing measured yet."""

    bars: int = 0
    loss_percent: float = 0.0
    jitter_ms: float = 0.0
    rtt_ms: float = 0.0
    codec: str = ""


@dataclass(frozen=True)
class LineInfo:
    """A snapshot of one call; ``id`` is never reused within one engine."""

    id: int
    direction: Direction
    remote_uri: str
    number: str
    display_name: str
    state: LineState
    on_hold: bool = False
    remote_hold: bool = False
    muted: bool = False
    conference: frozenset[int] = frozenset()
    started_at: float = 0.0  # time.time() when the call began
    connected_at: float | None = None  # time.monotonic() when it was answered
    ended_at: float | None = None
    status_code: int = 0
    reason: str = ""
    answered: bool = False
    #: Set while this call is being transferred, then the final SIP status of the transfer.
    transfer_status: int | None = None

    @property
    def live(self) -> bool:
        return self.state is not LineState.ENDED

    @property
    def in_conference(self) -> bool:
        return len(self.conference) > 1


class EventKind(StrEnum):
    REGISTRATION = "registration"
    LINE = "line"  # a line appeared or changed
    INCOMING = "incoming"  # a new call rings here (also sent as LINE)
    ENDED = "ended"  # a line is over; its last snapshot
    DTMF = "dtmf"  # data: digit, method
    TRANSFER = "transfer"  # data: status, final
    DEVICES = "devices"  # the list of sound devices changed
    #: A supervisor's listen-in. On the operator's phone (no line is shown for it): data
    #: mode ("" when it is over), session, call. On the supervisor's phone, after
    #: set_spy_mode: line, data mode, status (the SIP answer), accepted.
    SPY = "spy"
    ERROR = "error"  # data: message (a pjsua error inside a callback)


@dataclass(frozen=True)
class Event:
    kind: EventKind
    line: LineInfo | None = None
    registration: Registration | None = None
    data: dict[str, Any] = field(default_factory=dict)


Listener = Callable[[Event], None]


def number_of(uri: str) -> str:
    """``"Anna" <sip:1002@alpha.test>`` → ``1002``; a tel: URI or bare text stays as it is."""
    text = uri.strip()
    if "<" in text and ">" in text:
        text = text[text.index("<") + 1 : text.index(">")]
    for scheme in ("sips:", "sip:", "tel:"):
        if text.lower().startswith(scheme):
            text = text[len(scheme) :]
            break
    return text.split(";", 1)[0].split("@", 1)[0]


def display_name_of(uri: str) -> str:
    """The quoted display name of a SIP name-addr, or ``""``."""
    text = uri.strip()
    if "<" not in text:
        return ""
    name = text[: text.index("<")].strip()
    if len(name) >= 2 and name[0] == name[-1] == '"':
        # A quoted string: \" and \\ stand for the character after the backslash.
        quoted, i = name[1:-1], 0
        out: list[str] = []
        while i < len(quoted):
            if quoted[i] == "\\" and i + 1 < len(quoted):
                i += 1
            out.append(quoted[i])
            i += 1
        return "".join(out)
    return name


def target_uri(target: str, domain: str) -> str:
    """What the person typed → a SIP URI in their domain.

    ``1002`` → ``sip:1002@alpha.test``; ``+7 (495) 123-45-67`` → ``sip:+74951234567@…``;
    ``tel:+7495…`` likewise; a full ``sip:`` URI or ``user@host`` is kept.
    """
    text = target.strip()
    if text.lower().startswith(("sip:", "sips:")):
        return text
    if text.lower().startswith("tel:"):
        text = text[4:].split(";", 1)[0]
    if "@" in text:
        return "sip:" + text
    dialable = "".join(ch for ch in text if ch.isdigit() or ch in "+*#")
    if not dialable:
        raise ValueError(f"nothing to dial in {target!r}")
    return f"sip:{dialable}@{domain}"
