"""One Euro filter (Casiraghi, Roussel and Vogel, CHI 2012) over a whole landmark array.

A low-pass filter whose cutoff rises with speed: a still face is smoothed hard
(no jitter), a moving one lightly (little lag). Every point keeps its own
state, but a point's x and y share one cutoff, taken from the point's speed, so
a moving point is never smoothed more along one axis than along the other.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class OneEuroParams:
    """Filter settings; the defaults suit face landmarks at 10-60 fps.

    Tuned on face mesh at 15 fps on a 160 px face (tests/integration): much
    less jitter on a still face, little lag on a swaying head
    (docs/experiments.md, 'Landmark smoothing').

    min_cutoff: cutoff in Hz when still; lower means less jitter and more lag
        on slow motion.
    beta: how fast the cutoff rises with speed (speed in `scale` units per
        second); higher means less lag on fast motion.
    d_cutoff: cutoff in Hz of the speed estimate itself.
    """

    min_cutoff: float = 0.5
    beta: float = 20.0
    d_cutoff: float = 1.0


def _alpha(cutoff: np.ndarray | float, dt: float) -> np.ndarray | float:
    """Smoothing factor of an exponential filter with this cutoff at this sample period."""
    tau = 1.0 / (2.0 * math.pi * cutoff)
    return 1.0 / (1.0 + tau / dt)


class OneEuroFilter:
    """One Euro filter over arrays of points of shape (N, D), e.g. (478, 2) landmarks."""

    def __init__(
        self,
        min_cutoff: float = OneEuroParams.min_cutoff,
        beta: float = OneEuroParams.beta,
        d_cutoff: float = OneEuroParams.d_cutoff,
    ) -> None:
        if min_cutoff <= 0 or d_cutoff <= 0 or beta < 0:
            raise ValueError("min_cutoff and d_cutoff must be > 0 and beta >= 0")
        self.min_cutoff = min_cutoff
        self.beta = beta
        self.d_cutoff = d_cutoff
        self._x: np.ndarray | None = None  # last filtered value
        self._dx: np.ndarray | None = None  # last filtered velocity, (N, D), in scale units per second
        self._t: float | None = None

    @classmethod
    def from_params(cls, params: OneEuroParams) -> OneEuroFilter:
        return cls(params.min_cutoff, params.beta, params.d_cutoff)

    def reset(self) -> None:
        """Forget the past: the next sample passes through unchanged."""
        self._x = self._dx = None
        self._t = None

    @property
    def primed(self) -> bool:
        """Whether the filter holds state from an earlier sample."""
        return self._x is not None

    def __call__(self, x: np.ndarray, t: float, scale: float = 1.0) -> np.ndarray:
        """Filtered copy of `x` (N, D) sampled at time `t` seconds.

        `scale` is the size of the tracked object in the units of `x` (e.g. the
        face width in pixels): speed is measured in object sizes per second, so
        one `beta` serves near and far faces alike.
        """
        x = np.asarray(x, dtype=np.float64)
        if x.ndim != 2:
            raise ValueError(f"expected an (N, D) array, got shape {x.shape}")
        if self._x is None or self._t is None or self._x.shape != x.shape or t <= self._t:
            # First sample, a new shape, or time going backwards: start afresh
            # rather than divide by a zero or negative period.
            self._x, self._dx, self._t = x.copy(), np.zeros_like(x), t
            return x.astype(np.float32)
        dt = t - self._t
        velocity = (x - self._x) / (dt * max(scale, 1e-9))
        # The velocity is low-passed with its sign, as in the paper, and only
        # then turned into a speed: noise, pointing every which way, averages
        # out, whereas the norm of noise never does and would open the filter.
        self._dx = self._dx + _alpha(self.d_cutoff, dt) * (velocity - self._dx)
        cutoff = self.min_cutoff + self.beta * np.linalg.norm(self._dx, axis=1, keepdims=True)
        self._x = self._x + _alpha(cutoff, dt) * (x - self._x)
        self._t = t
        return self._x.astype(np.float32)
