"""The trigger bench's held-out set: other engines, and sentences the main corpus never says."""

from __future__ import annotations

from collections import Counter

import pytest

from bench import heldout
from bench.corpus_plan import plan_corpus
from bench.corpus_text import normalise_text


def test_plan_is_deterministic_and_cycles_every_voice_evenly():
    plans = heldout.plan_heldout(0)
    assert plans == heldout.plan_heldout(0)
    assert plans != heldout.plan_heldout(1)
    counts = Counter(p["voice"] for p in plans)
    assert set(counts) == set(heldout.VOICES)
    assert max(counts.values()) - min(counts.values()) <= 1


def test_each_positive_sentence_is_said_by_different_voices():
    plans = [p for p in heldout.plan_heldout(0) if p["kind"] == "positive"]
    voices_by_text: dict[str, set[str]] = {}
    for p in plans:
        voices_by_text.setdefault(p["piece_a"], set()).add(p["voice"])
    assert all(len(v) == heldout.POSITIVE_VOICES for v in voices_by_text.values())
    assert len(plans) == heldout.POSITIVE_VOICES * sum(len(t) for t in heldout.POSITIVES.values())


def test_no_held_out_sentence_is_in_the_main_corpus():
    main = {
        normalise_text(p[key]) for p in plan_corpus(0) if "piece_a" in p for key in ("piece_a", "piece_b") if p.get(key)
    }
    held = {normalise_text(p[key]) for p in heldout.plan_heldout(0) for key in ("piece_a", "piece_b") if p.get(key)}
    assert main and held and not main & held


def test_ids_are_unique_and_kinds_labelled():
    plans = heldout.plan_heldout(0)
    assert len({p["id"] for p in plans}) == len(plans)
    for p in plans:
        assert (p["phrase"] is not None) == (p["kind"] == "positive")
        assert (p["near_miss_of"] is not None) == (p["kind"] == "near_miss")


def test_a_negative_that_says_a_phrase_is_refused(monkeypatch):
    monkeypatch.setattr(heldout, "UNRELATED", [*heldout.UNRELATED, "Fancy dinner tonight?"])
    with pytest.raises(ValueError, match="says 'dinner tonight'"):
        heldout.plan_heldout(0)


def test_a_lead_in_must_end_with_its_phrase(monkeypatch):
    monkeypatch.setattr(heldout, "POSITIVES", {**heldout.POSITIVES, "running shoes": ["My running shoes are wet."]})
    with pytest.raises(ValueError, match="does not end with 'running shoes'"):
        heldout.plan_heldout(0)
