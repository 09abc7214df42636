"""The engine's later looks: re-readings of committed words, and beam sweeps at pauses."""

import pytest

from tests.support.fakes import SENTENCE, ScriptedRecognizer, ScriptedVAD, run, scripted_engine, trigger_events, words
from triggers.engine import EngineConfig, TriggerEngine
from triggers.events import TranscriptEvent


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
    (event,) = trigger_events(events)
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
    assert trigger_events(run(engine, 5.0)) == []


LOST = words(("making", 0.5, 0.9), ("this", 0.9, 1.1), ("on", 1.1, 1.2), ("your", 1.2, 1.4), ("winner", 1.4, 1.8))


def test_a_phrase_only_a_beam_reads_fires_at_the_pause_after_it():
    # the streaming decodes never wrote it ("winner" only resembles a phrase word);
    # the beam's reading of the window at the pause does
    engine, rec = scripted_engine(LOST, [(0.5, 1.8)], biased="making lasagna for dinner tonight".split())
    (event,) = trigger_events(run(engine, 3.0))
    assert event.heard == "dinner tonight" and rec.rewrite_calls == 1  # not again at the utterance's end
    assert event.phrase_end_s == pytest.approx(1.8)
    assert 1.8 + EngineConfig().pause_s <= event.emitted_at_s < 1.8 + 0.35  # before the VAD closed the utterance


def test_each_pause_and_the_utterance_end_are_swept_once():
    # two pauses in one utterance; the final decode reuses the second pause's decoding
    rec = DearReadings(
        LOST + words(("then", 2.3, 2.6), ("home", 2.6, 3.0)), biased="making lasagna for dinner tonight".split()
    )
    engine = TriggerEngine(["dinner tonight"], recognizer=rec, vad=ScriptedVAD([(0.5, 1.8), (2.3, 3.0)]))
    assert trigger_events(run(engine, 4.0)) == [] and rec.rewrite_calls == 2


class DearReadings(ScriptedRecognizer):
    def score(self, decoding, sequences):
        if len(sequences) == 1:
            return super().score(decoding, sequences)
        self.score_calls += 1
        return [0.0, -20.0]  # every other reading costs 20 nats


def test_a_beam_reading_that_costs_too_much_does_not_fire():
    rec = DearReadings(LOST, biased="making lasagna for dinner tonight".split())
    engine = TriggerEngine(["dinner tonight"], recognizer=rec, vad=ScriptedVAD([(0.5, 1.8)]))
    assert (
        trigger_events(run(engine, 3.0)) == [] and rec.rewrite_calls == 1
    )  # at the pause; the end reuses its decoding


def test_no_beam_reading_without_hotwords():
    engine, rec = scripted_engine(
        LOST, [(0.5, 1.8)], biased="making lasagna for dinner tonight".split(), hotwords=False
    )
    assert trigger_events(run(engine, 3.0)) == [] and rec.rewrite_calls == 0


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
    engine, rec = scripted_engine(
        script,
        [(0.5, 2.7)],
        phrases=["running shoes"],
        deficit=12.0,
        biased="my running shoes were half rough noise".split(),
    )
    (event,) = trigger_events(run(engine, 4.0))
    assert event.heard == "running shoes" and event.phrase_end_s == pytest.approx(1.3)
    assert rec.rewrite_calls >= 1


def test_no_sweep_of_an_utterance_where_a_phrase_already_fired():
    engine, rec = scripted_engine(SENTENCE, [(0.5, 1.7)])
    assert len(trigger_events(run(engine, 4.0))) == 1 and rec.rewrite_calls == 0
