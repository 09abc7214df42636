"""Phrase warnings on real words: syllapy syllables and wordfreq frequencies, nothing downloaded."""

from __future__ import annotations

import time

import pytest

from callbridge.config.phrase_check import is_common, phrase_warnings, phrase_words, syllables

SHORT_3 = "short: 3 syllables; phrases under 4 fire on ordinary talk"


@pytest.mark.parametrize("phrase", ["dinner tonight", "coffee break with mom", "seven eleven run", "Dinner to-night!"])
def test_distinctive_phrases_get_no_warning(phrase):
    assert phrase_warnings(phrase) == []


def test_all_common_words_are_named():
    assert phrase_warnings("see you later") == [
        "made only of common words (see, you, later); it may fire on ordinary talk"
    ]


def test_short_phrases_say_how_many_syllables():
    assert phrase_warnings("pizza night") == [SHORT_3]
    assert phrase_warnings("hello") == ["short: 2 syllables; phrases under 4 fire on ordinary talk"]


def test_short_and_common_gives_both_warnings_once_per_word():
    assert phrase_warnings("see you, see you") == ["made only of common words (see, you); it may fire on ordinary talk"]
    assert phrase_warnings("bye") == ["short: 1 syllable; phrases under 4 fire on ordinary talk"]
    assert phrase_warnings("see you") == [
        "short: 2 syllables; phrases under 4 fire on ordinary talk",
        "made only of common words (see, you); it may fire on ordinary talk",
    ]


def test_digits_are_spelled_out_as_the_matcher_hears_them():
    assert phrase_words("see you at 7") == ["see", "you", "at", "seven"]
    assert phrase_words("7-Eleven run") == ["seven", "eleven", "run"]
    assert phrase_warnings("lunch at 12") == [SHORT_3]  # lunch, at, twelve
    assert phrase_words("rock & roll") == ["rock", "and", "roll"]


def test_apostrophes_are_kept_so_contractions_are_looked_up_as_said():
    assert phrase_words("Don\u2019t stop") == ["don't", "stop"]
    assert syllables("don't") == 1 and is_common("don't")


@pytest.mark.parametrize(
    ("word", "count"),
    [("dinner", 2), ("tonight", 2), ("afternoon", 3), ("coffee", 2), ("trip", 1), ("banana", 3), ("pizza", 2)],
)
def test_syllables_of_everyday_words(word, count):
    assert syllables(word) == count


def test_words_no_list_has_get_an_estimate():
    assert syllables("zorblatt") == 2
    assert syllables("flimbake") == 2  # silent final e
    assert syllables("xyz") == 1


def test_common_means_everyday_words_only():
    assert is_common("you") and is_common("later") and is_common("night")
    assert not is_common("dinner") and not is_common("pizza") and not is_common("zorblatt")


def test_empty_text_has_no_warnings():
    assert phrase_warnings("") == [] and phrase_warnings(" !? ") == []


def test_fast_after_the_first_call():
    phrase_warnings("warm up the word lists")
    start = time.perf_counter()
    for _ in range(100):
        phrase_warnings("see you later alligator")
    assert (time.perf_counter() - start) / 100 < 0.005
