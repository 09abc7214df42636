"""Audio input: any PyAV-readable file or live frames -> 16 kHz mono float32."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import av
import numpy as np

SAMPLE_RATE = 16_000
CHUNK_SAMPLES = 320  # 20 ms, the size of one WebRTC audio frame
# A container that declares this much more audio than decodes is truncated.
_TRUNCATION_TOLERANCE_S = 0.25


class AudioError(ValueError):
    """A file cannot be used as audio; the message is one line, fit for a user."""


class StreamResampler:
    """Converts frames of any rate and layout to 16 kHz mono float32 with PyAV."""

    def __init__(self) -> None:
        self._resampler = av.AudioResampler(format="flt", layout="mono", rate=SAMPLE_RATE)

    def push(self, frame: av.AudioFrame) -> np.ndarray:
        frame.pts = None  # resample by sample count; live timestamps may jump
        return _concat(self._resampler.resample(frame))

    def push_s16(self, samples: np.ndarray, rate: int, channels: int) -> np.ndarray:
        """Accept interleaved s16 PCM, as WebRTC delivers it (48 kHz stereo, 20 ms)."""
        layout = "stereo" if channels == 2 else "mono"
        frame = av.AudioFrame.from_ndarray(samples.reshape(1, -1).astype(np.int16), format="s16", layout=layout)
        frame.sample_rate = rate
        return self.push(frame)

    def flush(self) -> np.ndarray:
        return _concat(self._resampler.resample(None))


def _concat(frames: list[av.AudioFrame]) -> np.ndarray:
    if not frames:
        return np.zeros(0, np.float32)
    return np.concatenate([f.to_ndarray().reshape(-1) for f in frames]).astype(np.float32, copy=False)


def load_audio(path: str | os.PathLike[str]) -> np.ndarray:
    """Decode the first audio stream of a file to 16 kHz mono float32.

    Raises AudioError with a one-line reason for missing, empty, non-audio,
    audio-less or truncated files.
    """
    path = Path(path)
    if not path.exists():
        raise AudioError(f"{path}: no such file")
    if path.is_dir():
        raise AudioError(f"{path}: is a directory, not an audio file")
    if path.stat().st_size == 0:
        raise AudioError(f"{path}: file is empty")
    try:
        container = av.open(str(path))
    except av.FFmpegError as exc:
        raise AudioError(f"{path}: not a readable audio or video file ({_reason(exc)})") from exc
    with container:
        if not container.streams.audio:
            raise AudioError(f"{path}: has no audio stream")
        stream = container.streams.audio[0]
        declared_s = _declared_duration(container, stream)
        resampler = StreamResampler()
        parts: list[np.ndarray] = []
        try:
            for frame in container.decode(stream):
                parts.append(resampler.push(frame))
        except av.FFmpegError as exc:
            raise AudioError(f"{path}: audio is corrupt ({_reason(exc)})") from exc
        parts.append(resampler.flush())
    audio = np.concatenate(parts) if parts else np.zeros(0, np.float32)
    _check_wav_complete(path)
    decoded_s = len(audio) / SAMPLE_RATE
    if declared_s is not None and decoded_s + _TRUNCATION_TOLERANCE_S < declared_s:
        raise AudioError(f"{path}: truncated: declares {declared_s:.2f} s of audio but only {decoded_s:.2f} s decode")
    if len(audio) == 0:
        raise AudioError(f"{path}: audio stream holds no samples")
    return audio


def _declared_duration(container: av.container.InputContainer, stream: av.audio.stream.AudioStream) -> float | None:
    if stream.duration is not None and stream.time_base is not None:
        return float(stream.duration * stream.time_base)
    if container.duration is not None and container.format.name in ("wav", "aiff", "flac"):
        return container.duration / av.time_base
    return None


def _check_wav_complete(path: Path) -> None:
    """FFmpeg decodes a cut-off WAV silently; compare the header's data size to the file."""
    with open(path, "rb") as fh:
        head = fh.read(12)
        if len(head) < 12 or head[:4] != b"RIFF" or head[8:12] != b"WAVE":
            return
        while True:
            chunk = fh.read(8)
            if len(chunk) < 8:
                return
            size = int.from_bytes(chunk[4:], "little")
            if chunk[:4] == b"data":
                present = path.stat().st_size - fh.tell()
                # 0 and 0xFFFFFFFF mean "unknown" in streamed WAVs.
                if 0 < size < 0xFFFFFFFF and present < size:
                    raise AudioError(
                        f"{path}: truncated WAV: header declares {size} bytes of audio, file holds {present}"
                    )
                return
            fh.seek(size + (size & 1), 1)


def _reason(exc: av.FFmpegError) -> str:
    return (getattr(exc, "strerror", None) or str(exc)).strip().splitlines()[0]


def chunks(audio: np.ndarray, size: int = CHUNK_SAMPLES) -> Iterator[np.ndarray]:
    """Split audio into fixed-size chunks; the last one may be shorter."""
    for start in range(0, len(audio), size):
        yield audio[start : start + size]
