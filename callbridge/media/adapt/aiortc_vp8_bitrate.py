"""A steadier video bitrate: the encoder restarts only when the receiver's estimate really moves.

aiortc's VP8 encoder cannot change its bitrate in place: when the target moves
by more than 10% it opens a new libvpx context, which starts on a keyframe with
a fresh rate controller. And it moves the target on every REMB packet the
receiver sends. In the browser bench (2026-12-02) Chromium's estimate for the
listener's stream swung between 0.17 and 2.3 Mbit/s; the encoder restarted 72
times in 145 s, each keyframe a burst that made the estimate swing again, and
the ad reached the page in bursts with gaps of up to 2 s.

`install` puts a `SteadyBitrate` in front of each encoder's target: a rise is
taken when it is large and the last change is a while old, a fall soon, so
congestion is still answered.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass

from aiortc.codecs import vpx

log = logging.getLogger(__name__)
AIORTC_TARGET = vpx.Vp8Encoder.target_bitrate  # aiortc's own property, as shipped


@dataclass
class SteadyBitrate:
    """Which of the receiver's bitrate estimates an encoder should follow."""

    current: int
    rise: float = 1.5  # follow a higher estimate from this factor up (or at the ceiling) ...
    rise_hold_s: float = 5.0  # ... once the last change is this old
    fall: float = 0.6  # follow a lower estimate from this factor down (or at the floor) ...
    fall_hold_s: float = 1.0  # ... once the last change is this old
    changed_at: float = float("-inf")
    floor: int = vpx.MIN_BITRATE  # the encoder's range, as aiortc clamps it
    ceiling: int = vpx.MAX_BITRATE

    def follow(self, estimate: int, now: float) -> bool:
        """True (and `current` becomes `estimate`, clamped to the range) when the encoder should move to it."""
        estimate = max(self.floor, min(int(estimate), self.ceiling))
        since = now - self.changed_at
        big_rise = estimate >= min(self.current * self.rise, self.ceiling)
        big_fall = estimate <= max(self.current * self.fall, self.floor)
        rising = estimate > self.current and big_rise and since >= self.rise_hold_s
        falling = estimate < self.current and big_fall and since >= self.fall_hold_s
        if rising or falling:
            self.current, self.changed_at = estimate, now
        return rising or falling


def _steady_setter(clock: Callable[[], float]) -> Callable[[vpx.Vp8Encoder, int], None]:
    def set_target(encoder: vpx.Vp8Encoder, bitrate: int) -> None:
        steady = encoder.__dict__.get("_steady")
        if steady is None:
            steady = encoder.__dict__["_steady"] = SteadyBitrate(AIORTC_TARGET.fget(encoder))
        if steady.follow(bitrate, clock()):
            log.debug("video encoder target now %d kbit/s", steady.current // 1000)
            AIORTC_TARGET.fset(encoder, steady.current)

    return set_target


def install(clock: Callable[[], float] = time.monotonic) -> None:
    """Route every VP8 encoder's target bitrate through a SteadyBitrate."""
    vpx.Vp8Encoder.target_bitrate = property(AIORTC_TARGET.fget, _steady_setter(clock))  # type: ignore[method-assign]


def uninstall() -> None:
    """Back to aiortc's own behaviour (tests)."""
    vpx.Vp8Encoder.target_bitrate = AIORTC_TARGET  # type: ignore[method-assign]
