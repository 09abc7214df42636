"""The engine between a scripted source (VAD + recogniser) and a list of events: firing and verification."""

import math

import numpy as np
import pytest

from tests.support.fakes import SENTENCE, run, scripted_engine, trigger_events, words
from triggers.engine import MEMORY_S, EngineConfig
from triggers.events import TranscriptEvent
from triggers.matcher import Phrase
from triggers.verify import DeficitLimits


def test_phrase_fires_once_with_times_on_the_stream_clock():
    engine, _ = scripted_engine(SENTENCE, [(0.5, 1.7)])
    (event,) = trigger_events(run(engine, 4.0))
    assert event.participant == "ana" and event.phrase == "dinner tonight" and event.heard == "dinner tonight?"
    assert event.phrase_end_s == pytest.approx(1.7)
    assert event.phrase_end_s < event.emitted_at_s <= 1.7 + 0.35 + 0.05  # before the utterance closes


def test_fires_on_tentative_words_before_they_are_committed():
    # alert pace: a decode every 0.3 s once "dinner" is heard; fires on first sight
    engine, _ = scripted_engine(SENTENCE + words(("at", 1.7, 1.8), ("eight", 1.8, 2.1)), [(0.5, 2.1)])
    (event,) = trigger_events(run(engine, 4.0))
    assert event.emitted_at_s - event.phrase_end_s <= 0.3 + EngineConfig().edge_guard_s + 0.05


def test_a_phrase_at_the_very_edge_of_the_window_waits():
    # the recogniser "sees" words as soon as they end: the guard must hold them back
    engine, rec = scripted_engine(SENTENCE + words(("and", 1.7, 1.9), ("then", 1.9, 2.3)), [(0.5, 2.3)], lag_s=0.0)
    (event,) = trigger_events(run(engine, 4.0))
    assert event.emitted_at_s >= event.phrase_end_s + EngineConfig().edge_guard_s


def test_a_waiting_phrase_gets_a_decode_as_soon_as_its_guard_passes():
    # not at the next 0.3 s alert step: at the guard's end (or 0.1 s after the last decode)
    engine, rec = scripted_engine(SENTENCE + words(("and", 1.7, 1.75), ("then", 1.75, 2.3)), [(0.5, 2.3)], lag_s=0.0)
    (event,) = trigger_events(run(engine, 4.0))
    assert event.emitted_at_s - event.phrase_end_s <= EngineConfig().edge_guard_s + 0.1 + 0.025


def test_misheard_phrase_fires_when_forcing_it_costs_little():
    script = words(("random", 0.5, 0.9), ("shoes", 0.9, 1.3), ("are", 1.3, 1.5), ("great", 1.5, 1.9))
    engine, rec = scripted_engine(script, [(0.5, 1.9)], phrases=["running shoes"], deficit=2.0)
    (event,) = trigger_events(run(engine, 3.0))
    assert event.heard == "random shoes" and 0 < event.confidence < 1
    assert rec.score_calls >= 1


def test_near_miss_is_rejected_when_forcing_costs_many_nats():
    script = words(("dinner", 0.5, 0.9), ("tomorrow", 0.9, 1.4), ("then", 1.4, 1.7))
    engine, rec = scripted_engine(script, [(0.5, 1.7)], deficit=15.0)
    assert trigger_events(run(engine, 3.0)) == []
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
    engine, rec = scripted_engine(
        script, [(0.5, 1.9)], phrases=["weekend getaway"], deficit=12.0, biased="a weekend getaway soon".split()
    )
    (event,) = trigger_events(run(engine, 3.0))
    assert event.phrase == "weekend getaway" and rec.rewrite_calls >= 1


def test_grey_zone_candidate_stays_quiet_when_the_second_look_does_not_hear_it():
    script = words(("dinner", 0.5, 0.9), ("tomorrow", 0.9, 1.4), ("then", 1.4, 1.7))
    engine, rec = scripted_engine(script, [(0.5, 1.7)], deficit=12.0)
    assert trigger_events(run(engine, 3.0)) == [] and rec.rewrite_calls >= 1


def test_exact_phrase_from_a_biased_decode_needs_the_unbiased_check():
    # the hotword-biased decode hears the phrase; without the bias it costs 15 nats
    plain = "shall we have dinner to Mars then".split()
    engine, rec = scripted_engine(SENTENCE + words(("then", 1.7, 2.0)), [(0.5, 2.0)], deficit=15.0, plain=plain)
    assert trigger_events(run(engine, 3.0)) == []
    assert rec.redecodes >= 1


def test_an_exact_phrase_that_costs_little_outright_needs_no_unbiased_decode():
    # the heard words cost 5 nats in all: no unbiased reading can beat them by
    # more than that, so the check needs one scoring pass and no generation
    plain = "shall we have dinner to Mars then".split()
    engine, rec = scripted_engine(
        SENTENCE + words(("then", 1.7, 2.0)), [(0.5, 2.0)], deficit=15.0, plain=plain, alone=5.0
    )
    (event,) = trigger_events(run(engine, 3.0))
    assert event.phrase == "dinner tonight" and rec.redecodes == 0
    assert event.confidence == pytest.approx(math.exp(-5.0 / DeficitLimits().unbiased), abs=1e-3)  # a lower bound


def test_an_exact_phrase_that_costs_more_than_the_limit_outright_is_still_compared():
    plain = "shall we have dinner to Mars then".split()
    engine, rec = scripted_engine(
        SENTENCE + words(("then", 1.7, 2.0)), [(0.5, 2.0)], deficit=15.0, plain=plain, alone=12.5
    )
    assert trigger_events(run(engine, 3.0)) == [] and rec.redecodes >= 1


def test_exact_phrase_fires_when_the_unbiased_decode_hears_it_too():
    plain = "shall we have dinner tonight then".split()
    # "then" is heard by the time the phrase has settled (0.2 s after it), so the two decodes agree
    engine, rec = scripted_engine(SENTENCE + words(("then", 1.7, 1.8)), [(0.5, 1.8)], deficit=15.0, plain=plain)
    (event,) = trigger_events(run(engine, 3.0))
    assert event.phrase == "dinner tonight" and rec.redecodes >= 1


def test_exact_phrase_without_hotwords_fires_without_rechecking():
    engine, rec = scripted_engine(SENTENCE + words(("then", 1.7, 2.0)), [(0.5, 2.0)], deficit=15.0, hotwords=False)
    assert len(trigger_events(run(engine, 3.0))) == 1
    assert rec.redecodes == 0


def test_misheard_phrase_is_not_verified_without_audio_after_it():
    # "dinner" is the last word heard: forcing "tonight" after it would cost nothing
    script = words(("dinner", 0.5, 0.9))
    engine, rec = scripted_engine(script, [(0.5, 0.9)], deficit=0.0)
    events = []

    for _ in range(50):  # 1.0 s, then the stream ends abruptly
        events += engine.feed(np.zeros(320, np.float32))
    events += engine.flush()
    assert trigger_events(events) == []


def test_each_occurrence_fires_and_cooldown_suppresses_repeats():
    script = words(
        ("dinner", 0.5, 0.8), ("tonight", 0.8, 1.2), ("yes", 1.2, 1.5), ("dinner", 3.0, 3.3), ("tonight", 3.3, 3.7)
    )
    spans = [(0.5, 1.5), (3.0, 3.7)]
    engine, _ = scripted_engine(script, spans)
    assert len(trigger_events(run(engine, 5.0))) == 2
    engine, _ = scripted_engine(script, spans, phrases=[Phrase.parse("dinner tonight", cooldown_s=5.0)])
    assert len(trigger_events(run(engine, 5.0))) == 1


def test_transcripts_are_partial_then_final():
    engine, _ = scripted_engine(SENTENCE, [(0.5, 1.7)])
    transcripts = [e for e in run(engine, 3.0) if isinstance(e, TranscriptEvent)]
    assert transcripts and transcripts[-1].final and transcripts[-1].text == "shall we have dinner tonight?"
    assert not any(t.final for t in transcripts[:-1])
    assert transcripts[-1].start_s == pytest.approx(0.5) and transcripts[-1].end_s == pytest.approx(1.7)


def test_no_speech_means_no_decoding():
    engine, rec = scripted_engine(SENTENCE, [])
    assert run(engine, 5.0) == []
    assert rec.windows == []


def test_window_stays_bounded_in_a_long_monologue():
    # 120 s of uninterrupted speech, a word every 0.3 s
    script = words(*[(f"w{i}", 0.3 * i, 0.3 * i + 0.25) for i in range(400)])
    engine, rec = scripted_engine(script, [(0.0, 120.0)])
    events = run(engine, 121.0)
    cfg = EngineConfig()
    longest = max(end - start for start, end in rec.windows)
    assert longest <= cfg.max_window_s + cfg.step_s + 0.05
    finals = [e for e in events if isinstance(e, TranscriptEvent) and e.final]
    text = " ".join(e.text for e in finals).split()
    assert text == [f"w{i}" for i in range(400)]  # nothing lost or repeated across releases


def test_a_phrase_ending_the_hypothesis_fires_once_enough_audio_follows():
    # speech goes on to 3.0 s but nothing after the phrase is recognised yet
    engine, _ = scripted_engine(SENTENCE, [(0.5, 3.0)])
    (event,) = trigger_events(run(engine, 4.0))
    settled = EngineConfig().settled_s
    assert 1.7 + settled <= event.emitted_at_s <= 1.7 + settled + 0.02  # a decode is due right then


def test_audio_that_is_only_silence_since_the_last_decode_is_not_decoded_again():
    # on alert, the pause gets a decode at once; the utterance's final decode,
    # 0.2 s of silence later, reuses it
    engine, rec = scripted_engine(SENTENCE, [(0.5, 1.7)])
    events = run(engine, 3.0)
    assert len(trigger_events(events)) == 1 and any(isinstance(e, TranscriptEvent) and e.final for e in events)
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
    engine, _ = scripted_engine(script, [(0.5, script[-1].end)], phrases=[phrase], deficit=5.5)
    assert bool(trigger_events(run(engine, 4.0))) == fires


def test_rejected_candidates_are_forgotten_like_fired_ones():
    """A long call must not grow the engine's memory: rejections older than MEMORY_S are dropped."""
    near_miss = words(("dinner", 0.5, 0.9), ("tomorrow", 0.9, 1.4), ("then", 1.4, 1.7))
    later = words(("see", MEMORY_S + 10.5, MEMORY_S + 10.8), ("you", MEMORY_S + 10.8, MEMORY_S + 11.2))
    engine, _ = scripted_engine(near_miss + later, [(0.5, 1.7), (MEMORY_S + 10.5, MEMORY_S + 11.2)], deficit=15.0)
    assert trigger_events(run(engine, 3.0)) == []
    assert engine._rejected  # remembered: a stable rejection is not checked again
    run(engine, MEMORY_S + 10.0)
    assert engine._rejected == set()
