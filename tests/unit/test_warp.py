"""Piecewise-affine warp through barycentric maps, the blend mask and colour transfer."""

import numpy as np
import pytest

from adengine.colour import lab_stats, transfer
from adengine.mask import INNER_LIPS, face_alpha
from adengine.warp import build_frame_map, triangulate, warp
from tests.support.landmarks import random_landmarks, texture


def _box(image, m):
    h, w = m.shape
    return image[m.y0 : m.y0 + h, m.x0 : m.x0 + w]


def test_a_face_warped_onto_its_own_landmarks_is_unchanged():
    pts, image = random_landmarks(), texture()
    tris = triangulate(pts)
    m = build_frame_map(pts, tris, image.shape[:2])
    inside = m.tri >= 0
    assert inside.mean() > 0.6
    error = np.abs(warp(image, pts, m, tris)[inside].astype(int) - _box(image, m)[inside])
    assert error.mean() < 2.0


def test_the_warp_follows_the_source_landmarks():
    pts, image = random_landmarks(), texture()
    tris = triangulate(pts)
    m = build_frame_map(pts, tris, image.shape[:2])
    moved = np.roll(image, (-9, 21), (0, 1))  # the face sits 21 px right and 9 px up in the source
    out = warp(moved, pts + (21, -9), m, tris)
    inside = m.tri >= 0
    assert np.abs(out[inside].astype(int) - _box(image, m)[inside]).mean() < 2.0
    assert (
        np.abs(warp(moved, pts, m, tris)[inside].astype(int) - _box(image, m)[inside]).mean() > 5.0
    )  # the blurred texture differs by ~8 when misplaced


def test_pixels_outside_the_face_are_not_in_the_map():
    pts = random_landmarks()
    m = build_frame_map(pts, triangulate(pts), (480, 640))
    corner = m.tri[:5, :5]
    assert (corner == -1).all()


def test_the_blend_mask_is_solid_inside_soft_at_the_edge_and_open_at_the_mouth():
    pts = random_landmarks()
    # put the inner-lip points on a small ring below the centre: a mouth opening
    ring = np.linspace(0, 2 * np.pi, len(INNER_LIPS), endpoint=False)
    pts[list(INNER_LIPS)] = np.stack([320 + 30 * np.cos(ring), 300 + 12 * np.sin(ring)], 1)
    m = build_frame_map(pts, triangulate(pts), (480, 640))
    alpha = face_alpha(m, pts)

    def local(x, y):
        return alpha[int(y) - m.y0, int(x) - m.x0]

    assert local(320, 200) > 0.95  # inside the face
    assert local(320, 300) < 0.1  # inside the mouth: the actor's mouth shows
    assert alpha[m.tri < 0].max() == 0.0  # never outside the face
    assert 0.0 < alpha.mean() < 1.0


def test_colour_transfer_matches_the_target_statistics():
    rng = np.random.default_rng(3)
    image = np.clip(rng.normal((90, 120, 160), 12, (64, 64, 3)), 0, 255).astype(np.uint8)
    target = np.clip(rng.normal((200, 150, 110), 25, (64, 64, 3)), 0, 255).astype(np.uint8)
    mask = np.ones((64, 64), np.uint8)
    out = transfer(image, lab_stats(image, mask), lab_stats(target, mask))
    got, want = lab_stats(out, mask), lab_stats(target, mask)
    assert np.allclose(got.mean, want.mean, atol=3.0)
    assert np.allclose(got.std, want.std, rtol=0.25)


def test_colour_statistics_refuse_an_empty_region():
    with pytest.raises(ValueError, match="16 pixels"):
        lab_stats(np.zeros((8, 8, 3), np.uint8), np.zeros((8, 8), np.uint8))
