"""Sound devices chosen by name: a remembered name that is gone falls back to the default.

Names survive a reboot and a replug while indices do not, so the settings keep names only.
"""

from __future__ import annotations

from dataclasses import dataclass

#: The name under which "whatever the system uses" is remembered and shown.
DEFAULT = ""


@dataclass(frozen=True)
class SoundDevice:
    name: str
    inputs: int
    outputs: int
    index: int = -1  # the backend's index now; never stored
    #: A PulseAudio sink or source reached through PortAudio's "pulse" device (``index``).
    pulse: str = ""

    @property
    def is_input(self) -> bool:
        return self.inputs > 0

    @property
    def is_output(self) -> bool:
        return self.outputs > 0


@dataclass(frozen=True)
class AudioChoice:
    """Microphone, speaker and a separate ringing device, each by name (``""`` = default)."""

    microphone: str = DEFAULT
    speaker: str = DEFAULT
    ringer: str = DEFAULT


def pick(name: str, devices: list[SoundDevice], *, output: bool) -> SoundDevice | None:
    """The device called ``name`` with the right direction, or None for the system default."""
    if name == DEFAULT:
        return None
    for dev in devices:
        if dev.name == name and (dev.is_output if output else dev.is_input):
            return dev
    return None


def effective(choice: AudioChoice, devices: list[SoundDevice]) -> AudioChoice:
    """The choice with every vanished device replaced by the default (what is really used)."""
    mic = pick(choice.microphone, devices, output=False)
    spk = pick(choice.speaker, devices, output=True)
    ring = pick(choice.ringer, devices, output=True)
    return AudioChoice(
        microphone=mic.name if mic else DEFAULT,
        speaker=spk.name if spk else DEFAULT,
        ringer=ring.name if ring else DEFAULT,
    )


def signature(devices: list[SoundDevice]) -> tuple[tuple[str, int, int], ...]:
    """What changes when a device is plugged or unplugged (indices may shift, names stay)."""
    return tuple(sorted((d.name, d.inputs, d.outputs) for d in devices))
