"""Sound through PortAudio (``sounddevice``) when pjsua2 has no sound devices of its own.

The PyPI ``pjsua2-python`` wheel is built without a sound backend. The engine then runs the
conference bridge on pjsua's null device (which still clocks it) and plugs in one
``pj.AudioMediaPort``: frames the bridge sends to it go to the speaker stream, frames it asks
for come from the microphone stream. The two clocks (bridge and sound card) drift, so each
direction goes through a short bounded buffer that drops the oldest audio rather than let the
delay grow.

The bridge calls the port from pjmedia's clock thread and PortAudio calls the streams from its
own threads; both only touch the buffers here, under a lock, never pjsua.
"""

from __future__ import annotations

import contextlib
import logging
import os
import shutil
import subprocess
import threading
from collections.abc import Iterator
from typing import Any

import pjsua2 as pj

from desktop.softphone.engine.devices import SoundDevice

log = logging.getLogger(__name__)

RATE = 16000
FRAME_MS = 20
FRAME_SAMPLES = RATE * FRAME_MS // 1000
FRAME_BYTES = FRAME_SAMPLES * 2  # 16-bit mono
#: At most this much audio waits in either direction; more is dropped (latency stays low).
MAX_BUFFER_BYTES = FRAME_BYTES * 8
SILENCE = bytes(FRAME_BYTES)


def _sd() -> Any:
    """``sounddevice``, imported late: importing it loads libportaudio."""
    import sounddevice

    return sounddevice


def available() -> bool:
    try:
        _sd()
    except (ImportError, OSError):
        return False
    return True


def list_devices(refresh: bool = False) -> list[SoundDevice]:
    """PortAudio's devices, then PulseAudio's sinks and sources when PortAudio reaches a
    PulseAudio server; ``refresh`` re-scans PortAudio (it only sees plugging on re-init)."""
    sd = _sd()
    if refresh:
        # Re-initialising under an open stream would pull it away; callers refresh when idle.
        sd._terminate()
        sd._initialize()
    found = [
        SoundDevice(
            name=str(d["name"]),
            inputs=int(d["max_input_channels"]),
            outputs=int(d["max_output_channels"]),
            index=i,
        )
        for i, d in enumerate(sd.query_devices())
    ]
    via = next((d.index for d in found if d.name == "pulse"), None)
    if via is not None:
        found += pulse_devices(via)
    return found


def pulse_devices(via: int) -> list[SoundDevice]:
    """PulseAudio's sinks and sources by name, opened through PortAudio device ``via``.

    Through ALSA, PortAudio sees one "pulse" device whatever is plugged in; a headset plugged
    into a PulseAudio (or PipeWire) desktop only shows here. Asked on every scan, which needs
    no PortAudio re-init, so plugging is noticed during a call too.
    """
    pactl = shutil.which("pactl")
    if pactl is None:
        return []
    found: list[SoundDevice] = []
    for kind in ("sinks", "sources"):
        try:
            out = subprocess.run(
                [pactl, "list", "short", kind], capture_output=True, text=True, timeout=3
            ).stdout
        except (OSError, subprocess.SubprocessError):
            return []
        for row in out.splitlines():
            cols = row.split("\t")
            if len(cols) < 2:
                continue
            name = cols[1]
            if kind == "sinks":
                found.append(SoundDevice(name, 0, 1, via, pulse=name))
            else:
                found.append(SoundDevice(name, 1, 0, via, pulse=name))
    return found


@contextlib.contextmanager
def _pulse_target(source: str = "", sink: str = "") -> Iterator[None]:
    """Point the streams opened inside at these PulseAudio devices.

    ALSA's pulse plugin connects each stream it opens to PULSE_SOURCE / PULSE_SINK as they
    are at that moment; there is no other way to name a device through PortAudio.
    """
    saved = {k: os.environ.get(k) for k in ("PULSE_SOURCE", "PULSE_SINK")}
    try:
        if source:
            os.environ["PULSE_SOURCE"] = source
        if sink:
            os.environ["PULSE_SINK"] = sink
        yield
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


class ByteFifo:
    """A thread-safe byte queue that keeps only the newest ``limit`` bytes."""

    def __init__(self, limit: int = MAX_BUFFER_BYTES) -> None:
        self._buf = bytearray()
        self._lock = threading.Lock()
        self._limit = limit

    def put(self, data: bytes) -> None:
        with self._lock:
            self._buf += data
            extra = len(self._buf) - self._limit
            if extra > 0:
                del self._buf[: extra + (extra % 2)]  # keep whole samples

    def take(self, size: int) -> bytes:
        """Exactly ``size`` bytes, padded with silence when the buffer runs short."""
        with self._lock:
            chunk = bytes(self._buf[:size])
            del self._buf[:size]
        return chunk + bytes(size - len(chunk)) if len(chunk) < size else chunk

    def __len__(self) -> int:
        with self._lock:
            return len(self._buf)


class _BridgePort(pj.AudioMediaPort):
    def __init__(self, capture: ByteFifo, playback: ByteFifo) -> None:
        super().__init__()
        self._capture = capture
        self._playback = playback

    def onFrameRequested(self, frame: pj.MediaFrame) -> None:
        data = self._capture.take(FRAME_BYTES)
        frame.type = pj.PJMEDIA_FRAME_TYPE_AUDIO
        frame.buf = pj.ByteVector(data)
        frame.size = len(data)

    def onFrameReceived(self, frame: pj.MediaFrame) -> None:
        if frame.type == pj.PJMEDIA_FRAME_TYPE_AUDIO and frame.size:
            self._playback.put(bytes(frame.buf))


class SoundBridge:
    """One microphone stream and one speaker stream, joined to the bridge by one port."""

    def __init__(
        self, microphone: SoundDevice | None = None, speaker: SoundDevice | None = None
    ) -> None:
        self.capture = ByteFifo()
        self.playback = ByteFifo()
        fmt = pj.MediaFormatAudio()
        fmt.init(pj.PJMEDIA_FORMAT_PCM, RATE, 1, FRAME_MS * 1000, 16)
        self.port = _BridgePort(self.capture, self.playback)
        self.port.createPort("pult-sound", fmt)
        sd = _sd()
        with _pulse_target(source=microphone.pulse if microphone else ""):
            self._input = sd.RawInputStream(
                device=microphone.index if microphone else None,
                samplerate=RATE,
                channels=1,
                dtype="int16",
                blocksize=FRAME_SAMPLES,
                callback=self._on_input,
            )
        with _pulse_target(sink=speaker.pulse if speaker else ""):
            self._output = sd.RawOutputStream(
                device=speaker.index if speaker else None,
                samplerate=RATE,
                channels=1,
                dtype="int16",
                blocksize=FRAME_SAMPLES,
                callback=self._on_output,
            )
        self._input.start()
        self._output.start()

    @property
    def media(self) -> pj.AudioMedia:
        return self.port

    def _on_input(self, indata: Any, frames: int, time: Any, status: Any) -> None:
        self.capture.put(bytes(indata))

    def _on_output(self, outdata: Any, frames: int, time: Any, status: Any) -> None:
        outdata[:] = self.playback.take(len(outdata))

    def close(self) -> None:
        """Streams first (their threads touch the buffers), then the port (the bridge's)."""
        for stream in (self._input, self._output):
            with contextlib.suppress(Exception):
                stream.stop()
                stream.close()
        self.port = None  # type: ignore[assignment]


def ring_pattern(kind: str) -> Any:
    """One cycle of a ring: ``"ring"`` 425 Hz 1 s on 4 s off; ``"waiting"`` two short beeps."""
    import numpy as np  # late: numpy costs a fifth of a second at start-up

    t_on = np.arange(RATE) / RATE
    if kind == "waiting":
        beep = 0.2 * np.sin(2 * np.pi * 425 * t_on[: RATE // 5])
        gap = np.zeros(RATE // 5)
        cycle = np.concatenate([beep, gap, beep, np.zeros(RATE * 3)])
    else:
        cycle = np.concatenate([0.3 * np.sin(2 * np.pi * 425 * t_on), np.zeros(RATE * 4)])
    return np.asarray(np.round(cycle * 32767), dtype=np.int16)


class Ringer:
    """Plays the ring on its own device, independent of the call's speaker."""

    def __init__(self) -> None:
        self._stream: Any = None
        self._pattern = ring_pattern("ring")
        self._pos = 0
        self.playing = ""

    def start(self, device: SoundDevice | None, kind: str = "ring") -> None:
        if self.playing == kind:
            return
        self.stop()
        self._pattern = ring_pattern(kind)
        self._pos = 0
        try:
            sd = _sd()
            with _pulse_target(sink=device.pulse if device else ""):
                self._stream = sd.OutputStream(
                    device=device.index if device else None,
                    samplerate=RATE,
                    channels=1,
                    dtype="int16",
                    callback=self._fill,
                )
            self._stream.start()
            self.playing = kind
        except Exception:
            # No ringing device is not a reason to miss the call: the toast still shows.
            log.warning("cannot play the ring", exc_info=True)
            self._stream = None

    def _fill(self, outdata: Any, frames: int, time: Any, status: Any) -> None:
        import numpy as np

        n = len(self._pattern)
        idx = (np.arange(frames) + self._pos) % n
        outdata[:, 0] = self._pattern[idx]
        self._pos = (self._pos + frames) % n

    def stop(self) -> None:
        stream, self._stream = self._stream, None
        self.playing = ""
        if stream is not None:
            with contextlib.suppress(Exception):
                stream.stop()
                stream.close()
