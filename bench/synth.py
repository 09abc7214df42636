"""Audio side of the bench corpus: espeak-ng (or flite / festival) + sox synthesis, energy trimming,
voiced-RMS levels, coloured noise / mains hum mixed at a planned SNR, WAV output.
"""

from __future__ import annotations

import math
import os
import subprocess
import tempfile
import wave
from pathlib import Path
from typing import Any

import numpy as np

SAMPLE_RATE = 16_000
FRAME = SAMPLE_RATE // 100  # 10 ms energy frames
TRIM_DB = -45.0  # frames this far below the piece's peak count as silence
VOICED_DB = -35.0  # frames within this of the frame-RMS peak count as voiced (SNR reference)


DEFAULT_WPM = 175  # espeak-ng's default rate; other engines' speeds are relative to it

# Held-out voices come from other engines, named "flite:<voice>" or "festival:<voice>"
# (bench/heldout.py); a plain name is an espeak-ng voice.
OTHER_ENGINES = {
    "flite": "apt-get install flite",
    "festival": "apt-get install festival festvox-kallpc16k festvox-kdlpc16k festvox-us-slt-hts",
}


def espeak_version() -> str:
    try:
        out = subprocess.run(["espeak-ng", "--version"], capture_output=True, text=True, check=True).stdout
    except (OSError, subprocess.CalledProcessError) as exc:
        raise RuntimeError("espeak-ng is needed to build the bench corpus (apt-get install espeak-ng)") from exc
    return out.split("Data at")[0].strip()


def engine_versions(engines: list[str]) -> dict[str, str]:
    """Versions of the other engines a corpus uses; a clear error for one that is missing."""
    versions = {}
    for engine in engines:
        try:  # flite prints its version and exits 1
            proc = subprocess.run([engine, "--version"], capture_output=True, text=True)
        except OSError as exc:
            raise RuntimeError(f"{engine} is needed for the held-out voices ({OTHER_ENGINES[engine]})") from exc
        lines = [ln.strip() for ln in (proc.stdout + proc.stderr).splitlines() if ln.strip()]
        versions[engine] = next(
            (ln for ln in lines if "version" in ln.lower() or "release" in ln.lower()), lines[0] if lines else ""
        )
    return versions


def synth(text: str, voice: str, speed: int, pitch: int) -> np.ndarray:
    """Text -> 16 kHz mono float32, by espeak-ng, or flite / festival for "engine:voice" names.

    `speed` is in words per minute; `pitch` (0-99) only steers espeak-ng.
    """
    engine, _, name = voice.rpartition(":")
    stretch = f"{DEFAULT_WPM / speed:.3f}"
    if engine == "flite":
        wav = _written_wav(["flite", "-voice", name, "--setf", f"duration_stretch={stretch}", "-t", text, "-o"])
    elif engine == "festival":
        script = ["-eval", f"(voice_{name})", "-eval", f"(Parameter.set 'Duration_Stretch {stretch})"]
        wav = _written_wav(["text2wave", *script, "-o"], stdin=text.encode())
    else:
        wav = subprocess.run(
            ["espeak-ng", "-v", voice, "-s", str(speed), "-p", str(pitch), "--stdout", text],
            capture_output=True,
            check=True,
        ).stdout
    audio = _to_float(wav)
    if len(audio) < FRAME:
        raise RuntimeError(f"{engine or 'espeak-ng'} produced no audio for {text!r} ({voice})")
    return audio


def _written_wav(args: list[str], stdin: bytes | None = None) -> bytes:
    """The WAV file a synthesiser writes to the path appended to `args` (flite and festival have no stdout mode)."""
    with tempfile.NamedTemporaryFile(suffix=".wav") as out:
        subprocess.run([*args, out.name], input=stdin, capture_output=True, check=True)
        return Path(out.name).read_bytes()


def _to_float(wav: bytes) -> np.ndarray:
    raw = subprocess.run(
        # float output: no dither, so the same text gives the same samples every time
        [
            "sox",
            "-q",
            "-R",
            "-t",
            "wav",
            "-",
            "-t",
            "raw",
            "-e",
            "floating-point",
            "-b",
            "32",
            "-c",
            "1",
            "-r",
            str(SAMPLE_RATE),
            "-",
        ],
        input=wav,
        capture_output=True,
        check=True,
    ).stdout
    return np.frombuffer(raw, dtype="<f4").astype(np.float32)


def _frame_db(audio: np.ndarray) -> np.ndarray:
    n = len(audio) // FRAME
    frames = audio[: n * FRAME].reshape(n, FRAME)
    rms = np.sqrt(np.mean(frames.astype(np.float64) ** 2, axis=1))
    return 20 * np.log10(rms + 1e-12)


def trim(audio: np.ndarray, lead: bool = True) -> np.ndarray:
    """Drop 10 ms frames below TRIM_DB relative to the peak at the end (and start)."""
    db = _frame_db(audio)
    peak_db = 20 * math.log10(float(np.max(np.abs(audio))) + 1e-12)
    loud = np.nonzero(db > peak_db + TRIM_DB)[0]
    if len(loud) == 0:
        return audio
    start = int(loud[0]) * FRAME if lead else 0
    end = min(len(audio), (int(loud[-1]) + 1) * FRAME)
    return audio[start:end]


def voiced_rms(audio: np.ndarray) -> float:
    db = _frame_db(audio)
    voiced = db > db.max() + VOICED_DB
    n = len(db)
    frames = audio[: n * FRAME].reshape(n, FRAME)[voiced]
    return float(np.sqrt(np.mean(frames.astype(np.float64) ** 2)))


def coloured_noise(n: int, colour: str, rng: np.random.Generator) -> np.ndarray:
    """Pink (1/f) or brown (1/f^2) power spectrum, high-passed at 20 Hz, unit RMS."""
    spec = np.fft.rfft(rng.standard_normal(n))
    freqs = np.fft.rfftfreq(n, 1 / SAMPLE_RATE)
    shape = np.zeros_like(freqs)
    ok = freqs >= 20
    shape[ok] = 1 / np.sqrt(freqs[ok]) if colour == "pink" else 1 / freqs[ok]
    noise = np.fft.irfft(spec * shape, n)
    return noise / (np.sqrt(np.mean(noise**2)) + 1e-12)


def make_noise(n: int, spec: dict[str, Any]) -> np.ndarray:
    rng = np.random.default_rng(spec["seed"])
    noise = coloured_noise(n, spec["colour"], rng)
    if spec.get("hum_hz"):
        t = np.arange(n) / SAMPLE_RATE
        hum = sum(np.sin(2 * np.pi * spec["hum_hz"] * k * t + rng.uniform(0, 2 * np.pi)) / k for k in (1, 2, 3))
        hum /= np.sqrt(np.mean(hum**2))
        noise = noise + hum * 10 ** (spec["hum_db"] / 20)
        noise /= np.sqrt(np.mean(noise**2))
    return noise


def finish(audio: np.ndarray, speech: np.ndarray, plan: dict[str, Any]) -> np.ndarray:
    """Scale to the planned level and mix noise at the planned SNR."""
    ref = voiced_rms(speech)
    gain = 10 ** (plan["level_dbfs"] / 20) / (ref + 1e-12)
    audio = audio * gain
    if plan["noise"] is not None:
        noise = make_noise(len(audio), plan["noise"])
        noise *= ref * gain / 10 ** (plan["noise"]["snr_db"] / 20)
        audio = audio + noise
    peak = float(np.max(np.abs(audio)))
    if peak > 0.95:
        audio = audio * (0.95 / peak)
    return audio.astype(np.float32)


def write_wav(path: Path, audio: np.ndarray) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    pcm = np.clip(np.round(audio * 32767), -32768, 32767).astype("<i2")
    tmp = path.with_suffix(".tmp")
    with wave.open(str(tmp), "wb") as wf:
        wf.setnchannels(1)
        wf.setsampwidth(2)
        wf.setframerate(SAMPLE_RATE)
        wf.writeframes(pcm.tobytes())
    os.replace(tmp, path)


def silence(seconds: float) -> np.ndarray:
    return np.zeros(int(round(seconds * SAMPLE_RATE)), np.float32)
