"""Test media for a real browser's fake camera and microphone, made at test time.

Chromium's `--use-file-for-fake-video-capture` takes a raw YUV4MPEG2 file, which
must be 4:2:0 (anything else makes getUserMedia fail with NotFoundError and no
message), and `--use-file-for-fake-audio-capture` takes a WAV. Both loop. A 10 s
640x480 Y4M is about 69 MB, so nothing here is checked in: it is written into a
temporary directory by the test that needs it.
"""

from __future__ import annotations

import subprocess
import wave
from collections.abc import Iterable, Iterator
from pathlib import Path

import cv2
import numpy as np

from tests.support import faces

WIDTH, HEIGHT, FPS = 640, 480, 15


def write_y4m(path: Path, frames: Iterable[np.ndarray], fps: int = FPS) -> Path:
    """Write RGB uint8 frames (all the same size, even width and height) as raw 4:2:0 YUV4MPEG2."""
    path = Path(path)
    frames = iter(frames)
    first = next(frames, None)
    if first is None:
        raise ValueError("write_y4m needs at least one frame")
    height, width = first.shape[:2]
    if width % 2 or height % 2:
        raise ValueError(f"4:2:0 needs an even frame size, got {width}x{height}")
    with open(path, "wb") as out:
        # C420jpeg: 4:2:0 with JPEG (centred) chroma siting, full-range is not implied.
        out.write(f"YUV4MPEG2 W{width} H{height} F{int(fps)}:1 Ip A1:1 C420jpeg\n".encode("ascii"))
        for frame in _chain(first, frames):
            if frame.shape != (height, width, 3) or frame.dtype != np.uint8:
                raise ValueError(f"every frame must be RGB uint8 {height}x{width}x3, got {frame.shape} {frame.dtype}")
            i420 = cv2.cvtColor(np.ascontiguousarray(frame), cv2.COLOR_RGB2YUV_I420)  # (h*3/2, w): Y, then U, then V
            out.write(b"FRAME\n")
            out.write(i420.tobytes())
    return path


def _chain(first: np.ndarray, rest: Iterable[np.ndarray]) -> Iterator[np.ndarray]:
    yield first
    yield from rest


def read_y4m_header(path: Path) -> dict[str, str]:
    """The header fields of a Y4M file, e.g. {"W": "640", "H": "480", "F": "15:1", "C": "420jpeg"}."""
    with open(path, "rb") as f:
        line = f.readline().decode("ascii").split()
    if not line or line[0] != "YUV4MPEG2":
        raise ValueError(f"{path} is not a YUV4MPEG2 file")
    return {field[0]: field[1:] for field in line[1:]}


def face_video(kind: str = "hopper", seconds: float = 5.0, fps: int = FPS, seed: int = 0) -> list[np.ndarray]:
    """A real face moving gently as in a webcam: RGB uint8 640x480 frames.

    `kind` is "hopper" (Grace Hopper) or "astronaut" (Eileen Collins), both
    public domain. The face is centred at about 170 px wide, sways, turns a
    little, moves closer and further, and the light changes slowly; the
    motion is gentle so a face tracker keeps it in every frame.
    """
    if kind == "hopper":
        image, spot = faces.hopper(), faces.HOPPER_FACE
    elif kind == "astronaut":
        image, spot = faces.astronaut(), faces.ASTRONAUT_FACE
    else:
        raise ValueError(f"unknown face {kind!r}: use 'hopper' or 'astronaut'")
    n = max(1, round(seconds * fps))
    return faces.animate(
        image,
        n,
        size=(WIDTH, HEIGHT),
        seed=seed,
        spot=spot,
        face_width=170.0,
        shift_px=12.0,
        angle_deg=3.0,
        scale_jitter=0.03,
        light=0.06,
        noise=2.0,
        fps=float(fps),
        period_s=4.0,
    )


def speech_wav(
    path: Path,
    text: str = "Shall we have dinner tonight? I know a place.",
    total_s: float = 9.0,
    lead_s: float = 0.5,
    voice: str = "en-us",
    wpm: int = 150,
    rate: int = 48000,
) -> Path:
    """espeak-ng speaking `text` after `lead_s` of silence, padded with silence to `total_s`, as a mono WAV.

    Chromium loops the file, so the phrase comes back every `total_s` seconds.
    """
    path = Path(path)
    raw = path.with_name(path.stem + ".espeak.wav")
    subprocess.run(["espeak-ng", "-v", voice, "-s", str(wpm), "-w", str(raw), text], check=True, capture_output=True)
    try:
        subprocess.run(
            ["sox", "-R", str(raw), "-r", str(rate), "-c", "1", "-b", "16", str(path), "pad", str(lead_s), "0"],
            check=True,
            capture_output=True,
        )
    finally:
        raw.unlink(missing_ok=True)
    spoken = wav_duration(path)
    if spoken > total_s:
        raise ValueError(f"the speech lasts {spoken:.1f} s, longer than the {total_s} s loop")
    samples = _read_pcm(path)
    padded = np.concatenate([samples, np.zeros(round(total_s * rate) - len(samples), np.int16)])
    _write_pcm(path, padded, rate)
    return path


def silence_wav(path: Path, seconds: float = 5.0, rate: int = 48000) -> Path:
    """Digital silence as a mono 16-bit WAV."""
    return _write_pcm(Path(path), np.zeros(round(seconds * rate), np.int16), rate)


def wav_duration(path: Path) -> float:
    with wave.open(str(path), "rb") as w:
        return w.getnframes() / w.getframerate()


def _read_pcm(path: Path) -> np.ndarray:
    with wave.open(str(path), "rb") as w:
        if w.getsampwidth() != 2 or w.getnchannels() != 1:
            raise ValueError(f"{path}: expected mono 16-bit PCM")
        return np.frombuffer(w.readframes(w.getnframes()), np.int16)


def _write_pcm(path: Path, samples: np.ndarray, rate: int) -> Path:
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(samples.astype(np.int16).tobytes())
    return path
