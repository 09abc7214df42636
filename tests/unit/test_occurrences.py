"""One event per spoken occurrence, and cooldowns, across re-decodes."""

from triggers.matcher import Phrase
from triggers.occurrences import Occurrences


def test_a_span_within_0_3_s_of_a_fired_one_is_the_same_occurrence():
    fired, phrase = Occurrences(), Phrase.parse("dinner tonight")
    fired.add(phrase, 1.0, 1.6)
    assert fired.suppressed(phrase, 1.1, 1.8)
    assert not fired.suppressed(phrase, 2.0, 2.6)
    assert not fired.suppressed(Phrase.parse("running shoes"), 1.0, 1.6)


def test_cooldown_and_letting_a_held_occurrence_go():
    fired, phrase = Occurrences(), Phrase.parse("dinner tonight", cooldown_s=10.0)
    held = fired.add(phrase, 1.0, 1.6)
    assert fired.suppressed(phrase, 5.0, 5.6) and fired.any_since(1.5)
    fired.discard(held)
    assert not fired.suppressed(phrase, 5.0, 5.6) and not fired.any_since(0.0)
