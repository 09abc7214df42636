from triggers.asr import Word
from triggers.policy import LocalAgreement


def hyp(*spec):
    """Words from (text, start, end) triples."""
    return [Word(t, s, e, 1.0) for t, s, e in spec]


def test_commits_only_what_two_decodes_agree_on():
    p = LocalAgreement()
    assert p.update(hyp(("should", 0.0, 0.3), ("we", 0.3, 0.5))) == []
    newly = p.update(hyp(("should", 0.0, 0.3), ("we", 0.3, 0.5), ("have", 0.5, 0.7)))
    assert [w.text for w in newly] == ["should", "we"]
    assert [w.text for w in p.tentative] == ["have"]


def test_disagreement_stops_the_commit():
    p = LocalAgreement()
    p.update(hyp(("dinner", 0.0, 0.4), ("to", 0.4, 0.5)))
    newly = p.update(hyp(("dinner", 0.0, 0.4), ("tonight", 0.4, 0.8)))
    assert [w.text for w in newly] == ["dinner"]
    assert [w.text for w in p.tentative] == ["tonight"]


def test_agreement_ignores_case_and_punctuation():
    p = LocalAgreement()
    p.update(hyp(("Hello,", 0.0, 0.3)))
    assert [w.text for w in p.update(hyp(("hello", 0.0, 0.3)))] == ["hello"]


def test_committed_words_are_not_emitted_again_after_a_repeat():
    p = LocalAgreement()
    p.update(hyp(("a", 0.0, 0.2), ("b", 0.2, 0.4)))
    p.update(hyp(("a", 0.0, 0.2), ("b", 0.2, 0.4)))
    # the next decode re-recognises "b" slightly earlier, then new words
    p.update(hyp(("a", 0.0, 0.2), ("b", 0.35, 0.45), ("c", 0.45, 0.6)))
    newly = p.update(hyp(("a", 0.0, 0.2), ("b", 0.35, 0.45), ("c", 0.45, 0.6)))
    assert [w.text for w in p.committed] == ["a", "b", "c"]
    assert [w.text for w in newly] == ["c"]


def test_finalize_commits_tentative_words():
    p = LocalAgreement()
    p.update(hyp(("good", 0.0, 0.3), ("night", 0.3, 0.6)))
    assert [w.text for w in p.finalize()] == ["good", "night"]
    assert p.tentative == []


def test_release_keeps_words_that_end_after_the_cut():
    p = LocalAgreement()
    words = hyp(("one", 0.0, 0.3), ("two", 0.3, 0.6), ("three", 0.6, 0.9))
    p.update(words)
    p.update(words)
    released = p.release_until(0.6)
    assert [w.text for w in released] == ["one", "two"]
    assert [w.text for w in p.committed] == ["three"]


def test_decoding_loops_are_cut():
    from triggers.asr import _drop_loops

    def texts(s):
        return [w.text for w in _drop_loops([Word(t, i * 0.3, i * 0.3 + 0.2, 1.0) for i, t in enumerate(s.split())])]

    assert texts("shall we get dinner? shall we get dinner?") == "shall we get dinner?".split()
    assert texts("hey do you want dinner tonight? Hey, do") == "hey do you want dinner tonight?".split()
    assert texts("dinner tonight dinner tonight") == "dinner tonight dinner tonight".split()  # a real repeat
    assert texts("no no no") == "no no no".split()


def test_a_loop_keeps_the_timing_the_audio_spans():
    """The aligner squeezes the unsaid copy of a loop into zero-length slots."""
    from triggers.asr import _drop_loops

    said = [Word("okay", 0.1, 0.8, 1.0), Word("everyone,", 0.8, 1.3, 1.0)]
    squeezed = [Word(t, 1.3, 1.3, 1.0) for t in ("how", "about", "dinner", "tonight?")]
    restart = [Word("Okay", 1.3, 1.3, 1.0), Word("everyone,", 1.3, 1.3, 1.0)]
    real = [
        Word("how", 1.7, 1.8, 1.0),
        Word("about", 1.8, 2.1, 1.0),
        Word("dinner", 2.1, 2.4, 1.0),
        Word("tonight", 2.4, 2.7, 1.0),
    ]
    kept = _drop_loops(said + squeezed + restart + real)
    assert [w.text for w in kept] == ["okay", "everyone,", "how", "about", "dinner", "tonight"]
    assert kept[-1].end == 2.7 and kept[2].start == 1.7
