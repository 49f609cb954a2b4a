"""Tone measurement on synthetic files: what the call tests rely on to tell tones apart."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from tests.sip import audio


def test_a_440_hz_file_has_440_and_not_its_harmonic(tmp_path: Path) -> None:
    path = audio.tone_wav(tmp_path / "a.wav", 440, seconds=1.5)
    assert audio.has_tone(path, 440)
    assert not audio.has_tone(path, 880)
    assert not audio.has_tone(path, 1300)
    assert audio.dominant_frequencies(path) == [pytest.approx(440, abs=2)]


def test_a_mix_of_440_and_1300_has_both(tmp_path: Path) -> None:
    path = audio.mixed_tone_wav(tmp_path / "mix.wav", [440, 1300], seconds=1.5)
    assert audio.has_tone(path, 440)
    assert audio.has_tone(path, 1300)
    assert not audio.has_tone(path, 880)
    assert sorted(audio.dominant_frequencies(path)) == [
        pytest.approx(440, abs=2),
        pytest.approx(1300, abs=2),
    ]


def test_three_mixed_tones_are_all_found_at_8000_hz(tmp_path: Path) -> None:
    path = audio.mixed_tone_wav(tmp_path / "three.wav", [440, 880, 1300], seconds=1.5, rate=8000)
    assert all(audio.has_tone(path, hz) for hz in (440, 880, 1300))
    found = sorted(audio.dominant_frequencies(path, count=5))
    assert found == [pytest.approx(hz, abs=2) for hz in (440, 880, 1300)]


def test_silence_has_no_tone(tmp_path: Path) -> None:
    path = tmp_path / "silence.wav"
    audio.write_wav(path, np.zeros(16000), 16000)
    assert audio.rms(path) == 0.0
    assert not any(audio.has_tone(path, hz) for hz in (440, 880, 1300))
    assert audio.dominant_frequencies(path) == []


def test_white_noise_is_not_a_tone(tmp_path: Path) -> None:
    rng = np.random.default_rng(7)
    path = tmp_path / "noise.wav"
    audio.write_wav(path, rng.normal(0.0, 0.1, 24000), 16000)
    assert audio.rms(path) > 0.05
    assert not any(audio.has_tone(path, hz) for hz in (440, 880, 1300))
    assert audio.dominant_frequencies(path) == []


def test_a_quiet_tone_under_noise_is_still_found(tmp_path: Path) -> None:
    """Codec noise (PCMU is about 35 dB below the signal) must not hide a tone."""
    rng = np.random.default_rng(3)
    rate = 8000
    t = np.arange(int(1.5 * rate)) / rate
    signal = 0.2 * np.sin(2 * np.pi * 880 * t) + rng.normal(0.0, 0.01, t.size)
    path = tmp_path / "noisy.wav"
    audio.write_wav(path, signal, rate)
    assert audio.has_tone(path, 880)
    assert not audio.has_tone(path, 440)


def test_a_tone_off_by_more_than_the_tolerance_does_not_count(tmp_path: Path) -> None:
    path = audio.tone_wav(tmp_path / "a.wav", 470, seconds=1.5)
    assert not audio.has_tone(path, 440, tolerance=15)
    assert audio.has_tone(path, 440, tolerance=40)


def test_skip_seconds_ignores_the_start(tmp_path: Path) -> None:
    """Only the start has the tone: after skipping it the recording is silence."""
    rate = 16000
    tone = 0.3 * np.sin(2 * np.pi * 440 * np.arange(rate // 2) / rate)
    path = tmp_path / "start.wav"
    audio.write_wav(path, np.concatenate([tone, np.zeros(rate)]), rate)
    assert audio.has_tone(path, 440, skip_seconds=0.0)
    assert not audio.has_tone(path, 440, skip_seconds=0.5)
    assert audio.rms(path, skip_seconds=0.5) == 0.0


def test_tone_wav_writes_16_bit_mono_at_the_given_rate(tmp_path: Path) -> None:
    path = audio.tone_wav(tmp_path / "a.wav", 1000, seconds=0.5, rate=8000, amplitude=0.5)
    data, rate = audio.read_wav(path)
    assert rate == 8000
    assert data.size == 4000
    assert audio.duration(path) == pytest.approx(0.5)
    assert audio.rms(path) == pytest.approx(0.5 / np.sqrt(2), rel=0.01)
