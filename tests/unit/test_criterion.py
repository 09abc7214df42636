"""The measure that lets a trained swap replace warp: clearly more like the person, about as true to the actor."""

from __future__ import annotations

from adengine.criterion import APPEARANCE_MARGIN, MOTION_SLACK, SwapScore


def test_a_trained_swap_must_look_clearly_more_like_the_person():
    warp = SwapScore(appearance=0.12, motion=0.02, frames=8)
    assert SwapScore(0.12 - 2 * APPEARANCE_MARGIN, 0.02, 8).beats(warp)
    assert not SwapScore(0.12 - APPEARANCE_MARGIN / 2, 0.02, 8).beats(warp)
    assert not SwapScore(0.15, 0.02, 8).beats(warp)


def test_it_must_keep_the_actors_expression():
    warp = SwapScore(appearance=0.12, motion=0.02, frames=8)
    assert SwapScore(0.05, 0.02 + MOTION_SLACK / 2, 8).beats(warp)
    assert not SwapScore(0.05, 0.02 + 2 * MOTION_SLACK, 8).beats(warp)


def test_a_swap_whose_face_cannot_be_found_never_wins():
    warp = SwapScore(appearance=0.12, motion=0.02, frames=8)
    assert not SwapScore(1.0, float("inf"), 0).beats(warp)
    assert SwapScore(0.3, 0.1, 4).beats(SwapScore(1.0, float("inf"), 0))
