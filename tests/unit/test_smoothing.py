"""One Euro filter: still points stop jittering, moving ones barely lag."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from adengine.smoothing import OneEuroFilter, OneEuroParams

FPS = 30.0


def still_track(n: int = 90, noise: float = 0.4, seed: int = 0) -> np.ndarray:
    """(n, 478, 2) landmarks of a face that does not move, with detector noise."""
    rng = np.random.default_rng(seed)
    face = rng.uniform(200, 400, (478, 2))
    return face + rng.normal(0.0, noise, (n, 478, 2))


def run(f: OneEuroFilter, track: np.ndarray, scale: float = 150.0) -> np.ndarray:
    return np.stack([f(x, i / FPS, scale=scale) for i, x in enumerate(track)])


def test_a_still_face_jitters_far_less():
    track = still_track()
    out = run(OneEuroFilter(), track)
    raw_jitter = track[30:].std(axis=0).mean()
    smooth_jitter = out[30:].std(axis=0).mean()
    assert smooth_jitter < 0.4 * raw_jitter


def test_fast_motion_lags_much_less_than_a_plain_low_pass():
    # 300 px/s, two face widths a second: a quick head turn.
    n = 30
    truth = np.stack([np.full((478, 2), 100.0 + 300.0 * i / FPS) for i in range(n)])
    euro = run(OneEuroFilter(), truth)
    plain = run(OneEuroFilter(beta=0.0), truth)  # beta 0 is a fixed low-pass at min_cutoff
    euro_lag = np.abs(truth[-1] - euro[-1]).max()
    plain_lag = np.abs(truth[-1] - plain[-1]).max()
    assert euro_lag < 3.0  # pixels, at 10 px per frame
    assert euro_lag < 0.2 * plain_lag


def test_the_first_sample_and_the_one_after_reset_pass_unchanged():
    f = OneEuroFilter()
    a = np.full((478, 2), 10.0)
    b = np.full((478, 2), 50.0)
    assert np.array_equal(f(a, 0.0), a)
    assert f.primed
    assert not np.array_equal(f(b, 1 / FPS), b)  # smoothed towards a
    f.reset()
    assert not f.primed
    assert np.array_equal(f(b, 2 / FPS), b)


def test_time_going_backwards_restarts_instead_of_dividing_by_zero():
    f = OneEuroFilter()
    f(np.zeros((478, 2)), 1.0)
    out = f(np.ones((478, 2)), 1.0)
    assert np.array_equal(out, np.ones((478, 2)))
    assert np.isfinite(f(np.ones((478, 2)) * 2, 0.5)).all()


def test_output_is_float32_of_the_input_shape():
    out = OneEuroFilter()(np.zeros((478, 2), np.float64), 0.0)
    assert out.dtype == np.float32 and out.shape == (478, 2)
    with pytest.raises(ValueError, match="expected an"):
        OneEuroFilter()(np.zeros(478), 0.0)


def test_speed_is_in_face_sizes_so_near_and_far_faces_smooth_alike():
    rng = np.random.default_rng(1)
    unit = np.cumsum(rng.normal(0, 0.02, (40, 478, 2)), axis=0)  # in face widths
    near = run(OneEuroFilter(), unit * 300.0, scale=300.0) / 300.0
    far = run(OneEuroFilter(), unit * 60.0, scale=60.0) / 60.0
    np.testing.assert_allclose(near, far, atol=1e-5)


def test_parameters_are_checked_and_params_build_a_filter():
    with pytest.raises(ValueError):
        OneEuroFilter(min_cutoff=0.0)
    with pytest.raises(ValueError):
        OneEuroFilter(beta=-1.0)
    f = OneEuroFilter.from_params(OneEuroParams(min_cutoff=2.0, beta=0.5, d_cutoff=3.0))
    assert (f.min_cutoff, f.beta, f.d_cutoff) == (2.0, 0.5, 3.0)


@settings(max_examples=60, deadline=None)
@given(
    st.lists(st.floats(-1000, 1000), min_size=2, max_size=30),
    st.floats(1.0, 120.0),
)
def test_the_output_never_leaves_the_range_of_the_inputs(values, fps):
    # An exponential filter with 0 < alpha <= 1 only ever interpolates.
    f = OneEuroFilter()
    seen = []
    for i, v in enumerate(values):
        seen.append(v)
        out = float(f(np.array([[v, -v]]), i / fps)[0, 0])
        assert min(seen) - 1e-3 <= out <= max(seen) + 1e-3
