"""Streaming voice activity detection with the Silero v6 ONNX model.

faster-whisper's SileroVADModel resets its recurrent state on every call, so a
stream needs this wrapper, which carries state and context across calls.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from typing import Protocol

import numpy as np
import onnxruntime

from models import vad_model_path

WINDOW = 512  # samples per Silero step at 16 kHz (32 ms)
CONTEXT = 64  # samples of the previous window the model sees
_PAUSES_KEPT = 32


@dataclass(frozen=True)
class VADConfig:
    onset: float = 0.5  # probability that starts speech
    offset: float = 0.35  # probability below which speech may end
    min_silence_s: float = 0.35  # silence this long ends an utterance


class SileroStream:
    """Speech probability per 32 ms window, state carried between calls."""

    def __init__(self) -> None:
        opts = onnxruntime.SessionOptions()
        opts.inter_op_num_threads = 1
        opts.intra_op_num_threads = 1
        opts.log_severity_level = 4
        self._session = onnxruntime.InferenceSession(
            vad_model_path(), providers=["CPUExecutionProvider"], sess_options=opts
        )
        self.reset()

    def reset(self) -> None:
        self._h = np.zeros((1, 1, 128), np.float32)
        self._c = np.zeros((1, 1, 128), np.float32)
        self._context = np.zeros(CONTEXT, np.float32)

    def __call__(self, window: np.ndarray) -> float:
        x = np.concatenate([self._context, window.astype(np.float32, copy=False)])[None]
        out, self._h, self._c = self._session.run(None, {"input": x, "h": self._h, "c": self._c})
        self._context = window[-CONTEXT:]
        return float(out.reshape(-1)[0])


class VoiceDetector(Protocol):
    """What the engine needs of a voice activity detector; `VoiceActivity` is the real one, tests script one."""

    in_speech: bool
    speech_start: int  # sample at which the current (or last) utterance began

    @property
    def silence_start_s(self) -> float:
        """Where the current stretch of silence began."""
        ...

    @property
    def silence_s(self) -> float:
        """How long the stream has been silent."""
        ...

    @property
    def pauses(self) -> list[tuple[float, float]]:
        """Recent pauses within speech, (start_s, end_s)."""
        ...

    def feed(self, samples: np.ndarray) -> int | None:
        """Take a chunk; the sample where an utterance ended, if one did."""
        ...


class VoiceActivity:
    """Turns a sample stream into speech / silence with hysteresis.

    `feed` returns the sample index where speech ended when an utterance closes,
    so callers can finalise it. Sample indices are on the stream's own clock.
    """

    def __init__(self, config: VADConfig = VADConfig()) -> None:
        self.config = config
        self._model = SileroStream()
        self._pending = np.zeros(0, np.float32)
        self._seen = 0  # samples consumed by the model
        self.in_speech = False
        self.speech_start = 0
        self._last_voiced = 0  # end of the last window above offset
        self._pauses: deque[tuple[int, int]] = deque(maxlen=_PAUSES_KEPT)

    @property
    def pauses(self) -> list[tuple[float, float]]:
        """Recent silences between voiced windows, (start_s, end_s), oldest first.

        They let a caller that was busy while a pause came and went still learn
        that the speaker paused (the engine fires on a phrase followed by one).
        """
        return [(a / 16_000, b / 16_000) for a, b in self._pauses]

    @property
    def silence_start_s(self) -> float:
        """Where the current (or last) silence began: the end of the last voiced window."""
        return self._last_voiced / 16_000

    @property
    def silence_s(self) -> float:
        """Seconds since the last voiced window (0 while speech goes on)."""
        return max(0, self._seen - self._last_voiced) / 16_000

    def feed(self, samples: np.ndarray) -> int | None:
        self._pending = np.concatenate([self._pending, samples])
        ended: int | None = None
        while len(self._pending) >= WINDOW:
            window, self._pending = self._pending[:WINDOW], self._pending[WINDOW:]
            prob = self._model(window)
            start, self._seen = self._seen, self._seen + WINDOW
            ended = self._step(prob, start) or ended
        return ended

    def _step(self, prob: float, start: int) -> int | None:
        cfg = self.config
        if not self.in_speech:
            if prob >= cfg.onset:
                if 0 < self._last_voiced < start:  # the silence between utterances is a pause too
                    self._pauses.append((self._last_voiced, start))
                self.in_speech, self.speech_start, self._last_voiced = True, start, start + WINDOW
            return None
        if prob >= cfg.offset:
            if start > self._last_voiced:
                self._pauses.append((self._last_voiced, start))
            self._last_voiced = start + WINDOW
            return None
        if start + WINDOW - self._last_voiced >= cfg.min_silence_s * 16_000:
            self.in_speech = False
            return self._last_voiced
        return None
