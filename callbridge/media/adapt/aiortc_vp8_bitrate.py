"""A steadier video bitrate: the encoder restarts only when the receiver's estimate really moves.

aiortc's VP8 encoder cannot change its bitrate in place: when the target moves
by more than 10% it opens a new libvpx context, which starts on a keyframe with
a fresh rate controller. And it moves the target on every REMB packet the
receiver sends, so a wobbling estimate restarts the encoder again and again;
each keyframe is a burst that moves the estimate once more, and the picture
reaches the page in bursts (docs/experiments.md, 'Steady bitrate').

`install` puts a `SteadyBitrate` in front of each encoder's target: a rise is
taken when it is large and the last change is a while old, a fall soon, so
congestion is still answered.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import cast

from aiortc.codecs import vpx

log = logging.getLogger(__name__)
# aiortc's own property, as shipped. Read on the class, a property is the property object;
# mypy types it as the getter/setter pair instead.
AIORTC_TARGET = cast(property, vpx.Vp8Encoder.target_bitrate)


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
            steady = encoder.__dict__["_steady"] = SteadyBitrate(AIORTC_TARGET.__get__(encoder))
        if steady.follow(bitrate, clock()):
            log.debug("video encoder target now %d kbit/s", steady.current // 1000)
            AIORTC_TARGET.__set__(encoder, steady.current)

    return set_target


def install(clock: Callable[[], float] = time.monotonic) -> None:
    """Route every VP8 encoder's target bitrate through a SteadyBitrate."""
    # mypy types the property as its getter/setter pair, so refuses a property in its place.
    vpx.Vp8Encoder.target_bitrate = property(AIORTC_TARGET.fget, _steady_setter(clock))  # type: ignore[assignment]


def uninstall() -> None:
    """Back to aiortc's own behaviour (tests)."""
    vpx.Vp8Encoder.target_bitrate = AIORTC_TARGET  # type: ignore[assignment]  # as in install()
