"""The measure that lets a trained swap replace warp: clearly more like the person, as true to the actor."""

from __future__ import annotations

import numpy as np

from adengine.criterion import APPEARANCE_MARGIN, MOTION_FACTOR, MOTION_FLOOR, MOUTH_KEPT, SwapScore, lip_gap

WARP = SwapScore(appearance=0.12, motion=0.02, frames=8, mouth=1.1)


def test_a_trained_swap_must_look_clearly_more_like_the_person():
    assert SwapScore(0.12 - 2 * APPEARANCE_MARGIN, 0.02, 8, 1.0).beats(WARP)
    assert not SwapScore(0.12 - APPEARANCE_MARGIN / 2, 0.02, 8, 1.0).beats(WARP)
    assert not SwapScore(0.15, 0.02, 8, 1.0).beats(WARP)


def test_it_must_keep_the_actors_expression():
    limit = WARP.motion * MOTION_FACTOR + MOTION_FLOOR
    assert SwapScore(0.05, limit * 0.95, 8, 1.0).beats(WARP)
    assert not SwapScore(0.05, limit * 1.05, 8, 1.0).beats(WARP)


def test_a_pasted_still_face_with_a_shut_mouth_never_wins():
    """The bench's failure: one still face learnt, nearer the person than warp, but the actor's smile gone."""
    assert not SwapScore(0.078, 0.02, 8, mouth=0.02).beats(WARP)
    assert SwapScore(0.078, 0.02, 8, mouth=MOUTH_KEPT + 0.01).beats(WARP)
    assert SwapScore(0.078, 0.02, 8, mouth=float("nan")).beats(SwapScore(0.12, 0.02, 8))  # the actor never opens it


def test_a_swap_whose_face_cannot_be_found_never_wins():
    assert not SwapScore(1.0, float("inf"), 0).beats(WARP)
    assert SwapScore(0.3, 0.1, 4).beats(SwapScore(1.0, float("inf"), 0))


def test_the_lip_gap_is_in_eye_distances():
    points = np.zeros((478, 2), np.float32)
    points[33], points[263], points[13], points[14] = (0, 0), (100, 0), (50, 80), (50, 95)
    assert abs(lip_gap(points) - 0.15) < 1e-6
