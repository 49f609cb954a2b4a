"""A second softphone engine in its own process (pjsua2 allows one endpoint per process).

    python -m tests.integration.softphone.engine_child

JSON lines on stdin, one reply per command on the protocol stream; the engine is polled
between commands, so audio flows and callbacks run while the parent waits. pjlib may write to
file descriptor 1, so the protocol runs on a duplicate of stdout and descriptor 1 is pointed
at stderr (as ``tests.sip.agent_main`` does).
"""

from __future__ import annotations

import dataclasses
import json
import os
import select
import sys
from typing import Any

from desktop.softphone.engine.engine import Engine, EngineConfig
from desktop.softphone.engine.types import Event, SipAccount, Transport


def _plain(value: Any) -> Any:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {k: _plain(v) for k, v in dataclasses.asdict(value).items()}
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [_plain(v) for v in value]
    return value


def engine_config() -> EngineConfig:
    """The engine as these tests run it, here and in the test process: loopback, no sound
    card, no network or device watching, a quick first re-registration, quiet logs."""
    return EngineConfig(
        bind_address="127.0.0.1",
        audio="null",
        network_check=0,
        device_check=0,
        first_retry=1,
        log_level=3,
    )


def main() -> None:
    out = os.fdopen(os.dup(1), "w", buffering=1)
    os.dup2(2, 1)
    engine = Engine(engine_config())
    events: list[dict[str, Any]] = []

    def seen(event: Event) -> None:
        events.append(_plain(event) | {"kind": event.kind.value})

    engine.add_listener(seen)
    engine.start()

    def run(cmd: dict[str, Any]) -> Any:
        name = cmd["cmd"]
        if name == "register":
            fields = dict(cmd["account"])
            fields["transport"] = Transport(fields.get("transport", "udp"))
            engine.register(SipAccount(**fields))
            return None
        if name == "registered":
            return engine.registration.registered
        if name == "dial":
            return engine.dial(cmd["target"])
        if name == "play_file":
            engine.play_file(cmd["path"])
            return None
        if name == "record_to":
            engine.record_to(cmd["path"])
            return None
        if name == "set_spy_mode":
            engine.set_spy_mode(cmd["line"], cmd["mode"])
            return None
        if name == "hangup":
            engine.hangup(cmd["line"])
            return None
        if name == "lines":
            return _plain(engine.lines())
        if name == "events":
            return events[int(cmd.get("since", 0)) :]
        raise ValueError(f"unknown command {name}")

    buffer = b""
    try:
        while True:
            engine.poll(5)
            ready, _, _ = select.select([0], [], [], 0.005)
            if not ready:
                continue
            chunk = os.read(0, 65536)
            if not chunk:
                return
            buffer += chunk
            while b"\n" in buffer:
                line, buffer = buffer.split(b"\n", 1)
                cmd = json.loads(line)
                if cmd["cmd"] == "quit":
                    out.write(json.dumps({"ok": True}) + "\n")
                    return
                try:
                    reply = {"ok": True, "result": run(cmd)}
                except Exception as exc:
                    reply = {"ok": False, "error": f"{type(exc).__name__}: {exc}"}
                out.write(json.dumps(reply) + "\n")
    finally:
        engine.shutdown()
        sys.stderr.flush()


if __name__ == "__main__":
    main()
