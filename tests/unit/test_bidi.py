"""The browser test's WebDriver BiDi values: Python <-> LocalValue / RemoteValue."""

import math

import pytest

from tests.support.browser.bidi import from_remote, to_remote


def test_arguments_become_local_values():
    assert to_remote(["alice", None, 3, True, {"k": 1.5}]) == {
        "type": "array",
        "value": [
            {"type": "string", "value": "alice"},
            {"type": "null"},
            {"type": "number", "value": 3},
            {"type": "boolean", "value": True},
            {"type": "object", "value": [["k", {"type": "number", "value": 1.5}]]},
        ],
    }
    with pytest.raises(TypeError):
        to_remote(object())


def test_remote_values_become_plain_python():
    remote = {
        "type": "object",
        "value": [
            ["found", {"type": "boolean", "value": True}],
            ["rect", {"type": "object", "value": [["w", {"type": "number", "value": 640}]]}],
            ["events", {"type": "array", "value": [{"type": "string", "value": "joined"}, {"type": "null"}]}],
            ["decoded", {"type": "undefined"}],
            ["ratio", {"type": "number", "value": "NaN"}],
            ["node", {"type": "node", "sharedId": "x"}],
        ],
    }
    out = from_remote(remote)
    assert out["found"] is True and out["rect"] == {"w": 640} and out["events"] == ["joined", None]
    assert out["decoded"] is None and math.isnan(out["ratio"]) and out["node"] is None
