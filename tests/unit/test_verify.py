"""The unbiased check compares only the phrase's neighbourhood of two decodes."""

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
