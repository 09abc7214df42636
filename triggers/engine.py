"""The trigger engine: 16 kHz audio in, transcript and trigger events out.

Per stream: VAD opens an utterance; while it lasts, the window since its start is
re-decoded every `step_s` of audio and at every pause; LocalAgreement splits
committed from tentative words; every hypothesis, tentative words included, is
searched for phrases so triggers fire early, and so is each decode's own reading
of words already committed. At each pause and at the utterance's end a beam
reads the window once more (sweep.py). The window is bounded (committed words
are released from its front), so cost per audio second stays flat however long
the call runs.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from triggers.asr import Decoding, WhisperRecognizer, Word
from triggers.audio import SAMPLE_RATE
from triggers.events import Event, TranscriptEvent, TriggerEvent
from triggers.held import HeldPhrases
from triggers.matcher import Candidate, Phrase, PhraseMatcher
from triggers.occurrences import Occurrences
from triggers.pauses import Pauses
from triggers.policy import LocalAgreement
from triggers.recognizer import Recognizer
from triggers.sweep import placed, sweep
from triggers.vad import VADConfig, VoiceActivity, VoiceDetector
from triggers.verify import AcousticVerifier, DeficitLimits

_VAD_STEP_S = 0.032  # the VAD's silence_s advances in steps of one Silero window
_MIN_GAP_S = 0.1  # decodes scheduled for a waiting candidate are at least this far apart
MEMORY_S = 120.0  # fired and rejected phrases are remembered this long (seconds of audio), then forgotten


@dataclass(frozen=True)
class EngineConfig:
    step_s: float = 1.0  # audio between decodes while someone speaks
    alert_step_s: float = 0.3  # ... while the last words resemble a phrase word
    alert_hold_s: float = 1.5  # how long a resemblance keeps the fast pace
    max_window_s: float = 8.0  # the decode window never grows past this
    keep_s: float = 2.0  # audio kept in the window after a release
    preroll_s: float = 0.3  # audio before VAD onset included in the window
    edge_guard_s: float = 0.15  # a tentative phrase must end this far before the window's end
    # A phrase that ends the hypothesis fires once the speaker pauses this long,
    # or once this much audio follows it: cut mid-word, Whisper completes words
    # that were never said and aligns them to the window's last frames.
    pause_s: float = 0.15
    # On Opus-coded call audio the VAD's pause completes about 0.43 s after the
    # aligned end, so in a call this is what releases a phrase. 0.2 s gives the
    # bench corpus the verdicts of longer guards, and it stays above edge_guard_s
    # (docs/experiments.md, 'Settle guard').
    settled_s: float = 0.2
    # A phrase found with this much silence after it is verified at once and
    # fires when that same silence reaches pause_s (see _falling_silent).
    hold_silence_s: float = 0.096
    # A misheard phrase is verified only with this much audio after it: forcing
    # the phrase's last words into audio that was cut off costs nothing.
    verify_guard_s: float = 0.3
    limits: DeficitLimits = field(default_factory=DeficitLimits)  # nats; see verify.py
    hotwords: bool = True  # bias decoding towards the phrases
    no_speech_prob: float = 0.6  # with a low logprob, the decode is taken as non-speech
    min_avg_logprob: float = -1.0
    vad: VADConfig = field(default_factory=VADConfig)


_Confirmed = tuple[Candidate, float]  # the span that passed, and its confidence


class TriggerEngine:
    """Streaming recogniser and phrase spotter for one participant's audio."""

    def __init__(
        self,
        phrases: Sequence[Phrase | str],
        recognizer: Recognizer | None = None,
        config: EngineConfig = EngineConfig(),
        participant: str = "",
        vad: VoiceDetector | None = None,
    ) -> None:
        self.config = config
        self.participant = participant
        self.recognizer = recognizer or WhisperRecognizer()
        self._verifier = AcousticVerifier(self.recognizer, config.limits)
        self.set_phrases(phrases)
        self._vad = vad or VoiceActivity(config.vad)
        self._pauses = Pauses(self._vad, config.pause_s, config.hold_silence_s, config.edge_guard_s)
        self._audio = np.zeros(0, np.float32)
        self._start = 0  # stream sample index of self._audio[0]
        self._fed = 0
        self._active = False
        self._last_decode = 0
        self._last_decoding: Decoding | None = None
        self._silence_at_decode = 0.0  # the VAD's silence_s when the last decode ran
        self._due_s = math.inf  # a waiting candidate's guards pass then: decode
        self._policy = LocalAgreement()
        self._fired = Occurrences()
        self._held = HeldPhrases(self._pauses, self._fired)
        self._rejected: set[tuple[str, str, float]] = set()
        self._last_partial = ""
        self._alert_until = 0.0
        self._sweep_due: tuple[Decoding, list[Word]] | None = None
        self._paused_at_s = -1.0  # the silence_start_s of the last pause decoded and swept
        self._swept: Decoding | None = None

    @staticmethod
    def parse_phrases(phrases: Sequence[Phrase | str]) -> list[Phrase]:
        """Validate phrases; raises PhraseError for one that cannot be heard."""
        return [p if isinstance(p, Phrase) else Phrase.parse(p) for p in phrases]

    def set_phrases(self, phrases: Sequence[Phrase | str]) -> None:
        """Replace the phrases listened for; takes effect at the next decode."""
        parsed = self.parse_phrases(phrases)
        self._matcher = PhraseMatcher(parsed)
        # Recognition is biased towards the phrases; exact matches are then
        # checked against an unbiased decode (see _confirm).
        self._hotwords = ", ".join(p.text for p in parsed) if self.config.hotwords else None

    @property
    def now_s(self) -> float:
        """Seconds of audio fed so far: the stream clock."""
        return self._fed / SAMPLE_RATE

    def feed(self, samples: np.ndarray) -> list[Event]:
        """Take 16 kHz mono float32 samples of any length; return new events."""
        self._audio = np.concatenate([self._audio, samples.astype(np.float32, copy=False)])
        self._fed += len(samples)
        ended = self._vad.feed(samples)
        events: list[Event] = [*self._held.settle(self.now_s), *self._run_sweep()]
        if events and ended is None:
            return events  # now, not after a decode; the next feed decodes if one is due
        if not self._active and (self._vad.in_speech or ended is not None):
            self._open(self._vad.speech_start)
        if not self._active:
            self._keep_preroll()
            return events
        if ended is not None and not self._vad.in_speech:
            return events + self._decode(final=True)
        step_done = self._fed - self._last_decode >= self._step_s() * SAMPLE_RATE
        pause = self._pause_began()
        if step_done or pause or self.now_s >= self._due_s:
            events += self._decode(final=False)
            if pause and self._last_decoding is not None:
                self._paused_at_s = self._vad.silence_start_s
                self._queue_sweep(self._last_decoding)
        return events

    def _paused(self) -> bool:
        return self._vad.silence_s >= self.config.pause_s

    def _on_alert(self) -> bool:
        """The last words resembled a phrase word recently."""
        return self.now_s < self._alert_until

    def _pause_began(self) -> bool:
        """A pause after speech: worth one decode at once (none if the last one ran in it) and a sweep."""
        return self._paused() and self._vad.silence_start_s != self._paused_at_s

    def _step_s(self) -> float:
        return self.config.alert_step_s if self._on_alert() else self.config.step_s

    def flush(self) -> list[Event]:
        """End of stream: finalise the open utterance."""
        events: list[Event] = [*self._held.settle(self.now_s, stream_end=True), *self._run_sweep()]
        if self._active:
            events += [*self._decode(final=True), *self._run_sweep()]
        return events

    # -- window management -------------------------------------------------

    def _open(self, speech_start: int) -> None:
        start = max(self._start, speech_start - int(self.config.preroll_s * SAMPLE_RATE))
        self._drop_before(start)
        self._active = True
        self._last_decode = self._fed

    def _keep_preroll(self) -> None:
        self._drop_before(self._fed - int(self.config.preroll_s * SAMPLE_RATE))

    def _drop_before(self, sample: int) -> None:
        if sample > self._start:
            self._audio = self._audio[sample - self._start :]
            self._start = sample
            self._last_decoding = None  # it decoded another window

    def _release_front(self) -> list[Event]:
        """Bound the window: committed words older than keep_s leave it."""
        cfg = self.config
        if (self._fed - self._start) < cfg.max_window_s * SAMPLE_RATE:
            return []
        horizon = self.now_s - cfg.keep_s
        fits = [w.end for w in self._policy.committed if w.end <= horizon]
        if not fits:  # nothing agreed for a whole window: commit it rather than grow
            self._policy.finalize()
            fits = [w.end for w in self._policy.committed] or [horizon]
        released = self._policy.release_until(fits[-1])
        self._drop_before(int(fits[-1] * SAMPLE_RATE))
        return [self._transcript(released, final=True)] if released else []

    # -- decoding ------------------------------------------------------------

    def _decode(self, final: bool) -> list[Event]:
        self._due_s = math.inf
        decoding = self._reusable_decoding() or self.recognizer.decode(
            self._audio, self._start / SAMPLE_RATE, self._hotwords
        )
        self._last_decode, self._last_decoding = self._fed, decoding
        self._silence_at_decode = self._vad.silence_s
        heard = [] if self._is_non_speech(decoding) else decoding.words
        self._policy.update(heard)
        if final:
            self._policy.finalize()
        words = self._policy.committed + self._policy.tentative
        if self._matcher.near_onset([w.text for w in words]):
            self._alert_until = self.now_s + self.config.alert_hold_s
        events: list[Event] = list(self._detect(decoding, words, final, len(self._policy.committed)))
        if [w.text for w in heard] != [w.text for w in words]:
            # Committed words keep an early reading of their audio; a later decode,
            # with more context, may hear the phrase there ("an island in shoes" ->
            # "a good place to buy running shoes"). Search it too, for the phrase as
            # written: misheard spans there fired on near-misses in the bench corpus.
            stable = sum(1 for w in heard if w.end <= self._policy.committed_end)
            events.extend(self._detect(decoding, heard, final, stable, exact_only=True))
        if final:
            self._queue_sweep(decoding)
            if words:
                events.append(self._transcript(words, final=True))
            self._close()
        else:
            events.extend(self._partial(words))
            events.extend(self._release_front())
        return events

    def _reusable_decoding(self) -> Decoding | None:
        """The last decoding, when all audio since it is silence.

        If the speaker had already paused when the last decode ran, its words
        were complete; decoding the same window plus silence would only cost
        time (and invite Whisper to fill the silence).
        """
        last = self._last_decoding
        if last is None:
            return None
        since = (self._fed - self._last_decode) / SAMPLE_RATE
        still_silent = self._vad.silence_s + _VAD_STEP_S >= self._silence_at_decode + since
        return last if self._silence_at_decode >= self.config.pause_s and still_silent else None

    def _is_non_speech(self, decoding: Decoding) -> bool:
        cfg = self.config
        return decoding.no_speech_prob > cfg.no_speech_prob and decoding.avg_logprob < cfg.min_avg_logprob

    def _close(self) -> None:
        self._active = False
        self._last_decoding = None
        self._policy = LocalAgreement()
        self._last_partial = ""
        self._keep_preroll()

    # -- events ------------------------------------------------------------------

    def _partial(self, words: list[Word]) -> list[Event]:
        text = " ".join(w.text for w in words)
        if not words or text == self._last_partial:
            return []
        self._last_partial = text
        return [self._transcript(words, final=False)]

    def _transcript(self, words: list[Word], final: bool) -> TranscriptEvent:
        text = " ".join(w.text for w in words)
        return TranscriptEvent(self.participant, text, round(words[0].start, 3), round(words[-1].end, 3), final)

    def _detect(
        self, decoding: Decoding, words: list[Word], final: bool, n_committed: int, exact_only: bool = False
    ) -> list[TriggerEvent]:
        """Trigger events for phrases in `words`, whose first `n_committed` are stable."""
        events = []
        window_end = self.now_s
        for cand in self._matcher.candidates([w.text for w in words]):
            if exact_only and not cand.exact:
                continue
            start, end = words[cand.first].start, words[cand.last].end
            if self._fired.suppressed(cand.phrase, start, end):
                continue
            ready = 0.0 if final else self._ready_at(cand, words)
            hold = ready > window_end and self._falling_silent(cand, words)
            if ready > window_end and not hold:  # decode again as soon as it can pass
                self._due_s = min(self._due_s, max(ready, window_end + _MIN_GAP_S))
                continue
            confirmed = self._confirm(decoding, words, cand, committed=cand.last < n_committed)
            if confirmed is None:
                continue
            cand, confidence = confirmed
            start, end = words[cand.first].start, words[cand.last].end
            fired = self._fired.add(cand.phrase, start, end)  # a held phrase is not heard twice either
            event = self._event(cand, end, confidence)
            if hold:
                self._held.hold(event, fired, self._vad.silence_start_s)
            else:
                events.append(event)
        self._forget_before(window_end - MEMORY_S)
        return events

    def _forget_before(self, t: float) -> None:
        """Fired and rejected phrases older than `t` can no longer be in a window: forget them."""
        self._fired.forget_before(t)
        self._rejected = {key for key in self._rejected if key[2] >= t}

    def _queue_sweep(self, decoding: Decoding) -> None:
        """At a pause or an utterance's end: read the window once more (see sweep.py), at the next feed.

        Deferred so that what the decode found goes out first, and skipped
        where a phrase already fired in the window: live, that phrase's ad is
        starting then, and a sweep beside it would delay the ad's first frame.
        Each decoding is swept once, whatever its words
        (docs/experiments.md, 'Sweep scope').
        """
        heard = [] if self._is_non_speech(decoding) else decoding.words
        fired_here = self._fired.any_since(self._start / SAMPLE_RATE)
        if self._hotwords is not None and heard and not fired_here and decoding is not self._swept:
            self._sweep_due, self._swept = (decoding, heard), decoding

    def _run_sweep(self) -> list[TriggerEvent]:
        """Phrases the queued sweep finds, unless that occurrence already fired."""
        if self._sweep_due is None or self._hotwords is None:
            return []
        (decoding, heard), self._sweep_due = self._sweep_due, None
        events = []
        for find in sweep(self.recognizer, self._verifier, decoding, heard, self._matcher.phrases, self._hotwords):
            if not self._fired.suppressed(find.candidate.phrase, find.start_s, find.end_s):
                self._fired.add(find.candidate.phrase, find.start_s, find.end_s)
                events.append(self._event(find.candidate, find.end_s, find.confidence))
        return events

    def _event(self, cand: Candidate, end_s: float, confidence: float) -> TriggerEvent:
        return TriggerEvent(
            self.participant, cand.phrase.text, cand.heard, round(end_s, 3), round(self.now_s, 3), round(confidence, 3)
        )

    def _ready_at(self, cand: Candidate, words: list[Word]) -> float:
        """Stream time at which a tentative candidate may next pass its guards.

        Past that time it is checked now; before it, a decode is due then.
        """
        cfg = self.config
        end = words[cand.last].end
        edge = end + cfg.edge_guard_s  # the last word may still be cut off
        if not cand.exact:
            return max(edge, end + cfg.verify_guard_s)
        if cand.last < len(words) - 1 or self._paused() or self._pauses.followed(end, self.now_s):
            return edge
        return end + cfg.settled_s  # nothing after it yet (or a pause, or the next word)

    def _falling_silent(self, cand: Candidate, words: list[Word]) -> bool:
        """The phrase ends the words and the speaker has just gone quiet after it (see Pauses.falling_silent)."""
        return (
            cand.exact and cand.last == len(words) - 1 and self._pauses.falling_silent(words[cand.last].end, self.now_s)
        )

    def _confirm(self, decoding: Decoding, words: list[Word], cand: Candidate, committed: bool) -> _Confirmed | None:
        """The candidate (or an overlapping alternative) that passes, with its confidence."""
        key = (cand.phrase.key, cand.heard, round(words[cand.first].start, 1))
        if key in self._rejected:
            return None
        confirm = self._confirm_exact if cand.exact else self._confirm_misheard
        confirmed = confirm(decoding, words, cand)
        if confirmed is None and committed:  # a stable rejection need not be re-checked every decode
            self._rejected.add(key)
        return confirmed

    def _confirm_misheard(self, decoding: Decoding, words: list[Word], cand: Candidate) -> _Confirmed | None:
        """A misheard phrase (or an overlapping alternative span) checked acoustically."""
        verdicts = [(option, self._verifier.check(decoding, words, option)) for option in (cand, *cand.alternatives)]
        option, verdict = min(verdicts, key=lambda ov: ov[1].deficit)
        if not verdict.accepted and self._verifier.in_grey_zone(verdict):
            verdict = self._verifier.second_look(decoding, words, option)
            if verdict.accepted and not self._placed_at(decoding, verdict.reading, words, option):
                return None  # the rewrite has the phrase elsewhere (perhaps where it already fired)
        return (option, verdict.confidence) if verdict.accepted else None

    def _placed_at(self, decoding: Decoding, reading: Sequence[str], words: list[Word], cand: Candidate) -> bool:
        """A rewrite puts the phrase where the candidate's words are (within 0.3 s)."""
        start, end = words[cand.first].start, words[cand.last].end
        return any(
            s < end + 0.3 and e > start - 0.3 for _, s, e in placed(self.recognizer, decoding, reading, cand.phrase)
        )

    def _confirm_exact(self, decoding: Decoding, words: list[Word], cand: Candidate) -> _Confirmed | None:
        """A phrase the (biased) decoder wrote, checked against an unbiased decode."""
        probability = float(np.mean([w.probability for w in words[cand.first : cand.last + 1]]))
        if self._hotwords is None:
            return cand, probability
        verdict = self._verifier.unbiased_look(decoding, words, cand)
        return (cand, min(probability, verdict.confidence)) if verdict.accepted else None
