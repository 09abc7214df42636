"""The actor's track: gaps filled, too many losses refused with frame numbers, cache round trip."""

import numpy as np
import pytest

from adengine import track as tracks
from adengine.face import Face, HeadPose
from adengine.track import TrackError, track_actor
from tests.support.landmarks import random_landmarks, texture


class _ScriptedTracker:
    """Finds the synthetic face except in `lost` frames (and tiny in `tiny` ones)."""

    def __init__(self, lost=(), tiny=()) -> None:
        self.lost, self.tiny, self.calls = set(lost), set(tiny), 0

    def track(self, frame, timestamp_s=None):
        i = self.calls
        self.calls += 1
        if i in self.lost:
            return None
        pts = random_landmarks() + (i, 0)
        if i in self.tiny:
            pts = (pts - pts.mean(0)) * 0.2 + pts.mean(0)
        return Face((0, 0, 1, 1), pts, HeadPose(0, 0, 0), 0.9)

    def reset(self) -> None:
        self.calls = 0

    def close(self) -> None:
        pass


FRAMES = [texture(seed) for seed in range(20)]


def test_untracked_frames_are_interpolated_between_their_neighbours():
    t = track_actor(FRAMES, _ScriptedTracker(lost={5}), fps=25)
    assert len(t) == 20
    assert np.allclose(t.landmarks[5], (t.landmarks[4] + t.landmarks[6]) / 2, atol=1e-3)


def test_a_face_lost_in_many_frames_is_refused_naming_frames_and_reasons():
    with pytest.raises(TrackError) as err:
        track_actor(FRAMES, _ScriptedTracker(lost={3, 4, 5, 9}, tiny={12}), fps=25)
    message = str(err.value)
    assert "15 of 20 frames" in message
    assert "no face found in frames 3-5, 9" in message
    assert "face too small in frames 12" in message


def test_progress_is_reported_per_frame():
    seen = []
    track_actor(FRAMES[:4], _ScriptedTracker(), fps=25, progress=lambda d, t: seen.append((d, t)))
    assert seen == [(1, 4), (2, 4), (3, 4), (4, 4)]


def test_the_cache_round_trips(tmp_path):
    t = track_actor(FRAMES[:6], _ScriptedTracker(), fps=25)
    path = tmp_path / "t.npz"
    tracks.save(t, path)
    back = tracks.load(path)
    assert back is not None and len(back) == 6
    assert np.array_equal(back.landmarks, t.landmarks) and np.array_equal(back.triangles, t.triangles)
    for a, b, fa, fb in zip(t.maps, back.maps, t.alphas, back.alphas):
        assert (a.x0, a.y0) == (b.x0, b.y0) and np.array_equal(a.tri, b.tri) and np.array_equal(a.bary, b.bary)
        assert np.abs(fa - fb).max() <= 1 / 255 + 1e-6
    assert np.allclose(back.colours[3].mean, t.colours[3].mean)
    assert not list(tmp_path.glob("*.tmp*"))


def test_a_missing_cache_is_none(tmp_path):
    assert tracks.load(tmp_path / "none.npz") is None
