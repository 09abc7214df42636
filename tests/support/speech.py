"""Speech synthesised at test time (espeak-ng, flite) and converted with sox and ffmpeg."""

from __future__ import annotations

import subprocess
import wave
from pathlib import Path

import numpy as np

PHRASES = ["dinner tonight", "running shoes", "weekend getaway"]


def say(path: Path, text: str, voice: str = "en-us", wpm: int = 160, lead_s: float = 0.4, tail_s: float = 0.8) -> Path:
    """Speak `text` into a 16 kHz mono WAV with silence around it."""
    raw = path.with_suffix(".raw.wav")
    subprocess.run(["espeak-ng", "-v", voice, "-s", str(wpm), "-w", str(raw), text], check=True)
    return _padded_16k(raw, path, lead_s, tail_s)


def say_flite(path: Path, text: str, voice: str = "slt", lead_s: float = 0.4, tail_s: float = 0.8) -> Path:
    """As `say`, with another engine's voice (flite): speech unlike the espeak-ng the bench tunes on."""
    raw = path.with_suffix(".raw.wav")
    subprocess.run(["flite", "-voice", voice, "-t", text, "-o", str(raw)], check=True)
    return _padded_16k(raw, path, lead_s, tail_s)


def _padded_16k(raw: Path, path: Path, lead_s: float, tail_s: float) -> Path:
    """`raw` as a 16 kHz mono 16-bit WAV at `path`, with silence around it; `raw` is removed."""
    subprocess.run(
        ["sox", "-R", str(raw), "-r", "16000", "-c", "1", "-b", "16", str(path), "pad", str(lead_s), str(tail_s)],
        check=True,
    )
    raw.unlink()
    return path


def convert(src: Path, dst: Path, *args: str) -> Path:
    subprocess.run(["ffmpeg", "-loglevel", "error", "-y", "-i", str(src), *args, str(dst)], check=True)
    return dst


def write_wav(path: Path, samples: np.ndarray, rate: int = 16000) -> Path:
    pcm = (np.clip(samples, -1, 1) * 32767).astype(np.int16)
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(pcm.tobytes())
    return path
