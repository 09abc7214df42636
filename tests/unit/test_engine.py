"""The engine between a scripted source (VAD + recogniser) and a list of events."""

import math

import numpy as np
import pytest

from tests.support.fakes import ScriptedRecognizer, ScriptedVAD, run, words
from triggers.engine import MEMORY_S, EngineConfig, TriggerEngine
from triggers.events import TranscriptEvent, TriggerEvent
from triggers.matcher import Phrase
from triggers.verify import DeficitLimits

SENTENCE = words(
    ("shall", 0.5, 0.7), ("we", 0.7, 0.8), ("have", 0.8, 1.0), ("dinner", 1.0, 1.3), ("tonight?", 1.3, 1.7)
)


def make(script, spans, phrases=("dinner tonight",), **cfg):
    rec = ScriptedRecognizer(
        script, **{k: cfg.pop(k) for k in ("deficit", "lag_s", "biased", "plain", "alone") if k in cfg}
    )
    engine = TriggerEngine(
        list(phrases), recognizer=rec, config=EngineConfig(**cfg), participant="ana", vad=ScriptedVAD(spans)
    )
    return engine, rec


def triggers(events):
    return [e for e in events if isinstance(e, TriggerEvent)]


def test_phrase_fires_once_with_times_on_the_stream_clock():
    engine, _ = make(SENTENCE, [(0.5, 1.7)])
    (event,) = triggers(run(engine, 4.0))
    assert event.participant == "ana" and event.phrase == "dinner tonight" and event.heard == "dinner tonight?"
    assert event.phrase_end_s == pytest.approx(1.7)
    assert event.phrase_end_s < event.emitted_at_s <= 1.7 + 0.35 + 0.05  # before the utterance closes


def test_fires_on_tentative_words_before_they_are_committed():
    # alert pace: a decode every 0.3 s once "dinner" is heard; fires on first sight
    engine, _ = make(SENTENCE + words(("at", 1.7, 1.8), ("eight", 1.8, 2.1)), [(0.5, 2.1)])
    (event,) = triggers(run(engine, 4.0))
    assert event.emitted_at_s - event.phrase_end_s <= 0.3 + EngineConfig().edge_guard_s + 0.05


def test_a_phrase_at_the_very_edge_of_the_window_waits():
    # the recogniser "sees" words as soon as they end: the guard must hold them back
    engine, rec = make(SENTENCE + words(("and", 1.7, 1.9), ("then", 1.9, 2.3)), [(0.5, 2.3)], lag_s=0.0)
    (event,) = triggers(run(engine, 4.0))
    assert event.emitted_at_s >= event.phrase_end_s + EngineConfig().edge_guard_s


def test_a_waiting_phrase_gets_a_decode_as_soon_as_its_guard_passes():
    # not at the next 0.3 s alert step: at the guard's end (or 0.1 s after the last decode)
    engine, rec = make(SENTENCE + words(("and", 1.7, 1.75), ("then", 1.75, 2.3)), [(0.5, 2.3)], lag_s=0.0)
    (event,) = triggers(run(engine, 4.0))
    assert event.emitted_at_s - event.phrase_end_s <= EngineConfig().edge_guard_s + 0.1 + 0.025


def test_misheard_phrase_fires_when_forcing_it_costs_little():
    script = words(("random", 0.5, 0.9), ("shoes", 0.9, 1.3), ("are", 1.3, 1.5), ("great", 1.5, 1.9))
    engine, rec = make(script, [(0.5, 1.9)], phrases=["running shoes"], deficit=2.0)
    (event,) = triggers(run(engine, 3.0))
    assert event.heard == "random shoes" and 0 < event.confidence < 1
    assert rec.score_calls >= 1


def test_near_miss_is_rejected_when_forcing_costs_many_nats():
    script = words(("dinner", 0.5, 0.9), ("tomorrow", 0.9, 1.4), ("then", 1.4, 1.7))
    engine, rec = make(script, [(0.5, 1.7)], deficit=15.0)
    assert triggers(run(engine, 3.0)) == []
    assert rec.score_calls >= 1


def test_grey_zone_candidate_fires_when_a_biased_second_look_holds_the_phrase():
    script = words(
        ("and", 0.5, 0.7),
        ("we", 0.7, 0.8),
        ("can", 0.8, 1.0),
        ("get", 1.0, 1.2),
        ("away", 1.2, 1.5),
        ("soon", 1.5, 1.9),
    )
    engine, rec = make(
        script, [(0.5, 1.9)], phrases=["weekend getaway"], deficit=12.0, biased="a weekend getaway soon".split()
    )
    (event,) = triggers(run(engine, 3.0))
    assert event.phrase == "weekend getaway" and rec.rewrite_calls >= 1


def test_grey_zone_candidate_stays_quiet_when_the_second_look_does_not_hear_it():
    script = words(("dinner", 0.5, 0.9), ("tomorrow", 0.9, 1.4), ("then", 1.4, 1.7))
    engine, rec = make(script, [(0.5, 1.7)], deficit=12.0)
    assert triggers(run(engine, 3.0)) == [] and rec.rewrite_calls >= 1


def test_exact_phrase_from_a_biased_decode_needs_the_unbiased_check():
    # the hotword-biased decode hears the phrase; without the bias it costs 15 nats
    plain = "shall we have dinner to Mars then".split()
    engine, rec = make(SENTENCE + words(("then", 1.7, 2.0)), [(0.5, 2.0)], deficit=15.0, plain=plain)
    assert triggers(run(engine, 3.0)) == []
    assert rec.redecodes >= 1


def test_an_exact_phrase_that_costs_little_outright_needs_no_unbiased_decode():
    # the heard words cost 5 nats in all: no unbiased reading can beat them by
    # more than that, so the check needs one scoring pass and no generation
    plain = "shall we have dinner to Mars then".split()
    engine, rec = make(SENTENCE + words(("then", 1.7, 2.0)), [(0.5, 2.0)], deficit=15.0, plain=plain, alone=5.0)
    (event,) = triggers(run(engine, 3.0))
    assert event.phrase == "dinner tonight" and rec.redecodes == 0
    assert event.confidence == pytest.approx(math.exp(-5.0 / DeficitLimits().unbiased), abs=1e-3)  # a lower bound


def test_an_exact_phrase_that_costs_more_than_the_limit_outright_is_still_compared():
    plain = "shall we have dinner to Mars then".split()
    engine, rec = make(SENTENCE + words(("then", 1.7, 2.0)), [(0.5, 2.0)], deficit=15.0, plain=plain, alone=12.5)
    assert triggers(run(engine, 3.0)) == [] and rec.redecodes >= 1


def test_exact_phrase_fires_when_the_unbiased_decode_hears_it_too():
    plain = "shall we have dinner tonight then".split()
    # "then" is heard by the time the phrase has settled (0.2 s after it), so the two decodes agree
    engine, rec = make(SENTENCE + words(("then", 1.7, 1.8)), [(0.5, 1.8)], deficit=15.0, plain=plain)
    (event,) = triggers(run(engine, 3.0))
    assert event.phrase == "dinner tonight" and rec.redecodes >= 1


def test_exact_phrase_without_hotwords_fires_without_rechecking():
    engine, rec = make(SENTENCE + words(("then", 1.7, 2.0)), [(0.5, 2.0)], deficit=15.0, hotwords=False)
    assert len(triggers(run(engine, 3.0))) == 1
    assert rec.redecodes == 0


def test_misheard_phrase_is_not_verified_without_audio_after_it():
    # "dinner" is the last word heard: forcing "tonight" after it would cost nothing
    script = words(("dinner", 0.5, 0.9))
    engine, rec = make(script, [(0.5, 0.9)], deficit=0.0)
    events = []
    import numpy as np

    for _ in range(50):  # 1.0 s, then the stream ends abruptly
        events += engine.feed(np.zeros(320, np.float32))
    events += engine.flush()
    assert triggers(events) == []


def test_each_occurrence_fires_and_cooldown_suppresses_repeats():
    script = words(
        ("dinner", 0.5, 0.8), ("tonight", 0.8, 1.2), ("yes", 1.2, 1.5), ("dinner", 3.0, 3.3), ("tonight", 3.3, 3.7)
    )
    spans = [(0.5, 1.5), (3.0, 3.7)]
    engine, _ = make(script, spans)
    assert len(triggers(run(engine, 5.0))) == 2
    engine, _ = make(script, spans, phrases=[Phrase.parse("dinner tonight", cooldown_s=5.0)])
    assert len(triggers(run(engine, 5.0))) == 1


def test_transcripts_are_partial_then_final():
    engine, _ = make(SENTENCE, [(0.5, 1.7)])
    transcripts = [e for e in run(engine, 3.0) if isinstance(e, TranscriptEvent)]
    assert transcripts and transcripts[-1].final and transcripts[-1].text == "shall we have dinner tonight?"
    assert not any(t.final for t in transcripts[:-1])
    assert transcripts[-1].start_s == pytest.approx(0.5) and transcripts[-1].end_s == pytest.approx(1.7)


def test_no_speech_means_no_decoding():
    engine, rec = make(SENTENCE, [])
    assert run(engine, 5.0) == []
    assert rec.windows == []


def test_window_stays_bounded_in_a_long_monologue():
    # 120 s of uninterrupted speech, a word every 0.3 s
    script = words(*[(f"w{i}", 0.3 * i, 0.3 * i + 0.25) for i in range(400)])
    engine, rec = make(script, [(0.0, 120.0)])
    events = run(engine, 121.0)
    cfg = EngineConfig()
    longest = max(end - start for start, end in rec.windows)
    assert longest <= cfg.max_window_s + cfg.step_s + 0.05
    finals = [e for e in events if isinstance(e, TranscriptEvent) and e.final]
    text = " ".join(e.text for e in finals).split()
    assert text == [f"w{i}" for i in range(400)]  # nothing lost or repeated across releases


def test_a_phrase_ending_the_hypothesis_fires_once_enough_audio_follows():
    # speech goes on to 3.0 s but nothing after the phrase is recognised yet
    engine, _ = make(SENTENCE, [(0.5, 3.0)])
    (event,) = triggers(run(engine, 4.0))
    settled = EngineConfig().settled_s
    assert 1.7 + settled <= event.emitted_at_s <= 1.7 + settled + 0.02  # a decode is due right then


def test_audio_that_is_only_silence_since_the_last_decode_is_not_decoded_again():
    # on alert, the pause gets a decode at once; the utterance's final decode,
    # 0.2 s of silence later, reuses it
    engine, rec = make(SENTENCE, [(0.5, 1.7)])
    events = run(engine, 3.0)
    assert len(triggers(events)) == 1 and any(isinstance(e, TranscriptEvent) and e.final for e in events)
    pause_at = 1.7 + EngineConfig().pause_s
    after_pause = [end for _, end in rec.windows if end > pause_at + 0.03]
    assert after_pause == [], rec.windows


@pytest.mark.parametrize(
    "heard, phrase, fires",
    [("we can get away", "weekend getaway", True), ("dinner for no kids", "dinner tonight", False)],
)
def test_words_that_sound_like_the_phrase_may_cost_more(heard, phrase, fires):
    # both cost 5.5 nats: over the base limit, within it for a close-sounding slip
    script = words(*[(w, 0.5 + 0.3 * i, 0.8 + 0.3 * i) for i, w in enumerate(heard.split() + ["then"])])
    engine, _ = make(script, [(0.5, script[-1].end)], phrases=[phrase], deficit=5.5)
    assert bool(triggers(run(engine, 4.0))) == fires


# "dinner tonight", a 0.25 s pause, then a long word the recogniser has not heard yet
PAUSED = SENTENCE + words(("anyway", 1.95, 2.9))


def test_a_pause_missed_while_busy_still_completes_the_phrase():
    # 0.4 s chunks: a slow decode let the pause come and go unseen; the VAD heard it
    engine, _ = make(PAUSED, [(0.5, 1.7), (1.95, 2.9)])
    (event,) = triggers(run(engine, 4.0, chunk_s=0.4))
    assert event.emitted_at_s == pytest.approx(2.0)  # the first decode after the pause


def test_a_pause_shorter_than_pause_s_does_not_complete_it():
    script = SENTENCE + words(("anyway", 1.8, 2.9))
    engine, _ = make(script, [(0.5, 1.7), (1.8, 2.9)])
    (event,) = triggers(run(engine, 4.0, chunk_s=0.4))
    assert event.emitted_at_s >= 1.7 + EngineConfig().settled_s


def test_a_pause_long_before_the_phrase_end_does_not_count():
    script = words(("well", 0.2, 0.4)) + SENTENCE + words(("anyway", 1.7, 2.9))
    engine, _ = make(script, [(0.2, 0.4), (0.7, 2.9)])
    (event,) = triggers(run(engine, 4.0, chunk_s=0.4))
    assert event.emitted_at_s >= 1.7 + EngineConfig().settled_s


def feed_until_trigger(engine, rec, seconds: float):
    """(the trigger, whether the feed that returned it ran a decode)."""
    chunk = np.zeros(320, np.float32)
    for _ in range(int(seconds / 0.02)):
        before = len(rec.windows)
        found = triggers(engine.feed(chunk))
        if found:
            return found, len(rec.windows) > before
    return [], False


def test_a_phrase_heard_as_the_speaker_falls_silent_is_confirmed_then_held():
    # the 0.3 s alert step decodes at 1.8 s, 0.1 s into the pause (past a 0.05 s
    # edge guard): the phrase is checked then, and fires the moment the pause
    # reaches pause_s, with no decode
    engine, rec = make(SENTENCE, [(0.5, 1.7)], edge_guard_s=0.05)
    (event,), decoded = feed_until_trigger(engine, rec, 3.0)
    assert not decoded and rec.redecodes == 1
    assert event.emitted_at_s == pytest.approx(1.7 + EngineConfig().pause_s, abs=0.021)


def test_a_held_phrase_is_let_go_when_speech_goes_on_without_a_pause():
    # held at 1.8 s, then speech at 1.82 s: the phrase is checked again once "and" is heard
    script = SENTENCE + words(("and", 1.82, 2.0), ("then", 2.0, 2.4))
    engine, rec = make(script, [(0.5, 1.7), (1.82, 2.4)], edge_guard_s=0.05)
    events = triggers(run(engine, 4.0))
    assert len(events) == 1 and rec.redecodes == 2
    assert events[0].emitted_at_s >= 2.0 + 0.05


def test_a_held_phrase_is_let_go_when_the_next_word_and_a_pause_come_in_one_feed():
    # "dinner to | go?": held in the short gap, then a busy worker gets "go" and the
    # pause after it at once. That later pause is not this phrase's pause.
    script = SENTENCE + words(("go", 1.84, 2.0))
    engine, rec = make(script, [(0.5, 1.7), (1.84, 2.0)], edge_guard_s=0.05)
    chunk, events = np.zeros(320, np.float32), []
    for _ in range(int(1.82 / 0.02)):
        events += engine.feed(chunk)
    assert triggers(events) == [] and rec.redecodes == 1  # held in the 0.14 s gap
    events = engine.feed(np.zeros(int(0.8 * 16_000), np.float32))  # "go", then silence
    (event,) = triggers(events + engine.flush())
    assert rec.redecodes == 2  # let go, then checked again on the audio with "go" in it
    assert event.emitted_at_s >= 2.0


def test_no_hold_before_the_edge_guard_or_with_too_little_silence():
    # at 1.8 s the phrase's end (1.7) + the 0.15 s edge guard is still ahead: decode again at the pause
    engine, rec = make(SENTENCE, [(0.5, 1.7)])
    (event,), decoded = feed_until_trigger(engine, rec, 3.0)
    assert decoded
    engine, rec = make(SENTENCE, [(0.5, 1.7)], edge_guard_s=0.05, hold_silence_s=0.12)
    (event,), decoded = feed_until_trigger(engine, rec, 3.0)
    assert decoded


def test_a_held_phrase_fires_when_the_stream_ends():
    engine, rec = make(SENTENCE, [(0.5, 1.7)], edge_guard_s=0.05)
    chunk = np.zeros(320, np.float32)
    events = []
    for _ in range(int(1.8 / 0.02)):  # stop 0.1 s into the pause, with the phrase held
        events += engine.feed(chunk)
    assert triggers(events) == [] and rec.redecodes == 1
    (event,) = triggers(engine.flush())
    assert event.emitted_at_s == pytest.approx(1.8, abs=0.021)


class RevisingRecognizer(ScriptedRecognizer):
    """Hears `early` words until the window reaches `revise_at_s`, then `late` ones."""

    def __init__(self, early, late, revise_at_s: float, **kw) -> None:
        super().__init__(early, **kw)
        self.early, self.late, self.revise_at = early, late, revise_at_s

    def decode(self, audio, offset_s, hotwords=None):
        self.words = self.late if offset_s + len(audio) / 16000 >= self.revise_at else self.early
        return super().decode(audio, offset_s, hotwords)


def test_a_phrase_heard_late_in_words_already_committed_still_fires():
    # LocalAgreement commits "an island in shoes" from two early decodes; a later
    # decode of the same audio, with more context, hears "running shoes" there.
    tail = [("money", 1.7, 2.0), ("is", 2.0, 2.2), ("already", 2.2, 2.7), ("sunk", 2.7, 3.2), ("in", 3.2, 3.4)]
    early = words(("an", 0.5, 0.7), ("island", 0.7, 1.1), ("in", 1.1, 1.2), ("shoes", 1.2, 1.6), *tail)
    late = words(("a", 0.5, 0.7), ("running", 0.7, 1.2), ("shoes", 1.2, 1.6), *tail)
    rec = RevisingRecognizer(early, late, revise_at_s=3.0, deficit=15.0)
    engine = TriggerEngine(["running shoes"], recognizer=rec, participant="ana", vad=ScriptedVAD([(0.5, 3.4)]))
    events = run(engine, 5.0)
    (event,) = triggers(events)
    assert event.heard == "running shoes" and event.phrase_end_s == pytest.approx(1.6)
    assert event.emitted_at_s >= 3.0
    final = [e for e in events if isinstance(e, TranscriptEvent) and e.final]
    assert final and "island" in final[0].text  # the transcript keeps what it committed


class CunningRecognizer(RevisingRecognizer):
    """Forcing the phrase costs 2 nats where "cunning" was heard, 15 elsewhere."""

    def score(self, decoding, sequences):
        if len(sequences) == 1:
            return super().score(decoding, sequences)
        self.score_calls += 1
        cheap = self.tokens_for(["cunning"])[0] in sequences[0]
        return [0.0, -2.0 if cheap else -15.0]


def test_a_misheard_span_in_a_later_reading_of_committed_words_is_not_forced():
    # Only a phrase the decoder wrote itself is taken from the later reading:
    # there, forcing the phrase onto "cunning shoes" fired on near-misses.
    tail = [("money", 1.7, 2.0), ("is", 2.0, 2.2), ("already", 2.2, 2.7), ("sunk", 2.7, 3.2), ("in", 3.2, 3.4)]
    early = words(("an", 0.5, 0.7), ("island", 0.7, 1.1), ("in", 1.1, 1.2), ("shoes", 1.2, 1.6), *tail)
    late = words(("a", 0.5, 0.7), ("cunning", 0.7, 1.2), ("shoes", 1.2, 1.6), *tail)
    rec = CunningRecognizer(early, late, revise_at_s=3.0)
    engine = TriggerEngine(["running shoes"], recognizer=rec, participant="ana", vad=ScriptedVAD([(0.5, 3.4)]))
    assert triggers(run(engine, 5.0)) == []


LOST = words(("making", 0.5, 0.9), ("this", 0.9, 1.1), ("on", 1.1, 1.2), ("your", 1.2, 1.4), ("winner", 1.4, 1.8))


def test_a_phrase_only_a_beam_reads_fires_at_the_pause_after_it():
    # the streaming decodes never wrote it ("winner" only resembles a phrase word);
    # the beam's reading of the window at the pause does
    engine, rec = make(LOST, [(0.5, 1.8)], biased="making lasagna for dinner tonight".split())
    (event,) = triggers(run(engine, 3.0))
    assert event.heard == "dinner tonight" and rec.rewrite_calls == 1  # not again at the utterance's end
    assert event.phrase_end_s == pytest.approx(1.8)
    assert 1.8 + EngineConfig().pause_s <= event.emitted_at_s < 1.8 + 0.35  # before the VAD closed the utterance


def test_each_pause_and_the_utterance_end_are_swept_once():
    # two pauses in one utterance; the final decode reuses the second pause's decoding
    rec = DearReadings(
        LOST + words(("then", 2.3, 2.6), ("home", 2.6, 3.0)), biased="making lasagna for dinner tonight".split()
    )
    engine = TriggerEngine(["dinner tonight"], recognizer=rec, vad=ScriptedVAD([(0.5, 1.8), (2.3, 3.0)]))
    assert triggers(run(engine, 4.0)) == [] and rec.rewrite_calls == 2


class DearReadings(ScriptedRecognizer):
    def score(self, decoding, sequences):
        if len(sequences) == 1:
            return super().score(decoding, sequences)
        self.score_calls += 1
        return [0.0, -20.0]  # every other reading costs 20 nats


def test_a_beam_reading_that_costs_too_much_does_not_fire():
    rec = DearReadings(LOST, biased="making lasagna for dinner tonight".split())
    engine = TriggerEngine(["dinner tonight"], recognizer=rec, vad=ScriptedVAD([(0.5, 1.8)]))
    assert triggers(run(engine, 3.0)) == [] and rec.rewrite_calls == 1  # at the pause; the end reuses its decoding


def test_no_beam_reading_without_hotwords():
    engine, rec = make(LOST, [(0.5, 1.8)], biased="making lasagna for dinner tonight".split(), hotwords=False)
    assert triggers(run(engine, 3.0)) == [] and rec.rewrite_calls == 0


def test_a_second_look_counts_only_where_its_rewrite_puts_the_phrase():
    # "rough noise" resembles the phrase; the beam's rewrite holds "running shoes",
    # but where the phrase was already heard and fired, not in place of "rough noise"
    script = words(
        ("my", 0.5, 0.7),
        ("running", 0.7, 1.0),
        ("shoes", 1.0, 1.3),
        ("were", 1.3, 1.6),
        ("half", 1.6, 1.9),
        ("rough", 1.9, 2.3),
        ("noise", 2.3, 2.7),
    )
    engine, rec = make(
        script,
        [(0.5, 2.7)],
        phrases=["running shoes"],
        deficit=12.0,
        biased="my running shoes were half rough noise".split(),
    )
    (event,) = triggers(run(engine, 4.0))
    assert event.heard == "running shoes" and event.phrase_end_s == pytest.approx(1.3)
    assert rec.rewrite_calls >= 1


def test_no_sweep_of_an_utterance_where_a_phrase_already_fired():
    engine, rec = make(SENTENCE, [(0.5, 1.7)])
    assert len(triggers(run(engine, 4.0))) == 1 and rec.rewrite_calls == 0


def test_rejected_candidates_are_forgotten_like_fired_ones():
    """A long call must not grow the engine's memory: rejections older than MEMORY_S are dropped."""
    near_miss = words(("dinner", 0.5, 0.9), ("tomorrow", 0.9, 1.4), ("then", 1.4, 1.7))
    later = words(("see", MEMORY_S + 10.5, MEMORY_S + 10.8), ("you", MEMORY_S + 10.8, MEMORY_S + 11.2))
    engine, _ = make(near_miss + later, [(0.5, 1.7), (MEMORY_S + 10.5, MEMORY_S + 11.2)], deficit=15.0)
    assert triggers(run(engine, 3.0)) == []
    assert engine._rejected  # remembered: a stable rejection is not checked again
    run(engine, MEMORY_S + 10.0)
    assert engine._rejected == set()
