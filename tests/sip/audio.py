"""Tone generation and tone detection on 16-bit mono WAV files.

Used on both sides of a real call: the agents play files written by :func:`tone_wav` and record
what they receive, and the tests ask :func:`has_tone` whether a frequency made it through the
codec. Detection compares the energy in a narrow band around the frequency with the whole
spectrum and with the spectrum's median, so that silence, comfort noise and codec quantisation
noise (PCMU/PCMA/G.722/Speex) are never mistaken for a tone.
"""

from __future__ import annotations

import wave
from pathlib import Path

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]

#: Below this RMS (full scale = 1.0, about -60 dBFS) a recording counts as silence.
SILENCE_RMS = 1e-3
#: Default share of the signal's energy a tone must hold. Three mixed tones hold ~1/3 each;
#: codec noise or a harmonic of a 0.3-amplitude tone stays far below 1 %.
DEFAULT_MIN_RATIO = 0.03
#: A tone's band must stand this far above the median band of the spectrum (power ratio, 30 dB).
MIN_PEAK_OVER_MEDIAN = 1000.0
#: Energy under this frequency (DC offset, rumble) is ignored.
LOW_CUT_HZ = 60.0


def tone_wav(
    path: str | Path, hz: float, seconds: float, rate: int = 16000, amplitude: float = 0.3
) -> Path:
    """Write a sine of ``hz`` as a 16-bit mono WAV; returns the path.

    With an integer ``hz * seconds`` the file holds whole periods, so a looping player makes no
    click at the seam (a click would smear energy across the spectrum).
    """
    return mixed_tone_wav(path, [hz], seconds=seconds, rate=rate, amplitude=amplitude)


def mixed_tone_wav(
    path: str | Path,
    freqs: list[float],
    seconds: float = 1.0,
    rate: int = 16000,
    amplitude: float = 0.3,
) -> Path:
    """Write the sum of sines ``freqs``, each at ``amplitude`` / len(freqs), as a 16-bit WAV."""
    t = np.arange(round(seconds * rate), dtype=np.float64) / rate
    signal = np.zeros_like(t)
    for hz in freqs:
        signal += np.sin(2 * np.pi * hz * t)
    if freqs:
        signal *= amplitude / len(freqs)
    write_wav(path, signal, rate)
    return Path(path)


def write_wav(path: str | Path, samples: FloatArray, rate: int) -> None:
    """Write float samples in [-1, 1] as 16-bit mono PCM."""
    pcm = np.clip(np.round(samples * 32767.0), -32768, 32767).astype("<i2")
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(pcm.tobytes())


def read_wav(path: str | Path) -> tuple[FloatArray, int]:
    """Read a 16-bit PCM WAV as floats in [-1, 1] (first channel only) and its sample rate."""
    with wave.open(str(path), "rb") as w:
        if w.getsampwidth() != 2:
            raise ValueError(f"{path}: only 16-bit PCM is supported")
        rate = w.getframerate()
        channels = w.getnchannels()
        raw = w.readframes(w.getnframes())
    data = np.frombuffer(raw, dtype="<i2").astype(np.float64) / 32768.0
    if channels > 1:
        data = data[::channels]
    return data, rate


def wav_is_complete(path: str | Path) -> bool:
    """True when the RIFF header's sizes match the file (a writer has closed it)."""
    try:
        with wave.open(str(path), "rb") as w:
            frames, width, channels = w.getnframes(), w.getsampwidth(), w.getnchannels()
        size = Path(path).stat().st_size
    except (OSError, EOFError, wave.Error):
        return False
    # A canonical PCM header is 44 bytes; pjmedia writes exactly that.
    return size == 44 + frames * width * channels


def _segment(path: str | Path, skip_seconds: float) -> tuple[FloatArray, int]:
    data, rate = read_wav(path)
    return data[int(skip_seconds * rate) :], rate


def rms(wav_path: str | Path, skip_seconds: float = 0.0) -> float:
    """Root-mean-square level (full scale 1.0) after ``skip_seconds``; 0.0 for an empty file."""
    data, _ = _segment(wav_path, skip_seconds)
    if data.size == 0:
        return 0.0
    return float(np.sqrt(np.mean(data * data)))


def duration(wav_path: str | Path) -> float:
    """Length in seconds."""
    data, rate = read_wav(wav_path)
    return data.size / rate


def _power_spectrum(data: FloatArray, rate: int) -> tuple[FloatArray, FloatArray]:
    """Hann-windowed power spectrum with the sub-``LOW_CUT_HZ`` bins zeroed."""
    window = np.hanning(data.size)
    spectrum = np.fft.rfft((data - data.mean()) * window)
    power = (spectrum.real**2 + spectrum.imag**2).astype(np.float64)
    freqs = np.fft.rfftfreq(data.size, 1.0 / rate).astype(np.float64)
    power[freqs < LOW_CUT_HZ] = 0.0
    return freqs, power


def _band_stats(
    freqs: FloatArray, power: FloatArray, hz: float, tolerance: float
) -> tuple[float, float, float]:
    """(share of total energy, band mean power over the spectrum's median band power, peak Hz)."""
    total = float(power.sum())
    band = (freqs >= hz - tolerance) & (freqs <= hz + tolerance)
    if total <= 0.0 or not band.any():
        return 0.0, 0.0, hz
    band_power = power[band]
    share = float(band_power.sum()) / total
    audible = power[freqs >= LOW_CUT_HZ]
    median = float(np.median(audible)) if audible.size else 0.0
    # A pure digital tone has an almost-zero median; floor it so the ratio stays finite.
    floor = max(median, total * 1e-12)
    over_median = float(band_power.mean()) / floor
    peak_hz = float(freqs[band][int(np.argmax(band_power))])
    return share, over_median, peak_hz


def has_tone(
    wav_path: str | Path,
    hz: float,
    tolerance: float = 15.0,
    min_ratio: float = DEFAULT_MIN_RATIO,
    skip_seconds: float = 0.5,
) -> bool:
    """True when the recording carries a tone at ``hz`` (± ``tolerance``).

    All three must hold: the signal is not silence (RMS above ``SILENCE_RMS``), the band holds
    at least ``min_ratio`` of the energy above ``LOW_CUT_HZ``, and the band stands at least
    30 dB above the spectrum's median (so broadband noise, whose energy is everywhere, fails).
    ``skip_seconds`` drops the start, where jitter buffers and players are still settling.
    """
    data, rate = _segment(wav_path, skip_seconds)
    if data.size < rate // 10 or float(np.sqrt(np.mean(data * data))) < SILENCE_RMS:
        return False
    freqs, power = _power_spectrum(data, rate)
    share, over_median, _ = _band_stats(freqs, power, hz, tolerance)
    return share >= min_ratio and over_median >= MIN_PEAK_OVER_MEDIAN


def dominant_frequencies(
    wav_path: str | Path,
    count: int = 3,
    skip_seconds: float = 0.5,
    min_ratio: float = DEFAULT_MIN_RATIO,
    separation: float = 40.0,
) -> list[float]:
    """Up to ``count`` strongest tone frequencies in Hz, strongest first.

    Only peaks that :func:`has_tone` would accept are returned, so silence or noise gives ``[]``.
    Peaks closer than ``separation`` Hz to a stronger one are the same tone's skirt and skipped.
    """
    data, rate = _segment(wav_path, skip_seconds)
    if data.size < rate // 10 or float(np.sqrt(np.mean(data * data))) < SILENCE_RMS:
        return []
    freqs, power = _power_spectrum(data, rate)
    remaining = power.copy()
    found: list[float] = []
    for _ in range(1000):  # bounded: each pass removes at least one bin
        if len(found) >= count:
            break
        idx = int(np.argmax(remaining))
        if remaining[idx] <= 0.0:
            break
        if not _is_local_max(power, idx):
            # The skirt of a tone already taken: a parabola through it points back at that tone.
            remaining[idx] = 0.0
            continue
        peak = _interpolate_peak(freqs, power, idx)
        share, over_median, _ = _band_stats(freqs, power, peak, 15.0)
        if share < min_ratio or over_median < MIN_PEAK_OVER_MEDIAN:
            break
        found.append(round(peak, 1))
        remaining[np.abs(freqs - freqs[idx]) < separation] = 0.0
    return found


def _is_local_max(power: FloatArray, idx: int) -> bool:
    left = power[idx - 1] if idx > 0 else -1.0
    right = power[idx + 1] if idx + 1 < power.size else -1.0
    return bool(power[idx] >= left and power[idx] >= right)


def _interpolate_peak(freqs: FloatArray, power: FloatArray, idx: int) -> float:
    """Sub-bin peak position by a parabola through the log-magnitudes around ``idx``."""
    if idx <= 0 or idx >= power.size - 1:
        return float(freqs[idx])
    a, b, c = (float(np.log(max(power[i], 1e-30))) for i in (idx - 1, idx, idx + 1))
    denom = a - 2 * b + c
    offset = 0.5 * (a - c) / denom if denom < 0 else 0.0
    offset = min(0.5, max(-0.5, offset))
    step = float(freqs[1] - freqs[0])
    return float(freqs[idx]) + offset * step
