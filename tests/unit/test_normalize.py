import pytest

from triggers.normalize import compact, normalize_words


@pytest.mark.parametrize(
    "text, words",
    [
        ("Dinner Tonight!", ["dinner", "tonight"]),
        ("dinner, to-night?", ["dinner", "to", "night"]),
        ("  RUNNING   shoes.  ", ["running", "shoes"]),
        ("7 eleven", ["seven", "eleven"]),
        ("the 1st weekend", ["the", "first", "weekend"]),
        ("2,000 shoes", ["two", "thousand", "shoes"]),
        ("fish & chips", ["fish", "and", "chips"]),
        ("let's go", ["lets", "go"]),
        ("Café au lait", ["cafe", "au", "lait"]),
        ("?!...", []),
    ],
)
def test_normalize_words(text, words):
    assert normalize_words(text) == words


def test_compound_splits_compare_equal():
    assert compact(normalize_words("to night")) == compact(normalize_words("tonight"))
    assert compact(normalize_words("week-end get away")) == compact(normalize_words("weekend getaway"))
    assert compact(normalize_words("dinner tomorrow")) != compact(normalize_words("dinner tonight"))
