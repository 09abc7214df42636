import pytest

from triggers.matcher import Phrase, PhraseError, PhraseMatcher

PHRASES = [Phrase.parse("Dinner tonight"), Phrase.parse("running shoes"), Phrase.parse("weekend getaway")]


def _cands(text):
    return PhraseMatcher(PHRASES).candidates(text.split())


def test_exact_match_keeps_configured_spelling_and_word_span():
    (cand,) = _cands("shall we have dinner to-night?")
    assert cand.exact and cand.phrase.text == "Dinner tonight"
    assert (cand.first, cand.last) == (3, 4)
    assert cand.heard == "dinner to-night?"


def test_split_compound_is_exact():
    (cand,) = _cands("a weekend get away")
    assert cand.exact and cand.phrase.text == "weekend getaway"


@pytest.mark.parametrize("text", ["I bought random shoes", "we can get away soon", "winner tonight"])
def test_recognition_slips_are_nominated_but_not_exact(text):
    cands = _cands(text)
    assert cands and not any(c.exact for c in cands)


@pytest.mark.parametrize("text", ["the weather is nice", "see you tomorrow", "my shoes"])
def test_unrelated_text_is_not_nominated(text):
    assert _cands(text) == []


def test_candidates_do_not_overlap_per_phrase():
    cands = _cands("dinner tonight dinner tonight")
    assert [(c.first, c.last) for c in cands] == [(0, 1), (2, 3)]


def test_near_onset_looks_at_the_last_words_only():
    m = PhraseMatcher(PHRASES)
    assert m.near_onset("so what about dinner".split())
    assert not m.near_onset("dinner was nice but the weather is bad".split())


@pytest.mark.parametrize("text", ["", "   ", "?!"])
def test_phrase_without_words_is_refused(text):
    with pytest.raises(PhraseError):
        Phrase.parse(text)


def test_negative_cooldown_is_refused():
    with pytest.raises(PhraseError):
        Phrase.parse("dinner tonight", cooldown_s=-1)
