"""Sound devices plugged and unplugged while the softphone runs, on a real PulseAudio server.

A PulseAudio sink loaded during a call is a headset plugged in: the engine must list it and
play the call into it once chosen. Unloading it is the headset pulled out: the engine must say
that the speaker fell back to the default, and the call must go on in the default sink.
"""

from __future__ import annotations

import signal
import subprocess
from pathlib import Path

from desktop.softphone.engine.devices import AudioChoice
from desktop.softphone.engine.engine import Engine, EngineConfig
from desktop.softphone.engine.types import Event, EventKind, LineState
from tests.integration.sip.conftest import Pbx
from tests.integration.softphone.conftest import Phone, Seen, extension, far_end, me_account
from tests.integration.softphone.test_real_audio import pulse  # noqa: F401
from tests.sip.audio import has_tone
from tests.sip.fixtures import AgentFactory


def pactl(*args: str) -> str:
    return subprocess.run(["pactl", *args], check=True, capture_output=True, text=True).stdout


def record(phone: Phone, monitor: str, path: Path, seconds: float) -> Path:
    """What comes out of a sink, recorded from its monitor while the engine keeps polling."""
    rec = subprocess.Popen(
        [
            *("parec", f"--device={monitor}", "--file-format=wav"),
            *("--rate=16000", "--channels=1", "--format=s16le", str(path)),
        ]
    )
    try:
        phone.pump(seconds)
    finally:
        rec.send_signal(signal.SIGINT)
        rec.wait(10)
    return path


def devices_events(seen: Seen, since: int) -> list[Event]:
    return [e for e in seen.events[since:] if e.kind is EventKind.DEVICES]


def test_a_headset_plugged_in_a_call_is_listed_used_and_its_unplugging_falls_back(
    pulse: str,  # noqa: F811
    pbx: Pbx,
    agent_factory: AgentFactory,
    tmp_path: Path,
) -> None:
    engine = Engine(
        EngineConfig(bind_address="127.0.0.1", audio="bridge", network_check=0, device_check=0.3)
    )
    seen = Seen()
    engine.add_listener(seen)
    engine.start()
    module = ""
    try:
        assert engine.audio_mode == "bridge"
        phone = Phone(engine, seen, tmp_path)
        assert "headset" not in {d.name for d in engine.sound_devices()}
        engine.register(me_account(pbx))
        phone.until(lambda: engine.registration.registered, what="registration")
        bob = far_end(pbx, agent_factory, "bob", "operator")
        since = bob.mark()
        line = engine.dial(extension(pbx, "operator"))
        call = phone.incoming(bob, since)
        phone.wait_line(line, LineState.TALKING)
        bob.play_tone(call, 1300)

        # Plugged in during the call (the sound streams are open).
        mark = len(seen.events)
        module = pactl(
            "load-module", "module-null-sink", "sink_name=headset", "rate=16000", "channels=1"
        ).strip()
        found = phone.until(
            lambda: [
                e
                for e in devices_events(seen, mark)
                if "headset" in {d.name for d in e.data["devices"] if d.is_output}
            ],
            5,
            "the engine to list the headset",
        )[0]
        assert found.data["fallback"] == []
        assert "headset" in {d.name for d in engine.sound_devices() if d.is_output}

        engine.set_audio(AudioChoice(speaker="headset"))
        phone.pump(0.5)
        assert has_tone(record(phone, "headset.monitor", tmp_path / "headset.wav", 2.0), 1300)
        assert not has_tone(record(phone, "spk.monitor", tmp_path / "spk-quiet.wav", 1.5), 1300)

        # Pulled out while it is the speaker.
        mark = len(seen.events)
        pactl("unload-module", module)
        module = ""
        gone = phone.until(lambda: devices_events(seen, mark), 5, "the engine to notice")[0]
        assert gone.data["fallback"] == ["speaker"]
        assert gone.data["using"].speaker == ""
        assert "headset" not in {d.name for d in engine.sound_devices()}
        assert engine.audio.speaker == "headset"  # remembered for when it comes back
        phone.pump(0.5)
        assert has_tone(record(phone, "spk.monitor", tmp_path / "spk.wav", 2.0), 1300)
        engine.hangup(line)
        phone.wait_ended(line)
    finally:
        if module:
            pactl("unload-module", module)
        engine.shutdown()
