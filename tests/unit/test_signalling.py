"""parse_message: every valid message, and each way a page can get one wrong."""

from __future__ import annotations

import json

import pytest

from callbridge.web.signalling import (
    MAX_MESSAGE,
    MAX_NAME,
    Answer,
    Consent,
    Join,
    Leave,
    Offer,
    Record,
    SignallingError,
    parse_message,
)

SDP = "v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\n"


def msg(**fields) -> str:
    return json.dumps(fields)


@pytest.mark.parametrize(
    "text, expected",
    [
        (msg(type="join", name="Ana"), Join("Ana", False)),
        (msg(type="join", name="  Ana María  ", consent=True), Join("Ana María", True)),
        (msg(type="join", name="x" * MAX_NAME, consent=False), Join("x" * MAX_NAME, False)),
        (msg(type="offer", sdp=SDP), Offer(SDP)),
        (msg(type="answer", sdp=SDP), Answer(SDP)),
        (msg(type="consent", consent=True), Consent(True)),
        (msg(type="consent", consent=False), Consent(False)),
        (msg(type="leave"), Leave()),
        (msg(type="leave", extra="ignored"), Leave()),
        (msg(type="join", name="Bo").encode(), Join("Bo", False)),
    ],
)
def test_valid_messages(text, expected):
    assert parse_message(text) == expected


@pytest.mark.parametrize(
    "text, message",
    [
        ("{not json", "not valid JSON"),
        ("", "not valid JSON"),
        (b"\xff\xfe{", "not valid JSON"),
        ("[1, 2]", "must be a JSON object"),
        ('"join"', "must be a JSON object"),
        (msg(type="shout"), "unknown message type 'shout'"),
        (msg(name="Ana"), "unknown message type None"),
        (msg(type="join"), "join needs a 'name' string"),
        (msg(type="join", name=7), "join needs a 'name' string"),
        (msg(type="join", name=""), "the name is empty"),
        (msg(type="join", name=" \t "), "the name is empty"),
        (msg(type="join", name="x" * (MAX_NAME + 1)), "longer than 40 characters"),
        (msg(type="join", name="Ana\x00"), "control characters"),
        (msg(type="join", name="A\nna"), "control characters"),
        (msg(type="join", name="Ana\u200e"), "control characters"),
        (msg(type="join", name="Ana", consent="yes"), "'consent' must be true or false"),
        (msg(type="join", name="Ana", consent=1), "'consent' must be true or false"),
        (msg(type="consent"), "'consent' must be true or false"),
        (msg(type="consent", consent=None), "'consent' must be true or false"),
        (msg(type="offer"), "offer needs an SDP string in 'sdp'"),
        (msg(type="offer", sdp=0), "offer needs an SDP string in 'sdp'"),
        (msg(type="offer", sdp="o=- 1 2 IN IP4 0.0.0.0"), "offer needs an SDP string in 'sdp'"),
        (msg(type="answer", sdp=""), "answer needs an SDP string in 'sdp'"),
    ],
)
def test_bad_messages_say_what_is_wrong(text, message):
    with pytest.raises(SignallingError) as caught:
        parse_message(text)
    assert message in str(caught.value)


def test_the_unknown_type_error_lists_the_expected_ones():
    with pytest.raises(SignallingError, match="expected join, offer, answer, consent, record or leave"):
        parse_message(msg(type="hello"))


def test_an_oversized_message_is_refused_before_parsing():
    big = msg(type="offer", sdp=SDP + "a=x\r\n" * (MAX_MESSAGE // 5))
    assert len(big) > MAX_MESSAGE
    with pytest.raises(SignallingError, match=r"message too large \(\d+ characters, at most 262144\)"):
        parse_message(big)
    with pytest.raises(SignallingError, match="too large"):
        parse_message(b"{" * (MAX_MESSAGE + 1))  # not even JSON: the size is checked first


def test_a_message_of_exactly_the_limit_is_read():
    text = msg(type="leave", pad="")
    text = text[:-2] + " " * (MAX_MESSAGE - len(text)) + text[-2:]
    assert len(text) == MAX_MESSAGE
    assert parse_message(text) == Leave()


def test_signalling_errors_are_value_errors():
    assert issubclass(SignallingError, ValueError)


def test_record_carries_an_agreement():
    assert parse_message(msg(type="record", agree=True)) == Record(True)
    with pytest.raises(SignallingError):
        parse_message(msg(type="record", agree="yes"))


def test_a_watching_join_needs_no_name_and_watch_must_be_a_boolean():
    assert parse_message('{"type": "join", "watch": true}') == Join("", False, watch=True)
    assert parse_message('{"type": "join", "name": "ana", "watch": false}') == Join("ana", False)
    with pytest.raises(SignallingError, match="'watch' must be true or false"):
        parse_message('{"type": "join", "name": "ana", "watch": "yes"}')
