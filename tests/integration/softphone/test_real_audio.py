"""The whole real audio path: PulseAudio null sinks → PortAudio → pjsua2 → SIP → and back.

A private PulseAudio server gets two null sinks, ``mic`` and ``spk``. The softphone engine
runs in bridge mode (the PyPI pjsua2 wheel has no sound devices), so its microphone is
PortAudio's default input, pointed at ``mic.monitor``, and its speaker is PortAudio's default
output, pointed at ``spk``. A 440 Hz tone played into ``mic`` must reach the far end over SIP;
the far end's 1300 Hz tone must come out of ``spk`` (recorded from ``spk.monitor``).
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from desktop.softphone.engine.engine import Engine, EngineConfig
from desktop.softphone.engine.types import LineState
from tests.integration.sip.conftest import Pbx
from tests.integration.softphone.conftest import Phone, Seen, extension, far_end, me_account
from tests.sip.audio import has_tone, tone_wav
from tests.sip.fixtures import AgentFactory


@pytest.fixture
def pulse(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """A PulseAudio server of our own (root needs a HOME and XDG_RUNTIME_DIR of its own)."""
    binary = shutil.which("pulseaudio")
    if binary is None or shutil.which("paplay") is None:
        pytest.skip("needs pulseaudio and pulseaudio-utils (scripts/common.sh installs them)")
    home, runtime = tmp_path / "pa-home", tmp_path / "pa-run"
    home.mkdir()
    runtime.mkdir(mode=0o700)
    socket = runtime / "native"
    env = {**os.environ, "HOME": str(home), "XDG_RUNTIME_DIR": str(runtime)}
    env.pop("PULSE_SERVER", None)
    proc = subprocess.Popen(
        [
            binary,
            "--daemonize=no",
            "--exit-idle-time=-1",
            "--system=false",
            "-n",
            "-L",
            "module-null-sink sink_name=mic rate=16000 channels=1",
            "-L",
            "module-null-sink sink_name=spk rate=16000 channels=1",
            "-L",
            f"module-native-protocol-unix auth-anonymous=1 socket={socket}",
        ],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=(tmp_path / "pulseaudio.log").open("wb"),
    )
    server = f"unix:{socket}"
    try:
        deadline = time.monotonic() + 10
        while not socket.exists():
            assert proc.poll() is None, (tmp_path / "pulseaudio.log").read_text()
            assert time.monotonic() < deadline, "pulseaudio did not start"
            time.sleep(0.05)
        # What the ALSA "pulse" plugin (PortAudio's default device) connects to and uses.
        monkeypatch.setenv("PULSE_SERVER", server)
        monkeypatch.setenv("PULSE_SOURCE", "mic.monitor")
        monkeypatch.setenv("PULSE_SINK", "spk")
        yield server
    finally:
        proc.terminate()
        proc.wait(10)


def test_a_tone_in_the_microphone_sink_crosses_sip_and_the_far_tone_leaves_the_speaker(
    pulse: str, pbx: Pbx, agent_factory: AgentFactory, tmp_path: Path
) -> None:
    engine = Engine(
        EngineConfig(bind_address="127.0.0.1", audio="bridge", network_check=0, device_check=0)
    )
    seen = Seen()
    engine.add_listener(seen)
    engine.start()
    recorder: subprocess.Popen[bytes] | None = None
    player: subprocess.Popen[bytes] | None = None
    try:
        assert engine.audio_mode == "bridge"
        engine.register(me_account(pbx))
        phone = Phone(engine, seen, tmp_path)
        phone.until(lambda: engine.registration.registered, what="registration")
        bob = far_end(pbx, agent_factory, "bob", "operator")
        since = bob.mark()
        line = engine.dial(extension(pbx, "operator"))
        call = phone.incoming(bob, since)
        phone.wait_line(line, LineState.TALKING)
        env = {**os.environ}
        player = subprocess.Popen(
            ["paplay", "--device=mic", str(tone_wav(tmp_path / "mic.wav", 440, 8.0))], env=env
        )
        bob.play_tone(call, 1300)
        heard = tmp_path / "speaker.wav"
        recorder = subprocess.Popen(
            [
                "parec",
                "--device=spk.monitor",
                "--file-format=wav",
                "--rate=16000",
                "--channels=1",
                "--format=s16le",
                str(heard),
            ],
            env=env,
        )
        bob.record(call, tmp_path / "bob.wav")
        phone.pump(3.5)
        bob.stop_record(call)
        recorder.send_signal(signal.SIGINT)
        recorder.wait(10)
        assert has_tone(tmp_path / "bob.wav", 440), "the microphone tone did not reach bob"
        assert has_tone(heard, 1300), "bob's tone did not come out of the speaker sink"
        engine.hangup(line)
        phone.wait_ended(line)
    finally:
        for proc in (player, recorder):
            if proc is not None and proc.poll() is None:
                proc.terminate()
                proc.wait(10)
        engine.shutdown()
