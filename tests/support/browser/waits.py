"""Waiting on pages within a test's time budget, and what a remote tile must keep across an ad."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from tests.support.browser.chromium import Failure, Participant
from tests.support.browser.frames import looks_like_video


class Budget:
    """Polls with a time limit per wait and, while started, one for the whole run."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self._deadline: float | None = None  # monotonic time by which the run must be over

    def start(self) -> None:
        self._deadline = time.monotonic() + self.seconds

    def stop(self) -> None:
        self._deadline = None

    def wait(self, check: Callable[[], Any], timeout: float, what: str, interval: float = 0.2) -> Any:
        """Poll `check` until it returns something truthy; fail naming `what` after `timeout` s."""
        start = time.monotonic()
        end = start + timeout
        if self._deadline is not None and self._deadline < end:
            end = self._deadline
            what += f" (and the test's {self.seconds:.0f} s budget is spent)"
        last_error: Exception | None = None
        while True:
            try:
                value = check()
                if value:
                    return value
            except Failure:
                raise
            except Exception as e:  # a page mid-navigation, a server not yet listening...
                last_error = e
            if time.monotonic() >= end:
                extra = f" (last error: {last_error!r})" if last_error else ""
                raise Failure(f"timed out after {min(timeout, end - start):.0f} s: {what}{extra}")
            time.sleep(interval)


def tile_state(info: dict) -> dict:
    """A tile sample without its pixels, for messages."""
    return {k: v for k, v in info.items() if k != "frame"}


def wait_playing(
    budget: Budget, viewer: Participant, who: str, timeout: float, mark: str | None = None, need: int = 8
) -> dict:
    """Wait until `who`'s tile on `viewer`'s page shows real, moving video: `need` more frames decoded
    since it first showed one. Returns the last sample."""
    first: dict = {}
    last: dict = {}

    def playing() -> dict | None:
        info = viewer.grab(who, mark=mark)
        last.clear()
        last.update(info)
        if not info["found"] or info["frame"] is None or not looks_like_video(info["frame"]):
            return None
        if info["decoded"] is None:  # no playback-quality API: trust currentTime
            info["decoded"] = int(info["currentTime"] * 15)
        first.setdefault("decoded", info["decoded"])
        return info if info["decoded"] - first["decoded"] >= need else None

    try:
        return budget.wait(playing, timeout, f"{viewer.name}'s page never played {who}'s video")
    except Failure as e:
        state = tile_state(last) if last else {}
        if not state.get("found"):
            why = f'there is no <video data-participant="{who}">'
        elif "decoded" in first:
            why = f"it froze: {state.get('decoded')} frames decoded in all, {first['decoded']} when it first showed"
        elif state.get("trackMuted"):
            why = "no media arrived: its video track is still muted"
        else:
            why = "it never showed a frame with a picture"
        raise Failure(
            f"{e}: {why}; last state {state}; {viewer.name}'s transport: {viewer.transport_summary()}"
        ) from None


def assert_same_tile(info: dict, track_id: str, when: str) -> None:
    """Alice's tile on Bob's page is the marked element, stream and track it was before the ad."""
    assert info["found"] and info["count"] == 1, (
        f'{when}: bob\'s page has {info["count"]} <video data-participant="alice"> (expected 1)'
    )
    assert info["elMark"] == "e2e", f"{when}: alice's <video> on bob's page is not the element it was before the ad"
    assert info["streamMark"] == "e2e", (
        f"{when}: alice's tile on bob's page has a different srcObject than before the ad"
    )
    assert info["trackId"] == track_id, (
        f"{when}: alice's video track on bob's page changed ({track_id} -> {info['trackId']}); "
        "the ad must come in the same track"
    )
    assert info["trackState"] == "live", f"{when}: alice's video track on bob's page is {info['trackState']}"
