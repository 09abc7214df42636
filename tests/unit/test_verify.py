"""The verifier's checks: the unbiased look compares only the phrase's
neighbourhood of two decodes; the second look weighs a beam's readings."""

from triggers.verify import splice_alternative


def test_the_unbiased_words_replace_the_phrase_between_agreeing_neighbours():
    heard = "we are planning a weekend getaway tonight".split()
    plain = "We are planning and we can get away tonight. We are planning and we can".split()
    assert splice_alternative(heard, plain, 4, 5) == "we are planning and we can get away tonight".split()


def test_agreement_around_the_phrase_needs_no_comparison():
    heard = "so how about dinner tonight at eight".split()
    assert splice_alternative(heard, "So, how about dinner tonight? At eight and".split(), 3, 4) is None


def test_a_phrase_at_the_end_takes_a_bounded_tail_of_the_other_decode():
    heard = "we are planning a weekend getaway".split()
    plain = "we are planning and we can get away tonight we are planning".split()
    assert splice_alternative(heard, plain, 4, 5) == "we are planning and we can get away".split()


def test_differences_away_from_the_phrase_are_ignored():
    heard = "hey Tom do you want dinner tonight".split()
    plain = "hey Tim do you want dinner tomorrow".split()
    assert splice_alternative(heard, plain, 5, 6) == "hey Tom do you want dinner tomorrow".split()


class ReadingsRecognizer:
    """Beam readings of a fixed hypothesis, each with a scripted log-probability."""

    def __init__(self, logprobs: dict[str, float]) -> None:
        self.logprobs = logprobs

    def rewrites(self, decoding, hotwords, n):
        return [r.split() for r in list(self.logprobs)[:n]]

    def tokens_for(self, words):
        return " ".join(words)  # the scorer below looks sequences up by text

    def score(self, decoding, sequences):
        return [self.logprobs[s] for s in sequences]


def _second_look(logprobs: dict[str, float]):
    from tests.support.fakes import words as make_words
    from triggers.asr import Decoding
    from triggers.matcher import Phrase, PhraseMatcher
    from triggers.verify import AcousticVerifier

    heard = make_words(
        ("do", 0.0, 0.2), ("what", 0.2, 0.4), ("we", 0.4, 0.5), ("can", 0.5, 0.7), ("get", 0.7, 0.9), ("away", 0.9, 1.2)
    )
    (cand,) = PhraseMatcher([Phrase.parse("weekend getaway")]).candidates([w.text for w in heard])
    verifier = AcousticVerifier(ReadingsRecognizer(logprobs))
    return verifier.second_look(Decoding(heard, 0.0, 0.0, -0.1, None), heard, cand)


def test_the_second_look_takes_the_cheapest_reading_that_holds_the_phrase():
    verdict = _second_look(
        {
            "do what we can get away": -10.0,  # the greedy reading itself: no phrase
            "do a weekend gateway": -14.0,  # close, but not the phrase
            "do that weekend getaway": -16.0,  # 6 nats: within the limit of 8
            "do a weekend getaway": -25.0,
        }
    )
    assert verdict.accepted and verdict.deficit == 6.0


def test_the_second_look_rejects_when_no_reading_holds_the_phrase_cheaply():
    assert not _second_look({"do what we can get away": -10.0, "do a weekend getaway": -25.0}).accepted
    assert not _second_look({"do what we can get away": -10.0, "do what we can't get away": -11.0}).accepted
