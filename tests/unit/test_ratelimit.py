"""Token buckets and per-address counts on a virtual clock."""

from __future__ import annotations

import pytest

from callbridge.web.limits import ClientLimits, Limits, client_key
from callbridge.web.ratelimit import Rate, RateLimiter, TokenBucket


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_a_bucket_allows_its_burst_then_its_rate():
    clock = Clock()
    bucket = TokenBucket(Rate(burst=3, per_s=2), clock)
    assert [bucket.take() for _ in range(4)] == [True, True, True, False]
    clock.now += 0.49
    assert not bucket.take()  # under one token yet
    clock.now += 0.01
    assert bucket.take() and not bucket.take()
    clock.now += 100
    assert [bucket.take() for _ in range(4)] == [True, True, True, False]  # never more than the burst


def test_a_refused_request_costs_nothing():
    clock = Clock()
    bucket = TokenBucket(Rate(burst=1, per_s=1), clock)
    assert bucket.take()
    for _ in range(100):
        assert not bucket.take()
        clock.now += 0.001
    clock.now += 0.91
    assert bucket.take()  # 1 s after the last success, not pushed back by the refusals


def test_a_clock_that_steps_back_gives_no_tokens():
    clock = Clock()
    bucket = TokenBucket(Rate(burst=1, per_s=1), clock)
    assert bucket.take()
    clock.now -= 50
    assert not bucket.take()


def test_each_address_has_its_own_bucket():
    clock = Clock()
    limiter = RateLimiter(Rate(burst=2, per_s=0.1), clock)
    assert [limiter.allow("a") for _ in range(3)] == [True, True, False]
    assert limiter.allow("b") and limiter.allow("b") and not limiter.allow("b")
    assert len(limiter) == 2


def test_the_limiter_forgets_full_buckets_when_it_holds_too_many():
    clock = Clock()
    limiter = RateLimiter(Rate(burst=1, per_s=1), clock, max_keys=4)
    for key in "abcd":
        assert limiter.allow(key)
    assert not limiter.allow("a")
    clock.now += 10  # all full again
    assert limiter.allow("e")
    assert len(limiter) == 1  # the full ones were forgotten, e is new
    for key in "fgh":
        limiter.allow(key)
    assert limiter.allow("i") and len(limiter) <= 4  # none full: the oldest half goes


def test_sockets_are_counted_per_address_up_to_the_cap():
    limits = ClientLimits(Limits(max_sockets=2))
    assert limits.open_socket("a") and limits.open_socket("a") and not limits.open_socket("a")
    assert limits.open_socket("b")
    limits.close_socket("a")
    assert limits.open_socket("a")
    for _ in range(2):
        limits.close_socket("a")
    limits.close_socket("b")
    assert limits.sockets == {}


@pytest.mark.parametrize(
    "remote, key",
    [
        ("203.0.113.7", "203.0.113.7"),
        ("2001:db8:1:2:aaaa::1", "2001:db8:1:2::/64"),
        ("2001:db8:1:2:bbbb::9", "2001:db8:1:2::/64"),  # one home's /64 is one client
        ("::ffff:203.0.113.7", "203.0.113.7"),
        ("fe80::1%eth0", "fe80::/64"),
        (None, "unknown"),
        ("", "unknown"),
        ("not an address", "not an address"),
    ],
)
def test_client_keys(remote, key):
    assert client_key(remote) == key
