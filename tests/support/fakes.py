"""Scripted stand-ins for the VAD and the recogniser, for unit tests of engine logic."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from triggers.asr import Decoding, Word
from triggers.audio import SAMPLE_RATE
from triggers.engine import EngineConfig, TriggerEngine
from triggers.events import Event, TriggerEvent
from triggers.recognizer import Recognizer
from triggers.vad import VoiceDetector


class ScriptedVAD:
    """Speech exactly inside the given (start_s, end_s) spans; ends 0.35 s after a span."""

    def __init__(self, spans: list[tuple[float, float]], hangover_s: float = 0.35) -> None:
        self.spans = spans
        self.hangover = hangover_s
        self.fed = 0
        self.in_speech = False
        self.speech_start = 0

    @property
    def silence_start_s(self) -> float:
        t = self.fed / SAMPLE_RATE
        if any(start <= t < end for start, end in self.spans):
            return t
        ended = [e for s, e in self.spans if e <= t]
        return max(ended) if ended else 0.0

    @property
    def silence_s(self) -> float:
        return self.fed / SAMPLE_RATE - self.silence_start_s

    @property
    def pauses(self) -> list[tuple[float, float]]:
        """Gaps between spans that speech has already resumed after."""
        t = self.fed / SAMPLE_RATE
        return [(a_end, b_start) for (_, a_end), (b_start, _) in zip(self.spans, self.spans[1:]) if b_start <= t]

    def feed(self, samples: np.ndarray) -> int | None:
        self.fed += len(samples)
        t = self.fed / SAMPLE_RATE
        for start, end in self.spans:
            if start <= t < end + self.hangover:
                if not self.in_speech:
                    self.in_speech, self.speech_start = True, int(start * SAMPLE_RATE)
                return None
        if self.in_speech:
            self.in_speech = False
            ended = [e for s, e in self.spans if e <= t]
            return int(max(ended) * SAMPLE_RATE)
        return None


class ScriptedRecognizer:
    """Recognises scripted words once the window has reached `lag_s` past their end.

    `deficit` is what forcing a phrase into a misheard span costs, in nats,
    `biased` what a phrase-biased second decode hears and `plain` what a decode
    without hotwords hears (None: the same words). Scored on their own, the
    decoded words cost `alone` nats outright (by default more than any limit, so
    that the verifier compares them with another reading) and any other reading
    `deficit` nats less.
    """

    def __init__(
        self,
        words: list[Word],
        lag_s: float = 0.05,
        deficit: float = 2.0,
        biased: list[str] | None = None,
        plain: list[str] | None = None,
        alone: float = 50.0,
    ) -> None:
        self.words = words
        self.alone = alone
        self.plain = plain
        self.lag = lag_s
        self.deficit = deficit
        self.biased = biased
        self.redecodes = 0
        self.rewrite_calls = 0
        self.windows: list[tuple[float, float]] = []
        self.score_calls = 0

    def decode(self, audio: np.ndarray, offset_s: float, hotwords: str | None = None) -> Decoding:
        end = offset_s + len(audio) / SAMPLE_RATE
        self.windows.append((offset_s, end))
        seen = [w for w in self.words if w.start >= offset_s - 0.01 and w.end + self.lag <= end]
        return Decoding(seen, offset_s, no_speech_prob=0.0, avg_logprob=-0.1, encoder_output=None)

    def redecode(
        self, decoding: Decoding, hotwords: str | None, prefix: Sequence[str] = (), max_new_tokens: int | None = None
    ) -> list[str]:
        self.redecodes += 1
        heard = [w.text for w in decoding.words]
        if hotwords is None:
            return self.plain[: len(heard) + 1] if self.plain is not None else heard
        return self.biased if self.biased is not None else heard

    def rewrites(self, decoding: Decoding, hotwords: str, n: int) -> list[list[str]]:
        self.rewrite_calls += 1
        heard = [w.text for w in decoding.words]
        return [self.biased, heard] if self.biased is not None else [heard]

    def timed(self, decoding: Decoding, words: Sequence[str]) -> list[Word]:
        """A reading's words spread evenly over the span of the decoded words."""
        if not decoding.words:
            return []
        start, end = decoding.words[0].start, decoding.words[-1].end
        step = (end - start) / len(words)
        return [Word(w, start + i * step, start + (i + 1) * step, 0.9) for i, w in enumerate(words)]

    def tokens_for(self, words: Sequence[str]) -> list[int]:
        return [hash(w) % 50000 for w in words]

    def score(self, decoding: Decoding, sequences: Sequence[Sequence[int]]) -> list[float]:
        self.score_calls += 1
        if len(sequences) == 1:  # the decoded words cost `alone`; another reading `deficit` less
            decoded = list(sequences[0]) == self.tokens_for([w.text for w in decoding.words])
            return [-self.alone if decoded else self.deficit - self.alone]
        if self.biased is not None and list(sequences[1]) == self.tokens_for(self.biased):
            return [0.0, -1.0]  # the biased rewrite is cheap
        return [0.0, -self.deficit]


def words(*spec: tuple[str, float, float]) -> list[Word]:
    return [Word(t, s, e, 0.9) for t, s, e in spec]


def run(engine: TriggerEngine, seconds: float, chunk_s: float = 0.02) -> list[Event]:
    """Feed `seconds` of silence-valued audio in 20 ms chunks, then flush."""
    events: list[Event] = []
    n = int(round(seconds / chunk_s))
    chunk = np.zeros(int(chunk_s * SAMPLE_RATE), np.float32)
    for _ in range(n):
        events += engine.feed(chunk)
    return events + engine.flush()


def _is_a_recognizer(fake: ScriptedRecognizer) -> Recognizer:
    return fake  # mypy checks the fake against the protocol


def _is_a_voice_detector(fake: ScriptedVAD) -> VoiceDetector:
    return fake  # mypy checks the fake against the protocol


SENTENCE = words(
    ("shall", 0.5, 0.7), ("we", 0.7, 0.8), ("have", 0.8, 1.0), ("dinner", 1.0, 1.3), ("tonight?", 1.3, 1.7)
)  # "dinner tonight" ends at 1.7 s


def scripted_engine(
    script: list[Word], spans: list[tuple[float, float]], phrases: Sequence[str] = ("dinner tonight",), **cfg: Any
) -> tuple[TriggerEngine, ScriptedRecognizer]:
    """An engine on a scripted recogniser and VAD; recogniser options in `cfg` go to it, the rest to EngineConfig."""
    options = {k: cfg.pop(k) for k in ("deficit", "lag_s", "biased", "plain", "alone") if k in cfg}
    recognizer = ScriptedRecognizer(script, **options)
    engine = TriggerEngine(
        list(phrases), recognizer=recognizer, config=EngineConfig(**cfg), participant="ana", vad=ScriptedVAD(spans)
    )
    return engine, recognizer


def trigger_events(events: Sequence[Event]) -> list[TriggerEvent]:
    return [e for e in events if isinstance(e, TriggerEvent)]
