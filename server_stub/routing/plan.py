"""The routing engine's output: a ring plan the SIP edge executes exactly, and a trace.

A plan is a list of stages tried one after another. A stage rings its branches in parallel;
each branch rings for its own time and may start after a delay (add-the-next). The stage ends
when a branch answers (the others are cancelled), when every branch has finished, or at its
``timeout``. If every branch of a stage answered busy and ``busy_stops`` is set, the cascade
stops and ``on_busy`` applies; when all stages are exhausted ``on_no_answer`` applies.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any


class BranchKind(StrEnum):
    SIP_USER = "sip_user"  # a registered device of a user: sip:login@domain
    EXTERNAL = "external"  # a PSTN number through the carrier trunk
    MEDIA = "media"  # voicemail, fax, IVR, queue: a media worker
    INTER_DOMAIN = "inter_domain"  # another domain of the pool


@dataclass(frozen=True)
class Branch:
    kind: BranchKind
    uri: str
    ring_seconds: int
    delay_seconds: int = 0
    user_id: int | None = None
    label: str = ""
    #: SIP headers the edge adds to this branch's INVITE (name, value), e.g. X-Pult-Spy.
    headers: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class Stage:
    branches: tuple[Branch, ...]
    timeout_seconds: int
    busy_stops: bool = False
    label: str = ""


@dataclass(frozen=True)
class Final:
    """What happens when no stage connects: a media target or a SIP rejection."""

    action: str  # "reject" | "media"
    sip_code: int = 486
    reason: str = ""
    uri: str = ""


BUSY = Final("reject", 486, "Busy Here")


@dataclass(frozen=True)
class Decision:
    stages: tuple[Stage, ...] = ()
    on_no_answer: Final = BUSY
    on_busy: Final = BUSY
    caller_id: str | None = None  # the A-number to present on external legs
    direction: str = "internal"
    queue_group_id: int | None = None  # set when an ACD queue takes the call
    group_id: int | None = None  # the call group the call was routed to, if any
    refused: Final | None = None  # set when the call is refused outright
    paid: bool = False  # the call (or a leg of it) goes to the PSTN and costs money
    trace: tuple[tuple[str, str], ...] = field(default_factory=tuple)  # (ru, en) lines

    @property
    def accepted(self) -> bool:
        return self.refused is None

    def as_dict(self, lang: str = "ru") -> dict[str, Any]:
        def final(f: Final | None) -> dict[str, Any] | None:
            if f is None:
                return None
            return {"action": f.action, "sip_code": f.sip_code, "reason": f.reason, "uri": f.uri}

        return {
            "accepted": self.accepted,
            "refused": final(self.refused),
            "direction": self.direction,
            "caller_id": self.caller_id,
            "paid": self.paid,
            "queue_group_id": self.queue_group_id,
            "group_id": self.group_id,
            "stages": [
                {
                    "label": s.label,
                    "timeout_seconds": s.timeout_seconds,
                    "busy_stops": s.busy_stops,
                    "branches": [
                        {
                            "kind": b.kind.value,
                            "uri": b.uri,
                            "ring_seconds": b.ring_seconds,
                            "delay_seconds": b.delay_seconds,
                            "user_id": b.user_id,
                            "label": b.label,
                            "headers": dict(b.headers),
                        }
                        for b in s.branches
                    ],
                }
                for s in self.stages
            ],
            "on_no_answer": final(self.on_no_answer),
            "on_busy": final(self.on_busy),
            "trace": [en if lang == "en" else ru for ru, en in self.trace],
        }
