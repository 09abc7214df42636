"""Piecewise-affine warping through precomputed barycentric maps.

Everything that depends only on the destination landmarks (which triangle
covers each pixel, and where in it) is computed once per template frame
(`FrameMap`). Warping a source face onto that frame is then a gather of three
vertex positions per pixel and one `cv2.remap`: no loop over triangles.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np
from scipy.spatial import Delaunay

N_MESH = 468  # face-mesh points used for the warp; the 10 iris points would make slivers


@dataclass(frozen=True)
class FrameMap:
    """Which source point each pixel of one destination box samples.

    `tri` is the triangle index per pixel of the box (-1 outside the face),
    `bary` the first two barycentric coordinates (the third is 1 - a - b).
    """

    x0: int
    y0: int
    tri: np.ndarray  # (h, w) int16
    bary: np.ndarray  # (h, w, 2) float16

    @property
    def shape(self) -> tuple[int, int]:
        height, width = self.tri.shape
        return height, width


def triangulate(points: np.ndarray) -> np.ndarray:
    """Delaunay triangles (T, 3) over mesh points in a neutral layout (e.g. the mean track)."""
    return Delaunay(points[:N_MESH].astype(np.float64)).simplices.astype(np.int32)


def build_frame_map(points: np.ndarray, triangles: np.ndarray, frame_shape: tuple[int, int]) -> FrameMap:
    """Rasterise the triangles at `points` (destination pixels) into a FrameMap."""
    h, w = frame_shape
    pts = points[:N_MESH]
    x0, y0 = np.floor(pts.min(axis=0)).astype(int).clip(0, [w - 1, h - 1])
    x1, y1 = np.ceil(pts.max(axis=0)).astype(int).clip(0, [w - 1, h - 1]) + 1
    ids = _raster_ids(pts - (x0, y0), triangles, (y1 - y0, x1 - x0))
    ys, xs = np.nonzero(ids >= 0)
    t = ids[ys, xs]
    a, b = _barycentric(pts, triangles[t], xs + x0 + 0.5, ys + y0 + 0.5)
    bary = np.zeros((*ids.shape, 2), np.float16)
    bary[ys, xs, 0], bary[ys, xs, 1] = a, b
    return FrameMap(int(x0), int(y0), ids.astype(np.int16), bary)


def _raster_ids(local: np.ndarray, triangles: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    # Ingest-time only: one fill per triangle, drawn with its index as colour.
    ids = np.full(shape, -1, np.int32)
    corners = np.round(local[triangles] * 16).astype(np.int32)  # 4 bits of sub-pixel precision
    for index, tri in enumerate(corners):
        cv2.fillConvexPoly(ids, tri, (index,), lineType=cv2.LINE_8, shift=4)
    return ids


def _barycentric(pts: np.ndarray, tris: np.ndarray, x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    p0, p1, p2 = pts[tris[:, 0]], pts[tris[:, 1]], pts[tris[:, 2]]
    v0, v1 = p1 - p0, p2 - p0
    det = v0[:, 0] * v1[:, 1] - v0[:, 1] * v1[:, 0]
    det = np.where(np.abs(det) < 1e-9, 1e-9, det)
    dx, dy = x - p0[:, 0], y - p0[:, 1]
    u = (dx * v1[:, 1] - dy * v1[:, 0]) / det  # weight of p1
    v = (v0[:, 0] * dy - v0[:, 1] * dx) / det  # weight of p2
    u, v = np.clip(u, 0, 1), np.clip(v, 0, 1)  # pixels on an edge, rounded outward
    return 1.0 - u - v, u


def source_maps(frame_map: FrameMap, source_points: np.ndarray, triangles: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """cv2.remap maps (float32, box-sized) that pull each pixel from the source face."""
    inside = frame_map.tri >= 0
    t = frame_map.tri[inside]
    a = frame_map.bary[inside, 0].astype(np.float32)[:, None]
    b = frame_map.bary[inside, 1].astype(np.float32)[:, None]
    verts = triangles[t]
    src = source_points[:N_MESH].astype(np.float32)
    xy = a * src[verts[:, 0]] + b * src[verts[:, 1]] + (1.0 - a - b) * src[verts[:, 2]]
    map_x = np.full(frame_map.shape, -1.0, np.float32)
    map_y = np.full(frame_map.shape, -1.0, np.float32)
    map_x[inside], map_y[inside] = xy[:, 0], xy[:, 1]
    return map_x, map_y


def warp(source: np.ndarray, source_points: np.ndarray, frame_map: FrameMap, triangles: np.ndarray) -> np.ndarray:
    """The source face warped into the frame map's box (zeros outside the face)."""
    map_x, map_y = source_maps(frame_map, source_points, triangles)
    return cv2.remap(source, map_x, map_y, cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT, borderValue=(0,))
