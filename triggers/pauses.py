"""When the speaker has finished a phrase: the pauses the VAD heard, read for the trigger engine.

A trigger fires once the speaker pauses after the phrase. The engine asks:
did a pause follow a word's end (perhaps while a decode was running), is the
speaker falling silent right after it (so the phrase can be confirmed now and
held), and has the silence a held phrase waits on become a pause, or did
speech break it first.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from triggers.vad import VoiceDetector

# Where the VAD's silence after a word begins, against the word's aligned end:
# measured 0.05-0.19 s later on espeak-ng sentences (the aligner ends words early).
PAUSE_EARLY_S = 0.1
PAUSE_LATE_S = 0.3

Verdict = Literal["fire", "wait", "drop"]


@dataclass
class Pauses:
    """Reads one stream's voice activity against the engine's pause settings."""

    vad: VoiceDetector
    pause_s: float
    hold_silence_s: float
    edge_guard_s: float

    def followed(self, end_s: float, now_s: float) -> bool:
        """The speaker paused for pause_s right after `end_s` (the pause may be over by now).

        A busy engine (decoding while the audio came in) can miss a short pause
        between sentences; the VAD still heard it, and it completes the phrase
        as well as a pause going on now.
        """
        silence = self.vad.silence_s
        pauses = [*self.vad.pauses, (now_s - silence, now_s)] if silence else self.vad.pauses
        return any(
            stop - start >= self.pause_s and end_s - PAUSE_EARLY_S <= start <= end_s + PAUSE_LATE_S
            for start, stop in pauses
        )

    def falling_silent(self, end_s: float, now_s: float) -> bool:
        """The speaker went quiet just after `end_s`, with no unheard word between, and cut-off words are complete.

        A phrase that ends the words then is confirmed and held until this
        silence reaches pause_s: the decode that proves it overlaps the wait
        for the pause, instead of starting when the pause is complete.
        """
        silent = self.vad.silence_s >= self.hold_silence_s
        began_after = self.vad.silence_start_s <= end_s + PAUSE_LATE_S
        return silent and began_after and end_s + self.edge_guard_s <= now_s

    def held(self, start_s: float) -> Verdict:
        """'fire' once the silence that began at start_s lasted pause_s, 'drop' if speech broke it first.

        The VAD's record of pauses is read, not just the silence now: a worker
        that was busy gets the next word and the pause after it in one feed
        ("dinner to | go?"), and must not take the later pause for this one.
        """
        vad = self.vad
        if vad.silence_s and abs(vad.silence_start_s - start_s) < 1e-6:
            return "fire" if vad.silence_s >= self.pause_s or not vad.in_speech else "wait"
        for begin, stop in vad.pauses:
            if abs(begin - start_s) < 1e-6:
                return "fire" if stop - begin >= self.pause_s else "drop"
        return "drop"  # too long ago to tell: later decodes decide
